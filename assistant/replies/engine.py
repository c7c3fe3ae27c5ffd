"""The reply-engine seam and the `analyse_reply` service.

Engines (rules + learnt model by default, rules alone, an LLM) implement `ReplyEngine`; callers only use `analyse_reply`.
Pure: no clock, no database, no network here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from .analysis import CaseContext, ReplyAnalysis
from .hybrid import HybridEngine


class ReplyEngine(Protocol):
    """Something that reads a debtor reply into a `ReplyAnalysis`."""

    name: str

    def analyse(
        self,
        message: str,
        received_at: datetime,
        case: CaseContext | None = None,
        *,
        auto_submitted: bool = False,
    ) -> ReplyAnalysis:
        """Read one reply received at `received_at` (aware, sender's time zone)."""
        ...


_DEFAULT_ENGINE = HybridEngine()  # the model file is read on first use, not here


def analyse_reply(
    message: str,
    received_at: datetime,
    case: CaseContext | None = None,
    engine: ReplyEngine | None = None,
    *,
    auto_submitted: bool = False,
) -> ReplyAnalysis:
    """Analyse a debtor reply (plain-text body, quoted history included).

    `received_at` should be aware, in the sender's time zone: only its calendar day is used, so a
    naive datetime is read as the sender's local time. `auto_submitted` is true when the message headers mark it as an automatic reply
    (RFC 3834 `Auto-Submitted`, `X-Autoreply`): it is then an out-of-office reply.
    """
    return (engine or _DEFAULT_ENGINE).analyse(
        message, received_at, case, auto_submitted=auto_submitted
    )
