"""When a letter may go out: sending days and hours, public holidays, contact cap (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from assistant.mail.window import next_window_start, outside_sending_window, over_contact_cap
from assistant.policy.schema import ContactCap, Sending

PARIS = Sending()  # mon–fri, 09:00–18:00 Europe/Paris, French public holidays


def at(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


def test_inside_the_window_in_the_policy_timezone():
    assert outside_sending_window(PARIS, at(2026, 11, 26, 8, 0)) is None  # 09:00 Paris
    assert "outside sending hours" in outside_sending_window(PARIS, at(2026, 11, 26, 7, 59))
    assert "outside sending hours" in outside_sending_window(
        PARIS, at(2026, 11, 26, 17, 0)
    )  # 18:00


def test_weekends_and_public_holidays_are_excluded():
    assert "not a sending day" in outside_sending_window(PARIS, at(2026, 11, 29, 10))  # Sunday
    assert "public holiday" in outside_sending_window(PARIS, at(2026, 7, 14, 10))  # Bastille Day
    uk = Sending(timezone="Europe/London", holidays_country="GB")
    assert "public holiday" in outside_sending_window(
        uk, at(2026, 12, 28, 10)
    )  # Boxing Day (substitute)
    assert (
        outside_sending_window(Sending(exclude_public_holidays=False), at(2026, 7, 14, 10)) is None
    )


def test_naive_times_are_taken_as_utc():
    assert outside_sending_window(PARIS, datetime(2026, 11, 26, 8, 30)) is None


def test_next_window_start_skips_the_weekend_and_holidays():
    friday_evening = at(2026, 12, 24, 18)  # Thursday 24th 19:00 Paris; 25th is Christmas
    assert next_window_start(PARIS, friday_evening) == at(2026, 12, 28, 8)  # Monday 09:00 Paris
    assert next_window_start(Sending(start=time(8), end=time(12)), at(2026, 11, 26, 8)) == at(
        2026, 11, 26, 8
    )


def test_contact_cap_counts_messages_in_the_rolling_window():
    now = at(2026, 11, 26, 10)
    cap = ContactCap(max_messages=2, per_days=7)
    assert over_contact_cap(cap, [now - timedelta(days=8), now - timedelta(days=2)], now) is None
    reason = over_contact_cap(cap, [now - timedelta(days=6), now - timedelta(days=1)], now)
    assert reason and "2 message(s) in the last 7 days" in reason
