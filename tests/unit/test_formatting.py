"""Amounts and dates read the way a French, British or American reader writes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from assistant.letters.formatting import format_date, format_money, formatter, locale_for

D = Decimal


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "shown"),
    [
        ("1234.56", "EUR", "fr_FR", "1 234,56 €"),
        ("40", "EUR", "fr_FR", "40,00 €"),
        ("1234567.8", "EUR", "fr_FR", "1 234 567,80 €"),
        ("1234.56", "EUR", "en_GB", "€1,234.56"),
        ("1234.56", "GBP", "en_GB", "£1,234.56"),
        ("1234.56", "USD", "en_US", "$1,234.56"),
        ("-12.5", "EUR", "fr_FR", "-12,50 €"),
        ("-12.5", "GBP", "en_GB", "-£12.50"),
        ("0.005", "EUR", "fr_FR", "0,01 €"),
        ("2.675", "EUR", "en_GB", "€2.68"),
    ],
)
def test_money(amount, currency, locale, shown):
    assert format_money(D(amount), currency, locale) == shown


@pytest.mark.parametrize(
    ("when", "locale", "shown"),
    [
        (date(2026, 12, 15), "fr_FR", "15 décembre 2026"),
        (date(2026, 2, 1), "fr_FR", "1 février 2026"),
        (date(2026, 8, 3), "fr_FR", "3 août 2026"),
        (date(2026, 12, 15), "en_GB", "15 December 2026"),
        (date(2026, 12, 15), "en_US", "December 15, 2026"),
    ],
)
def test_long_dates(when, locale, shown):
    assert format_date(when, locale) == shown


def test_short_dates_and_rates():
    fr, gb, us = formatter("fr_FR"), formatter("en_GB"), formatter("en_US")
    assert fr.short_date(date(2026, 3, 5)) == "05/03/2026"
    assert gb.short_date(date(2026, 3, 5)) == "05/03/2026"
    assert us.short_date(date(2026, 3, 5)) == "03/05/2026"
    assert fr.percent(D("12.15")) == "12,15 %"
    assert gb.percent(D("12.15")) == "12.15%"


def test_text_uses_plain_spaces_that_officers_can_type():
    shown = format_money(D("1234.56"), "EUR", "fr_FR")
    assert "\u202f" not in shown and "\u00a0" not in shown


@pytest.mark.parametrize(
    ("language", "jurisdiction", "locale"),
    [
        ("fr", "FR", "fr_FR"),
        ("fr", "UK", "fr_FR"),
        ("en", "UK", "en_GB"),
        ("en", "FR", "en_GB"),
        ("en", "US", "en_US"),
    ],
)
def test_locale_follows_language_and_jurisdiction(language, jurisdiction, locale):
    assert locale_for(language, jurisdiction) == locale
