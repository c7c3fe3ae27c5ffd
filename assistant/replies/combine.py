"""Combine the rules' reading with the learnt model's probabilities (pure decision logic).

The rules keep their high-precision cues and the sensitive intents' recall; the model decides
where the rules are unsure (`other`, low confidence) or where it firmly contradicts them:
- both agree → that intent, confidence from the model's calibrated probability;
- the rules read `other`, or are unsure (< `RULES_SURE`) → the model's intent;
- they disagree and the model finds the rules' intent implausible (< `KEEP_RULES`) → the model;
  otherwise the rules' cue stands.
`needs_human` is true for a sensitive primary intent, for a sensitive intent the rules found that
the model does not rule out (≥ `SENSITIVE_KEEP`), for sensitive intents the model finds likely
(together ≥ `SENSITIVE_MODEL`), when the combined reading is unsure, and when the reply holds text
addressed to the machine reading it (`suspicious`). `automatic` is true only
for a reading both sides agree on with a calibrated confidence ≥ `AUTOMATIC_THRESHOLD`, a dated
promise, and no hand-off intent left in doubt (a sure hand-off reading is automatic: its effect
is the hand-off). The threshold was chosen on leave-one-writer-out readings of the training
writers (each read by a model trained without that writer) as the lowest one keeping ≥ 0.98 of
automatic readings fully right.
"""

from __future__ import annotations

from .analysis import (
    CONFIDENCE_THRESHOLD,
    NEEDS_HUMAN_INTENTS,
    PRECEDENCE,
    Intent,
    ReplyAnalysis,
    any_sensitive,
)

RULES_SURE = 0.6
KEEP_RULES = 0.05
SENSITIVE_KEEP = 0.0
SENSITIVE_MODEL = 0.4
ALSO_MODEL = 0.3
UNSURE = CONFIDENCE_THRESHOLD
AUTOMATIC_THRESHOLD = 0.95
_PROMISING = (Intent.PROMISE_TO_PAY, Intent.PAYMENT_PLAN_REQUEST)


def choose_intent(rules: ReplyAnalysis, probs: dict[Intent, float]) -> tuple[Intent, str]:
    """Return the primary intent and which side decided it (`both`, `rules` or `model`)."""
    model = max(probs, key=probs.__getitem__)
    if model is rules.intent:
        return model, "both"
    if rules.intent is Intent.OTHER or rules.confidence < RULES_SURE:
        return model, "model"
    if probs.get(rules.intent, 0.0) < KEEP_RULES:
        return model, "model"
    return rules.intent, "rules"


def possibly_sensitive(rules: ReplyAnalysis, probs: dict[Intent, float], intent: Intent) -> bool:
    """Tell whether either side sees a sensitive intent that a human must look at."""
    if intent in NEEDS_HUMAN_INTENTS:
        return True
    if rules.intent in NEEDS_HUMAN_INTENTS and probs.get(rules.intent, 0.0) >= SENSITIVE_KEEP:
        return True
    return sum(p for i, p in probs.items() if i in NEEDS_HUMAN_INTENTS) >= SENSITIVE_MODEL


def combine(
    rules: ReplyAnalysis,
    probs: dict[Intent, float] | None,
    *,
    threshold: float | None = None,
    model_evidence: tuple[str, ...] = (),
) -> ReplyAnalysis:
    """Return the final reading of a reply from the rules' reading and the model's probabilities."""
    if not probs:
        return rules.model_copy(update={"automatic": False})
    cut = AUTOMATIC_THRESHOLD if threshold is None else threshold
    intent, side = choose_intent(rules, probs)
    p = probs.get(intent, 0.0)
    confidence = p if side == "model" else max(p, min(rules.confidence, 0.5 + p / 2))
    if side == "both":
        confidence = 1 - (1 - p) * (1 - rules.confidence) ** 0.5
    sensitive = possibly_sensitive(rules, probs, intent)
    promise = rules.promise or (rules.loose_promise if intent in _PROMISING else None)
    # the rules' own doubt (a vague date, a long text with only a thank-you) stands when the
    # model reads the same intent
    vague = side == "both" and rules.confidence < UNSURE
    needs_human = sensitive or confidence < UNSURE or vague or rules.suspicious
    firm = intent is not Intent.PROMISE_TO_PAY or (promise is not None and promise.date is not None)
    # a sure sensitive reading is applied too: its effect is the hand-off itself
    settled = not needs_human or (intent in NEEDS_HUMAN_INTENTS and confidence >= cut)
    automatic = side == "both" and confidence >= cut and settled and firm and not rules.suspicious
    extra = {i for i in rules.also} | {rules.intent}
    extra |= {i for i, q in probs.items() if q >= ALSO_MODEL}
    if sensitive and intent not in NEEDS_HUMAN_INTENTS:
        extra |= {
            i
            for i in (rules.intent, *probs)
            if i in NEEDS_HUMAN_INTENTS and (i is rules.intent or probs.get(i, 0) >= 0.2)
        }
    also = [i for i in PRECEDENCE if i in extra and i not in (intent, Intent.OTHER)]
    # a sensitive intent seen beside the primary one (a dispute next to a promise) is read by a
    # human too, and keeps the reading from being applied on its own
    if any_sensitive(also) and not needs_human:
        needs_human, automatic = True, False
    evidence = list(rules.evidence) if side != "model" else list(model_evidence)
    return rules.model_copy(
        update={
            "intent": intent,
            "confidence": round(max(0.0, min(1.0, confidence)), 3),
            "needs_human": needs_human,
            "automatic": automatic,
            "promise": promise,
            "also": also,
            "engine": "rules+model",
            "decided_by": side,
            "evidence": evidence,
            "model_probabilities": {i.value: round(q, 4) for i, q in probs.items()},
            "new_contact_email": rules.new_contact_email
            or (
                rules.new_contacts[0]
                if intent is Intent.WRONG_CONTACT and rules.new_contacts
                else None
            ),
        }
    )
