"""The default offline engine: the rules' reading combined with the learnt intent model."""

from __future__ import annotations

from datetime import datetime

from .analysis import CaseContext, Intent, ReplyAnalysis
from .combine import combine
from .model import IntentModel, default_model
from .rules_engine import RulesEngine


class HybridEngine:
    """Rules plus the learnt model (rules alone when no model file is available)."""

    name = "rules+model"

    def __init__(self, model: IntentModel | None = None, *, threshold: float | None = None) -> None:
        self._rules = RulesEngine()
        self._model = model
        self._threshold = threshold

    @property
    def model(self) -> IntentModel | None:
        """Return the model, loading the configured one on first use."""
        if self._model is None:
            self._model = default_model()
        return self._model

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
        return combine(reading, probs, threshold=self._threshold)
