"""`relance import invoices|payments` end to end: options, output, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from assistant.cli import imports

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "imports"


def _cli() -> typer.Typer:
    """Mount the sub-app as `relance import` does."""
    root = typer.Typer()
    root.add_typer(imports.app, name="import")

    @root.callback()
    def _main() -> None:
        """Relance."""

    return root


@pytest.fixture
def run(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RELANCE_DATABASE_URL", db_url)
    monkeypatch.setenv("RELANCE_POLICIES_DIR", str(ROOT / "policies"))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    cli = _cli()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, ["import", *args], catch_exceptions=False)

    return invoke


def _count(db_url: str, table: str) -> int:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    finally:
        engine.dispose()


def test_invoices_summary(run, db_url: str) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "invoices",
        str(FIXTURES / "sage_balance_agee_cp1252.csv"),
        "--creditor",
        "atelier-bois",
        "--as",
        "alice",
    )
    assert result.exit_code == 0, result.output
    assert "rows read" in result.output and "invoices created" in result.output
    assert "debtors created" in result.output
    assert _count(db_url, "invoice") == 6
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        actors = set(conn.execute(sa.text("SELECT DISTINCT actor FROM auditevent")).scalars())
    engine.dispose()
    assert actors == {"alice"}


def test_json_output_and_idempotence(run) -> None:  # type: ignore[no-untyped-def]
    args = ("invoices", str(FIXTURES / "ebp_utf8_bom.csv"), "--creditor", "atelier-bois", "--json")
    first = json.loads(run(*args).stdout)
    assert {"ok", "rows", "created", "updated", "settled", "unchanged", "errors"} <= set(first)
    assert (first["ok"], first["rows"], first["created"]) == (True, 5, 5)
    second = json.loads(run(*args).stdout)
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 5)


def test_bad_rows_exit_1_and_list_every_row(run, db_url: str) -> None:  # type: ignore[no-untyped-def]
    result = run("invoices", str(FIXTURES / "bad_rows.csv"), "--creditor", "atelier-bois")
    assert result.exit_code == 1
    for text in (
        "line",
        "column",
        "value",
        "reason",
        "31/09/2026",
        "deux cents",
        "Nothing was imported",
    ):
        assert text in result.output
    as_json = run(
        "invoices", str(FIXTURES / "bad_rows.csv"), "--creditor", "atelier-bois", "--json"
    )
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    assert data["ok"] is False
    assert [e["line"] for e in data["errors"]] == [2, 3, 4, 6, 7, 8]
    assert set(data["errors"][0]) == {"line", "column", "value", "reason"}
    assert _count(db_url, "invoice") == 0


def test_dry_run_writes_nothing(run, db_url: str) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "invoices",
        str(FIXTURES / "quickbooks_en.csv"),
        "--creditor",
        "thames-supplies",
        "--dry-run",
    )
    assert result.exit_code == 0, result.output
    assert "Dry run" in result.output
    assert _count(db_url, "invoice") == 0


def test_mapping_and_snapshot(run) -> None:  # type: ignore[no-untyped-def]
    run("invoices", str(FIXTURES / "sage_balance_agee_cp1252.csv"), "--creditor", "atelier-bois")
    result = run(
        "invoices",
        str(FIXTURES / "custom_headers.csv"),
        "--creditor",
        "atelier-bois",
        "--mapping",
        str(FIXTURES / "custom_headers.yaml"),
        "--snapshot",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["created"], data["settled"], data["snapshot_settled"]) == (2, 6, 6)
    assert any("settles 6 of the 6 open invoices" in w for w in data["warnings"])


def test_file_level_errors_exit_2(run) -> None:  # type: ignore[no-untyped-def]
    unknown = run("invoices", str(FIXTURES / "quickbooks_en.csv"), "--creditor", "nobody")
    assert unknown.exit_code == 2 and "unknown creditor" in unknown.output
    ambiguous = run(
        "invoices", str(FIXTURES / "ambiguous_headers.csv"), "--creditor", "atelier-bois", "--json"
    )
    assert ambiguous.exit_code == 2
    assert "mapping" in json.loads(ambiguous.stdout)["error"]
    bad_mapping = ROOT / "tests" / "fixtures" / "imports" / "custom_headers.yaml"
    missing = run(
        "invoices",
        str(FIXTURES / "nope.csv"),
        "--creditor",
        "atelier-bois",
        "--mapping",
        str(bad_mapping),
    )
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_payments_command(run, db_url: str) -> None:  # type: ignore[no-untyped-def]
    run("invoices", str(FIXTURES / "sage_balance_agee_cp1252.csv"), "--creditor", "atelier-bois")
    result = run("payments", str(FIXTURES / "payments_fr.csv"), "--creditor", "atelier-bois")
    assert result.exit_code == 0, result.output
    assert "payments created" in result.output
    assert _count(db_url, "payment") == 3
    again = json.loads(
        run(
            "payments", str(FIXTURES / "payments_fr.csv"), "--creditor", "atelier-bois", "--json"
        ).stdout
    )
    assert (again["created"], again["unchanged"]) == (0, 3)


AGED_BALANCE = "debtor_ref;debtor_name;invoice_number;due_date;amount;outstanding\n" + "".join(
    f"C{n % 3};Client {n % 3} SARL;FA-{n:02d};2026-10-{n:02d};100,00;100,00\n" for n in range(1, 11)
)


def _aged(tmp_path: Path, numbers: range) -> Path:
    lines = AGED_BALANCE.splitlines(keepends=True)
    path = tmp_path / f"balance-{numbers.start}-{numbers.stop}.csv"
    path.write_text(lines[0] + "".join(lines[n] for n in numbers), encoding="utf-8")
    return path


def _open_invoices(db_url: str) -> int:
    with sa.create_engine(db_url).connect() as conn:
        return conn.execute(sa.text("select count(*) from invoice where status = 'open'")).scalar()


def test_a_snapshot_cut_in_half_settles_the_rest_with_a_warning(run, tmp_path, db_url):  # type: ignore[no-untyped-def]
    run("invoices", str(_aged(tmp_path, range(1, 11))), "--creditor", "atelier-bois")
    half = str(_aged(tmp_path, range(1, 6)))
    result = run("invoices", half, "--creditor", "atelier-bois", "--snapshot", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["snapshot_settled"] == 5
    assert any("settles 5 of the 10 open invoices (50%)" in w for w in data["warnings"])
    assert _open_invoices(db_url) == 5  # the contract: the file is the whole open ledger


def test_max_settle_refuses_a_snapshot_cut_in_half_and_says_what_it_would_settle(run, tmp_path, db_url):  # type: ignore[no-untyped-def]
    assert (
        run("invoices", str(_aged(tmp_path, range(1, 11))), "--creditor", "atelier-bois").exit_code
        == 0
    )
    half = str(_aged(tmp_path, range(1, 6)))
    guard = ["--snapshot", "--max-settle", "20"]
    refused = run("invoices", half, "--creditor", "atelier-bois", *guard)
    assert refused.exit_code == 2
    assert "would settle 5 of the 10 open invoices" in refused.output
    assert "--allow-mass-settle" in refused.output
    assert _open_invoices(db_url) == 10  # nothing settled
    as_json = run("invoices", half, "--creditor", "atelier-bois", *guard, "--json")
    data = json.loads(as_json.stdout)
    assert as_json.exit_code == 2 and not data["ok"] and data["snapshot_settled"] == 5
    dry = run("invoices", half, "--creditor", "atelier-bois", *guard, "--dry-run", "--json")
    assert dry.exit_code == 0 and json.loads(dry.stdout)["snapshot_settled"] == 5
    assert any("--allow-mass-settle" in w for w in json.loads(dry.stdout)["warnings"])
    confirmed = run(
        "invoices", half, "--creditor", "atelier-bois", *guard, "--allow-mass-settle", "--json"
    )
    assert confirmed.exit_code == 0 and json.loads(confirmed.stdout)["snapshot_settled"] == 5
    assert _open_invoices(db_url) == 5


def test_a_snapshot_settling_a_fifth_or_less_goes_through_and_counts_it(run, tmp_path, db_url):  # type: ignore[no-untyped-def]
    run("invoices", str(_aged(tmp_path, range(1, 11))), "--creditor", "atelier-bois")
    result = run(
        "invoices", str(_aged(tmp_path, range(1, 9))), "--creditor", "atelier-bois", "--snapshot"
    )
    assert result.exit_code == 0, result.output
    assert "missing from the snapshot" in result.output and _open_invoices(db_url) == 8
