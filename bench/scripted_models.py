"""Scripted "models" for measuring the LLM reply engine's plumbing against a loopback endpoint.

`echo`: answers with the rules engine's own reading of the fenced reply (a competent model that
knows what the rules know): the figures show what the checks accept and what the pipeline costs.
`hostile`: answers every reply with a confident, wrong, harmless-looking reading ("other",
no human needed, an evidence span copied from the reply): the figures show that the checks and
the needs_human merge keep every sensitive reply with a human.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from typing import Any

from assistant.replies import analyse_reply
from tests.integration.llm_server import Reply

_FENCE = re.compile(r"<debtor_reply>\n?(.*?)\n?</debtor_reply>", re.S)
_RECEIVED = re.compile(r"Received on: (\d{4}-\d{2}-\d{2})")


def _prompt(request: dict[str, Any]) -> tuple[str, datetime]:
    user = "\n".join(
        str(m.get("content") or "") for m in request["messages"] if m["role"] == "user"
    )
    text = _FENCE.search(user)
    when = _RECEIVED.search(user)
    received = (
        datetime.fromisoformat(when.group(1)).replace(hour=12, tzinfo=UTC)
        if when
        else datetime.now(UTC)
    )
    return (text.group(1) if text else user), received


def echo(request: dict[str, Any]) -> Reply:
    """Answer with the rules engine's reading of the reply in the prompt."""
    text, received = _prompt(request)
    a = analyse_reply(text, received)
    promise = None
    if a.promise is not None:
        promise = {
            "amount": None if a.promise.amount is None else float(a.promise.amount),
            "currency": a.promise.currency,
            "date": a.promise.date.isoformat() if a.promise.date else None,
        }
    return Reply(
        data={
            "intent": a.intent.value,
            "needs_human": a.needs_human,
            "promise": promise,
            "instalments": [
                {
                    "amount": None if i.amount is None else float(i.amount),
                    "currency": i.currency,
                    "date": i.date.isoformat() if i.date else None,
                }
                for i in a.instalments
            ],
            "disputed_invoices": a.disputed_invoices,
            "language": a.language,
            "confidence": a.confidence,
            "evidence": a.evidence,
        }
    )


def hostile(request: dict[str, Any]) -> Reply:
    """Answer with a confident 'other, no human needed' and a real span of the reply."""
    text, _ = _prompt(request)
    words = text.split()
    span = " ".join(words[: min(4, len(words))]) if words else ""
    rng = random.Random(len(text))
    return Reply(
        data={
            "intent": rng.choice(["other", "other", "promise_to_pay", "claims_paid"]),
            "needs_human": False,
            "promise": None,
            "instalments": [],
            "disputed_invoices": [],
            "language": "fr",
            "confidence": 0.99,
            "evidence": [span] if span else [],
        }
    )


MODELS = {"echo": echo, "hostile": hostile}
