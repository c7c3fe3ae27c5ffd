"""Date rules of docs/domain.md §4–5, table-driven, against a fixed received day."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.replies.dates import find_dates
from assistant.replies.text import normalise

WED = date(2026, 11, 25)  # a Wednesday
FRI = date(2026, 11, 27)
MON_MID = date(2026, 12, 14)


def read(phrase: str, received: date = WED, us: bool = False) -> date | None:
    hits = find_dates(normalise(phrase), received, us)
    return hits[0].date if hits else None


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("aujourd'hui", date(2026, 11, 25)),
        ("today", date(2026, 11, 25)),
        ("demain", date(2026, 11, 26)),
        ("tomorrow", date(2026, 11, 26)),
        ("après-demain", date(2026, 11, 27)),
        ("vendredi", date(2026, 11, 27)),
        ("by Friday", date(2026, 11, 27)),
        ("mercredi", date(2026, 12, 2)),  # strictly after the received day
        ("on Wednesday", date(2026, 12, 2)),
        ("lundi", date(2026, 11, 30)),
        ("fin du mois", date(2026, 11, 30)),
        ("end of the month", date(2026, 11, 30)),
        ("fin du mois prochain", date(2026, 12, 31)),
        ("end of next month", date(2026, 12, 31)),
        ("le 15", date(2026, 12, 15)),
        ("on the 15th", date(2026, 12, 15)),
        ("le 28", date(2026, 11, 28)),
        ("le 25", date(2026, 11, 25)),
        ("sous 8 jours", date(2026, 12, 3)),
        ("within a week", date(2026, 12, 2)),
        ("dans 15 jours", date(2026, 12, 10)),
        ("in 10 days", date(2026, 12, 5)),
        ("15/01", date(2027, 1, 15)),
        ("15/12", date(2026, 12, 15)),
        ("15 décembre", date(2026, 12, 15)),
        ("le 1er décembre", date(2026, 12, 1)),
        ("December 15th", date(2026, 12, 15)),
        ("15th of December", date(2026, 12, 15)),
        ("12/15", date(2026, 12, 15)),
        ("3 janvier", date(2027, 1, 3)),
        ("15/10", date(2027, 10, 15)),  # past this year: next year
        ("15/12/2026", date(2026, 12, 15)),
        ("2026-12-05", date(2026, 12, 5)),
        ("vendredi 27 novembre", date(2026, 11, 27)),
        ("fin decembre", date(2026, 12, 31)),
    ],
)
def test_contract_rules(phrase: str, expected: date) -> None:
    assert read(phrase) == expected


def test_missing_accents_and_typos() -> None:
    assert read("apres-demain") == date(2026, 11, 27)
    assert read("vendredie") == date(2026, 11, 27)
    assert read("tomorow") == date(2026, 11, 26)
    assert read("15 decembre") == date(2026, 12, 15)


def test_day_of_month_rolls_over_year_end() -> None:
    assert read("le 5", MON_MID) == date(2027, 1, 5)
    assert read("le 15", MON_MID) == date(2026, 12, 15)


def test_us_order_only_when_ambiguous() -> None:
    assert read("03/04", WED, us=False) == date(2027, 4, 3)
    assert read("03/04", WED, us=True) == date(2027, 3, 4)
    assert read("25/12", WED, us=True) == date(2026, 12, 25)


def test_vague_phrases_get_a_reading_and_low_confidence() -> None:
    for phrase in ("la semaine prochaine", "soon", "early next month", "rapidement"):
        hits = find_dates(normalise(phrase), WED)
        assert hits, phrase
        assert hits[0].confidence < 0.5, phrase


def test_numbers_that_are_not_dates() -> None:
    for phrase in ("1.250,50 EUR", "3.4k", "à 14h30", "le 2e rappel", "for 1,250 GBP"):
        assert read(phrase) is None, phrase


def test_friday_next_week() -> None:
    assert read("vendredi de la semaine prochaine") == date(2026, 12, 4)
    assert read("Friday next week", FRI) == date(2026, 12, 4)
