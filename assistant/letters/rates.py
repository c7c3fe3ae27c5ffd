"""Reference rates (ECB, Bank of England) by half-year, read from packaged YAML data.

Rates are data: this module only loads and looks them up; it must not hold any figure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

_KEY = re.compile(r"^(\d{4})H([12])$")
HalfYear = tuple[int, int]
PACKAGED_RATES = Path(__file__).resolve().parent.parent / "data" / "reference_rates.yaml"


class MissingRateError(LookupError):
    """No reference rate is recorded for the half-year asked for."""


class RateTableError(ValueError):
    """The reference-rate file is malformed."""


def half_year(on: date) -> HalfYear:
    """Return (year, 1|2) for the half-year containing `on`."""
    return (on.year, 1 if on.month <= 6 else 2)


def _parse_series(name: str, raw: Any) -> dict[HalfYear, Decimal]:
    if not isinstance(raw, Mapping):
        raise RateTableError(f"{name}: expected a mapping of half-years (e.g. 2026H1) to rates")
    series: dict[HalfYear, Decimal] = {}
    for key, value in raw.items():
        match = _KEY.match(str(key))
        if not match:
            raise RateTableError(f"{name}: {key!r} is not a half-year like 2026H1")
        try:
            rate = Decimal(str(value))
        except InvalidOperation as exc:
            raise RateTableError(f"{name}.{key}: {value!r} is not a number") from exc
        series[(int(match.group(1)), int(match.group(2)))] = rate
    return series


class RateTable:
    """ECB main refinancing and Bank of England base rates, percent a year, by half-year."""

    def __init__(
        self,
        ecb: Mapping[HalfYear, Decimal],
        boe: Mapping[HalfYear, Decimal] | None = None,
        source: str = "reference rates",
    ):
        self._ecb = dict(ecb)
        self._boe = dict(boe or {})
        self.source = source

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "reference rates") -> RateTable:
        """Build a table from the YAML structure (`ecb_main_refinancing`, `boe_base`)."""
        return cls(
            _parse_series("ecb_main_refinancing", data.get("ecb_main_refinancing", {})),
            _parse_series("boe_base", data.get("boe_base", {})),
            source=source,
        )

    @classmethod
    def from_file(cls, path: Path) -> RateTable:
        """Load a table from a YAML file."""
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls.from_mapping(data, source=str(path))

    @classmethod
    def packaged(cls) -> RateTable:
        """Load the table shipped in `assistant/data/reference_rates.yaml`."""
        return cls.from_file(PACKAGED_RATES)

    def _lookup(self, series: Mapping[HalfYear, Decimal], label: str, on: date) -> Decimal:
        key = half_year(on)
        try:
            return series[key]
        except KeyError:
            raise MissingRateError(
                f"No {label} for {key[0]}H{key[1]} (needed for {on.isoformat()}): "
                f"add it to {self.source}"
            ) from None

    def ecb(self, on: date) -> Decimal:
        """Return the ECB main refinancing rate for the half-year containing `on`."""
        return self._lookup(self._ecb, "ECB main refinancing rate", on)

    def boe(self, on: date) -> Decimal:
        """Return the Bank of England base rate for the half-year containing `on`."""
        return self._lookup(self._boe, "Bank of England base rate", on)
