"""Reference rates (ECB, Bank of England) by half-year, derived from dated decisions.

Rates are data: the YAML lists each central bank decision (rate, effective date); this
module derives the rate of each half-year from them and looks it up. It holds no figure.
Half-years run to 2030: after the last recorded decision the last rate carries on, so
decisions must be added as they are published.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
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


def _decisions(name: str, raw: Any) -> list[tuple[date, Decimal]]:
    """Read `decisions: [{effective: DATE, rate: "x.xx"}, …]`, sorted by date."""
    if not isinstance(raw, list) or not raw:
        raise RateTableError(f"{name}.decisions: expected a list of {{effective, rate}}")
    out: list[tuple[date, Decimal]] = []
    for i, item in enumerate(raw):
        where = f"{name}.decisions[{i}]"
        if not isinstance(item, Mapping) or {"effective", "rate"} - set(item):
            raise RateTableError(f'{where}: expected {{effective: YYYY-MM-DD, rate: "x.xx"}}')
        when = item["effective"]
        if isinstance(when, str):
            try:
                when = date.fromisoformat(when)
            except ValueError:
                raise RateTableError(f"{where}.effective: {when!r} is not a date") from None
        if not isinstance(when, date):
            raise RateTableError(f"{where}.effective: {when!r} is not a date")
        try:
            rate = Decimal(str(item["rate"]))
        except InvalidOperation as exc:
            raise RateTableError(f"{where}.rate: {item['rate']!r} is not a number") from exc
        out.append((when, rate))
    days = [d for d, _ in out]
    if days != sorted(days) or len(set(days)) != len(days):
        raise RateTableError(f"{name}.decisions: effective dates must be strictly increasing")
    return out


def rate_in_force(decisions: Sequence[tuple[date, Decimal]], on: date) -> Decimal | None:
    """Return the rate of the last decision effective on or before `on` (pure)."""
    found = None
    for effective, rate in decisions:
        if effective > on:
            break
        found = rate
    return found


def half_year_rates(
    decisions: Sequence[tuple[date, Decimal]], *, day_before: bool, last_year: int
) -> dict[HalfYear, Decimal]:
    """Derive each half-year's rate from dated decisions, up to `last_year`.

    France (ECB): the rate in force on 1 January / 1 July. UK (`day_before`): the rate in
    force on 31 December / 30 June, the day before the half-year starts.
    """
    series: dict[HalfYear, Decimal] = {}
    for year in range(decisions[0][0].year, last_year + 1):
        for half, start in ((1, date(year, 1, 1)), (2, date(year, 7, 1))):
            on = start - timedelta(days=1) if day_before else start
            rate = rate_in_force(decisions, on)
            if rate is not None:
                series[(year, half)] = rate
    return series


def _parse_series(
    name: str, raw: Any, *, day_before: bool, last_year: int
) -> dict[HalfYear, Decimal]:
    if isinstance(raw, Mapping) and "decisions" in raw:
        return half_year_rates(
            _decisions(name, raw["decisions"]), day_before=day_before, last_year=last_year
        )
    if not isinstance(raw, Mapping):
        raise RateTableError(f"{name}: expected dated decisions or half-years (e.g. 2026H1)")
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
    def from_mapping(
        cls, data: Mapping[str, Any], source: str = "reference rates", *, last_year: int = 2030
    ) -> RateTable:
        """Build a table from the YAML structure: dated decisions (`ecb_main_refinancing`,
        `boe_bank_rate`) or, as before, half-year rates (`boe_base`: {2026H1: "4.00"})."""
        boe = data.get("boe_bank_rate", data.get("boe_base", {}))
        return cls(
            _parse_series(
                "ecb_main_refinancing",
                data.get("ecb_main_refinancing", {}),
                day_before=False,
                last_year=last_year,
            ),
            _parse_series("boe_bank_rate", boe, day_before=True, last_year=last_year),
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
