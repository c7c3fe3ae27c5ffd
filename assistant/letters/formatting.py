"""Locale-aware money, date and percent formatting for letters (Babel data, cached).

Babel is asked once per locale and currency for symbols and patterns; formatting itself
is plain string work so that thousands of letters a second stay cheap. Text output uses
ordinary spaces (``1 234,56 €``) so officers can search and edit it; HTML templates turn
them into no-break spaces with the ``nb`` filter.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, get_decimal_symbol, get_group_symbol

from assistant.domain import CENT

_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " "})
_PROBE = Decimal("1234.56")


def locale_for(language: str, jurisdiction: str = "FR") -> str:
    """Return the Babel locale used for a letter language and jurisdiction."""
    if language == "fr":
        return "fr_FR"
    return "en_US" if jurisdiction == "US" else "en_GB"


def _plain(value: str) -> str:
    return value.translate(_SPACES)


class Formatter:
    """Format amounts, dates and rates the way a reader in `locale` expects."""

    def __init__(self, locale: str):
        self.locale = locale
        self._babel = Locale.parse(locale)
        self.decimal = _plain(get_decimal_symbol(self._babel))
        self.group = _plain(get_group_symbol(self._babel))
        wide = self._babel.months["format"]["wide"]
        self.months: tuple[str, ...] = tuple(wide[m] for m in range(1, 13))
        self.month_first = locale == "en_US"
        self._affixes: dict[str, tuple[str, str]] = {}

    def number(self, amount: Decimal) -> str:
        """Return `amount` with two decimals and locale separators (``1 234,56``)."""
        q = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        raw = f"{abs(q):,.2f}"
        text = raw.replace(",", "\0").replace(".", self.decimal).replace("\0", self.group)
        return f"-{text}" if q < 0 else text

    def _currency_affixes(self, currency: str) -> tuple[str, str]:
        affixes = self._affixes.get(currency)
        if affixes is None:
            sample = _plain(format_currency(_PROBE, currency, locale=self._babel))
            digits = self.number(_PROBE)
            start = sample.index(digits)
            affixes = (sample[:start], sample[start + len(digits) :])
            self._affixes[currency] = affixes
        return affixes

    def money(self, amount: Decimal, currency: str = "EUR") -> str:
        """Return `amount` in `currency`: ``1 234,56 €`` (fr_FR), ``€1,234.56`` (en)."""
        prefix, suffix = self._currency_affixes(currency)
        text = self.number(amount)
        if text.startswith("-"):
            return f"-{prefix}{text[1:]}{suffix}"
        return f"{prefix}{text}{suffix}"

    def date(self, value: dt.date) -> str:
        """Return a long date: ``15 décembre 2026``, ``15 December 2026`` (US: month first)."""
        month = self.months[value.month - 1]
        if self.month_first:
            return f"{month} {value.day}, {value.year}"
        return f"{value.day} {month} {value.year}"

    def short_date(self, value: dt.date) -> str:
        """Return a numeric date: ``15/12/2026`` (US: ``12/15/2026``)."""
        if self.month_first:
            return f"{value.month:02d}/{value.day:02d}/{value.year}"
        return f"{value.day:02d}/{value.month:02d}/{value.year}"

    def percent(self, rate: Decimal) -> str:
        """Return a rate in percent: ``12,15 %`` (fr), ``12.15%`` (en)."""
        text = self.number(rate)
        return f"{text} %" if self.locale.startswith("fr") else f"{text}%"


@lru_cache(maxsize=16)
def formatter(locale: str) -> Formatter:
    """Return the shared formatter for `locale`."""
    return Formatter(locale)


def format_money(amount: Decimal, currency: str = "EUR", locale: str = "fr_FR") -> str:
    """Format an amount in `currency` for `locale`."""
    return formatter(locale).money(amount, currency)


def format_date(value: dt.date, locale: str = "fr_FR") -> str:
    """Format a long date for `locale`."""
    return formatter(locale).date(value)
