"""Store a letter's facts as JSON on the draft, and read them back for re-validation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from assistant.domain import InvoiceLine, LetterFacts, Penalties


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def facts_to_json(facts: LetterFacts) -> dict[str, Any]:
    """Return a JSON-ready copy of `facts`."""
    pen = facts.penalties
    return {
        "case_ref": facts.case_ref,
        "currency": facts.currency,
        "total_outstanding": str(facts.total_outstanding),
        "letter_date": facts.letter_date.isoformat(),
        "deadline": _d(facts.deadline),
        "extra_dates": [d.isoformat() for d in facts.extra_dates],
        "extra_amounts": [str(a) for a in facts.extra_amounts],
        "invoices": [
            {
                "number": i.number,
                "due_date": i.due_date.isoformat(),
                "amount": str(i.amount),
                "outstanding": str(i.outstanding),
                "currency": i.currency,
                "status": i.status,
                "issue_date": _d(i.issue_date),
            }
            for i in facts.invoices
        ],
        "penalties": None
        if pen is None
        else {
            "interest": str(pen.interest),
            "indemnity": str(pen.indemnity),
            "rate_percent": None if pen.rate_percent is None else str(pen.rate_percent),
            "per_invoice": [[n, str(a), str(b)] for n, a, b in pen.per_invoice],
        },
    }


def facts_from_json(data: dict[str, Any]) -> LetterFacts:
    """Rebuild the `LetterFacts` stored by `facts_to_json`."""
    pen = data.get("penalties")
    return LetterFacts(
        case_ref=data["case_ref"],
        invoices=tuple(
            InvoiceLine(
                number=i["number"],
                due_date=date.fromisoformat(i["due_date"]),
                amount=Decimal(i["amount"]),
                outstanding=Decimal(i["outstanding"]),
                currency=i["currency"],
                status=i["status"],
                issue_date=_date(i.get("issue_date")),
            )
            for i in data["invoices"]
        ),
        total_outstanding=Decimal(data["total_outstanding"]),
        currency=data["currency"],
        penalties=None
        if pen is None
        else Penalties(
            interest=Decimal(pen["interest"]),
            indemnity=Decimal(pen["indemnity"]),
            rate_percent=None if pen["rate_percent"] is None else Decimal(pen["rate_percent"]),
            per_invoice=tuple((n, Decimal(a), Decimal(b)) for n, a, b in pen["per_invoice"]),
        ),
        letter_date=date.fromisoformat(data["letter_date"]),
        deadline=_date(data.get("deadline")),
        extra_dates=tuple(date.fromisoformat(d) for d in data.get("extra_dates", [])),
        extra_amounts=tuple(Decimal(a) for a in data.get("extra_amounts", [])),
    )
