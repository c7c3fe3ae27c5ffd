"""Queue a draft an officer asked for (in the chat, later the web): load → decide → apply.

The case file gives every fact; the officer's instruction only shapes the wording. The step
and the invoices are decided by the planner (`choose_step`, pure); the wording comes from the
LLM drafter when a model port is given (grounding check, one retry, template fallback), else
from the step's template; both pass the cycle's validator. The draft is stored *pending*
through the cycle's `store_draft`: never approved, never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from assistant.db.models import Case, Draft
from assistant.domain import Finding, InvoiceLine
from assistant.drafting.llm_drafter import DraftRequest, LLMDrafter
from assistant.letters.render import Letter, LetterRenderer
from assistant.letters.validator import validate_letter
from assistant.llm.port import ChatModelPort
from assistant.llm.prompts import PromptLibrary
from assistant.planner import actionable_invoices, open_credit_notes, plan_case
from assistant.policy.schema import LadderStep, Policy
from assistant.services.case_file import CaseFile
from assistant.services.llm_calls import SessionCallLog

TONE_RANK = {"courteous": 0, "neutral": 1, "firm": 2, "formal": 3}
MAX_INSTRUCTION = 500


class DraftRefused(ValueError):
    """The draft cannot be queued as asked (closed case, live draft, firmer tone…)."""


@dataclass(frozen=True)
class Wording:
    """How the letter is worded: the renderer, and the model and prompts when there is one."""

    renderer: LetterRenderer
    prompts: PromptLibrary
    llm: ChatModelPort | None = None


def clean_instruction(instruction: str) -> str:
    """Return the instruction on one line, bounded; refuse an empty one."""
    text = " ".join(instruction.split())[:MAX_INSTRUCTION]
    if not text:
        raise DraftRefused("say what the draft should do (an instruction is required)")
    return text


def choose_step(
    policy: Policy, facts: CaseFile, on: date
) -> tuple[LadderStep, tuple[InvoiceLine, ...], str | None]:
    """Return the step an officer's draft is written at, its invoices and the planned tone."""
    plan = plan_case(policy, facts.debtor, facts.state, list(facts.lines), facts.history, on)
    invoices = plan.invoices or tuple(actionable_invoices(list(facts.lines), on)) + tuple(
        open_credit_notes(list(facts.lines))
    )
    if not any(i.outstanding > 0 for i in invoices):
        raise DraftRefused(f"case {facts.ref} has no overdue invoice: nothing to write about")
    if plan.step is not None:
        return plan.step, invoices, plan.tone
    steps = policy.ladder.steps
    index = min(max(facts.state.step_index, 0), len(steps) - 1)
    while index < len(steps) - 1 and steps[index].pre_due:
        index += 1
    return steps[index], invoices, None


def check_tone(tone: str | None, step: LadderStep) -> None:
    """Refuse an unknown tone or one firmer than the step's: the officer may only soften."""
    if tone is None:
        return
    if tone not in TONE_RANK:
        raise DraftRefused(f"unknown tone {tone!r}; use one of {', '.join(TONE_RANK)}")
    if TONE_RANK[tone] > TONE_RANK[step.tone]:
        raise DraftRefused(
            f"tone {tone!r} is firmer than step {step.name}'s {step.tone!r}: the chat may "
            "soften a letter, never escalate it"
        )


def write_letter(
    session: Session, request: DraftRequest, wording: Wording
) -> tuple[Letter, list[Finding], str, str | None]:
    """Word the letter with the model (its calls logged in `session`), else the template."""
    if wording.llm is not None:
        model = wording.llm.using(SessionCallLog(session))
        result = LLMDrafter(model, wording.prompts, wording.renderer).draft(request)
        return result.letter, list(result.findings), result.engine, result.engine_note
    letter = wording.renderer.render(
        policy=request.policy,
        step=request.step,
        debtor=request.debtor,
        case=request.case,
        invoices=request.invoices,
        history=request.history,
        on=request.on,
        broken_promise=request.broken_promise,
        tone=request.tone,
    )
    findings = validate_letter(
        letter, policy=request.policy, debtor=request.debtor, case=request.case, on=request.on
    )
    return letter, findings, "template", "no LLM endpoint: the wording is the step's template"


def queue_officer_draft(
    session: Session,
    case: Case,
    facts: CaseFile,
    policy: Policy,
    instruction: str,
    *,
    on: date,
    actor: str,
    wording: Wording,
    tone: str | None = None,
) -> Draft:
    """Queue a pending draft for `case` following an officer's instruction (never approved)."""
    from assistant.services.cycle import store_draft  # the cycle imports the world

    instruction = clean_instruction(instruction)
    if facts.status == "closed":
        raise DraftRefused(f"case {facts.ref} is closed: nothing is owed")
    if facts.live_drafts:
        raise DraftRefused(
            f"case {facts.ref} already has draft(s) {list(facts.live_drafts)} in the approval "
            "queue; an officer must reject them first (`relance drafts reject ID --reason …`)"
        )
    step, invoices, planned_tone = choose_step(policy, facts, on)
    check_tone(tone, step)
    request = DraftRequest(
        policy=policy,
        step=step,
        debtor=facts.debtor,
        case=facts.state,
        invoices=invoices,
        history=facts.history,
        on=on,
        broken_promise=facts.state.broken_promise_pending,
        tone=tone or planned_tone,
        thread=facts.thread,
        instruction=instruction,
        case_id=facts.case_id,
    )
    letter, findings, engine, engine_note = write_letter(session, request, wording)
    if not facts.debtor.emails:
        findings.append(Finding("no_contact", "The debtor has no valid email address."))
    if facts.in_handoff:
        findings.append(
            Finding("case_in_handoff", "The case is with a human (hand-off open).", blocking=False)
        )
    note = f"asked in chat by {actor}: {instruction}"
    draft = store_draft(
        session,
        case,
        letter,
        findings,
        policy=policy,
        actor=actor,
        engine=engine,
        engine_note=f"{note} — {engine_note}" if engine_note else note,
    )
    if draft.status != "pending":  # store_draft never approves; the chat must not either
        raise RuntimeError(f"draft {draft.id} is {draft.status}, expected pending")
    return draft
