"""`relance db`: upgrade the schema, show its revision and the migration history.

Also the command group class that turns database errors into short, redacted messages.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from sqlalchemy.exc import InterfaceError, OperationalError
from typer.core import TyperGroup

from assistant.cli.common import console, err_console, get_app, print_json
from assistant.config import Settings
from assistant.db.migrations import SchemaError, current, head, history, upgrade
from assistant.redact import Redactor, redact_url, redacted_logs

app = typer.Typer(help="Database schema: upgrade it, show its revision.", no_args_is_help=True)


class GuardedGroup(TyperGroup):
    """The root command group: schema and connection errors end in one redacted line."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command with redacted logs; print database errors in one redacted line."""
        try:
            with redacted_logs(_redactor()):
                return super().invoke(ctx)
        except SchemaError as exc:
            _fail(str(exc))
        except (OperationalError, InterfaceError) as exc:
            first = str(exc.orig or exc).strip().splitlines()[0]
            _fail(f"database error: {first}")


def _redactor() -> Redactor:
    """Return the redactor of the environment's settings (URL passwords only if invalid)."""
    try:
        return Settings().redactor()
    except Exception:  # noqa: BLE001 - settings that do not load: their command says why
        return Redactor()


def _fail(message: str) -> None:
    """Print `message` without secrets and exit 1."""
    text = _redactor()(message)
    err_console.print(f"[bold red]error:[/] {escape(text)}", highlight=False)
    raise typer.Exit(1)


@app.command("upgrade")
def upgrade_command(
    revision: str = typer.Option("head", "--revision", help="Target revision (default: newest)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Migrate the database to the newest schema (back it up first); data is kept."""
    application = get_app()
    before, after = upgrade(application.bare_engine, revision)
    url = redact_url(application.settings.database_url)
    if as_json:
        print_json({"database": url, "from": before, "to": after, "changed": before != after})
        return
    if before == after:
        console.print(f"{url}: already at revision {after}", highlight=False)
    else:
        console.print(f"{url}: upgraded from {before or 'empty'} to {after}", highlight=False)


@app.command("current")
def current_command(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Show the database's schema revision and whether it is up to date."""
    application = get_app()
    rev, newest = current(application.bare_engine), head()
    if as_json:
        print_json({"current": rev, "head": newest, "up_to_date": rev == newest})
        return
    state = "up to date" if rev == newest else "behind: run `relance db upgrade`"
    console.print(f"revision {rev or 'none'} (newest {newest}): {state}", highlight=False)


@app.command("history")
def history_command(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """List the schema revisions this version knows, oldest first."""
    revisions = history()
    if as_json:
        print_json([{"revision": r.revision, "down": r.down_revision, "message": r.message}
                    for r in revisions])  # fmt: skip
        return
    for r in revisions:
        console.print(f"{r.revision}  {r.message}", highlight=False, markup=False)
