"""What every chat tool shares: its errors, the officer's scope, the JSON shaping."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

Scope = Collection[str] | None


class ToolError(Exception):
    """The tool cannot answer as asked (unknown case, bad argument…)."""


class AccessDenied(ToolError):
    """The officer may not see what the tool was asked about."""


def jsonable(value: Any) -> Any:
    """Return `value` with dates as ISO strings and Decimals as floats, recursively."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return None
    return value
