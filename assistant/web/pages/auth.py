"""Sign in and sign out."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assistant.services.users import sign_in
from assistant.web.deps import DB, Csrf
from assistant.web.render import templates

router = APIRouter()


def _local(path: str | None) -> str:
    """Return `path` when it stays on this site, else the queue (no open redirect)."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    """Show the sign-in form."""
    return templates.TemplateResponse(request, "login.html", {"next": _local(next), "error": None})


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request,
    session: DB,
    name: str = Form(...),
    password: str = Form(...),
    next: str = Form("/"),
) -> Response:
    """Check the password; a new session (and CSRF token) starts on success."""
    outcome = sign_in(session, name, password, datetime.now(UTC))
    if outcome.user is None:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"next": _local(next), "error": outcome.refusal, "name": name},
            status_code=401,
        )
    request.session.clear()
    request.session["user"] = outcome.user.name
    return RedirectResponse(_local(next), status_code=303)


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request) -> Response:
    """End the session."""
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
