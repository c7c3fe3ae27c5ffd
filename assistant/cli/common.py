"""Helpers shared by the command modules: the app, the console, JSON output, errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NoReturn

import typer
from rich.console import Console

from assistant.bootstrap import App, build_app
from assistant.policy import PolicyError

console = Console()
err_console = Console(stderr=True)

_state: dict[str, str | None] = {"actor": None}

AS_OPTION = typer.Option(None, "--as", help="Who is acting (recorded in the audit trail).")


def set_actor(actor: str | None) -> None:
    """Remember the global `--as` value."""
    if actor:
        _state["actor"] = actor


def get_app(actor: str | None = None) -> App:
    """Build the application for one command."""
    return build_app(actor=actor or _state["actor"])


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error on stderr and exit with `code`."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def policies_or_fail(app: App) -> Iterator[None]:
    """Turn a PolicyError into a readable, located error and exit code 1."""
    try:
        yield
    except PolicyError as exc:
        for issue in exc.issues:
            err_console.print(f"[red]{issue}[/]", highlight=False)
        fail("fix the policy files above (see `relance policy check`)")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> str:
    """Serialise to JSON (Decimal as number, dates ISO)."""
    return json.dumps(value, default=_default, ensure_ascii=False)


def print_json(value: Any) -> None:
    """Print `value` as JSON on stdout, without rich markup."""
    sys.stdout.write(dumps(value) + "\n")
    sys.stdout.flush()


def parse_date(value: str | None) -> date:
    """Parse an ISO date option, defaulting to today."""
    if not value:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"invalid date {value!r}: use YYYY-MM-DD")
