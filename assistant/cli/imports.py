"""`relance import invoices|payments`: parse options, call one import service, render."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from assistant.cli.common import (
    AS_OPTION,
    console,
    err_console,
    fail,
    get_app,
    parse_date,
    policies_or_fail,
    print_json,
)
from assistant.importing.service import (
    ImportFailed,
    ImportReport,
    MassSettleRefused,
    import_invoices,
    import_payments,
)
from assistant.importing.service import Progress as ProgressCallback

app = typer.Typer(
    help="Import invoices and payments from ERP exports (CSV, XLSX).", no_args_is_help=True
)

FILE_ARG = typer.Argument(..., help="The export: CSV (any delimiter/encoding) or XLSX.")
CREDITOR_OPT = typer.Option(..., "--creditor", help="Creditor slug (a policy must exist).")
MAPPING_OPT = typer.Option(None, "--mapping", help="Mapping YAML naming the columns.")
DRY_RUN_OPT = typer.Option(False, "--dry-run", help="Check and report; write nothing.")
JSON_OPT = typer.Option(False, "--json", help="Print the report as JSON.")
_MAX_ERRORS_SHOWN = 200


@contextmanager
def _progress(quiet: bool) -> Iterator[ProgressCallback | None]:
    if quiet:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("reading", total=1)

        def update(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        yield update


def _run(
    kind: str,
    file: Path,
    creditor: str,
    mapping: Path | None,
    snapshot: bool,
    dry_run: bool,
    as_json: bool,
    actor: str | None,
    as_of: date | None = None,
    allow_mass_settle: bool = False,
    max_settle: float | None = None,
) -> None:
    application = get_app(actor)
    with policies_or_fail(application):
        _ = application.policies
    try:
        with _progress(as_json) as progress:
            if kind == "invoices":
                report = import_invoices(
                    application,
                    file,
                    creditor,
                    mapping=mapping,
                    snapshot=snapshot,
                    dry_run=dry_run,
                    progress=progress,
                    as_of=as_of,
                    allow_mass_settle=allow_mass_settle,
                    max_settle_share=None if max_settle is None else max_settle / 100,
                )
            else:
                report = import_payments(
                    application, file, creditor, mapping=mapping, dry_run=dry_run, progress=progress
                )
    except MassSettleRefused as exc:
        # Refused before writing: still say what the snapshot would have settled.
        if as_json:
            print_json({**exc.report.to_dict(), "ok": False, "error": str(exc)})
            raise typer.Exit(2) from exc
        render(exc.report, written=False)
        fail(str(exc), code=2)
    except ImportFailed as exc:
        if as_json:
            print_json(
                {
                    "ok": False,
                    "rows": 0,
                    "created": 0,
                    "updated": 0,
                    "settled": 0,
                    "unchanged": 0,
                    "errors": [],
                    "error": str(exc),
                }
            )
            raise typer.Exit(2) from exc
        fail(str(exc), code=2)
    finally:
        application.close()
    if as_json:
        print_json(report.to_dict())
    else:
        render(report)
    if not report.ok:
        raise typer.Exit(1)


def render(report: ImportReport, written: bool = True) -> None:
    """Print the summary, warnings and the table of bad rows (`written`: False when the
    import was refused as a whole, so the counts are what it would have done)."""
    title = f"[bold]{report.kind} import[/]: {Path(report.file).name} → {report.creditor}"
    if report.dry_run:
        title += " [yellow](dry run)[/]"
    elif not written:
        title += " [red](refused: what it would do, nothing was written)[/]"
    console.print(title, highlight=False)
    summary = Table(show_header=False)
    summary.add_column("what")
    summary.add_column("count", justify="right")
    noun = "payments" if report.kind == "payments" else "invoices"
    rows = [("rows read", report.rows)]
    if not report.ok:
        rows.append(("bad rows", len({e.line for e in report.errors})))
    elif report.kind == "invoices":
        rows += [
            ("debtors created", report.debtors_created),
            ("debtors updated", report.debtors_updated),
            ("contacts added", report.contacts_added),
        ]
    if report.ok:
        rows += [
            (f"{noun} created", report.created),
            ("invoices updated", report.updated),
            ("invoices settled" if report.kind == "invoices" else "invoices paid", report.settled),
            (f"{noun} unchanged", report.unchanged),
        ]
        if report.snapshot:
            rows.insert(-1, ("of which missing from the snapshot", report.snapshot_settled))
    if report.duplicates:
        rows.append(("duplicate rows ignored", report.duplicates))
    if report.skipped:
        rows.append(("total lines skipped", report.skipped))
    for label, count in rows:
        summary.add_row(label, str(count))
    console.print(summary)
    _print_totals(report)
    for header in report.ignored_columns:
        console.print(f"ignored column: {header}", highlight=False, markup=False)
    for assumption in report.assumptions:
        console.print(f"[yellow]assumed:[/] {assumption}", highlight=False)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if report.ok:
        if report.dry_run:
            console.print("Dry run: nothing was written.")
        return
    errors = Table(
        "line",
        "column",
        "value",
        "reason",
        title=f"{len(report.errors)} bad row(s)",
        title_style="bold red",
    )
    for e in report.errors[:_MAX_ERRORS_SHOWN]:
        errors.add_row(str(e.line), e.column, e.value, e.reason)
    console.print(errors)
    if len(report.errors) > _MAX_ERRORS_SHOWN:
        console.print(f"… and {len(report.errors) - _MAX_ERRORS_SHOWN} more (use --json).")
    console.print("[bold red]Nothing was imported:[/] fix the rows above and import again.")


def _print_totals(report: ImportReport) -> None:
    """Print the file's control totals (to check against the ERP's own)."""
    totals = report.totals
    if not totals:
        return
    parts = [f"{totals['rows']} rows", f"{totals['debtors']} debtors"]
    for key in ("amount", "outstanding"):
        for currency, value in totals.get(key, {}).items():
            parts.append(f"{key} {value} {currency}")
    console.print("control totals: " + ", ".join(parts), highlight=False)


@app.command("invoices")
def invoices(
    file: Path = FILE_ARG,
    creditor: str = CREDITOR_OPT,
    mapping: Path | None = MAPPING_OPT,
    snapshot: bool = typer.Option(
        False,
        "--snapshot",
        help="The file is the creditor's whole open ledger: settle open invoices it lacks.",
    ),
    dry_run: bool = DRY_RUN_OPT,
    as_json: bool = JSON_OPT,
    actor: str | None = AS_OPTION,
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="Date the export was made (YYYY-MM-DD; default: its latest date). Payments "
        "imported with a later date are kept.",
    ),
    max_settle: float = typer.Option(
        None,
        "--max-settle",
        min=0,
        max=100,
        metavar="PERCENT",
        help="With --snapshot: refuse (nothing written) when the file would settle more than "
        "PERCENT % of the open invoices. Without it, a snapshot settling more than 20 % is "
        "imported with a warning.",
    ),
    allow_mass_settle: bool = typer.Option(
        False,
        "--allow-mass-settle",
        help="With --snapshot and --max-settle: confirm that settling more is intended.",
    ),
) -> None:
    """Import an aged balance or invoice history; one bad row and nothing is written."""
    day = parse_date(as_of) if as_of else None
    _run(
        "invoices", file, creditor, mapping, snapshot, dry_run, as_json, actor, day,
        allow_mass_settle, max_settle,
    )  # fmt: skip


@app.command("payments")
def payments(
    file: Path = FILE_ARG,
    creditor: str = CREDITOR_OPT,
    mapping: Path | None = MAPPING_OPT,
    dry_run: bool = DRY_RUN_OPT,
    as_json: bool = JSON_OPT,
    actor: str | None = AS_OPTION,
) -> None:
    """Import payments and allocate them to invoices; one bad row and nothing is written."""
    _run("payments", file, creditor, mapping, False, dry_run, as_json, actor)


@app.command("documents")
def documents(
    folder: Path = typer.Argument(
        ..., exists=True, file_okay=False, help="Folder of invoice copies (PDF, PNG, JPEG)."
    ),
    creditor: str = CREDITOR_OPT,
    dry_run: bool = DRY_RUN_OPT,
    as_json: bool = JSON_OPT,
    actor: str | None = AS_OPTION,
) -> None:
    """Register invoice copies, matched to invoices by the number in their file name."""
    from assistant.db.engine import session_scope
    from assistant.importing.documents import register_documents

    application = get_app(actor)
    try:
        with session_scope(application.engine) as session:
            report = register_documents(
                session, folder, creditor, application.actor, dry_run=dry_run
            )
    except LookupError as exc:
        fail(str(exc), code=2)
    finally:
        application.close()
    if as_json:
        print_json(report.to_dict())
        return
    console.print(
        f"[bold]documents[/]: {report.files} file(s) in {folder} → {creditor}"
        + (" [yellow](dry run)[/]" if dry_run else ""),
        highlight=False,
    )
    for item in report.registered:
        console.print(f"registered {item['file']} → invoice {item['invoice']}", highlight=False)
    if report.unchanged:
        console.print(f"{report.unchanged} already registered", highlight=False)
    for name in report.unmatched:
        console.print(f"[yellow]no invoice matches[/] {name}", highlight=False)
    for item in report.ambiguous:
        console.print(
            f"[yellow]several invoices match[/] {item['file']}: {', '.join(item['invoices'])}",
            highlight=False,
        )
