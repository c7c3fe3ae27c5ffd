"""Value objects of reply understanding: the twelve intents and the analysis of one reply.

The contract is docs/domain.md §4–5. Nothing here reads a clock, a database or the environment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Intent(StrEnum):
    """Primary intent of a debtor reply, spelled exactly as in docs/domain.md §4–5."""

    INSOLVENCY = "insolvency"
    LEGAL = "legal"
    DISPUTE = "dispute"
    STOP_CONTACT = "stop_contact"
    HARDSHIP = "hardship"
    PROMISE_TO_PAY = "promise_to_pay"
    PAYMENT_PLAN_REQUEST = "payment_plan_request"
    CLAIMS_PAID = "claims_paid"
    REQUEST_INFO = "request_info"
    WRONG_CONTACT = "wrong_contact"
    OUT_OF_OFFICE = "out_of_office"
    OTHER = "other"


#: When several intents apply, the first one in this order wins.
PRECEDENCE: tuple[Intent, ...] = tuple(Intent)

#: Intents that always hand the case to a human.
NEEDS_HUMAN_INTENTS: frozenset[Intent] = frozenset(
    {Intent.INSOLVENCY, Intent.LEGAL, Intent.DISPUTE, Intent.STOP_CONTACT, Intent.HARDSHIP}
)

#: Below this confidence the engine is "unsure" and a human decides.
CONFIDENCE_THRESHOLD = 0.5


def any_sensitive(intents: Iterable[Intent]) -> bool:
    """Tell whether any of `intents` is one a human must read (a dispute seen beside a promise)."""
    return any(i in NEEDS_HUMAN_INTENTS for i in intents)


def first_by_precedence(intents: set[Intent] | frozenset[Intent]) -> Intent:
    """Return the intent that wins among `intents` (OTHER when empty)."""
    for intent in PRECEDENCE:
        if intent in intents:
            return intent
    return Intent.OTHER


@dataclass(frozen=True)
class CaseContext:
    """Optional hints about the case a reply belongs to."""

    invoice_numbers: tuple[str, ...] = ()
    balance: Decimal | None = None
    currency: str | None = None


class PromiseReading(BaseModel):
    """What the debtor commits to pay, and when (any part may be unknown)."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal | None = None
    currency: str | None = None
    date: dt.date | None = None


class Instalment(BaseModel):
    """One part of a payment plan stated in the reply."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal | None = None
    currency: str | None = None
    date: dt.date | None = None


class ReplyAnalysis(BaseModel):
    """The reading of one debtor reply."""

    model_config = ConfigDict(frozen=True)

    intent: Intent
    needs_human: bool
    promise: PromiseReading | None = None
    instalments: list[Instalment] = Field(default_factory=list)
    disputed_invoices: list[str] = Field(default_factory=list)
    language: Literal["fr", "en"] = "fr"
    reply_text: str = ""
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    evidence: list[str] = Field(default_factory=list)
    engine: str = "rules"
    #: Every intent whose cues were found, in precedence order (the first is usually `intent`).
    intents_found: list[Intent] = Field(default_factory=list)
    #: Out of office: the announced return date, if any (never a promise).
    return_date: dt.date | None = None
    #: Wrong contact: the new address given, if any.
    new_contact_email: str | None = None
    #: The other intents present, in precedence order (never the primary one).
    also: list[Intent] = Field(default_factory=list)
    #: The debtor's own schedule (two parts or more: each amount and date), else None.
    schedule: list[Instalment] | None = None
    #: Whether Relance would apply this reading without an officer (calibrated confidence).
    automatic: bool = False
    #: E-mail addresses the reply gives as the right contact (stored unconfirmed).
    new_contacts: list[str] = Field(default_factory=list)
    #: The first firm date and the amount beside it, read whatever the cues said (for the model).
    loose_promise: PromiseReading | None = None
    #: The reply holds text addressed to the machine reading it (an injection attempt): a human
    #: looks, whatever the engines read.
    suspicious: bool = False
    #: Which side settled the intent: "both", "rules" or "model" (None: one engine alone).
    decided_by: str | None = None
    #: The learnt model's probability of each intent, when it was consulted.
    model_probabilities: dict[str, float] | None = None

    def to_contract_dict(self, file: str | None = None) -> dict[str, object]:
        """Return the stable JSON shape of `relance replies analyze --json`."""
        promise: dict[str, object] | None = None
        if self.promise is not None:
            promise = {
                "amount": float(self.promise.amount) if self.promise.amount is not None else None,
                "currency": self.promise.currency,
                "date": self.promise.date.isoformat() if self.promise.date else None,
            }
        out: dict[str, object] = {}
        if file is not None:
            out["file"] = file
        out.update(
            {
                "intent": self.intent.value,
                "needs_human": self.needs_human,
                "promise": promise,
                "language": self.language,
                "reply_text": self.reply_text,
                "confidence": round(self.confidence, 3),
                "evidence": list(self.evidence),
                "also": [i.value for i in self.also],
                "schedule": None
                if self.schedule is None
                else [_instalment_dict(i) for i in self.schedule],
                "automatic": self.automatic,
                "new_contacts": list(self.new_contacts),
            }
        )
        return out


def _instalment_dict(i: Instalment) -> dict[str, object]:
    return {
        "amount": None if i.amount is None else float(i.amount),
        "currency": i.currency,
        "date": i.date.isoformat() if i.date else None,
    }
