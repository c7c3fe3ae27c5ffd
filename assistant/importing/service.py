"""Import services: read an export, check every row, then write all of it or nothing.

`import_invoices` and `import_payments` run in ONE transaction. Any bad row means nothing is
written and the report lists every bad row. Re-importing the same file changes nothing and
writes no audit event. Problems with the file as a whole (unreadable, unknown columns, bad
mapping, unknown creditor) raise `ImportFailed`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection, Engine

from assistant.db.engine import session_scope
from assistant.db.models import utcnow
from assistant.importing.allocation import plan_payments
from assistant.importing.chunked import CHUNK_DEBTORS, CHUNK_ROWS, Outcome, WriteTo, plan_in_chunks
from assistant.importing.headers import HeaderError
from assistant.importing.mapping import ImportMapping, MappingError, load_mapping
from assistant.importing.plan import (
    ImportPlan,
    mass_settle_refusal,
    mass_settle_warning,
    plan_invoices,
)
from assistant.importing.reading import (
    FileReadError,
    RawTable,
    TableReader,
    open_table,
    read_table,
)
from assistant.importing.rows import (
    ParsedRows,
    RowError,
    check_invoice_rows,
    parse_invoice_rows,
    parse_payment_rows,
)
from assistant.importing.staging import STAGED, StagedRows
from assistant.importing.store import (
    apply_plan,
    count_settleable,
    create_creditor,
    find_creditor,
    load_debtors,
    load_invoice_payments,
    load_invoices,
    load_payment_references,
    write_summary,
)
from assistant.importing.summary import (
    InvoiceTally,
    debtor_type_assumption,
    debtor_type_note,
    export_date,
    ignored_headers,
    invoice_totals,
    payment_totals,
)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
DEFAULT_ACTOR = "relance"
#: A file of at most this many rows is checked and planned in memory, as one plan (faster);
#: a bigger one is streamed in two passes, so memory stops growing at about this size. Both
#: ways give the same report, rows and audit events (tests/integration/test_import_chunks.py).
IN_MEMORY_ROWS = 50_000


class ImportFailed(Exception):
    """The file as a whole cannot be imported (not a row problem)."""


class MassSettleRefused(ImportFailed):
    """A --snapshot would settle too many open invoices; `report` says how many."""

    def __init__(self, message: str, report: ImportReport):
        super().__init__(message)
        self.report = report


@dataclass
class ImportReport:
    """What an import found and did (or would do, on a dry run)."""

    kind: str  # invoices | payments
    file: str
    creditor: str
    dry_run: bool = False
    snapshot: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    settled: int = 0
    snapshot_settled: int = 0  # of `settled`: open invoices settled for missing from the file
    unchanged: int = 0
    debtors_created: int = 0
    debtors_updated: int = 0
    contacts_added: int = 0
    duplicates: int = 0
    skipped: int = 0
    header_line: int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Tell whether every row was good."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form (keys ok, rows, created, updated, settled, unchanged, errors…)."""
        return {
            "ok": self.ok,
            "kind": self.kind,
            "file": self.file,
            "creditor": self.creditor,
            "dry_run": self.dry_run,
            "snapshot": self.snapshot,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "settled": self.settled,
            "snapshot_settled": self.snapshot_settled,
            "unchanged": self.unchanged,
            "debtors_created": self.debtors_created,
            "debtors_updated": self.debtors_updated,
            "contacts_added": self.contacts_added,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "header_line": self.header_line,
            "columns": self.columns,
            "warnings": self.warnings,
            "errors": [e.as_dict() for e in self.errors],
            "ignored_columns": self.ignored_columns,
            "assumptions": self.assumptions,
            "totals": self.totals,
        }


def _resolve(
    app_or_engine: Any, policies: Mapping[str, Any] | None, actor: str | None
) -> tuple[Engine, Mapping[str, Any], str]:
    if isinstance(app_or_engine, Engine):
        return app_or_engine, policies or {}, actor or DEFAULT_ACTOR
    engine = app_or_engine.engine
    pols = policies if policies is not None else app_or_engine.policies
    return engine, pols, actor or app_or_engine.actor


def _read(
    path: Path, mapping: ImportMapping | Path | str | None, reader: TableReader
) -> tuple[RawTable, ImportMapping | None]:
    try:
        mp = load_mapping(Path(mapping)) if isinstance(mapping, str | Path) else mapping
        table = reader(
            path,
            delimiter=mp.delimiter if mp else None,
            encoding=mp.encoding if mp else None,
            sheet=mp.sheet if mp else None,
        )
    except (MappingError, FileReadError) as exc:
        raise ImportFailed(str(exc)) from exc
    return table, mp


def _report_from(
    kind: str, path: Path, slug: str, parsed: ParsedRows[Any], dry_run: bool, snapshot: bool = False
) -> ImportReport:
    cols = parsed.columns_found
    return ImportReport(
        ignored_columns=ignored_headers(cols) if cols else [],
        kind=kind,
        file=str(path),
        creditor=slug,
        dry_run=dry_run,
        snapshot=snapshot,
        rows=parsed.read,
        duplicates=parsed.duplicates,
        skipped=parsed.skipped,
        header_line=parsed.header_line,
        columns=parsed.columns,
        errors=sorted(parsed.errors, key=lambda e: e.line),
    )


def _fill(report: ImportReport, plan: ImportPlan) -> None:
    report.created, report.updated = plan.created, plan.updated
    report.settled, report.unchanged = plan.settled, plan.unchanged
    report.debtors_created, report.debtors_updated = len(plan.new_debtors), len(plan.debtor_updates)
    report.contacts_added = len(plan.new_contacts)
    report.warnings += plan.warnings
    report.errors = sorted(report.errors + plan.errors, key=lambda e: e.line)


def _summary(report: ImportReport, action: str) -> dict[str, Any]:
    data = report.to_dict()
    keep = (
        "rows",
        "created",
        "updated",
        "settled",
        "unchanged",
        "debtors_created",
        "debtors_updated",
        "contacts_added",
        "snapshot",
    )
    return {"action": action, **{k: data[k] for k in keep}}


def import_invoices(
    app_or_engine: Any,
    path: Path,
    creditor_slug: str,
    mapping: ImportMapping | Path | str | None = None,
    snapshot: bool = False,
    dry_run: bool = False,
    actor: str | None = None,
    *,
    policies: Mapping[str, Any] | None = None,
    today: date | None = None,
    progress: Progress | None = None,
    reader: TableReader = open_table,
    as_of: date | None = None,
    allow_mass_settle: bool = False,
    max_settle_share: float | None = None,
    chunk_rows: int = CHUNK_ROWS,
    chunk_debtors: int = CHUNK_DEBTORS,
    in_memory_rows: int = IN_MEMORY_ROWS,
) -> ImportReport:
    """Import an invoice export (aged balance or history) for one creditor, all or nothing.

    `as_of` is the date the export was made (default: the latest date it shows); payments
    imported with a later date are kept, whatever the export says. A `snapshot` that would
    settle more than `SNAPSHOT_SETTLE_LIMIT` of the open invoices is imported with a warning;
    with `max_settle_share` set, one settling more than that share raises MassSettleRefused
    (a dry run only warns) unless `allow_mass_settle`.

    A file of more than `in_memory_rows` rows is streamed in two passes inside the one
    transaction, so memory does not grow with it: the rows are checked a block of `chunk_rows`
    at a time into a temp table, then planned and written by chunks (`chunked.plan_in_chunks`)
    of `chunk_debtors` debtors and `chunk_rows` invoices. A smaller one is checked, planned and
    written as one plan, in memory (`_import_whole`), which is faster.
    """
    engine, pols, who = _resolve(app_or_engine, policies, actor)
    path = Path(path)
    _tick(progress, "reading", 0, 1)
    table, mp = _read(path, mapping, reader)
    job = _InvoiceJob(
        engine,
        pols,
        who,
        table,
        mp,
        path,
        creditor_slug,
        snapshot=snapshot,
        dry_run=dry_run,
        today=today or date.today(),
        progress=progress,
        as_of=as_of,
        allow_mass_settle=allow_mass_settle,
        max_settle_share=max_settle_share,
    )
    try:
        if len(table.rows) <= in_memory_rows:
            return _import_whole(job)
        return _import_streamed(job, chunk_rows=chunk_rows, chunk_debtors=chunk_debtors)
    finally:
        close = getattr(table.rows, "close", None)
        if close is not None:
            close()  # rows spilled to a temp file: delete it


@dataclass(frozen=True)
class _InvoiceJob:
    """What one invoice import was asked to do, read and resolved (both ways take it)."""

    engine: Engine
    pols: Mapping[str, Any]
    who: str
    table: RawTable
    mp: ImportMapping | None
    path: Path
    slug: str
    snapshot: bool
    dry_run: bool
    today: date
    progress: Progress | None
    as_of: date | None
    allow_mass_settle: bool
    max_settle_share: float | None

    @property
    def total(self) -> int:
        """Rows to check, for the progress bar (the header line aside)."""
        return max(len(self.table.rows) - 1, 1)

    @property
    def policy_kind(self) -> str | None:
        """The policy's default debtor type, if it sets one."""
        return getattr(self.pols.get(self.slug), "default_debtor_type", None)

    @property
    def default_kind(self) -> str | None:
        """The mapping's default debtor type, if it sets one."""
        return self.mp.defaults.debtor_type if self.mp else None

    def no_rows(self) -> ImportFailed:
        """The refusal of a --snapshot of a file without invoice rows."""
        return ImportFailed(
            f"{self.path}: no invoice rows; --snapshot would settle every open invoice"
        )

    def creditor(self, conn: Connection) -> int | None:
        """Return the creditor's id (None: not imported yet); refuse a slug no policy has."""
        creditor_id = find_creditor(conn, self.slug)
        if creditor_id is None and self.slug not in self.pols:
            raise ImportFailed(f"unknown creditor {self.slug!r}: no policy has this slug")
        return creditor_id

    def refusal(self, counts: ImportPlan) -> str | None:
        """Return the mass-settle refusal `--max-settle` asks for, if this snapshot earns it."""
        if self.max_settle_share is None or self.allow_mass_settle:
            return None
        return mass_settle_refusal(counts, self.max_settle_share)

    def settle_share(self, report: ImportReport, counts: ImportPlan, refusal: str | None) -> None:
        """Warn of a mass settle, or refuse it (a dry run only warns): nothing written then."""
        warning = None if refusal or self.allow_mass_settle else mass_settle_warning(counts)
        if warning:
            report.warnings.append(warning)
        if refusal and self.dry_run:
            report.warnings.append(refusal.replace(" Nothing was imported.", ""))
        elif refusal:
            raise MassSettleRefused(refusal, report)


def _import_whole(job: _InvoiceJob) -> ImportReport:
    """Import a file of ordinary size: every row checked, then one plan against the ledger."""
    total, progress, snapshot = job.total, job.progress, job.snapshot
    try:
        parsed = parse_invoice_rows(
            job.table,
            job.mp,
            _stage(progress, "checking", total),
            default_debtor_type=job.policy_kind,
        )
    except HeaderError as exc:
        raise ImportFailed(f"{job.path}: {exc}") from exc
    if snapshot and parsed.read == 0:
        raise job.no_rows()
    report = _report_from("invoices", job.path, job.slug, parsed, job.dry_run, snapshot)
    report.totals = invoice_totals(parsed.rows, parsed.read)
    report.assumptions = debtor_type_assumption(
        parsed.rows, parsed.columns, job.default_kind, job.policy_kind
    )
    _tick(progress, "checking", total, total)
    with session_scope(job.engine) as session:
        conn = session.connection()
        creditor_id = job.creditor(conn)
        if report.errors:
            return report
        _tick(progress, "comparing", 0, 1)
        debtors, debtor_ids = load_debtors(conn, creditor_id) if creditor_id else ({}, {})
        refs = {v: k for k, v in debtor_ids.items()}
        invoices = load_invoices(conn, creditor_id, refs) if creditor_id else {}
        plan = plan_invoices(
            parsed.rows,
            debtors,
            invoices,
            snapshot=snapshot,
            today=job.today,
            payments=load_invoice_payments(conn, creditor_id) if creditor_id else {},
            as_of=job.as_of or export_date(parsed.rows),
        )
        _fill(report, plan)
        report.snapshot_settled = plan.snapshot_settled
        job.settle_share(report, plan, job.refusal(plan))
        if job.dry_run or plan.empty:
            return report
        _tick(progress, "writing", 0, 1)
        if creditor_id is None:
            name = job.pols[job.slug].creditor.name
            creditor_id = create_creditor(conn, job.slug, name, job.who)
        summary = _summary(report, "import.invoices")
        apply_plan(conn, creditor_id, plan, job.who, job.path.name, summary)
    _tick(progress, "writing", 1, 1)
    return report


def _import_streamed(job: _InvoiceJob, *, chunk_rows: int, chunk_debtors: int) -> ImportReport:
    """Import a big file in two passes: rows checked into a staging table, then chunks."""
    total, progress, snapshot, who = job.total, job.progress, job.snapshot, job.who
    try:
        parsed, blocks = check_invoice_rows(
            job.table,
            job.mp,
            _stage(progress, "checking", total),
            default_debtor_type=job.policy_kind,
            block=chunk_rows,
        )
    except HeaderError as exc:
        raise ImportFailed(f"{job.path}: {exc}") from exc
    with session_scope(job.engine) as session:
        conn = session.connection()
        staged = StagedRows(conn)
        tally = InvoiceTally()
        for block in blocks:
            tally.add(staged.add(block, parsed))
        if snapshot and parsed.read == 0:
            raise job.no_rows()
        report = _report_from("invoices", job.path, job.slug, parsed, job.dry_run, snapshot)
        debtor_count = staged.debtor_count()
        report.totals = tally.totals(parsed.read, debtor_count)
        report.assumptions = debtor_type_note(
            debtor_count, parsed.columns, job.default_kind, job.policy_kind
        )
        _tick(progress, "checking", total, total)
        creditor_id = job.creditor(conn)
        if report.errors:
            staged.drop()
            return report
        _tick(progress, "comparing", 0, 1)
        counts = ImportPlan()  # the snapshot's share, known before anything is planned
        if snapshot and creditor_id:
            counts.open_before = count_settleable(conn, creditor_id, None)
            counts.snapshot_settled = count_settleable(conn, creditor_id, STAGED)
        refusal = job.refusal(counts)
        write = None
        if not job.dry_run and not refusal:
            if creditor_id is None and staged.count:
                name = job.pols[job.slug].creditor.name
                creditor_id = create_creditor(conn, job.slug, name, who)
            if creditor_id is not None:
                write = WriteTo(creditor_id, who, job.path.name, utcnow())
        stage = "comparing" if write is None else "writing"
        outcome = plan_in_chunks(
            conn,
            staged,
            creditor_id,
            snapshot=snapshot,
            today=job.today,
            as_of=job.as_of or tally.latest,
            write=write,
            chunk_rows=chunk_rows,
            chunk_debtors=chunk_debtors,
            progress=lambda done, total: _tick(progress, stage, done, total),
        )
        _fill_outcome(report, outcome)
        job.settle_share(report, counts, refusal)
        staged.drop()
        if write is None or not outcome.wrote:
            return report
        summary = _summary(report, "import.invoices")
        write_summary(conn, write.creditor_id, who, job.path.name, summary, write.now)
    _tick(progress, "writing", 1, 1)
    return report


def _fill_outcome(report: ImportReport, outcome: Outcome) -> None:
    report.created, report.updated = outcome.created, outcome.updated
    report.settled, report.unchanged = outcome.settled, outcome.unchanged
    report.snapshot_settled = outcome.snapshot_settled
    report.debtors_created, report.debtors_updated = (
        outcome.debtors_created,
        outcome.debtors_updated,
    )
    report.contacts_added = outcome.contacts_added
    report.warnings += outcome.warnings


def import_payments(
    app_or_engine: Any,
    path: Path,
    creditor_slug: str,
    mapping: ImportMapping | Path | str | None = None,
    dry_run: bool = False,
    actor: str | None = None,
    *,
    policies: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    reader: TableReader = read_table,
) -> ImportReport:
    """Import a payment export: allocate each new payment, all or nothing."""
    engine, pols, who = _resolve(app_or_engine, policies, actor)
    path = Path(path)
    _tick(progress, "reading", 0, 1)
    table, mp = _read(path, mapping, reader)
    total = max(len(table.rows) - 1, 1)
    try:
        parsed = parse_payment_rows(table, mp, _stage(progress, "checking", total))
    except HeaderError as exc:
        raise ImportFailed(f"{path}: {exc}") from exc
    del table  # the raw cells are no longer needed: free them before planning
    report = _report_from("payments", path, creditor_slug, parsed, dry_run)
    report.totals = payment_totals(parsed.rows, parsed.read)
    with session_scope(engine) as session:
        conn = session.connection()
        creditor_id = find_creditor(conn, creditor_slug)
        if creditor_id is None:
            known = (
                "no invoices were imported for it yet"
                if creditor_slug in pols
                else ("no policy has this slug")
            )
            raise ImportFailed(f"unknown creditor {creditor_slug!r}: {known}")
        debtors, debtor_ids = load_debtors(conn, creditor_id)
        invoices = load_invoices(conn, creditor_id, {v: k for k, v in debtor_ids.items()})
        plan = plan_payments(
            parsed.rows,
            debtors,
            invoices,
            load_payment_references(conn, creditor_id),
            parsed.columns,
        )
        if plan.errors:  # nothing is written, so no counts either
            report.errors = sorted(report.errors + plan.errors, key=lambda e: e.line)
        if report.errors:
            return report
        _fill(report, plan)
        if dry_run or plan.empty:
            return report
        apply_plan(conn, creditor_id, plan, who, path.name, _summary(report, "import.payments"))
    _tick(progress, "writing", 1, 1)
    return report


def _tick(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress:
        progress(stage, done, total)


def _stage(progress: Progress | None, stage: str, total: int) -> Callable[[int], None] | None:
    if progress is None:
        return None
    return lambda done: progress(stage, done, total)
