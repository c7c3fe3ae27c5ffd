"""The `relance` command: registers the sub-commands; each one is thin."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from assistant import __version__
from assistant.cli import cases, drafts, imports, llm, policy, replies
from assistant.cli.chat import chat_command
from assistant.cli.mail import fetch_command, inbox_app, send_command, worker_command
from assistant.cli.common import (
    AS_OPTION,
    console,
    get_app,
    parse_date,
    policies_or_fail,
    print_json,
    set_actor,
)
from assistant.cli.demo import demo_command
from assistant.services.cycle import CycleReport, run_cycle
from assistant.services.portfolio import ensure_creditor

app = typer.Typer(
    name="relance",
    help="Relance — amicable debt recovery assistant.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(policy.app, name="policy")
app.add_typer(drafts.app, name="drafts")
app.add_typer(cases.app, name="cases")
app.add_typer(imports.app, name="import")
app.add_typer(replies.app, name="replies")
app.add_typer(llm.app, name="llm")
app.add_typer(inbox_app, name="inbox")
app.command("demo")(demo_command)
app.command("send")(send_command)
app.command("fetch")(fetch_command)
app.command("worker")(worker_command)
app.command("chat")(chat_command)


@app.callback()
def main(
    actor: str | None = AS_OPTION,
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    """Relance drafts reminders, reads replies and hands sensitive cases to a human."""
    if version:
        console.print(f"relance {__version__}")
        raise typer.Exit()
    set_actor(actor)


@app.command("init")
def init() -> None:
    """Create the database tables and register the creditors of the policies folder."""
    from assistant.db.engine import session_scope

    application = get_app()
    with policies_or_fail(application):
        policies = application.policies
    with session_scope(application.engine) as session:
        for pol in policies.values():
            ensure_creditor(session, pol)
    console.print(f"database ready: {application.settings.database_url}")
    console.print(
        f"{len(policies)} polic{'y' if len(policies) == 1 else 'ies'}: {', '.join(sorted(policies))}"
    )
    console.print("next: `relance import invoices FILE --creditor SLUG`, then `relance cycle`.")


def print_cycle_report(report: CycleReport) -> None:
    """Print a cycle's summary table."""
    table = Table(
        "creditor",
        "opened",
        "drafts",
        "blocked",
        "hand-offs",
        "waiting",
        "nothing",
        "awaiting approval",
        "closed",
        title=f"Cycle of {report.on.isoformat()}",
    )
    for slug, c in report.counts.items():
        table.add_row(
            slug,
            str(c["opened"]),
            str(c["drafts"]),
            "",
            str(c["handoffs"]),
            str(c["wait"]),
            str(c["nothing"]),
            str(c["awaiting_approval"]),
            str(c["closed"]),
        )
    table.add_row(
        "[bold]total",
        str(report.total("opened")),
        str(report.total("drafts")),
        str(report.blocked),
        str(report.total("handoffs")),
        str(report.total("wait")),
        str(report.total("nothing")),
        str(report.total("awaiting_approval")),
        str(report.total("closed")),
    )
    console.print(table)


def run_cycle_with_progress(application, on, creditor=None) -> CycleReport:  # type: ignore[no-untyped-def]
    """Run the cycle with a rich progress bar per creditor."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(slug: str, done: int, total: int) -> None:
            if slug not in tasks:
                tasks[slug] = bar.add_task(f"planning {slug}", total=total)
            bar.update(tasks[slug], completed=done)

        return run_cycle(application, on, progress=progress, creditor=creditor)


@app.command("cycle")
def cycle(
    on: str | None = typer.Option(
        None, "--date", help="Run as of this date (YYYY-MM-DD); default today."
    ),
    creditor: str | None = typer.Option(None, "--creditor", help="Only this creditor."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    actor: str | None = AS_OPTION,
) -> None:
    """Plan every case and draft the letters that are due. Sends nothing."""
    application = get_app(actor)
    with policies_or_fail(application):
        _ = application.policies
    report = run_cycle_with_progress(application, parse_date(on), creditor)
    if as_json:
        print_json(report.as_dict())
        return
    print_cycle_report(report)
    console.print("Drafts wait for approval: `relance drafts list`. Nothing was sent.")


if __name__ == "__main__":  # pragma: no cover
    app()
