"""The lines of the drafting prompt: step purpose, client history, terms, retry message.

Pure functions over the policy and value objects; the prompt file itself is `draft_letter`.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.domain import ClientHistory, DebtorFacts, Finding
from assistant.letters.penalties import effective_terms
from assistant.policy.schema import LadderStep, Policy


def step_purpose(policy: Policy, step: LadderStep) -> str:
    """Describe what the step is for, from its place on the ladder."""
    steps = policy.ladder.steps
    index = policy.ladder.index(step.name)
    if step.formal_notice:
        return "the formal notice (mise en demeure): the last amicable step, formal and precise."
    if step.pre_due:
        return "a courtesy reminder sent before the due date: nothing is late yet."
    rank = sum(1 for s in steps[: index + 1] if not s.pre_due and not s.formal_notice)
    return {
        1: "the first reminder after the due date: assume a simple oversight.",
        2: "the second reminder: the first one went unanswered; ask for payment or a date.",
    }.get(rank, f"reminder number {rank}: firm, factual, still amicable.")


def history_lines(history: ClientHistory) -> list[str]:
    """Summarise the client's payment history in words (no figures to copy)."""
    if history.paid_invoices == 0:
        lines = ["No paid invoice in the last 12 months: no payment history to rely on."]
    elif history.punctual:
        lines = ["Usually pays on time: a good client; this delay is unusual."]
    elif (history.on_time_rate or 0) >= 0.5:
        lines = ["Pays on time most of the time, sometimes late."]
    else:
        lines = ["Often pays late."]
    if history.promises_kept:
        lines.append("Has kept earlier promises to pay.")
    if history.promises_broken:
        lines.append("Has already broken a promise to pay.")
    if history.open_disputes:
        lines.append("Has an open dispute on another invoice (do not mention it unless asked).")
    return lines


def terms_lines(policy: Policy, debtor: DebtorFacts, has_penalties: bool) -> list[str]:
    """List the contract terms the prose may refer to (in words)."""
    terms = effective_terms(policy, debtor.ref)
    lines = ["Payment terms agreed in the contract (the due dates are shown below the opening)."]
    if has_penalties:
        lines.append(
            "Late-payment interest and the fixed recovery indemnity, as shown in the table."
        )
    elif terms.recovery_indemnity and debtor.kind != "consumer":
        lines.append("The law provides late-payment interest and a fixed recovery indemnity.")
    return lines


def retry_message(findings: Sequence[Finding], error: str | None) -> dict[str, str]:
    """Return the user message asking for a corrected draft."""
    problems = [f"- {f.message}" for f in findings if f.blocking]
    if error:
        problems.append(f"- Your answer could not be read: {error[:300]}")
    return {
        "role": "user",
        "content": "Your draft was rejected for these reasons:\n"
        + "\n".join(problems)
        + "\nWrite the opening, body and closing again, keeping every hard rule: no figure, "
        "no reference number, no threat, no formal-notice wording.",
    }
