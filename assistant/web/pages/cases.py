"""Cases: the list of the person's cases and one case's timeline with the officer's actions."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assistant.services.case_control import CaseControlError, add_note, pause_case, resume_case
from assistant.services.case_file import find_case
from assistant.services.case_timeline import case_timeline
from assistant.services.case_view import list_cases
from assistant.web.deps import DB, Csrf, NotFound, Who
from assistant.web.highlight import marked
from assistant.web.render import templates

router = APIRouter()


def _ref_in_scope(session: DB, who: Who, ref: str) -> str:
    """Return the case's canonical ref; another creditor's case is missing, like an unknown one."""
    found = find_case(session, ref)
    if found is None or not who.sees(found[1]):
        raise NotFound()
    return found[0].ref


@router.get("/cases", response_class=HTMLResponse)
def cases_page(request: Request, session: DB, who: Who, status: str | None = None) -> Response:
    """List the cases of the person's creditors."""
    rows = [r for r in list_cases(session, status=status or None) if who.sees(r["creditor"])]
    return templates.TemplateResponse(
        request, "cases.html", {"who": who, "rows": rows, "status": status or ""}
    )


@router.get("/cases/{ref}", response_class=HTMLResponse)
def case_page(
    request: Request, session: DB, who: Who, ref: str, notice: str | None = None
) -> Response:
    """Show one case: its ledger, contacts and the timeline of everything that happened."""
    return _render(request, session, who, _ref_in_scope(session, who, ref), notice=notice)


def _render(
    request: Request,
    session: DB,
    who: Who,
    canonical: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    data = case_timeline(session, canonical, date.today())
    assert data is not None
    return templates.TemplateResponse(
        request,
        "case.html",
        {"who": who, "c": data, "notice": notice, "error": error, "marked": marked},
        status_code=status,
    )


def _done(ref: str, message: str) -> Response:
    return RedirectResponse(f"/cases/{ref}?{urlencode({'notice': message})}", status_code=303)


@router.post("/cases/{ref}/note", dependencies=[Csrf])
def note(request: Request, session: DB, who: Who, ref: str, text: str = Form("")) -> Response:
    """Add a note to the case."""
    canonical = _ref_in_scope(session, who, ref)
    try:
        message = add_note(session, canonical, who.user, text)
    except CaseControlError as exc:
        return _render(request, session, who, canonical, error=str(exc), status=409)
    return _done(canonical, message)


@router.post("/cases/{ref}/pause", dependencies=[Csrf])
def pause(request: Request, session: DB, who: Who, ref: str, reason: str = Form("")) -> Response:
    """Stop automated dunning on the case."""
    canonical = _ref_in_scope(session, who, ref)
    try:
        message = pause_case(session, canonical, who.user, reason)
    except CaseControlError as exc:
        return _render(request, session, who, canonical, error=str(exc), status=409)
    return _done(canonical, message)


@router.post("/cases/{ref}/resume", dependencies=[Csrf])
def resume(request: Request, session: DB, who: Who, ref: str, note: str = Form("")) -> Response:
    """Put the case back into automated dunning."""
    canonical = _ref_in_scope(session, who, ref)
    try:
        message = resume_case(session, canonical, who.user, note)
    except CaseControlError as exc:
        return _render(request, session, who, canonical, error=str(exc), status=409)
    return _done(canonical, message)
