"""Money amounts in replies: 1 250,00 €, 1250€, 1.250,50 EUR, £1,250.00, $3,400.50, EUR 980, 3.4k.

Works on normalised, distractor-masked text (see `text.mask_distractors`); returns spans.
Deciding which amount is *promised* is the engine's job, not this module's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class AmountHit:
    """An amount read in the text."""

    value: Decimal
    currency: str | None
    start: int
    end: int
    explicit: bool  # a currency or a "k" was written next to the figure


_CURRENCIES = {
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "e": "EUR",
    "$": "USD", "usd": "USD", "us$": "USD", "dollar": "USD", "dollars": "USD",
    "£": "GBP", "gbp": "GBP", "livre": "GBP", "livres": "GBP", "pound": "GBP", "pounds": "GBP",
    "chf": "CHF", "quid": "GBP",
}  # fmt: skip

_NUMBER = (
    r"(?:\d{1,3}(?: \d{3})+(?!\d)|\d{1,3}(?:\.\d{3})+(?!\d)|\d{1,3}(?:,\d{3})+(?![\d])|\d+)"
    r"(?:[.,]\d{1,2}(?!\d))?"
)
_PRE = r"(?P<pre>€|eur|euros|us\$|\$|usd|£|gbp|chf)"
_POST = (
    r"(?P<post>€|eur\b|euros?\b|\$|usd\b|dollars?\b|£|gbp\b|livres?(?: sterling)?\b|pounds?\b|"
    r"chf\b|quid\b|e\b(?=[ .,;!)]|$))"
)
_K = r"(?P<k>k(?:€|e\b|eur\b)?)(?![a-z])"

_AMOUNT = re.compile(
    rf"(?<![\d.,/a-z]){_PRE} ?(?P<num1>{_NUMBER})(?: ?{_K.replace('<k>', '<k1>')})?(?:[.,]-)?"
    rf"|(?<![\d.,/])(?P<num2>{_NUMBER})(?:[.,]-)?(?: ?{_K.replace('<k>', '<k2>')})?"
    rf"(?: ?{_POST})?"
)

_BARE_CONTEXT = re.compile(
    r"(?:payer|paierai|paierons|payerons|payerai|regler|reglerai|reglerons|verser|verserai|"
    r"verserons|virer|virerai|virerons|envoyer|pay|send|transfer|wire|remit|acompte de|"
    r"montant de|somme de|amount of|sum of|versement de|payment of|instalments? of|"
    r"mensualites? de|echeances? de|versements? de)"
    r"(?: (?:de|of|you|vous|un acompte de|a hauteur de))? ?$"
)
_BARE_STOP = re.compile(
    r"^ ?(?:jours?|days?|fois|times|mois|months?|semaines?|weeks?|factures?|invoices?|ans|years?|"
    r"/|h\b|heures?|hours?|%|x\b|instal|versements?|mensualites?|echeances?|parts?|payments?|"
    r"tranches?|er\b|e\b|st\b|nd\b|rd\b|th\b)"
)


def parse_number(raw: str) -> Decimal | None:
    """Read a written figure ("1 250,00", "1.250,50", "1,250.00", "3.4") as a Decimal."""
    s = raw.replace(" ", "").removesuffix(",-").removesuffix(".-")
    if "," in s and "." in s:
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif "," in s:
        parts = s.split(",")
        if len(parts) > 2 or len(parts[-1]) == 3:
            s = s.replace(",", "")
        else:
            s = s.replace(",", ".")
    elif "." in s:
        parts = s.split(".")
        if len(parts) > 2 or len(parts[-1]) == 3:
            s = s.replace(".", "")
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def find_amounts(norm: str) -> list[AmountHit]:
    """Find money amounts in normalised, masked text (bare figures only after a pay verb)."""
    hits: list[AmountHit] = []
    for m in _AMOUNT.finditer(norm):
        raw = m["num1"] or m["num2"]
        k = m["k1"] or m["k2"]
        cur_token = m["pre"] or m["post"]
        value = parse_number(raw)
        if value is None:
            continue
        if k:
            value = value * 1000
            if k.endswith(("€", "e", "eur")):
                cur_token = cur_token or "€"
        currency = _CURRENCIES.get(cur_token) if cur_token else None
        explicit = bool(cur_token or k)
        if not explicit:
            if not _BARE_CONTEXT.search(norm[max(0, m.start() - 40) : m.start()]):
                continue
            if _BARE_STOP.match(norm[m.end() : m.end() + 15]):
                continue
            if value < 10 and "." not in raw and "," not in raw:
                continue
        if value <= 0 or (cur_token == "e" and value < 100):
            continue
        hits.append(AmountHit(value, currency, m.start(), m.end(), explicit))
    return hits
