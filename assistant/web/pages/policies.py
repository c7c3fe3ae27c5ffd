"""Policies (managers and admins): edit a creditor's YAML, check it as you type, preview a step
on a real case, compare with the published version, save a draft, publish, see the history."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assistant.services.case_view import list_cases
from assistant.services.policy_editor import (
    PolicyEditError,
    check_text,
    diff_lines,
    history,
    latest_draft,
    publish,
    published_text,
    save_draft,
)
from assistant.services.policy_preview import PreviewError, preview_step
from assistant.services.users import Scope
from assistant.web.deps import DB, Csrf, NotFound, Who, relance, require_manager
from assistant.web.render import templates

router = APIRouter()


def _slug(request: Request, who: Scope, slug: str) -> str:
    require_manager(who)
    if slug not in relance(request).policies or not who.sees(slug):
        raise NotFound()
    return slug


@router.get("/policies", response_class=HTMLResponse)
def policies_page(request: Request, who: Who) -> Response:
    """List the policies the person may edit."""
    require_manager(who)
    slugs = who.visible(relance(request).policies)
    return templates.TemplateResponse(request, "policies.html", {"who": who, "slugs": slugs})


@router.get("/policies/{slug}", response_class=HTMLResponse)
def policy_page(
    request: Request, session: DB, who: Who, slug: str, notice: str | None = None
) -> Response:
    """Show the editor with the latest draft (else the published text)."""
    slug = _slug(request, who, slug)
    draft = latest_draft(session, slug)
    text = (
        draft.yaml_text if draft else published_text(relance(request).settings.policies_dir, slug)
    )
    return _render(request, session, who, slug, text, notice=notice, draft=draft)


def _render(
    request: Request,
    session: DB,
    who: Who,
    slug: str,
    text: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    draft: object = None,
    status: int = 200,
) -> Response:
    app = relance(request)
    policy = app.policies[slug]
    return templates.TemplateResponse(
        request,
        "policy.html",
        {
            "who": who,
            "slug": slug,
            "text": text,
            "draft": draft,
            "checked": check_text(text, slug),
            "diff": diff_lines(published_text(app.settings.policies_dir, slug), text),
            "steps": [s.name for s in policy.ladder.steps],
            "cases": list_cases(session, creditor=slug),
            "history": history(session, slug),
            "notice": notice,
            "error": error,
        },
        status_code=status,
    )


@router.post("/policies/{slug}/check", response_class=HTMLResponse, dependencies=[Csrf])
def check(request: Request, who: Who, slug: str, text: str = Form("")) -> Response:
    """Check the text being edited and compare it with the published one (nothing saved)."""
    slug = _slug(request, who, slug)
    app = relance(request)
    return templates.TemplateResponse(
        request,
        "_policy_check.html",
        {
            "checked": check_text(text, slug),
            "diff": diff_lines(published_text(app.settings.policies_dir, slug), text),
        },
    )


@router.post("/policies/{slug}/preview", response_class=HTMLResponse, dependencies=[Csrf])
def preview(
    request: Request,
    session: DB,
    who: Who,
    slug: str,
    text: str = Form(""),
    step: str = Form(""),
    case: str = Form(""),
) -> Response:
    """Render a step of the text being edited, for a real case of this creditor or a sample."""
    slug = _slug(request, who, slug)
    checked = check_text(text, slug)
    context: dict[str, object] = {"checked": checked, "shown": None, "problem": None}
    if checked.policy is not None:
        try:
            context["shown"] = preview_step(
                session,
                checked.policy,
                step,
                date.today(),
                relance(request).templates_dir,
                case or None,
            )
        except PreviewError as exc:
            context["problem"] = str(exc)
    session.rollback()  # a preview writes nothing
    return templates.TemplateResponse(request, "_policy_preview.html", context)


@router.post("/policies/{slug}/draft", dependencies=[Csrf])
def draft(request: Request, session: DB, who: Who, slug: str, text: str = Form("")) -> Response:
    """Keep the text as a draft (it may still have errors)."""
    slug = _slug(request, who, slug)
    version = save_draft(session, slug, text, who.user)
    return _back(slug, f"draft {version.id} saved; the published policy is unchanged")


@router.post("/policies/{slug}/publish", dependencies=[Csrf])
def publish_page(
    request: Request, session: DB, who: Who, slug: str, text: str = Form("")
) -> Response:
    """Publish the text: it becomes the policy in use, when it validates."""
    slug = _slug(request, who, slug)
    app = relance(request)
    try:
        version = publish(session, app.settings.policies_dir, app.policies, slug, text, who.user)
    except PolicyEditError as exc:
        return _render(request, session, who, slug, text, error=str(exc), status=409)
    return _back(slug, f"version {version.id} published: the next cycle uses it")


def _back(slug: str, message: str) -> Response:
    return RedirectResponse(f"/policies/{slug}?{urlencode({'notice': message})}", status_code=303)
