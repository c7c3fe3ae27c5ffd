"""Reply understanding: what a debtor's answer means for the case (docs/domain.md §4–5)."""

from .analysis import (
    NEEDS_HUMAN_INTENTS,
    PRECEDENCE,
    CaseContext,
    Instalment,
    Intent,
    PromiseReading,
    ReplyAnalysis,
)
from .engine import ReplyEngine, analyse_reply
from .rules_engine import RulesEngine

__all__ = [
    "NEEDS_HUMAN_INTENTS",
    "PRECEDENCE",
    "CaseContext",
    "Instalment",
    "Intent",
    "PromiseReading",
    "ReplyAnalysis",
    "ReplyEngine",
    "RulesEngine",
    "analyse_reply",
]
