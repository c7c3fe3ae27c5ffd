"""The streamed import gives the same reports, rows and audit events whatever its chunk sizes.

Each scenario runs twice on two empty databases: once with tiny chunks (3 rows, 2 debtors: a
debtor's rows and the duplicates of an invoice fall in different chunks) and once with the
default sizes. Everything a user can see must be equal: the reports, every row of the ledger
and every audit event (ids included, timestamps left out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from assistant.db.engine import create_schema, make_engine
from assistant.db.models import AuditEvent, Contact, Debtor, Invoice, Payment
from assistant.importing import import_invoices, import_payments
from assistant.importing.service import MassSettleRefused
from assistant.policy import load_policies

ROOT = Path(__file__).resolve().parent.parent.parent
POLICIES = load_policies(ROOT / "policies")
SLUG = "atelier-bois"
TINY = {"chunk_rows": 3, "chunk_debtors": 2, "in_memory_rows": 0}  # streamed, tiny chunks
STREAMED = {"in_memory_rows": 0}  # streamed with the default chunk sizes
WHOLE: dict[str, Any] = {}  # these small files are checked and planned in memory, as one plan
HEADER = (
    "debtor_ref;debtor_name;debtor_email;debtor_siren;debtor_language;invoice_number;"
    "issue_date;due_date;amount;outstanding;paid_date\n"
)


def _line(ref: str, number: str, amount: str, left: str, **kw: str) -> str:
    return (
        f"{ref};{kw.get('name', 'Client ' + ref)};{kw.get('email', '')};{kw.get('siren', '')};"
        f"{kw.get('lang', '')};{number};{kw.get('issue', '01/10/2026')};"
        f"{kw.get('due', '31/10/2026')};{amount};{left};{kw.get('paid', '')}\n"
    )


def first_export() -> str:
    """12 debtors, their rows spread over the file, fields that arrive on later rows."""
    lines = []
    for n in range(30):
        ref = f"C{n % 12}"
        kw: dict[str, str] = {}
        if n == 25:
            kw = {"email": "late@c1.example", "siren": "552100554"}
        if n == 14:
            kw = {"email": "ap@c2.example, AP2@c2.example", "lang": "en"}
        if n == 29:
            kw = {"name": "Client C5 renamed"}
        lines.append(_line(ref, f"F-{n}", f"{100 + n},00", f"{100 + n},00", **kw))
    lines.insert(20, lines[3])  # the same invoice twice, far apart: one invoice
    lines.append(lines[7])
    lines.append("Total;;;;;;;;;;\n")
    return HEADER + "".join(lines)


def second_export() -> str:
    """A later export: some paid, one changed, one reopened later, new debtors, some gone."""
    lines = []
    for n in range(5, 36):
        ref = f"C{n % 14}"
        if n in (6, 17):
            lines.append(_line(ref, f"F-{n}", f"{100 + n},00", "0,00", paid="20/11/2026"))
        elif n == 9:
            lines.append(_line(ref, f"F-{n}", "500,00", "450,00", email="new@c9.example"))
        else:
            lines.append(_line(ref, f"F-{n}", f"{100 + n},00", f"{100 + n},00"))
    lines.insert(2, lines[20])
    return HEADER + "".join(lines)


@pytest.fixture
def two_engines(
    db_url: str, tmp_path: Path, fresh_pg_schema: Callable[[], AbstractContextManager[str]]
) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    """Yield the test's database and a second empty one on the same backend."""
    with ExitStack() as stack:
        if db_url.startswith("sqlite"):
            other_url = f"sqlite:///{tmp_path / 'relance-other.db'}"
        else:
            other_url = stack.enter_context(fresh_pg_schema())
        engines = (make_engine(db_url), make_engine(other_url))
        for eng in engines:
            create_schema(eng)
        yield engines
        for eng in engines:
            eng.dispose()


def _dump(engine: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of the ledger and the audit trail, by id, without the clock's columns."""
    clock = {"created_at", "updated_at", "at"}
    out = {}
    with engine.connect() as conn:
        for model in (Debtor, Contact, Invoice, Payment, AuditEvent):
            table: sa.Table = model.__table__  # type: ignore[attr-defined]
            rows = conn.execute(sa.select(table).order_by(table.c.id)).mappings()
            out[table.name] = [{k: v for k, v in r.items() if k not in clock} for r in rows]
    return out


def _report(report: Any) -> dict[str, Any]:
    data = report.to_dict()
    data["file"] = Path(data["file"]).name
    return data


def _run(engine: sa.Engine, folder: Path, steps: list[tuple], chunks: dict[str, Any]) -> list:
    """Run the import steps on `engine`; return their reports (or refusals) in order."""
    reports: list[Any] = []
    folder.mkdir(exist_ok=True)
    for i, (kind, text, kw) in enumerate(steps):
        path = folder / f"export-{i}.csv"  # the same names: the audit events name the file
        path.write_text(text, encoding="utf-8")
        if kind == "payments":
            reports.append(_report(import_payments(engine, path, SLUG, policies=POLICIES)))
            continue
        try:
            report = import_invoices(
                engine, path, SLUG, policies=POLICIES, actor="t", **chunks, **kw
            )
            reports.append(_report(report))
        except MassSettleRefused as refused:
            reports.append(("refused", str(refused), _report(refused.report)))
    return reports


PAYMENTS = (
    "Date de règlement;Code client;N° facture;Montant réglé;Référence paiement\n"
    "24/11/2026;C8;F-8;50,00;VIR-1\n"
    "25/11/2026;C10;F-10;110,00;VIR-2\n"
)
TODAY = date(2026, 11, 26)
SCENARIOS = {
    "first import, rows of a debtor far apart, duplicates across chunks": [
        ("invoices", first_export(), {"today": TODAY}),
    ],
    "dry run, then the import, then the same file again": [
        ("invoices", first_export(), {"today": TODAY, "dry_run": True}),
        ("invoices", first_export(), {"today": TODAY}),
        ("invoices", first_export(), {"today": TODAY}),
    ],
    "re-import of a changed file with --snapshot, refused then allowed": [
        ("invoices", first_export(), {"today": TODAY}),
        ("payments", PAYMENTS, {}),
        ("invoices", second_export(), {"today": TODAY, "snapshot": True, "max_settle_share": 0.1}),
        ("invoices", second_export(), {"today": TODAY, "snapshot": True, "dry_run": True}),
        ("invoices", second_export(), {"today": TODAY, "snapshot": True}),
    ],
    "an older export after payments, with --as-of": [
        ("invoices", first_export(), {"today": TODAY}),
        ("payments", PAYMENTS, {}),
        ("invoices", first_export(), {"today": TODAY, "as_of": date(2026, 11, 1)}),
    ],
    "bad rows and a conflicting duplicate in different chunks": [
        (
            "invoices",
            first_export() + _line("C1", "F-4", "999,00", "999,00") + _line("C1", "", "1,00", "x"),
            {"today": TODAY},
        ),
    ],
}


@pytest.mark.parametrize("ways", ["tiny chunks / in memory", "default chunks / in memory"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_streamed_and_in_memory_imports_are_the_same(
    name: str, ways: str, two_engines: tuple[sa.Engine, sa.Engine], tmp_path: Path
) -> None:
    streamed, whole = two_engines
    steps = SCENARIOS[name]
    chunks = TINY if ways.startswith("tiny") else STREAMED
    got_streamed = _run(streamed, tmp_path / "streamed", steps, chunks)
    got_whole = _run(whole, tmp_path / "whole", steps, WHOLE)
    assert got_streamed == got_whole
    assert _dump(streamed) == _dump(whole)


def test_the_scenarios_do_what_they_say(two_engines: tuple[sa.Engine, sa.Engine], tmp_path):
    """The scenarios above exercise what they name (so their equality means something)."""
    engine = two_engines[0]
    first, payments, refused, dry, snap = _run(
        engine,
        tmp_path,
        SCENARIOS["re-import of a changed file with --snapshot, refused then allowed"],
        TINY,
    )
    assert (first["created"], first["duplicates"], first["debtors_created"]) == (30, 2, 12)
    assert first["contacts_added"] == 3 and first["skipped"] == 1
    assert refused[0] == "refused" and "Nothing was imported" in refused[1]
    assert dry["dry_run"] and dry["snapshot_settled"] == snap["snapshot_settled"] == 5
    assert snap["created"] == 6 and snap["settled"] == 5 and snap["debtors_created"] == 2
    bad = _run(
        engine,
        tmp_path,
        SCENARIOS["bad rows and a conflicting duplicate in different chunks"],
        TINY,
    )[0]
    assert [(e["line"], e["column"]) for e in bad["errors"]] == [
        (35, "invoice_number"),
        (36, "invoice_number"),
        (36, "outstanding"),
    ]


def test_a_reader_that_returns_a_whole_table_still_works(
    two_engines: tuple[sa.Engine, sa.Engine], tmp_path: Path
) -> None:
    """The TableReader seam: a reader returning a RawTable of listed rows imports the same."""
    from assistant.importing.reading import read_table

    streamed, listed = two_engines
    steps = SCENARIOS["re-import of a changed file with --snapshot, refused then allowed"]
    got_streamed = _run(streamed, tmp_path / "streamed", steps, STREAMED)
    got_listed = _run(listed, tmp_path / "listed", steps, {"reader": read_table, **STREAMED})
    assert got_streamed == got_listed
    assert _dump(streamed) == _dump(listed)
