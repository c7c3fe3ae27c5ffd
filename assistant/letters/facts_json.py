"""Letter facts to and from JSON, so a draft's facts can be stored and re-validated later."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from assistant.domain import InvoiceLine, LetterFacts, Penalties


def facts_to_dict(facts: LetterFacts) -> dict[str, Any]:
    """Return a JSON-ready form of `facts` (amounts as strings, dates ISO)."""
    pen = facts.penalties
    return {
        "case_ref": facts.case_ref,
        "invoices": [
            {
                "number": i.number,
                "due_date": i.due_date.isoformat(),
                "amount": str(i.amount),
                "outstanding": str(i.outstanding),
                "currency": i.currency,
                "status": i.status,
                "issue_date": i.issue_date.isoformat() if i.issue_date else None,
                "paid_date": i.paid_date.isoformat() if i.paid_date else None,
            }
            for i in facts.invoices
        ],
        "total_outstanding": str(facts.total_outstanding),
        "currency": facts.currency,
        "penalties": None
        if pen is None
        else {
            "interest": str(pen.interest),
            "indemnity": str(pen.indemnity),
            "rate_percent": None if pen.rate_percent is None else str(pen.rate_percent),
            "per_invoice": [[n, str(i), str(x)] for n, i, x in pen.per_invoice],
        },
        "letter_date": facts.letter_date.isoformat(),
        "deadline": facts.deadline.isoformat() if facts.deadline else None,
        "extra_dates": [d.isoformat() for d in facts.extra_dates],
        "extra_amounts": [str(a) for a in facts.extra_amounts],
    }


def _opt_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def letter_facts_from_dict(data: dict[str, Any]) -> LetterFacts:
    """Rebuild `LetterFacts` from the form written by `facts_to_dict`."""
    pen = data.get("penalties")
    penalties = None
    if pen is not None:
        penalties = Penalties(
            interest=Decimal(pen["interest"]),
            indemnity=Decimal(pen["indemnity"]),
            rate_percent=None if pen.get("rate_percent") is None else Decimal(pen["rate_percent"]),
            per_invoice=tuple((n, Decimal(i), Decimal(x)) for n, i, x in pen["per_invoice"]),
        )
    return LetterFacts(
        case_ref=data["case_ref"],
        invoices=tuple(
            InvoiceLine(
                number=i["number"],
                due_date=date.fromisoformat(i["due_date"]),
                amount=Decimal(i["amount"]),
                outstanding=Decimal(i["outstanding"]),
                currency=i.get("currency", "EUR"),
                status=i.get("status", "open"),
                issue_date=_opt_date(i.get("issue_date")),
                paid_date=_opt_date(i.get("paid_date")),
            )
            for i in data["invoices"]
        ),
        total_outstanding=Decimal(data["total_outstanding"]),
        currency=data["currency"],
        penalties=penalties,
        letter_date=date.fromisoformat(data["letter_date"]),
        deadline=_opt_date(data.get("deadline")),
        extra_dates=tuple(date.fromisoformat(d) for d in data.get("extra_dates", ())),
        extra_amounts=tuple(Decimal(a) for a in data.get("extra_amounts", ())),
    )
