"""When a letter may go out: the policy's sending days and hours, public holidays, contact cap.

Pure decisions over the policy and timestamps given by the caller; no clock, no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from assistant.policy.schema import WEEKDAYS, ContactCap, Sending


def aware(value: datetime) -> datetime:
    """Return `value` with a timezone (naive values, as SQLite returns them, are UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> dict[date, str]:
    return dict(holidays.country_holidays(country, years=year).items())


def public_holiday(country: str, day: date) -> str | None:
    """Return the name of the public holiday on `day` in `country`, if any."""
    return _holidays(country, day.year).get(day)


def outside_sending_window(sending: Sending, now: datetime) -> str | None:
    """Return why `now` is outside the policy's sending window, or None when inside it."""
    tz = ZoneInfo(sending.timezone)
    local = aware(now).astimezone(tz)
    day = WEEKDAYS[local.weekday()]
    if day not in sending.days:
        return f"{local:%A} is not a sending day ({sending.timezone})"
    if sending.exclude_public_holidays:
        name = public_holiday(sending.holidays_country, local.date())
        if name:
            return f"{local.date().isoformat()} is a public holiday in {sending.holidays_country} ({name})"
    if not (sending.start <= local.time() < sending.end):
        return (
            f"{local:%H:%M} is outside sending hours "
            f"{sending.start:%H:%M}–{sending.end:%H:%M} ({sending.timezone})"
        )
    return None


def next_window_start(sending: Sending, now: datetime, *, max_days: int = 30) -> datetime:
    """Return the first moment at or after `now` inside the sending window (UTC)."""
    tz = ZoneInfo(sending.timezone)
    local = aware(now).astimezone(tz)
    if outside_sending_window(sending, local) is None:
        return local.astimezone(UTC)
    for offset in range(max_days + 1):
        day = local.date() + timedelta(days=offset)
        start = datetime.combine(day, sending.start, tzinfo=tz)
        if start < local:
            continue
        if outside_sending_window(sending, start) is None:
            return start.astimezone(UTC)
    return (local + timedelta(days=max_days)).astimezone(UTC)


def over_contact_cap(cap: ContactCap, sent_at: Iterable[datetime], now: datetime) -> str | None:
    """Return why one more message now would exceed the cap, or None when it fits."""
    since = aware(now) - timedelta(days=cap.per_days)
    recent = sum(1 for t in sent_at if aware(t) > since)
    if recent >= cap.max_messages:
        return (
            f"contact cap reached: {recent} message(s) in the last {cap.per_days} days "
            f"(max {cap.max_messages})"
        )
    return None
