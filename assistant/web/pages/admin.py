"""Admins manage accounts; managers (and admins) see their creditors' dashboards."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assistant.services.portfolio_figures import BUCKETS, creditor_figures
from assistant.services.scoped_queues import creditors_on_record
from assistant.services.users import UserError, add_user, disable_user, list_users
from assistant.web.deps import DB, Csrf, Who, relance, require_admin, require_manager
from assistant.web.render import templates

router = APIRouter()


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, session: DB, who: Who, notice: str | None = None) -> Response:
    """List the accounts."""
    require_admin(who)
    return _users(request, session, who, notice=notice)


def _users(
    request: Request,
    session: DB,
    who: Who,
    *,
    notice: str | None = None,
    error: str | None = None,
    form: Mapping[str, object] | None = None,
    status: int = 200,
) -> Response:
    return templates.TemplateResponse(
        request,
        "users.html",
        {
            "who": who,
            "users": list_users(session),
            "creditors": sorted(relance(request).policies),
            "notice": notice,
            "error": error,
            "form": form or {},
        },
        status_code=status,
    )


@router.post("/users", dependencies=[Csrf])
def add(
    request: Request,
    session: DB,
    who: Who,
    name: str = Form(""),
    role: str = Form("officer"),
    creditor: list[str] = Form([]),
    password: str = Form(""),
) -> Response:
    """Create an account."""
    require_admin(who)
    try:
        add_user(session, name, role, creditor, password, who.user, relance(request).policies)
    except UserError as exc:
        session.rollback()
        form = {"name": name, "role": role, "creditors": creditor}
        return _users(request, session, who, error=str(exc), form=form, status=409)
    return _back(f"user {name.strip()} added: {role}")


@router.post("/users/{name}/disable", dependencies=[Csrf])
def disable(request: Request, session: DB, who: Who, name: str) -> Response:
    """Disable an account: it cannot sign in and its sessions stop at once."""
    require_admin(who)
    try:
        disable_user(session, name, who.user)
    except UserError as exc:
        return _users(request, session, who, error=str(exc), status=409)
    return _back(f"user {name} disabled")


def _back(message: str) -> Response:
    return RedirectResponse(f"/users?{urlencode({'notice': message})}", status_code=303)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, session: DB, who: Who) -> Response:
    """Show each creditor's figures: aged balance, drafts pending, hand-offs, promises due."""
    require_manager(who)
    today = date.today()
    slugs = creditors_on_record(session, who.visible(relance(request).policies))
    figures = [creditor_figures(session, slug, today) for slug in slugs]
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        {"who": who, "figures": figures, "buckets": BUCKETS, "today": today},
    )
