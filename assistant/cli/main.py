"""The `relance` command: registers the sub-commands; each one is thin."""

from __future__ import annotations

import typer
from rich import box
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column, Table

from assistant import __version__
from assistant.cli import (
    cases,
    contacts,
    db,
    drafts,
    handoffs,
    imports,
    llm,
    plans,
    policy,
    promises,
    replies,
    tasks,
    users,
)
from assistant.cli.attest import attest_command, insolvency_command
from assistant.cli.chat import chat_command
from assistant.cli.common import (
    AS_OPTION,
    console,
    err_console,
    get_app,
    parse_date,
    policies_or_fail,
    print_json,
    set_actor,
)
from assistant.cli.demo import demo_command
from assistant.cli.journal import calls_app, notes_app
from assistant.cli.mail import fetch_command, inbox_app, send_command, worker_command
from assistant.cli.officer_promises import add_command as promise_add_command
from assistant.cli.serve import serve_command
from assistant.services.cycle import ENGINES, CycleReport, run_cycle
from assistant.services.portfolio import ensure_creditor

app = typer.Typer(
    name="relance",
    help="Relance — amicable debt recovery assistant.",
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=db.GuardedGroup,
)
app.add_typer(policy.app, name="policy")
app.add_typer(drafts.app, name="drafts")
app.add_typer(cases.app, name="cases")
app.add_typer(imports.app, name="import")
app.add_typer(replies.app, name="replies")
app.add_typer(llm.app, name="llm")
app.add_typer(inbox_app, name="inbox")
app.add_typer(handoffs.app, name="handoffs")
app.add_typer(promises.app, name="promises")
app.add_typer(tasks.app, name="tasks")
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(contacts.app, name="contacts")
app.add_typer(notes_app, name="notes")
app.add_typer(calls_app, name="calls")
app.add_typer(plans.app, name="plans")
promises.app.command("add")(promise_add_command)
drafts.app.command("attest")(attest_command)
cases.app.command("insolvency")(insolvency_command)
app.command("demo")(demo_command)
app.command("send")(send_command)
app.command("fetch")(fetch_command)
app.command("worker")(worker_command)
app.command("chat")(chat_command)
app.command("serve")(serve_command)


@app.callback()
def main(
    ctx: typer.Context,
    actor: str | None = AS_OPTION,
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    """Relance drafts reminders, reads replies and hands sensitive cases to a human."""
    if version:
        console.print(f"relance {__version__}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        console.print(ctx.get_help())
        raise typer.Exit()
    set_actor(actor)


@app.command("init")
def init() -> None:
    """Create or upgrade the database schema and register the creditors of the policies folder."""
    from assistant.db.engine import session_scope
    from assistant.db.migrations import upgrade
    from assistant.redact import redact_url

    application = get_app()
    with policies_or_fail(application):
        policies = application.policies
    before, after = upgrade(application.bare_engine)
    with session_scope(application.engine) as session:
        for pol in policies.values():
            ensure_creditor(session, pol)
    url = redact_url(application.settings.database_url)
    console.print(f"database ready: {url}", highlight=False)
    if before != after:
        console.print(f"schema: {before or 'empty'} → {after}", highlight=False)
    console.print(
        f"{len(policies)} polic{'y' if len(policies) == 1 else 'ies'}: {', '.join(sorted(policies))}"
    )
    console.print("next: `relance import invoices FILE --creditor SLUG`, then `relance cycle`.")


CYCLE_COLUMNS = (  # (header, counter): short headers so the table fits in 80 columns
    ("opened", "opened"),
    ("drafts", "drafts"),
    ("blocked", "blocked"),
    ("h-offs", "handoffs"),
    ("wait", "wait"),
    ("idle", "nothing"),
    ("queued", "awaiting_approval"),
    ("closed", "closed"),
)


def print_cycle_report(report: CycleReport) -> None:
    """Print a cycle's summary table (per creditor and in total), then its notes."""
    llm = [slug for slug, engine in report.engines.items() if engine == "llm"]
    legend = "wait: next step not due · idle: nothing to do · queued: awaiting approval"
    table = Table(
        "creditor",
        *(Column(header, justify="right") for header, _ in CYCLE_COLUMNS),
        title=f"Cycle of {report.on.isoformat()}",
        caption=legend + (f" · LLM drafting: {', '.join(llm)}" if llm else ""),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for slug, c in report.counts.items():
        table.add_row(slug, *(str(c[key]) for _, key in CYCLE_COLUMNS))
    table.add_row(
        "[bold]total",
        *(
            str(report.blocked if key == "blocked" else report.total(key))
            for _, key in CYCLE_COLUMNS
        ),
    )
    console.print(table)
    for note in report.notes:
        err_console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


def run_cycle_with_progress(application, on, creditor=None, engine=None) -> CycleReport:  # type: ignore[no-untyped-def]
    """Run the cycle with a rich progress bar per creditor (and per LLM drafting run)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                label = stage if stage.startswith("drafting ") else f"planning {stage}"
                tasks[stage] = bar.add_task(label, total=total)
            bar.update(tasks[stage], completed=done)

        return run_cycle(application, on, progress=progress, creditor=creditor, engine=engine)


@app.command("cycle")
def cycle(
    on: str | None = typer.Option(
        None, "--date", help="Run as of this date (YYYY-MM-DD); default today."
    ),
    creditor: str | None = typer.Option(None, "--creditor", help="Only this creditor."),
    engine: str | None = typer.Option(
        None,
        "--engine",
        help="Drafting engine: template or llm (default: each policy's `engine`).",
        case_sensitive=False,
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    actor: str | None = AS_OPTION,
) -> None:
    """Plan every case and draft the letters that are due. Sends nothing."""
    from assistant.llm import LLMNotConfigured

    if engine is not None:
        engine = engine.lower()
        if engine not in ENGINES:
            err_console.print(
                f"error: --engine must be one of {', '.join(ENGINES)}, not {engine!r}"
            )
            raise typer.Exit(2)
    application = get_app(actor)
    with policies_or_fail(application):
        _ = application.policies
    if engine == "llm" and not application.settings.llm_configured:
        err_console.print(LLMNotConfigured.HOWTO, highlight=False, markup=False)
        raise typer.Exit(1)
    try:
        report = run_cycle_with_progress(application, parse_date(on), creditor, engine)
    except LLMNotConfigured as exc:  # pragma: no cover - checked above
        err_console.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(1) from None
    if as_json:
        print_json(report.as_dict())
        return
    print_cycle_report(report)
    console.print("Drafts wait for approval: `relance drafts list`. Nothing was sent.")


if __name__ == "__main__":  # pragma: no cover
    app()
