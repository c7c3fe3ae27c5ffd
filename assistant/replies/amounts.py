"""Money amounts in replies: 1 250,00 €, 1250€, 1.250,50 EUR, £1,250.00, $3,400.50, EUR 980, 3.4k.

Swiss writing is read too: CHF 1'250.50, EUR 2'190.- (apostrophe thousands, ".-" for no cents).

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
    r"(?:\d{1,3}(?: \d{3})+(?!\d)|\d{1,3}(?:['’]\d{3})+(?!\d)|\d{1,3}(?:\.\d{3})+(?!\d)|\d{1,3}(?:,\d{3})+(?![\d])|\d+)"
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
    s = raw.replace(" ", "").replace("'", "").replace("’", "")  # 1'250.50: Swiss thousands
    s = s.removesuffix(",-").removesuffix(".-")
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


_WORD_VALUES = {
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13,
    "quatorze": 14, "quinze": 15, "seize": 16, "vingt": 20, "vingts": 20, "trente": 30,
    "quarante": 40, "cinquante": 50, "soixante": 60, "septante": 70, "huitante": 80,
    "octante": 80, "nonante": 90,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
_WORD_SCALES = {"cent": 100, "cents": 100, "hundred": 100, "mille": 1000, "thousand": 1000}
_WORD = "|".join(sorted([*_WORD_VALUES, *_WORD_SCALES], key=len, reverse=True))
_WORDS_AMOUNT = re.compile(
    rf"(?<![\w-])(?P<words>(?:{_WORD})(?:(?:[ -]|-et-| et | and )(?:{_WORD}))*)"
    r" (?P<cur>euros?|dollars?|pounds?|livres?(?: sterling)?|eur|gbp|usd|€|\$|£)(?![a-z])"
)


def words_value(words: str) -> Decimal | None:
    """Read "mille deux cents", "quatre-vingt-dix", "two thousand five hundred" as a number."""
    tokens = [t for t in re.split(r"[ -]+", words) if t not in ("et", "and")]
    total = current = 0
    previous = 0
    for token in tokens:
        if token in _WORD_VALUES:
            value = _WORD_VALUES[token]
            if value == 20 and previous == 4:  # quatre-vingt(s)
                current += 76
            else:
                current += value
            previous = value
        elif _WORD_SCALES.get(token) == 100:
            current = (current or 1) * 100
            previous = 100
        else:  # mille / thousand
            total += (current or 1) * 1000
            current = previous = 0
    value = total + current
    return Decimal(value) if value >= 10 else None


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
    for m in _WORDS_AMOUNT.finditer(norm):  # "mille deux cents euros" (words, optional in §4)
        value = words_value(m["words"])
        if value is not None and not any(h.start < m.end() and m.start() < h.end for h in hits):
            cur = m["cur"].split()[0]
            hits.append(AmountHit(value, _CURRENCIES.get(cur), m.start(), m.end(), True))
    hits.sort(key=lambda h: h.start)
    return hits
