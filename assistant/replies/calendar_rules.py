"""Calendar words and day arithmetic for the date rules (French and English).

Month and weekday names (with common typos, accents already stripped), number words, and the
pure day computations of docs/domain.md §4–5 (next weekday strictly after, last day of month...).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

MONTHS: dict[str, int] = {}
for _num, _names in enumerate(
    [
        "janvier janv jan january",
        "fevrier fevr fev february feb fevier",
        "mars march mar",
        "avril avr april apr",
        "mai may",
        "juin june jun",
        "juillet juil july jul",
        "aout august aug",
        "septembre sept sep september",
        "octobre oct october",
        "novembre nov november",
        "decembre dec december decmbre decembr",
    ],
    start=1,
):
    for _n in _names.split():
        MONTHS[_n] = _num

WEEKDAYS: dict[str, int] = {}
for _num, _names in enumerate(
    [
        "lundi monday lunid mondy",
        "mardi tuesday tuesay tusday tuseday teusday",
        "mercredi wednesday mecredi mercedi wednsday wensday wedensday wendesday wedesday wednesay",
        "jeudi thursday thurday thursay thrusday thursady",
        "vendredi friday vendedi vendrdi vendredie fridy firday",
        "samedi saturday",
        "dimanche sunday",
    ]
):
    for _n in _names.split():
        WEEKDAYS[_n] = _num

NUMBER_WORDS = {
    "un": 1, "une": 1, "a": 1, "one": 1, "deux": 2, "two": 2, "trois": 3, "three": 3,
    "quatre": 4, "four": 4, "cinq": 5, "five": 5, "six": 6, "sept": 7, "seven": 7,
    "huit": 8, "eight": 8, "neuf": 9, "nine": 9, "dix": 10, "ten": 10, "quinze": 15,
    "fifteen": 15, "vingt": 20, "twenty": 20, "trente": 30, "thirty": 30, "douze": 12,
    "twelve": 12, "quatorze": 14, "fourteen": 14, "onze": 11, "eleven": 11,
}  # fmt: skip


def last_day(year: int, month: int) -> date:
    """Return the last day of a month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(d: date, months: int) -> date:
    """Return the same day `months` later, clamped to the end of the month."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def next_weekday(received: date, weekday: int) -> date:
    """Return the next such weekday strictly after the received day."""
    return received + timedelta(days=(weekday - received.weekday() - 1) % 7 + 1)


def weekday_next_week(received: date, weekday: int) -> date:
    """Return that weekday in the calendar week after the received one."""
    return received - timedelta(days=received.weekday()) + timedelta(days=7 + weekday)


def future_date(received: date, month: int, day: int, year: int | None = None) -> date | None:
    """Return day/month in the given year, else the first year that is not in the past."""
    try:
        if year is not None:
            return date(year, month, day)
        candidate = date(received.year, month, day)
        if candidate < received:
            candidate = date(received.year + 1, month, day)
        return candidate
    except ValueError:
        return None


def day_of_month(received: date, day: int) -> date | None:
    """Return the `day` of this month if still ahead, else of next month."""
    if not 1 <= day <= 31:
        return None
    if day >= received.day:
        end = last_day(received.year, received.month)
        return end if day > end.day else received.replace(day=day)
    nxt = add_months(received.replace(day=1), 1)
    end = last_day(nxt.year, nxt.month)
    return end if day > end.day else nxt.replace(day=day)


def add_business_days(d: date, days: int) -> date:
    """Return `d` plus `days` working days (Monday to Friday)."""
    while days > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            days -= 1
    return d
