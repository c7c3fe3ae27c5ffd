"""Checks of single policy values (IBAN, email, time zone, clock time); pure, no I/O."""

from __future__ import annotations

import re
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from email_validator import EmailNotValidError, validate_email

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(:00)?$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")


def iban_checksum_ok(iban: str) -> bool:
    """Tell whether `iban` (spaces allowed) passes the ISO 13616 mod-97 check."""
    compact = iban.replace(" ", "").upper()
    if not _IBAN.match(compact):
        return False
    moved = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in moved)
    return int(digits) % 97 == 1


def check_iban(value: str) -> str:
    """Return `value` if it is a well-formed IBAN with a valid checksum; else raise."""
    compact = value.replace(" ", "").upper()
    if not _IBAN.match(compact):
        raise ValueError(
            f"{value!r} is not an IBAN (two letters, two check digits, then the account)"
        )
    if not iban_checksum_ok(compact):
        raise ValueError(f"IBAN {value!r} has a wrong checksum (mistyped digit?)")
    return value


def check_email(value: str) -> str:
    """Return `value` if it is a syntactically valid email address; else raise."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{value!r} is not a valid email address: {exc}") from None
    return value


def check_time_zone(value: str) -> str:
    """Return `value` if it names an IANA time zone (e.g. Europe/Paris); else raise."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        close = sorted(z for z in available_timezones() if z.lower()[:6] == value.lower()[:6])
        hint = f" (did you mean {', '.join(close[:3])}?)" if close else ""
        raise ValueError(f"unknown time zone {value!r}{hint}") from None
    return value


def parse_clock_time(value: Any) -> Any:
    """Accept a time of day only as an "HH:MM" string (or a `time`); explain YAML's 9:00 trap."""
    if isinstance(value, time):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f'{value!r} is not a time: write it as a quoted "HH:MM" string')
    if isinstance(value, int):
        hours, minutes = divmod(value, 60)
        raise ValueError(
            f'write the time as a quoted string, e.g. "{hours:02d}:{minutes:02d}": unquoted, '
            f"YAML reads {hours}:{minutes:02d} as the number {value}"
        )
    match = _CLOCK.match(value.strip())
    if not match:
        raise ValueError(f'{value!r} is not a time of day written "HH:MM" (e.g. "09:00")')
    return time(int(match.group(1)), int(match.group(2)))


def _digits(value: str) -> str:
    return "".join(value.split()).replace(".", "").replace("-", "")


def luhn_ok(digits: str) -> bool:
    """Tell whether a string of digits passes the Luhn checksum (ISO/IEC 7812)."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


LA_POSTE_SIREN = "356000000"  # La Poste's establishments: digit sum divisible by 5, not Luhn


class ChecksumError(ValueError):
    """A well-formed identity number whose check digits do not add up (a likely typo)."""


def check_siren(value: str) -> str:
    """Return `value` if it is a SIREN: 9 digits with a valid Luhn checksum; else raise."""
    digits = _digits(value)
    if not digits.isdigit() or len(digits) != 9:
        raise ValueError(f"{value!r} is not a SIREN: a SIREN has 9 digits, this has {len(digits)}")
    if not luhn_ok(digits):
        raise ChecksumError(f"SIREN {value!r} has a wrong checksum (Luhn): mistyped digit?")
    return value


def check_siret(value: str) -> str:
    """Return `value` if it is a SIRET: 14 digits, the SIREN then the establishment number.

    The checksum is Luhn over the 14 digits, except for La Poste's establishments (SIREN
    356000000), whose SIRET digits add up to a multiple of 5.
    """
    digits = _digits(value)
    if not digits.isdigit() or len(digits) != 14:
        raise ValueError(f"{value!r} is not a SIRET: a SIRET has 14 digits, this has {len(digits)}")
    if digits.startswith(LA_POSTE_SIREN):
        ok = sum(int(c) for c in digits) % 5 == 0
    else:
        ok = luhn_ok(digits)
    if not ok:
        raise ChecksumError(f"SIRET {value!r} has a wrong checksum: mistyped digit?")
    return value


def french_vat_key(siren: str) -> int:
    """Return the two-digit key of the French VAT number of `siren`: (12 + 3 × (SIREN mod 97)) mod 97."""
    return (12 + 3 * (int(siren) % 97)) % 97


def check_vat_number(value: str) -> str:
    """Return `value` if it is a well-formed VAT number; a French one (FRkk + SIREN) must
    carry the right key and a valid SIREN. Other countries: two letters then 2 to 13 characters.
    """
    compact = _digits(value).upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9A-Z]{2,13}", compact):
        raise ValueError(f"{value!r} is not a VAT number (country code, then the number)")
    if not compact.startswith("FR"):
        return value
    key, siren = compact[2:4], compact[4:]
    if not (key.isdigit() and siren.isdigit() and len(siren) == 9):
        raise ValueError(f"{value!r} is not a French VAT number: FR, a 2-digit key, the SIREN")
    check_siren(siren)
    if int(key) != french_vat_key(siren):
        raise ChecksumError(
            f"VAT number {value!r}: the key for SIREN {siren} is {french_vat_key(siren):02d}, "
            f"not {key}"
        )
    return value
