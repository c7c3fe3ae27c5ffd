"""The officers' queues: hand-offs to resolve, unmatched and quarantined mail, tasks, promises."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assistant.services.queues import QueueError, complete_task, resolve_handoff
from assistant.services.scoped_queues import (
    handoff_in_scope,
    handoffs_for,
    inbound_for,
    promises_falling_due,
    task_in_scope,
    tasks_for,
)
from assistant.web.deps import DB, Csrf, NotFound, Who, relance
from assistant.web.render import templates

router = APIRouter()


@router.get("/queues", response_class=HTMLResponse)
def queues_page(request: Request, session: DB, who: Who, notice: str | None = None) -> Response:
    """Show every queue of the person's creditors on one page."""
    return _render(request, session, who, notice=notice)


def _render(
    request: Request,
    session: DB,
    who: Who,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    app = relance(request)
    return templates.TemplateResponse(
        request,
        "queues.html",
        {
            "who": who,
            "handoffs": handoffs_for(session, who),
            "unmatched": inbound_for(app, session, who, "unmatched"),
            "quarantined": inbound_for(app, session, who, "quarantined"),
            "tasks": tasks_for(session, who),
            "promises": promises_falling_due(session, who, date.today()),
            "today": date.today(),
            "notice": notice,
            "error": error,
        },
        status_code=status,
    )


def _done(message: str, anchor: str) -> Response:
    return RedirectResponse(f"/queues?{urlencode({'notice': message})}#{anchor}", status_code=303)


@router.post("/handoffs/{handoff_id}/resolve", dependencies=[Csrf])
def resolve(
    request: Request,
    session: DB,
    who: Who,
    handoff_id: int,
    note: str = Form(""),
    then: str = Form("keep"),
) -> Response:
    """Resolve a hand-off with a note; `then=resume` puts the case back into dunning."""
    if not handoff_in_scope(session, who, handoff_id):
        raise NotFound()
    try:
        message = resolve_handoff(session, handoff_id, who.user, note, resume=then == "resume")
    except QueueError as exc:
        return _render(request, session, who, error=str(exc), status=409)
    return _done(message, "handoffs")


@router.post("/tasks/{task_id}/done", dependencies=[Csrf])
def task_done(request: Request, session: DB, who: Who, task_id: int) -> Response:
    """Mark a task done."""
    if not task_in_scope(session, who, task_id):
        raise NotFound()
    try:
        complete_task(session, task_id, who.user)
    except QueueError as exc:
        return _render(request, session, who, error=str(exc), status=409)
    return _done(f"task {task_id} done", "tasks")
