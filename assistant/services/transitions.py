"""Compare-and-set status changes: `UPDATE … WHERE id = ? AND status = ?`, or a clear error.

Two officers (or an officer and the worker) acting on the same row at once: the first one's
change is saved, the second one is told who changed it, when, and that theirs was not saved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, SQLModel


class StaleTransition(Exception):
    """The row was changed by someone else between reading it and writing it."""


def compare_and_set(
    session: Session,
    model: type[SQLModel],
    row_id: int,
    expected: str | Iterable[str],
    values: dict[str, Any],
    lost: Callable[[Any], str] | None = None,
) -> None:
    """Set `values` on row `row_id` only if its status is still `expected`, else raise.

    `lost(current_row)` words the error for the loser (default: "<kind> N is <status>").
    """
    wanted = [expected] if isinstance(expected, str) else list(expected)
    table: Any = model
    result = session.execute(
        update(table)
        .where(table.id == row_id, table.status.in_(wanted))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = session.get(model, row_id, populate_existing=True)
        if lost is not None:
            raise StaleTransition(lost(current))
        now = getattr(current, "status", "gone")
        raise StaleTransition(f"{model.__name__.lower()} {row_id} is {now}")
    row = session.get(model, row_id)
    if row is not None:
        session.refresh(row)


def when(value: Any) -> str:
    """Return a time as officers read it in errors (HH:MM UTC), or 'just now'."""
    return f"at {value:%H:%M} UTC" if value is not None else "just now"
