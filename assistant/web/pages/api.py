"""The workspace's JSON API: the same verbs and rules as the pages, for scripts and tools.

No session → 401; a state change without the session's `X-CSRF-Token` → 403; another
creditor's object → 404, exactly like a missing one; a transition refused → 409 with the reason.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from assistant.services.approval import ApprovalError, reject_draft
from assistant.services.case_file import find_case
from assistant.services.case_view import case_details, list_cases
from assistant.services.draft_queue import (
    QueueFilter,
    approve_many,
    draft_json,
    list_queue,
    queue_row,
)
from assistant.services.policy_editor import published_text
from assistant.services.users import Scope, scope_of, sign_in
from assistant.web.deps import (
    DB,
    NotFound,
    Who,
    check_csrf,
    csrf_token,
    relance,
    require_manager,
)

router = APIRouter(tags=["api"])


async def _signed_in_writer(request: Request, who: Who) -> Scope:
    """Check the session first (401), then the CSRF token of a state change (403)."""
    await check_csrf(request)
    return who


Writer = Annotated[Scope, Depends(_signed_in_writer)]


class Credentials(BaseModel):
    """What `POST /api/session` takes."""

    username: str
    password: str


class Rejection(BaseModel):
    """What `POST /api/drafts/{id}/reject` takes."""

    reason: str


def _json(value: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(jsonable_encoder(value), status_code=status)


def _conflict(reason: str) -> JSONResponse:
    return _json({"detail": reason}, 409)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Answer 200 while the server runs."""
    return {"status": "ok"}


@router.post("/api/session")
def open_session(request: Request, session: DB, credentials: Credentials) -> JSONResponse:
    """Sign in: sets the session cookie and returns the CSRF token for later writes."""
    outcome = sign_in(session, credentials.username, credentials.password, datetime.now(UTC))
    if outcome.user is None:
        return _json({"detail": outcome.refusal}, 401)
    request.session.clear()
    request.session["user"] = outcome.user.name
    scope = scope_of(outcome.user)
    creditors = None if scope.creditors is None else sorted(scope.creditors)
    return _json(
        {
            "csrf": csrf_token(request),
            "user": {"name": scope.user, "role": scope.role, "creditors": creditors},
        }
    )


@router.delete("/api/session")
def close_session(request: Request, who: Writer) -> JSONResponse:
    """Sign out."""
    request.session.clear()
    return _json({"status": "signed out"})


@router.get("/api/drafts")
def drafts(
    session: DB,
    who: Who,
    status: str | None = "pending",
    creditor: str | None = None,
    step: str | None = None,
    engine: str | None = None,
) -> JSONResponse:
    """List the drafts of the person's creditors (default: pending), oldest first."""
    flt = QueueFilter(
        status=None if status in (None, "", "all") else status,
        creditor=creditor,
        step=step,
        engine=engine,
    )
    return _json([draft_json(r) for r in list_queue(session, who, flt)])


@router.get("/api/drafts/{draft_id}")
def draft(session: DB, who: Who, draft_id: int) -> JSONResponse:
    """Return one draft with its text and HTML."""
    row = queue_row(session, who, draft_id)
    if row is None:
        raise NotFound()
    return _json(draft_json(row, full=True))


@router.post("/api/drafts/{draft_id}/approve")
def approve(request: Request, session: DB, who: Writer, draft_id: int) -> JSONResponse:
    """Approve a draft (a four-eyes step records a first approval); 409 when refused."""
    if queue_row(session, who, draft_id) is None:
        raise NotFound()
    app = relance(request)
    outcome = approve_many(session, who, [draft_id], who.user, app.policies, app.settings.smtp_from)
    if outcome.refused:
        return _conflict(outcome.refused[0][1])
    session.flush()
    row = queue_row(session, who, draft_id)
    assert row is not None
    session.refresh(row.draft)
    return _json({**draft_json(row, full=True), "message": outcome.results[0].message})


@router.post("/api/drafts/{draft_id}/reject")
def reject(session: DB, who: Writer, draft_id: int, body: Rejection) -> JSONResponse:
    """Reject a draft with a reason; 409 when it can no longer be rejected."""
    if queue_row(session, who, draft_id) is None:
        raise NotFound()
    try:
        result = reject_draft(session, draft_id, who.user, body.reason)
    except ApprovalError as exc:
        return _conflict(str(exc))
    session.flush()
    row = queue_row(session, who, draft_id)
    assert row is not None
    session.refresh(row.draft)
    return _json({**draft_json(row, full=True), "message": result.message})


@router.get("/api/cases")
def cases(session: DB, who: Who, status: str | None = None) -> JSONResponse:
    """List the cases of the person's creditors."""
    rows = [r for r in list_cases(session, status=status or None) if who.sees(r["creditor"])]
    return _json(rows)


@router.get("/api/cases/{ref}")
def case(session: DB, who: Who, ref: str) -> JSONResponse:
    """Return one case: ledger, contacts, letters, replies, promises, hand-offs."""
    found = find_case(session, ref)
    if found is None or not who.sees(found[1]):
        raise NotFound()
    details = case_details(session, found[0].ref, date.today())
    if details is None:
        raise NotFound()
    return _json(details)


@router.get("/api/policies")
def policies(request: Request, who: Who) -> JSONResponse:
    """List the creditors' policies the person may edit (managers and admins)."""
    require_manager(who)
    return _json([{"creditor": slug} for slug in who.visible(relance(request).policies)])


@router.get("/api/policies/{slug}")
def policy(request: Request, who: Who, slug: str) -> JSONResponse:
    """Return a policy's published YAML (managers and admins of that creditor)."""
    require_manager(who)
    app = relance(request)
    if slug not in app.policies or not who.sees(slug):
        raise NotFound()
    return _json({"creditor": slug, "yaml": published_text(app.settings.policies_dir, slug)})
