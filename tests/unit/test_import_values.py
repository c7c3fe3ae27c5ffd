"""Cell values of real ERP exports: amounts, dates, booleans and codes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from assistant.importing.values import (
    excel_serial_date,
    guess_date_order,
    guess_decimal,
    parse_amount,
    parse_bool,
    parse_currency,
    parse_date,
    parse_emails,
    parse_kind,
    parse_language,
    parse_siren,
)

D = Decimal


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        ("1234,56", None, "1234.56"),
        ("1234.56", None, "1234.56"),
        ("1 234,56", None, "1234.56"),
        ("1\u00a0234,56", None, "1234.56"),
        ("1\u202f234,56", None, "1234.56"),
        ("1'234.56", None, "1234.56"),
        ("1\u2019234,56", None, "1234.56"),
        ("1.234,56", None, "1234.56"),
        ("1,234.56", None, "1234.56"),
        ("1.234.567,89", None, "1234567.89"),
        ("1,234,567", None, "1234567"),
        ("12,5", None, "12.50"),
        ("-12,50", None, "-12.50"),
        ("\u221212,50", None, "-12.50"),
        ("(12,50)", None, "-12.50"),
        ("12,50-", None, "-12.50"),
        ("1 234,56 €", None, "1234.56"),
        ("€1,234.56", None, "1234.56"),
        ("£980.00", None, "980.00"),
        ("$3,400.50", None, "3400.50"),
        ("EUR 980", None, "980.00"),
        ("980 EUR", None, "980.00"),
        ("+15", None, "15.00"),
        ("0,125", None, None),  # three decimals: refused below
        ("1.234", ",", "1234.00"),
        ("1,234", ".", "1234.00"),
        ("1,234", ",", None),  # 1.234: more than two decimals
    ],
)
def test_amounts(text: str, decimal: str | None, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValueError):
            parse_amount(text, decimal)
        return
    assert parse_amount(text, decimal) == D(expected)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("deux cents", "not a number"),
        ("", "no amount"),
        ("12,3,4", "misplaced"),
        ("1,234", "ambiguous"),
        ("1.23.4", "misplaced"),
        ("12..5", "misplaced"),
        ("12,", "not a number"),
    ],
)
def test_bad_amounts_say_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_amount(text)


def test_numeric_cells_from_xlsx() -> None:
    assert parse_amount(1234.5) == D("1234.50")
    assert parse_amount(1200) == D("1200.00")
    assert parse_amount(0.1 + 0.2) == D("0.30")


def test_decimal_guess_reads_the_whole_column() -> None:
    assert guess_decimal(["1 200", "1 234,56"]) == ","
    assert guess_decimal(["1,200", "1,234.56"]) == "."
    assert guess_decimal(["1.234.567"]) == ","
    assert guess_decimal(["100", 12.5, None]) is None


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("03/04/2026", "dmy", date(2026, 4, 3)),
        ("03/04/2026", "mdy", date(2026, 3, 4)),
        ("3/4/26", "dmy", date(2026, 4, 3)),
        ("03.04.2026", "dmy", date(2026, 4, 3)),
        ("03-04-2026", "dmy", date(2026, 4, 3)),
        ("2026-04-03", "dmy", date(2026, 4, 3)),
        ("2026-04-03", "mdy", date(2026, 4, 3)),
        ("2026-04-03T00:00:00", "dmy", date(2026, 4, 3)),
        ("03/04/2026 00:00:00", "dmy", date(2026, 4, 3)),
        ("31/12/99", "dmy", date(1999, 12, 31)),
        ("46115", "dmy", date(2026, 4, 3)),
    ],
)
def test_dates(text: str, order: str, expected: date) -> None:
    assert parse_date(text, order) == expected  # type: ignore[arg-type]


def test_date_cells_and_excel_serials() -> None:
    assert parse_date(datetime(2026, 4, 3, 0, 0)) == date(2026, 4, 3)
    assert parse_date(date(2026, 4, 3)) == date(2026, 4, 3)
    assert parse_date(46115) == date(2026, 4, 3)
    assert excel_serial_date(46115.0) == date(2026, 4, 3)
    with pytest.raises(ValueError):
        parse_date(12.5)


def test_mapping_format_wins() -> None:
    assert parse_date("04/03/2026", fmt="%m/%d/%Y") == date(2026, 4, 3)
    with pytest.raises(ValueError, match="format"):
        parse_date("2026-04-03", fmt="%d/%m/%Y")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("31/09/2026", "no such date"),
        ("12/31/2026", "dd/mm order"),
        ("demain", "not a date"),
        ("", "no date"),
    ],
)
def test_bad_dates_say_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_date(text, "dmy")


def test_date_order_needs_proof_for_us_dates() -> None:
    assert guess_date_order(["03/04/2026", "05/06/2026"]) is None
    assert guess_date_order(["03/04/2026", "12/31/2026"]) == "mdy"
    assert guess_date_order(["03/04/2026", "31/12/2026"]) == "dmy"
    # contradictory: day-first wins, the US-looking row will be refused
    assert guess_date_order(["31/12/2026", "12/31/2026"]) == "dmy"
    assert guess_date_order(["2026-12-31", datetime(2026, 1, 1)]) is None


@pytest.mark.parametrize("text", ["oui", "Oui", "yes", "Y", "1", "x", "X", "vrai", "true", 1, True])
def test_true_values(text: object) -> None:
    assert parse_bool(text) is True  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text", ["non", "NON", "no", "n", "0", "", "faux", "false", 0, False, None]
)
def test_false_values(text: object) -> None:
    assert parse_bool(text) is False  # type: ignore[arg-type]


def test_not_a_boolean() -> None:
    with pytest.raises(ValueError, match="yes/no"):
        parse_bool("peut-être")


def test_emails_split_and_checked() -> None:
    assert parse_emails("a@x.fr; B@X.FR ,c@y.com") == ("a@x.fr", "b@x.fr", "c@y.com")
    assert parse_emails("<a@x.fr>") == ("a@x.fr",)
    assert parse_emails("a@x.fr;a@x.fr") == ("a@x.fr",)
    assert parse_emails("") == ()
    with pytest.raises(ValueError, match="not an e-mail"):
        parse_emails("compta chez dupont")


def test_codes() -> None:
    assert parse_currency("€") == "EUR"
    assert parse_currency("gbp") == "GBP"
    assert parse_currency("", "USD") == "USD"
    with pytest.raises(ValueError):
        parse_currency("euro dollars")
    assert parse_siren("552 100 554") == "552100554"
    assert parse_siren("552 100 554 00013") == "552100554"
    assert parse_siren("") is None
    with pytest.raises(ValueError, match="9 digits"):
        parse_siren("12345")
    assert parse_kind("Société") == "company"
    assert parse_kind("Particulier") == "consumer"
    assert parse_kind("B2C") == "consumer"
    assert parse_kind("") is None
    with pytest.raises(ValueError):
        parse_kind("martien")
    assert parse_language("Français") == "fr"
    assert parse_language("EN") == "en"
    with pytest.raises(ValueError, match="fr or en"):
        parse_language("de")
