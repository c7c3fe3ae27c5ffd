"""`relance notes add` and `relance calls log`: what the officer did outside the mailbox."""

from __future__ import annotations

from enum import StrEnum

import typer

from assistant.cli.common import AS_OPTION
from assistant.cli.present import run_action
from assistant.services.case_control import CaseControlError, add_note
from assistant.services.case_journal import CALL_OUTCOMES, log_call
from assistant.services.officer_common import OfficerActionError

notes_app = typer.Typer(help="Officers' notes on cases.", no_args_is_help=True)
calls_app = typer.Typer(help="Telephone calls to debtors.", no_args_is_help=True)

CallOutcome = StrEnum("CallOutcome", {o.upper(): o for o in CALL_OUTCOMES})  # type: ignore[misc]


@notes_app.callback()
def notes() -> None:
    """Officers' notes on cases."""


@calls_app.callback()
def calls() -> None:
    """Telephone calls to debtors."""


@notes_app.command("add")
def add(ref: str, text: str, actor: str | None = AS_OPTION) -> None:
    """Write a note on a case (shown on its timeline)."""

    def action(session, who: str) -> str:
        try:
            return add_note(session, ref, who, text)
        except CaseControlError as exc:
            raise OfficerActionError(str(exc)) from exc

    run_action(actor, action)


@calls_app.command("log")
def log(
    ref: str,
    outcome: CallOutcome = typer.Option(..., "--outcome", help="|".join(CALL_OUTCOMES)),
    note: str = typer.Option("", "--note", help="What was said."),
    actor: str | None = AS_OPTION,
) -> None:
    """Log a call and its outcome on a case (shown on its timeline)."""
    run_action(actor, lambda s, who: log_call(s, ref, who, outcome.value, note))
