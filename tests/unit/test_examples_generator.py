"""The sample portfolio generator is deterministic, realistic and matches the committed sample."""

from __future__ import annotations

import csv
import importlib.util
import io
import re
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
AS_OF = date(2026, 11, 26)


def _load_generator() -> ModuleType:
    name = "relance_examples_generate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("sample")
    ledgers = gen.generate_portfolio(
        out, debtors=gen.SAMPLE_DEBTORS, invoices=gen.SAMPLE_INVOICES, as_of=AS_OF
    )
    return out, ledgers


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    for run in ("a", "b"):
        gen.generate_portfolio(tmp_path / run, debtors=60, invoices=300, as_of=AS_OF, seed=11)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert "atelier-bois/invoices.csv" in first and "distrib-pro/invoices.xlsx" in first
    assert first == second


def test_another_seed_gives_another_portfolio(tmp_path: Path) -> None:
    for seed in (1, 2):
        gen.generate_portfolio(
            tmp_path / str(seed), debtors=60, invoices=300, as_of=AS_OF, seed=seed
        )
    name = "thames-supplies/invoices.csv"
    assert (tmp_path / "1" / name).read_bytes() != (tmp_path / "2" / name).read_bytes()


def test_committed_sample_is_what_the_generator_writes(sample: tuple[Path, dict]) -> None:
    out, _ = sample
    generated = _files(out)
    committed = {k: v for k, v in _files(EXAMPLES).items() if k in generated}
    assert sorted(committed) == sorted(generated), "run: python examples/generate.py"
    stale = [k for k in generated if committed[k] != generated[k]]
    assert not stale, f"regenerate with `python examples/generate.py`: {stale}"


def test_sample_sizes(sample: tuple[Path, dict]) -> None:
    _, ledgers = sample
    assert set(ledgers) == {"atelier-bois", "distrib-pro", "thames-supplies"}
    assert sum(len(lg.debtors) for lg in ledgers.values()) >= 200
    assert sum(len(lg.invoices) for lg in ledgers.values()) >= 1000
    for ledger in ledgers.values():
        assert len(ledger.payments) >= 5


def test_paid_history_covers_the_last_twelve_months(sample: tuple[Path, dict]) -> None:
    _, ledgers = sample
    for slug, ledger in ledgers.items():
        paid = [r for r in ledger.invoices if r.paid_date and r.amount > 0]
        assert len(paid) >= 100, slug
        assert all(AS_OF - timedelta(days=366) <= r.paid_date < AS_OF for r in paid)
        on_time = sum(r.paid_date <= r.due_date for r in paid)
        assert 0.3 < on_time / len(paid) < 0.9, slug  # both punctual and late payers
        assert all(r.outstanding == 0 for r in paid)


def test_open_invoices_at_every_age(sample: tuple[Path, dict]) -> None:
    _, ledgers = sample
    for slug, ledger in ledgers.items():
        ages = [(AS_OF - r.due_date).days for r in ledger.invoices if r.outstanding > 0]
        for lo, hi in (
            (-30, -1),
            (-5, -5),
            (3, 10),
            (18, 22),
            (33, 37),
            (48, 52),
            (68, 72),
            (145, 155),
            (200, 330),
        ):
            assert any(lo <= a <= hi for a in ages), (slug, lo, hi)


def test_debtor_variety(sample: tuple[Path, dict]) -> None:
    _, ledgers = sample
    distrib = ledgers["distrib-pro"].debtors
    assert sum(d.key_account for d in distrib) >= 3
    assert 1 <= sum(d.kind == "consumer" for d in distrib) <= 10
    assert Counter(d.language for d in distrib)["en"] >= 1
    assert all(d.language == "en" for d in ledgers["thames-supplies"].debtors)
    credit_notes = [r for lg in ledgers.values() for r in lg.invoices if r.amount < 0]
    assert 3 <= len(credit_notes) <= 0.03 * sum(len(lg.invoices) for lg in ledgers.values())
    for ledger in ledgers.values():
        refs = [d.ref for d in ledger.debtors]
        assert len(set(refs)) == len(refs)
        numbers = [r.number for r in ledger.invoices]
        assert len(set(numbers)) == len(numbers)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def test_contacts_use_example_domains_and_sirens_are_valid(sample: tuple[Path, dict]) -> None:
    _, ledgers = sample
    for ledger in ledgers.values():
        for d in ledger.debtors:
            assert re.fullmatch(r"[a-z0-9.\-]+@[a-z0-9\-]+\.example", d.email), d.email
            assert d.siren is None or (len(d.siren) == 9 and _luhn(d.siren)), d.siren


def test_sage_export_format(sample: tuple[Path, dict]) -> None:
    out, _ = sample
    raw = (out / "atelier-bois" / "invoices.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(raw.decode("cp1252")), delimiter=";"))
    assert rows[0][:9] == [
        "Code client",
        "Raison sociale",
        "Email relance",
        "SIREN",
        "N° pièce",
        "Date pièce",
        "Échéance",
        "Montant TTC",
        "Solde",
    ]
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4}", r[6]) for r in rows[1:])
    amounts = [r[7] for r in rows[1:]]
    assert all(re.fullmatch(r"-?\d{1,3}( \d{3})*,\d\d", a) for a in amounts)
    assert any(" " in a for a in amounts)


def test_uk_export_format(sample: tuple[Path, dict]) -> None:
    out, _ = sample
    text = (out / "thames-supplies" / "invoices.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:9] == [
        "Account",
        "Customer",
        "Email",
        "Invoice No",
        "Invoice date",
        "Due date",
        "Amount",
        "Balance",
        "Currency",
    ]
    assert all(date.fromisoformat(r[5]) for r in rows[1:])
    assert {r[8] for r in rows[1:]} == {"GBP"}
    assert any(re.fullmatch(r"\d{1,3}(,\d{3})+\.\d\d", r[6]) for r in rows[1:])


def test_xlsx_export_has_real_dates_and_numbers(sample: tuple[Path, dict]) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    out, ledgers = sample
    book = openpyxl.load_workbook(out / "distrib-pro" / "invoices.xlsx", read_only=True)
    sheet = book["Balance clients"]
    rows = list(sheet.iter_rows(values_only=True))
    book.close()
    head = rows[0]
    for name in (
        "N° facture",
        "Date d'échéance",
        "Montant TTC",
        "Reste dû",
        "Raison sociale",
        "Compte",
        "E-mail",
        "SIREN",
        "Grand compte",
    ):
        assert name in head
    due, amount = head.index("Date d'échéance"), head.index("Montant TTC")
    assert len(rows) - 1 == len(ledgers["distrib-pro"].invoices)
    assert all(hasattr(r[due], "year") and isinstance(r[amount], int | float) for r in rows[1:])


def test_mapping_files_are_valid() -> None:
    mapping = pytest.importorskip("assistant.importing.mapping")
    files = sorted(EXAMPLES.glob("*/*mapping.yaml"))
    assert len(files) >= 6
    for path in files:
        assert mapping.load_mapping(path).column_map()


def test_larger_portfolios_and_chosen_formats(tmp_path: Path) -> None:
    ledgers = gen.generate_portfolio(
        tmp_path,
        debtors=500,
        invoices=2600,
        as_of=AS_OF,
        formats={"distrib-pro": "uk_csv", "atelier-bois": "sage_csv"},
    )
    assert set(ledgers) == {"distrib-pro", "atelier-bois"}
    assert sum(len(lg.debtors) for lg in ledgers.values()) == 500
    assert sum(len(lg.invoices) for lg in ledgers.values()) == 2600
    assert (tmp_path / "distrib-pro" / "invoices.csv").exists()
    with pytest.raises(ValueError):
        gen.generate_portfolio(tmp_path, debtors=5, invoices=5, as_of=AS_OF, formats={"x": "xlsx"})
