"""Jinja templates of the workspace, with the filters every page shares."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request

from assistant.web.deps import csrf_token

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _context(request: Request) -> dict[str, Any]:
    return {"csrf": csrf_token(request), "signed_in": request.session.get("user")}


templates = Jinja2Templates(directory=TEMPLATES, context_processors=[_context])


def money(value: Any, currency: str | None = None) -> str:
    """Format an amount with two decimals and a thin grouping space."""
    if value is None:
        return "—"
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    text = f"{amount:,.2f}".replace(",", "\u202f")
    return f"{text} {currency}" if currency else text


def when(value: Any) -> str:
    """Format a date or a moment for a table cell."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


templates.env.filters["money"] = money
templates.env.filters["when"] = when
