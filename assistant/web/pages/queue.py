"""The approval queue: filter, read the letter as the debtor will, approve, reject, edit."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assistant.services.approval import ApprovalError, reject_draft
from assistant.services.draft_queue import (
    FINDINGS_FILTERS,
    QueueFilter,
    QueueRow,
    approvable_ids,
    approve_many,
    facets,
    list_queue,
    queue_row,
)
from assistant.services.editing import edit_draft, revalidate
from assistant.web.deps import DB, Csrf, NotFound, Who, relance
from assistant.web.highlight import highlighted
from assistant.web.render import templates

router = APIRouter()


def _filter(
    status: str | None,
    creditor: str | None,
    step: str | None,
    engine: str | None,
    findings: str | None,
    four_eyes: str | None,
) -> QueueFilter:
    return QueueFilter(
        status=status or "pending",
        creditor=creditor or None,
        step=step or None,
        engine=engine or None,
        findings=findings if findings in FINDINGS_FILTERS else None,
        four_eyes={"yes": True, "no": False}.get(four_eyes or ""),
    )


def _row(session: DB, who: Who, draft_id: int) -> QueueRow:
    row = queue_row(session, who, draft_id)
    if row is None:
        raise NotFound()
    return row


@router.get("/", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: DB,
    who: Who,
    status: str | None = None,
    creditor: str | None = None,
    step: str | None = None,
    engine: str | None = None,
    findings: str | None = None,
    four_eyes: str | None = None,
    notice: str | None = None,
) -> Response:
    """List the drafts of the person's creditors, oldest first."""
    flt = _filter(status, creditor, step, engine, findings, four_eyes)
    rows = list_queue(session, who, flt)
    return templates.TemplateResponse(
        request,
        "queue.html",
        {
            "who": who,
            "rows": rows,
            "flt": flt,
            "facets": facets(session, who),
            "findings_filters": FINDINGS_FILTERS,
            "approvable": len(approvable_ids(session, who, who.user)),
            "notice": notice,
        },
    )


@router.get("/drafts/{draft_id}", response_class=HTMLResponse)
def draft_page(
    request: Request, session: DB, who: Who, draft_id: int, notice: str | None = None
) -> Response:
    """Show one draft: the letter, its findings highlighted, the actions."""
    row = _row(session, who, draft_id)
    return _draft_response(request, session, who, row, None, notice=notice)


def _draft_response(
    request: Request,
    session: DB,
    who: Who,
    row: QueueRow,
    error: str | None,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    pending = list_queue(session, who, QueueFilter(status="pending"))
    ids = [r.draft.id for r in pending]
    here = ids.index(row.draft.id) if row.draft.id in ids else -1
    return templates.TemplateResponse(
        request,
        "draft.html",
        {
            "who": who,
            "row": row,
            "d": row.draft,
            "facts": row.draft.facts or {},
            "text": highlighted(row.draft.body_text, row.draft.findings),
            "error": error,
            "notice": notice,
            "prev_id": ids[here - 1] if here > 0 else None,
            "next_id": ids[here + 1] if 0 <= here < len(ids) - 1 else None,
        },
        status_code=status,
    )


@router.get("/drafts/{draft_id}/letter.html", response_class=HTMLResponse)
def draft_html(session: DB, who: Who, draft_id: int) -> Response:
    """Serve the letter's HTML part alone, sandboxed (shown in a frame of the draft page)."""
    row = _row(session, who, draft_id)
    return HTMLResponse(
        row.draft.body_html,
        headers={
            "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'"
        },
    )


@router.get("/drafts/{draft_id}/letter.pdf")
def draft_pdf(session: DB, who: Who, draft_id: int) -> Response:
    """Serve the formal notice's PDF when the draft has one."""
    row = _row(session, who, draft_id)
    if row.draft.pdf is None:
        raise NotFound()
    return Response(
        row.draft.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="draft-{draft_id}.pdf"'},
    )


@router.post("/drafts/{draft_id}/approve", dependencies=[Csrf])
def approve(request: Request, session: DB, who: Who, draft_id: int) -> Response:
    """Approve one draft (a four-eyes step records a first approval)."""
    app = relance(request)
    outcome = approve_many(session, who, [draft_id], who.user, app.policies, app.settings.smtp_from)
    if outcome.refused:
        _, why = outcome.refused[0]
        if "does not exist" in why:
            raise NotFound()
        return _draft_response(request, session, who, _row(session, who, draft_id), why, 409)
    return _next_or_queue(session, who, draft_id, outcome.results[0].message)


@router.post("/drafts/approve-valid", dependencies=[Csrf])
def approve_valid(request: Request, session: DB, who: Who) -> Response:
    """Approve every pending draft of the person's creditors that has no blocking finding."""
    app = relance(request)
    ids = approvable_ids(session, who, who.user)
    outcome = approve_many(session, who, ids, who.user, app.policies, app.settings.smtp_from)
    summary = outcome.as_dict()
    notice = (
        f"{len(summary['approved'])} approved, {len(summary['first_approved'])} first-approved "
        f"(four-eyes), {len(summary['refused'])} refused. Nothing was sent."
    )
    return RedirectResponse(f"/?{urlencode({'notice': notice})}", status_code=303)


@router.post("/drafts/{draft_id}/reject", dependencies=[Csrf])
def reject(
    request: Request, session: DB, who: Who, draft_id: int, reason: str = Form("")
) -> Response:
    """Reject a draft with a reason."""
    row = _row(session, who, draft_id)
    try:
        result = reject_draft(session, draft_id, who.user, reason)
    except ApprovalError as exc:
        return _draft_response(request, session, who, row, str(exc), 409)
    return _next_or_queue(session, who, draft_id, result.message)


@router.post("/drafts/{draft_id}/check", response_class=HTMLResponse)
def check(
    request: Request,
    session: DB,
    who: Who,
    draft_id: int,
    subject: str = Form(""),
    body: str = Form(""),
) -> Response:
    """Re-validate an edit in progress without saving it (the edit box calls it as you type)."""
    row = _row(session, who, draft_id)
    app = relance(request)
    findings = [
        f.as_dict()
        for f in revalidate(session, row.draft, app.policies, subject, body, date.today())
    ]
    session.rollback()  # validation only: nothing of this request is written
    return templates.TemplateResponse(request, "_findings.html", {"findings": findings})


@router.post("/drafts/{draft_id}/edit", dependencies=[Csrf])
def edit(
    request: Request,
    session: DB,
    who: Who,
    draft_id: int,
    subject: str = Form(...),
    body: str = Form(...),
) -> Response:
    """Save an edit: re-validated, back to pending (a new approval is needed)."""
    row = _row(session, who, draft_id)
    app = relance(request)
    try:
        result = edit_draft(
            session, draft_id, who.user, app.policies, subject.strip(), body, date.today()
        )
    except ApprovalError as exc:
        return _draft_response(request, session, who, row, str(exc), 409)
    session.flush()
    query = urlencode({"notice": result.message})
    return RedirectResponse(f"/drafts/{draft_id}?{query}", status_code=303)


def _next_or_queue(session: DB, who: Who, after: int, message: str) -> Response:
    """Go on to the next pending draft after `after` (then from the top), else the queue."""
    ids = [r.draft.id or 0 for r in list_queue(session, who, QueueFilter(status="pending"))]
    later = [i for i in ids if i > after] or [i for i in ids if i != after]
    target = f"/drafts/{later[0]}" if later else "/"
    return RedirectResponse(f"{target}?{urlencode({'notice': message})}", status_code=303)
