"""The `explain_policy` tool: what a creditor's policy says, from the loaded policies only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistant.chat.common import AccessDenied, Scope, ToolError, jsonable
from assistant.policy.schema import Policy


def _step_dict(policy: Policy, index: int) -> dict[str, Any]:
    step = policy.ladder.steps[index]
    return {"position": index + 1, **step.model_dump(mode="json")}


def explain_policy(
    policies: Mapping[str, Policy], slug: str, step: str | None = None, *, creditors: Scope = None
) -> dict[str, Any]:
    """Return what a creditor's policy says: ladder, terms, hand-off and promise rules."""
    if creditors is not None and slug not in creditors:
        raise AccessDenied(f"creditor {slug!r} is not among the creditors you may see")
    policy = policies.get(slug)
    if policy is None:
        shown = sorted(s for s in policies if creditors is None or s in creditors)
        raise ToolError(f"no policy {slug!r}; known: {', '.join(shown) or 'none'}")
    steps = policy.ladder.steps
    if step is not None:
        try:
            index = policy.ladder.index(step)
        except KeyError:
            raise ToolError(
                f"policy {slug!r} has no step {step!r}; steps: {', '.join(s.name for s in steps)}"
            ) from None
        return jsonable(
            {
                "creditor": slug,
                "step": _step_dict(policy, index),
                "previous": steps[index - 1].name if index > 0 else None,
                "next": steps[index + 1].name if index + 1 < len(steps) else "hand-off",
                "forbidden_words": policy.voice.forbidden_words,
            }
        )
    dump = policy.model_dump(mode="json")
    return jsonable(
        {
            "creditor": slug,
            "name": policy.creditor.name,
            "mode": policy.mode,
            "language": policy.language,
            "jurisdiction": policy.jurisdiction,
            "engine": policy.engine,
            "auto_approve": policy.auto_approve,
            "ladder": [_step_dict(policy, i) for i in range(len(steps))],
            "old_debts": dump["ladder"]["old_debts"],
            "voice": {k: dump["voice"][k] for k in ("default", "guidelines", "forbidden_words")},
            "terms": dump["terms"],
            "minimum_amount": dump["minimum_amount"],
            "contact_cap": dump["contact_cap"],
            "handoff": dump["handoff"],
            "promises": dump["promises"],
            "payment_plans": dump["payment_plans"],
            "history_tone": dump["history_tone"],
            "overrides": len(policy.overrides),
        }
    )
