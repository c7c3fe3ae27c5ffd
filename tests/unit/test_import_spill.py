"""Spilled rows read back exactly as written, whether held in memory, on disk or both."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.importing.spill import SpilledRows

ROWS = [
    (n, [f"F{n:05d}", n * 1.5, date(2026, 1 + n % 12, 1 + n % 28), None]) for n in range(1, 2001)
]


@pytest.mark.parametrize("keep", [0, 300, 10_000])  # all on disk, both, all in memory
def test_rows_come_back_as_written(keep: int) -> None:
    rows = SpilledRows(iter(ROWS), block=128, keep=keep)
    try:
        assert len(rows) == len(ROWS)
        assert list(rows) == ROWS
        assert list(rows) == ROWS  # read twice: scans may repeat
        assert rows[0] == ROWS[0] and rows[1999] == ROWS[1999] and rows[-1] == ROWS[-1]
        assert rows[250] == ROWS[250] and rows[700] == ROWS[700]
        assert list(rows[100:900]) == ROWS[100:900]
        assert list(rows[250:1500][10:20]) == ROWS[260:270]
        assert list(rows[::500]) == ROWS[::500]
        with pytest.raises(IndexError):
            rows[2000]
    finally:
        rows.close()


def test_two_scans_can_run_interleaved() -> None:
    rows = SpilledRows(iter(ROWS), block=64, keep=100)
    try:
        pairs = list(zip(rows, rows[1:], strict=False))
        assert pairs == list(zip(ROWS, ROWS[1:], strict=False))
    finally:
        rows.close()
