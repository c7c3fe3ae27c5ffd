"""`relance tasks list|done`: officer tasks (verify a payment, confirm a contact…)."""

from __future__ import annotations

from enum import StrEnum

import typer

from assistant.cli import present
from assistant.cli.common import AS_OPTION, console, fail, get_app, print_json
from assistant.db.engine import session_scope
from assistant.services.queues import QueueError, complete_task, list_tasks

app = typer.Typer(help="Officer tasks opened by debtor replies.", no_args_is_help=True)


class TaskStatus(StrEnum):
    """Which tasks to list."""

    OPEN = "open"
    DONE = "done"
    ALL = "all"


@app.command("list")
def list_command(
    status: TaskStatus = typer.Option(TaskStatus.OPEN, "--status", help="open|done|all"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List tasks, oldest first."""
    application = get_app()
    with session_scope(application.engine) as session:
        rows = list_tasks(session, status=None if status is TaskStatus.ALL else status.value)
    if as_json:
        print_json(rows)
        return
    table = present.table("id", "case", "kind", "status", "detail")
    for r in rows:
        table.add_row(str(r["id"]), r["case"] or "—", r["kind"], r["status"], r["detail"][:120])
    console.print(table)
    console.print(f"{len(rows)} task(s)")


@app.command("done")
def done(task_id: int = typer.Argument(..., metavar="ID"), actor: str | None = AS_OPTION) -> None:
    """Mark a task done."""
    application = get_app(actor)
    try:
        with session_scope(application.engine) as session:
            complete_task(session, task_id, application.actor)
    except QueueError as exc:
        fail(str(exc))
    console.print(f"task {task_id} done")
