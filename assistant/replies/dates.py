"""Date rules of docs/domain.md §4–5, in French and English, relative to the day a reply was received.

Works on normalised text (lowercase, no accents; see `text.normalise`) and returns spans into
it. Pure: the reference day is always passed in, never read from a clock.

Decisions beyond the contract (documented here so they are not rediscovered):
- "vendredi prochain" / "next Friday" follow the weekday rule (next Friday strictly after the
  received day) with a lower confidence; "Friday next week" / "vendredi de la semaine
  prochaine" is the Friday of the next calendar week.
- "le 15" received on the 15th is that same day (not yet past); "le 31" in a 30-day month is
  its last day.
- Vague phrases get a best reading and a low confidence: "la semaine prochaine / next week" →
  Friday of next week, "soon / rapidement / asap" → +7 days, "début du mois prochain / early
  next month" → the 5th, "mi-décembre / mid-December" → the 15th.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from .calendar_rules import (
    MONTHS,
    NUMBER_WORDS,
    WEEKDAYS,
    add_business_days,
    add_months,
    day_of_month,
    future_date,
    last_day,
    next_weekday,
    weekday_next_week,
)

EXACT = 0.95
FAIR = 0.7
VAGUE = 0.35


@dataclass(frozen=True)
class DateHit:
    """A date read in the text, with its span and how sure the reading is."""

    date: date
    start: int
    end: int
    confidence: float
    kind: str


_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_WD_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_NUM_RE = r"\d{1,3}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_ORD = r"(?:er|re|e|eme|st|nd|rd|th)?"


def _number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return NUMBER_WORDS.get(token)


def _year(token: str | None) -> int | None:
    if not token:
        return None
    y = int(token)
    return 2000 + y if y < 100 else y


def _friday_this_week(received: date) -> date:
    friday = received - timedelta(days=received.weekday()) + timedelta(days=4)
    return friday if friday >= received else friday + timedelta(days=7)


Handler = Callable[[re.Match[str], date, bool], tuple[date | None, float]]
_RULES: list[tuple[re.Pattern[str], Handler, str]] = []


def _rule(pattern: str, kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _RULES.append((re.compile(pattern), fn, kind))
        return fn

    return register


_NOT_AMOUNT = r"(?![ ]?(?:€|eur|euros?|\$|£|k\b|ke\b|%|\d|[.,]\d|h\d|h\b|:\d))"


@_rule(r"\b(20\d\d)-(\d\d)-(\d\d)\b", "iso")
def _iso(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    try:
        return date(int(m[1]), int(m[2]), int(m[3])), EXACT
    except ValueError:
        return None, 0.0


@_rule(
    r"(?<![\d/.,])(\d{1,2})(?:/(\d{1,2})(?:/(\d{2}|\d{4}))?|[.-](\d{1,2})[.-](\d{4}|\d{2}))"
    r"(?![\d/]|[.,]\d)" + _NOT_AMOUNT,
    "numeric",
)
def _numeric(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    a = int(m[1])
    b = int(m[2] or m[4])
    year = _year(m[3] or m[5])
    conf = EXACT
    if a > 12 and b <= 12:
        day, month = a, b
    elif b > 12 and a <= 12:
        month, day = a, b
    elif us:
        month, day = a, b
        conf = FAIR if a != b else EXACT
    else:
        day, month = a, b
    return future_date(received, month, day, year), conf


_WD_PREFIX = rf"(?:(?:{_WD_RE}),? )?"


@_rule(
    rf"\b{_WD_PREFIX}(?:(?:le|the) )?(\d{{1,2}}){_ORD}(?: of| de)? ({_MONTH_RE})\b\.?(?:,? (\d{{4}}))?",
    "day_month",
)
def _day_month(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return future_date(received, MONTHS[m[2]], int(m[1]), _year(m[3])), EXACT


@_rule(
    rf"\b{_WD_PREFIX}({_MONTH_RE})\.? (?:the )?(\d{{1,2}}){_ORD}\b(?:,? (\d{{4}}))?" + _NOT_AMOUNT,
    "month_day",
)
def _month_day(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return future_date(received, MONTHS[m[1]], int(m[2]), _year(m[3])), EXACT


_DAY_STOP = (
    r"(?! ?(?:[/.:,h-]\d|%|€|\d|k\b|eur|euros?\b|\$|jours?|days?|mois|months?|ans|years?|semaines?"
    r"|weeks?|fois|times|factures?|invoices?|versements?|mensualites?|echeances?|heures?|hours?"
    r"|h\b|min|payments?|instal|install|reminders?|relances?|notices?|letters?|quarters?|floors?"
    r"|attempts?|rappels?|lettres?|courriers?|emails?|mails?|messages?|parts?|tranches?))"
)


@_rule(
    r"\b(?:(?:le|au|avant le|d'ici le|pour le|jusqu'au|a partir du|des le|on|by|before|until|"
    r"from|after|for) (?:the )?|the )(\d{1,2})"
    + "(?:er|st|nd|rd|th)?"
    + r"\b(?: (?:du mois|of (?:the|this) month))?"
    + _DAY_STOP,
    "day",
)
def _day(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return day_of_month(received, int(m[1])), EXACT


@_rule(r"\b(\d{1,2})(?:st|nd|rd|th)\b" + _DAY_STOP, "ordinal")
def _ordinal(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return day_of_month(received, int(m[1])), FAIR


@_rule(
    r"\b(?:aujourd'?hui|aujourd hui|aujourdhui|ajd|ce jour(?![- ]la)|ce soir|cet apres-midi|"
    r"dans la journee|dans la journee d'aujourd'hui|des a present|tout de suite|right away|right now|"
    r"immediately|straight away|today|tonight|this (?:afternoon|evening|morning)|"
    r"(?:end of (?:the )?day|eod|cob|close of business|by close)\b"
    r"(?!,? (?:on |this |next )?(?:tomorrow|tmrw|monday|tuesday|wednesday|thursday|friday|the \d|\d)))",
    "today",
)
def _today(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return received, EXACT


@_rule(
    r"\b(?:(?:paying|sending|transferring|wiring|settling|releasing|pay|send|transfer|wire|settle)"
    r"(?: (?:it|this|that|you|over|through|the (?:invoice|balance|payment|transfer|amount|money|funds)))?"
    r" now\b(?! (?:on|by|that|and then))"
    r"|(?:(?:je|nous|on) (?:lance|lancons|fais|faisons|effectue|effectuons|envoie|envoyons|passe|passons|"
    r"vire|virons|regle|reglons|paie|payons)|virement|paiement|reglement)\b[^.!?\n]{0,25}?"
    r"\b(?:maintenant|de suite)\b(?! (?:que|qu')))",
    "today",
)
def _paying_now(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    """Read "paying it now", "je lance le virement maintenant" as the day received."""
    return received, EXACT


@_rule(r"\b(?:apres[- ]demain|(?:the )?day after tomorrow)\b", "after_tomorrow")
def _after_tomorrow(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return received + timedelta(days=2), EXACT


@_rule(r"\b(?:demain|demin|dmain|tomorrow|tomorow|tommorow|tommorrow|tmrw|tmr)\b", "tomorrow")
def _tomorrow(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return received + timedelta(days=1), EXACT


@_rule(
    rf"\b(?:(this coming|coming|next|this|ce|cette) )?({_WD_RE})\b"
    r"(?: (prochain|qui vient|de la semaine (?:prochaine|pro)|next week|of next week|week))?",
    "weekday",
)
def _weekday(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    wd = WEEKDAYS[m[2]]
    suffix = m[3] or ""
    if "semaine" in suffix or "week" in suffix:
        return weekday_next_week(received, wd), EXACT
    if m[1] == "next" or suffix == "prochain":
        return next_weekday(received, wd), FAIR
    return next_weekday(received, wd), EXACT


@_rule(
    r"\b(?:la |the )?(?:fin (?:du |de |de ce |d'un )?mois|end of (?:the |this )?month|"
    r"month[- ]end|eom)\b( (?:prochain|suivant|next)\b| (?:en cours|courant)\b)?",
    "end_of_month",
)
def _end_of_month(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    nxt = m[1] is not None and m[1].strip() in {"prochain", "suivant", "next"}
    d = add_months(received.replace(day=1), 1) if nxt else received
    return last_day(d.year, d.month), EXACT


@_rule(r"\b(?:fin du mois|end of) (?:prochain|suivant|next|the following) ?(?:month)?\b", "eonm")
def _end_next_month(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    d = add_months(received.replace(day=1), 1)
    return last_day(d.year, d.month), EXACT


@_rule(rf"\b(?:fin|end of|end|fin de|fin d') ?({_MONTH_RE})\b(?! ?\d)", "end_of_named_month")
def _end_of_named(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    month = MONTHS[m[1]]  # "fin novembre" received on 13 November: this month's end
    end = last_day(received.year, month)
    return (end if end >= received else last_day(received.year + 1, month)), FAIR


@_rule(rf"\b(?:mi|mid)[- ]?({_MONTH_RE}|mois|month)\b", "mid_month")
def _mid(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    if m[1] in {"mois", "month"}:
        return day_of_month(received, 15), VAGUE
    return future_date(received, MONTHS[m[1]], 15), VAGUE


@_rule(
    rf"\b(?:(?:au |en )?debut (?:du |de )?(?:mois prochain|({_MONTH_RE}))|"
    r"(?:early|beginning of|start of|the beginning of|the start of) next month)\b",
    "early_month",
)
def _early(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    if m[1]:
        return future_date(received, MONTHS[m[1]], 5), VAGUE
    d = add_months(received.replace(day=1), 1)
    return d.replace(day=5), VAGUE


@_rule(
    r"\b(?:fin de (?:la )?semaine|end of (?:the |this )?week|by the weekend|ce week-?end|"
    r"this weekend|ce week end|cette semaine|this week|dans la semaine|within the week|later this week)\b"
    r"(?! (?:prochaine|pro)\b)",
    "this_week",
)
def _this_week(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    phrase = m[0]
    if "week-end" in phrase or "weekend" in phrase or "week end" in phrase:
        return received + timedelta(days=(5 - received.weekday()) % 7), VAGUE  # Saturday
    conf = FAIR if phrase.startswith(("fin", "end")) else VAGUE
    return _friday_this_week(received), conf


@_rule(
    r"\b(?:(fin de |end of |debut de |early |beginning of |start of )?"
    r"(?:la |the )?(?:semaine (?:prochaine|pro)|next week))\b",
    "next_week",
)
def _next_week(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    prefix = m[1] or ""
    if prefix.startswith(("fin", "end")):
        return weekday_next_week(received, 4), FAIR
    if prefix:
        return weekday_next_week(received, 0), VAGUE
    return weekday_next_week(received, 4), VAGUE


@_rule(r"\ba (\d{1,3}) jours\b(?! fin de mois| fdm)", "a_n_days")
def _a_n_days(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return received + timedelta(days=int(m[1])), FAIR


@_rule(r"\b(?:sous|under) (?:huitaine|8aine)\b", "huitaine")
def _huitaine(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return received + timedelta(days=8), EXACT


@_rule(r"\b(?:sous|under) quinzaine\b", "quinzaine")
def _quinzaine(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return received + timedelta(days=15), EXACT


@_rule(
    r"\b(?:sous|dans|d'ici|within|in|inside|next|les|the next|over the next|dans les|d'ici a)"
    rf" (?:les |the |a |an )?(?:(?:prochains|next) )?({_NUM_RE}) ?"
    r"(jours? (?:ouvres|ouvrables|calendaires)|business days?|working days?|jours?|days?|j\b|"
    r"semaines?|weeks?|mois|months?|h\b|heures|hours|hrs)",
    "within",
)
def _within(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    n = _number(m[1])
    if n is None:
        return None, 0.0
    unit = m[2]
    if "ouvr" in unit or "business" in unit or "working" in unit:
        return add_business_days(received, n), FAIR
    if unit.startswith(("semaine", "week")):
        return received + timedelta(weeks=n), EXACT
    if unit.startswith(("mois", "month")):
        return add_months(received, n), FAIR
    if unit.startswith(("h", "heure", "hour")):
        return received + timedelta(days=max(n // 24, 1)), FAIR
    return received + timedelta(days=n), EXACT


@_rule(
    r"\b(?:(?:dans|sous|d'ici|within|in) (?:une|a|one) (?:semaine|week)|"
    r"(?:dans|sous|d'ici|within|in) (?:a )?(?:quinzaine|fortnight))\b",
    "a_week",
)
def _a_week(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    days = 14 if ("fortnight" in m[0] or "quinzaine" in m[0]) else 7
    return received + timedelta(days=days), EXACT


@_rule(
    r"\b(?:(?:dans|sous|d'ici) (?:un|1) mois|(?:within|in) (?:a|one|1) month|"
    r"(?:le )?mois prochain|next month|courant du mois prochain|in the coming month)\b",
    "month",
)
def _month(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    if "prochain" in m[0] or "next" in m[0]:
        d = add_months(received.replace(day=1), 1)
        return d.replace(day=15), VAGUE
    return add_months(received, 1), FAIR


@_rule(
    r"\b(?:des que possible|au plus vite|au plus tot|rapidement|prochainement|bientot|sous peu|"
    r"tres vite|dans les (?:prochains|jours) (?:jours|a venir|qui viennent)|quelques jours|"
    r"asap|as soon as possible|(?<!as )soon|shortly|in the coming days|in the next few days|"
    r"a few days|in due course|dans les meilleurs delais|at the earliest)\b",
    "vague",
)
def _vague(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return received + timedelta(days=7), VAGUE


@_rule(
    r"\b(?:le |the )?(\d{1,2})(?:er|st|nd|rd|th)? (?:du mois prochain|of next month|of the following month)\b",
    "dom_next",
)
def _dom_next_month(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    first = add_months(received.replace(day=1), 1)
    try:
        return first.replace(day=int(m[1])), EXACT
    except ValueError:
        return None, 0.0


@_rule(
    r"\b(?:a couple of days|un ou deux jours|deux[- ]trois jours|2[- ]3 jours|2 ou 3 jours|"
    r"a day or two|a few days' time)\b",
    "couple_days",
)
def _couple(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return received + timedelta(days=3), VAGUE


@_rule(r"\b(?:close of play|cop)\b", "cop")
def _close_of_play(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return received, EXACT


@_rule(
    rf"\b(?:en|in|courant|during|dans le courant de|dans le courant du mois de) ({_MONTH_RE})\b(?! ?\d)",
    "in_month",
)
def _in_month(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    if m[1] in {
        "mar",
        "jan",
        "sep",
        "oct",
        "nov",
        "dec",
        "jun",
        "jul",
        "apr",
        "aug",
        "feb",
        "may",
        "mai",
    } and m[0].startswith("in"):
        return None, 0.0  # "in may", "in jan" are too ambiguous in English text
    d = future_date(received, MONTHS[m[1]], 15)
    if d is not None and d.month == received.month and received.day > 15:
        d = last_day(received.year, received.month)
    return d, VAGUE


@_rule(
    r"\b(?:ce mois-ci|this month|dans le courant du mois|courant du mois|within the month|dans le mois)\b",
    "this_month",
)
def _this_month(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return last_day(received.year, received.month), VAGUE


@_rule(r"\b(?:noel|christmas|xmas)\b", "christmas")
def _christmas(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return future_date(received, 12, 24), FAIR


@_rule(r"\b(?:fin d'annee|fin de l'annee|end of (?:the )?year|year[- ]end)\b", "year_end")
def _year_end(m: re.Match[str], received: date, us: bool) -> tuple[date | None, float]:
    return date(received.year, 12, 31), FAIR


def find_dates(norm: str, received: date, us_order: bool = False) -> list[DateHit]:
    """Find every date phrase in normalised text; overlapping readings keep the longest."""
    hits: list[DateHit] = []
    for pattern, handler, kind in _RULES:
        for m in pattern.finditer(norm):
            value, conf = handler(m, received, us_order)
            if value is not None:
                hits.append(DateHit(value, m.start(), m.end(), conf, kind))
    starts: list[int] = []  # kept spans, sorted and disjoint
    kept: list[DateHit] = []
    for hit in sorted(hits, key=lambda h: (-(h.end - h.start), h.start)):
        i = bisect_right(starts, hit.start)
        if i and kept[i - 1].end > hit.start:
            continue
        if i < len(kept) and kept[i].start < hit.end:
            continue
        starts.insert(i, hit.start)
        kept.insert(i, hit)
    return kept


__all__ = [
    "EXACT", "FAIR", "VAGUE", "MONTHS", "NUMBER_WORDS", "WEEKDAYS", "DateHit", "add_business_days",
    "add_months", "day_of_month", "find_dates", "future_date", "last_day", "next_weekday",
    "weekday_next_week",
]  # fmt: skip
