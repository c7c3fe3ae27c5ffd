"""The default offline engine: the rules' reading combined with the learnt intent model."""

from __future__ import annotations

from datetime import datetime

from .analysis import CaseContext, Intent, ReplyAnalysis
from .combine import combine
from .model import IntentModel, default_model
from .rules_engine import RulesEngine
from .text import sentence_spans


class HybridEngine:
    """Rules plus the learnt model (rules alone when no model file is available)."""

    name = "rules+model"

    def __init__(self, model: IntentModel | None = None, *, threshold: float | None = None) -> None:
        self._rules = RulesEngine()
        self._model = model
        self._threshold = threshold

    @property
    def model(self) -> IntentModel | None:
        """Return the model given, else the configured one (read on first use, then cached)."""
        return self._model if self._model is not None else default_model()

    def analyse(
        self,
        message: str,
        received_at: datetime,
        case: CaseContext | None = None,
        *,
        auto_submitted: bool = False,
    ) -> ReplyAnalysis:
        """Read one reply with the rules, then let the model settle what they are unsure of."""
        reading = self._rules.analyse(message, received_at, case, auto_submitted=auto_submitted)
        model = self.model
        if model is None:
            return reading
        if auto_submitted and reading.intent is Intent.OUT_OF_OFFICE:
            probs = {i: (1.0 if i is Intent.OUT_OF_OFFICE else 0.0) for i in model.intents}
        else:
            probs = model.probabilities(reading.reply_text)
        final = combine(reading, probs, threshold=self._threshold)
        if final.decided_by == "model" and reading.reply_text:
            best = best_sentence(model, reading.reply_text, final.intent)
            if best:
                final = final.model_copy(update={"evidence": [best]})
        return final


def best_sentence(model: IntentModel, text: str, intent: Intent) -> str | None:
    """Return the sentence of the reply the model reads most as `intent` (exact substring)."""
    spans = sentence_spans(text)[:12]
    best, best_p = None, 0.0
    for s, e in spans:
        piece = text[s:e].strip()
        if len(piece) < 8:
            continue
        p = model.probabilities(piece).get(intent, 0.0)
        if p > best_p:
            best, best_p = piece, p
    return best
