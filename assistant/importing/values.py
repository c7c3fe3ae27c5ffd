"""Parse the cell values of ERP exports: amounts, dates, booleans, codes.

Pure functions: no file, no database, no clock. Each parser raises `ValueError` whose message
is a short reason fit for an import report ("not a date", "ambiguous thousands separator"…).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal

Cell = str | int | float | Decimal | date | datetime | bool | None
DateOrder = Literal["dmy", "mdy"]

_SPACES = {" ", "\u00a0", "\u202f", "\u2009", "\u2007", "'", "\u2019", "`"}
_CURRENCY_SIGNS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY"}
_CURRENCY_WORDS = re.compile(r"(?i)\b(EUR|EUROS?|USD|GBP|CHF|CAD|JPY)\b|US\$|CA\$")
_MINUS = {"-", "\u2212", "\u2013"}
_NUMBER = re.compile(r"^\d[\d.,]*$")
_PLAIN_AMOUNT = re.compile(r"(-?)(\d+)(?:([.,])(\d{1,2}))?\Z")
_CENT = Decimal("0.01")
_EXCEL_EPOCH = date(1899, 12, 30)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?$"
)
_TRUE = {"oui", "o", "yes", "y", "1", "x", "true", "vrai", "t"}
_FALSE = {"non", "n", "no", "0", "false", "faux", "f", ""}


def is_blank(value: Cell) -> bool:
    """Tell whether a cell holds nothing (None or only spaces)."""
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Cell) -> str:
    """Render a cell as the text a user would recognise in the file."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_amount(value: Cell, decimal: str | None = None) -> Decimal:
    """Parse an amount such as `1 234,56 €`, `(12.50)`, `12,50-` or `$1,234.56`."""
    if isinstance(value, bool) or is_blank(value):
        raise ValueError("no amount")
    if isinstance(value, int | float | Decimal):
        try:
            return Decimal(str(value)).quantize(Decimal("0.01"))
        except InvalidOperation as exc:
            raise ValueError("not a number") from exc
    if not isinstance(value, str):
        raise ValueError("not a number")
    plain = _PLAIN_AMOUNT.match(value)  # fast path: `-1234,5`, `12.50` (most cells)
    if plain and (plain[3] is None or decimal in (None, plain[3])):
        amount = Decimal(f"{plain[2]}.{plain[4]}" if plain[3] else plain[2]).quantize(_CENT)
        return -amount if plain[1] else amount
    text = _CURRENCY_WORDS.sub("", value.strip())
    text = "".join(ch for ch in text if ch not in _CURRENCY_SIGNS and ch not in _SPACES)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text[:1] in _MINUS:
        negative, text = True, text[1:]
    elif text[-1:] in _MINUS:
        negative, text = True, text[:-1]
    if text.startswith("+"):
        text = text[1:]
    if not text or not _NUMBER.match(text) or text[-1] in ".,":
        raise ValueError("not a number")
    number = _normalise_separators(text, decimal)
    try:
        amount = Decimal(number)
    except InvalidOperation as exc:  # pragma: no cover - the regex already filters
        raise ValueError("not a number") from exc
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("more than two decimals")
    amount = amount.quantize(Decimal("0.01"))
    return -amount if negative else amount


def _normalise_separators(text: str, decimal: str | None) -> str:
    """Return `text` with thousands separators removed and a `.` decimal point."""
    seps = [ch for ch in text if ch in ".,"]
    if not seps:
        return text
    if decimal is None:
        if len(set(seps)) == 2:
            decimal = seps[-1]
        elif len(seps) > 1:
            decimal = "," if seps[0] == "." else "."  # repeated: thousands
        else:
            head, tail = text.split(seps[0])
            if len(tail) == 3 and head != "0":
                raise ValueError(f"ambiguous separator {seps[0]!r} (set 'decimal' in a mapping)")
            decimal = seps[0]
    thousands = "." if decimal == "," else ","
    whole, _, frac = text.partition(decimal) if decimal in text else (text, "", "")
    if decimal in frac or thousands in frac:
        raise ValueError("misplaced separator")
    if thousands in whole:
        groups = whole.split(thousands)
        if not groups[0] or len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:]):
            raise ValueError("misplaced thousands separator")
        whole = "".join(groups)
    return f"{whole}.{frac}" if frac else whole


def guess_decimal(values: Iterable[Cell]) -> str | None:
    """Guess the decimal separator of a column of amounts (None when no text proves it)."""
    for value in values:
        if not isinstance(value, str):
            continue
        digits = "".join(ch for ch in value if ch.isdigit() or ch in ".,")
        seps = [ch for ch in digits if ch in ".,"]
        if len(set(seps)) == 2:
            return seps[-1]
        if len(seps) == 1:
            tail = digits.rsplit(seps[0], 1)[1]
            if len(tail) in (1, 2):
                return seps[0]
        elif len(seps) > 1:
            return "," if seps[0] == "." else "."
    return None


def guess_date_order(values: Iterable[Cell]) -> DateOrder | None:
    """Tell whether a column's numeric dates prove day-first or month-first (None: neither)."""
    proof = DateProof()
    for value in values:
        proof.add(value)
    return proof.order()


class DateProof:
    """What a column's numeric dates prove so far (`guess_date_order` fed one value at a time)."""

    __slots__ = ("day_first", "month_first")

    def __init__(self) -> None:
        self.day_first = self.month_first = False

    def add(self, value: Cell) -> None:
        if not isinstance(value, str):
            return
        m = _NUMERIC_DATE.match(value.strip())
        if not m:
            return
        a, b = int(m.group(1)), int(m.group(3))
        self.day_first |= a > 12 and b <= 12
        self.month_first |= b > 12 and a <= 12

    def order(self) -> DateOrder | None:
        if self.day_first == self.month_first:
            # both: day-first, the rows that disagree are bad
            return "dmy" if self.day_first else None
        return "dmy" if self.day_first else "mdy"


@lru_cache(maxsize=8192)  # exports repeat the same dates and codes on many rows
def parse_date(value: Cell, order: DateOrder = "dmy", fmt: str | None = None) -> date:
    """Parse a date: `fmt` when given, else ISO, dd/mm/yyyy (or mm/dd), dd.mm.yy, Excel serial."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool) or is_blank(value):
        raise ValueError("no date")
    if isinstance(value, int | float | Decimal):
        return excel_serial_date(value)
    assert isinstance(value, str)
    text = value.strip()
    if not fmt and len(text) == 10 and text[2] == text[5] and text[2] in "/.-" and order == "dmy":
        try:  # fast path for the common dd/mm/yyyy
            return date(int(text[6:]), int(text[3:5]), int(text[:2]))
        except ValueError:
            pass  # let the general path explain what is wrong
    if fmt:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError as exc:
            raise ValueError(f"not a date in the format {fmt}") from exc
    m = _ISO.match(text)
    if m:
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _NUMERIC_DATE.match(text)
    if m:
        a, b, y = int(m.group(1)), int(m.group(3)), m.group(4)
        year = int(y) if len(y) == 4 else (2000 + int(y) if int(y) < 70 else 1900 + int(y))
        day, month = (a, b) if order == "dmy" else (b, a)
        if month > 12 and day <= 12:
            other = "dd/mm" if order == "dmy" else "mm/dd"
            raise ValueError(f"not a date in this column's {other} order")
        return _make_date(year, month, day)
    if text.isdigit() and len(text) == 5:
        return excel_serial_date(int(text))
    raise ValueError("not a date")


def _make_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError("no such date") from exc


def excel_serial_date(serial: int | float | Decimal) -> date:
    """Convert an Excel serial day number (1900 system) to a date."""
    number = float(serial)
    if not 1 <= number < 2958466:
        raise ValueError("not a date")
    if not 20000 <= number <= 80000:  # 1954..2119: anything else is surely an amount
        raise ValueError("not a date")
    return _EXCEL_EPOCH + timedelta(days=int(number))


def parse_bool(value: Cell) -> bool:
    """Parse oui/non, yes/no, 1/0, x/blank."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = fold(cell_text(value))
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("not yes/no")


def fold(text: str) -> str:
    """Lower-case `text` and strip its accents."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


@lru_cache(maxsize=8192)
def parse_currency(value: Cell, default: str = "EUR") -> str:
    """Parse a currency code or sign (`EUR`, `€`, `euro`, `$`, `£`)."""
    text = cell_text(value)
    if not text:
        return default
    if text in _CURRENCY_SIGNS:
        return _CURRENCY_SIGNS[text]
    folded = fold(text)
    if folded in {"euro", "euros"}:
        return "EUR"
    code = text.upper()
    if not _CURRENCY_CODE.match(code):
        raise ValueError("not a currency code")
    return code


_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


@lru_cache(maxsize=8192)
def parse_emails(value: Cell) -> tuple[str, ...]:
    """Split a cell holding one or several e-mail addresses (`;`, `,` or spaces)."""
    parts = [p.strip().strip("<>").lower() for p in re.split(r"[;,\s]+", cell_text(value))]
    out: list[str] = []
    for part in parts:
        if not part:
            continue
        if not _EMAIL.match(part):
            raise ValueError(f"not an e-mail address: {part}")
        if part not in out:
            out.append(part)
    return tuple(out)


@lru_cache(maxsize=8192)
def parse_address(value: Cell) -> str | None:
    """Return a postal address with its lines kept and blanks squeezed (None when empty)."""
    text = cell_text(value)
    lines = [" ".join(part.split()) for part in text.replace("\r", "\n").split("\n")]
    return "\n".join(line for line in lines if line) or None


def parse_siren(value: Cell) -> str | None:
    """Parse a SIREN (9 digits) or a SIRET (14 digits, whose first 9 are the SIREN)."""
    digits = re.sub(r"[\s.\-\u00a0]", "", cell_text(value))
    if not digits:
        return None
    if digits.isdigit() and len(digits) in (9, 14):
        return digits[:9]
    raise ValueError("a SIREN has 9 digits")


_KINDS = {
    "company": {
        "company",
        "business",
        "b2b",
        "societe",
        "entreprise",
        "pro",
        "professionnel",
        "professionel",
        "personne morale",
        "sarl",
        "sas",
        "sa",
    },
    "consumer": {
        "consumer",
        "individual",
        "private",
        "b2c",
        "particulier",
        "consommateur",
        "personne physique",
    },
}
_LANGUAGES = {
    "fr": {"fr", "fra", "fre", "francais", "french", "fr-fr"},
    "en": {"en", "eng", "anglais", "english", "en-gb", "en-us", "uk", "gb"},
}


@lru_cache(maxsize=8192)
def parse_kind(value: Cell) -> str | None:
    """Parse a debtor type: company (B2B) or consumer (B2C)."""
    text = fold(cell_text(value))
    if not text:
        return None
    for kind, words in _KINDS.items():
        if text in words:
            return kind
    raise ValueError("not a debtor type (company/société or consumer/particulier)")


@lru_cache(maxsize=8192)
def parse_language(value: Cell) -> str | None:
    """Parse a language: fr or en."""
    text = fold(cell_text(value))
    if not text:
        return None
    for lang, words in _LANGUAGES.items():
        if text in words:
            return lang
    raise ValueError("not a supported language (fr or en)")
