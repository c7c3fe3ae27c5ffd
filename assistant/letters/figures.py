"""Read the figures a reader sees in a letter: amounts, dates, rates and invoice numbers.

One pass finds every run of digits; each run is then classified from its shape and its
neighbours (a currency sign, a month name, a per-cent sign). Identifiers glued to letters
(``F2026-0101``, ``REF-7Q2K``, ``L441-10``, an IBAN) are not figures. Pure and fast: the
validator runs this on every draft.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from assistant.domain import CENT

FR_MONTHS = (
    "janvier",
    "fevrier",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "aout",
    "septembre",
    "octobre",
    "novembre",
    "decembre",
)
EN_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH_NUMBER = {name: i + 1 for names in (FR_MONTHS, EN_MONTHS) for i, name in enumerate(names)}
_MONTH_NUMBER.update({"février": 2, "août": 8, "décembre": 12, "aoùt": 8})
_ANY_MONTH = (
    "janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre|"
    + "|".join(EN_MONTHS)
)
_EN_MONTH_CAP = "|".join(m.capitalize() for m in EN_MONTHS)

_CLUSTER = re.compile(r"\d(?:[ \u00a0\u202f.,/'-]?\d)*")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_NUMERIC_DATE = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})")
_DAY_THEN_MONTH = re.compile(
    r"(?:er|st|nd|rd|th)?\s+(?:of\s+)?(" + _ANY_MONTH + r")(?:,?\s+(\d{4}))?(?!\w)", re.IGNORECASE
)
_MONTH_BEFORE = re.compile(r"(?<!\w)(" + _EN_MONTH_CAP + r")\s+$")
_AFTER_DAY_MONTH_FIRST = re.compile(r"(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?(?!\w)")
_PERCENT_AFTER = re.compile(r"\s?%")
_CURRENCY = r"(?:€|EUR|£GB|£|GBP|US\$|\$US|\$|USD|CHF)"
_CURRENCY_BEFORE = re.compile(_CURRENCY + r"\s?$")
_CURRENCY_AFTER = re.compile(
    r"\s?(?:" + _CURRENCY + r"(?![A-Za-z])|(?:euros?|pounds?|dollars?)(?!\w))", re.IGNORECASE
)
_TWO_DECIMALS = re.compile(r"(?:\d{1,3}(?:[ \u00a0\u202f.,']\d{3})+|\d+)[.,]\d{2}")
_URL = re.compile(r"https?://\S+|www\.\S+")
_GROUP_SEPARATORS = re.compile(r"[ \u00a0\u202f']")


class Figure(NamedTuple):
    """One figure read in a text: `kind` is amount, date, day_month, bad_date or percent."""

    kind: str
    shown: str
    amount: Decimal | None = None
    when: date | None = None
    day_month: tuple[int, int] | None = None


def parse_amount(token: str) -> Decimal | None:
    """Read a money figure written French or English style (``1 234,56``, ``1,234.56``)."""
    raw = _GROUP_SEPARATORS.sub("", token)
    last = max(raw.rfind(","), raw.rfind("."))
    if last >= 0 and 1 <= len(raw) - last - 1 <= 2:
        whole, frac = raw[:last], raw[last + 1 :]
    else:
        whole, frac = raw, "0"
    whole = whole.replace(",", "").replace(".", "")
    try:
        return Decimal(f"{whole or '0'}.{frac}").quantize(CENT)
    except InvalidOperation:
        return None


def _date_figure(shown: str, day: int, month: int, year: int | None) -> Figure:
    if year is None:
        return Figure("day_month", shown, day_month=(day, month))
    try:
        return Figure("date", shown, when=date(year, month, day))
    except ValueError:
        return Figure("bad_date", shown)


def _glued(text: str, index: int) -> bool:
    """Tell whether the character at `index` ties a digit run to an identifier."""
    if not 0 <= index < len(text):
        return False
    char = text[index]
    if char in "-_":  # "F2026-0101" is glued; " -256,10 €" is a minus sign
        return index > 0 and (text[index - 1].isalnum() or text[index - 1] in "-_")
    return char.isalnum()


def _negative(text: str, index: int) -> bool:
    return index > 0 and text[index - 1] in "-\u2212"


def read_figures(text: str, month_first: bool = False) -> list[Figure]:
    """Return the amounts, dates and rates written in `text`, in reading order."""
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    figures: list[Figure] = []
    consumed = 0
    year: int | None
    for m in _CLUSTER.finditer(text):
        start, end = m.span()
        if start < consumed or _glued(text, start - 1):
            continue
        token = m.group(0)
        if "-" in token:
            iso = _ISO.fullmatch(token)
            if iso:
                figures.append(_date_figure(token, int(iso[3]), int(iso[2]), int(iso[1])))
                continue
        if "/" in token or token.count(".") == 2:
            numeric = _NUMERIC_DATE.fullmatch(token)
            if numeric:
                a, b, year = int(numeric[1]), int(numeric[2]), int(numeric[3])
                day, month = (b, a) if month_first else (a, b)
                figures.append(_date_figure(token, day, month, year))
                continue
        if len(token) <= 2:
            after = _DAY_THEN_MONTH.match(text, end)
            if after:
                month = _MONTH_NUMBER[after[1].lower()]
                year = int(after[2]) if after[2] else None
                consumed = after.end()
                figures.append(_date_figure(text[start:consumed], int(token), month, year))
                continue
            # "December 5": a month then spaces just before; no space, no month.
            before = (
                _MONTH_BEFORE.search(text, max(0, start - 12), start)
                if start > 0 and text[start - 1].isspace()
                else None
            )
            if before:
                after = _AFTER_DAY_MONTH_FIRST.match(text, end)
                year = int(after[1]) if after and after[1] else None
                consumed = after.end() if after else end
                month = _MONTH_NUMBER[before[1].lower()]
                shown = text[before.start() : consumed]
                figures.append(_date_figure(shown, int(token), month, year))
                continue
        percent = _PERCENT_AFTER.match(text, end)
        if percent:
            figures.append(Figure("percent", text[start : percent.end()], parse_amount(token)))
            continue
        currency_after = _CURRENCY_AFTER.match(text, end)
        currency_before = _CURRENCY_BEFORE.search(text, max(0, start - 4), start)
        if currency_after or currency_before or _TWO_DECIMALS.fullmatch(token):
            shown_start = currency_before.start() if currency_before else start
            shown_end = currency_after.end() if currency_after else end
            amount = parse_amount(token)
            if amount is not None and _negative(text, shown_start):
                amount, shown_start = -amount, shown_start - 1
            figures.append(Figure("amount", text[shown_start:shown_end], amount))
            continue
    return figures


def invoice_shape(number: str) -> str | None:
    """Return a regex matching invoice numbers shaped like `number` (None if too vague)."""
    if number.isdigit():
        return rf"\d{{{len(number)}}}" if len(number) >= 5 else None
    if not any(c.isdigit() for c in number):
        return None
    parts = re.split(r"(\d+)", number)
    return "".join(r"\d+" if p.isdigit() else re.escape(p) for p in parts if p)


def find_invoice_numbers(text: str, pattern: re.Pattern[str]) -> list[tuple[str, int, int]]:
    """Return (number, start, end) for each invoice-number-shaped token in `text`."""
    found = []
    for m in pattern.finditer(text):
        start, end = m.span()
        if _glued(text, start - 1) or _glued(text, end):
            continue
        found.append((m.group(0), start, end))
    return found
