"""LLM drafting with guardrails: the model writes the prose, the templates keep the facts.

For each case the template letter is rendered first (it is the fallback, and its validation
tells which findings are not the model's doing). The model then writes an opening, body and
closing (`DraftProse`); `ProseRenderer` puts that prose in place of the step template's
``intro`` and ``closing`` blocks, so the invoice table, amounts, penalties, payment
instructions, legal mentions and signature stay verbatim from the templates. The result goes
through the core validator plus `grounding.check_prose`; on a blocking finding the model gets
one retry with the findings, then the template draft is used and the result says why. Many
cases are drafted concurrently (`draft_many`). Never stores, approves or sends anything;
never imports LangChain (the client does).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from assistant.domain import CaseState, ClientHistory, DebtorFacts, Finding, InvoiceLine
from assistant.drafting.grounding import check_prose
from assistant.drafting.prompt_lines import (
    history_lines,
    retry_message,
    step_purpose,
    terms_lines,
)
from assistant.drafting.prose import ProseRenderer
from assistant.letters.render import Letter, LetterRenderer
from assistant.letters.validator import validate_text
from assistant.policy.schema import LadderStep, Policy

if TYPE_CHECKING:
    from assistant.bootstrap import App
    from assistant.llm.port import ChatModelPort
    from assistant.llm.prompts import PromptLibrary
    from assistant.llm.records import StructuredResult

PROMPT = "draft_letter"
PURPOSE = "draft_letter"
Progress = Callable[[int, int], None]


class DraftProse(BaseModel):
    """The prose the model writes: no figures, no greeting, no sign-off."""

    opening: str = Field(description="one short paragraph: why we write")
    body: list[str] = Field(description="one or two short paragraphs")
    closing: str = Field(description="one short paragraph: invitation to pay or get in touch")

    def blocks(self) -> dict[str, str]:
        """Return the wording blocks this prose replaces."""
        paragraphs = [self.opening, *self.body]
        intro = "\n\n".join(p.strip() for p in paragraphs if p.strip())
        return {"intro": intro, "closing": self.closing.strip()}

    def text(self) -> str:
        """Return all the prose as one text (what the checks read)."""
        return "\n\n".join(self.blocks().values())


@dataclass(frozen=True)
class ThreadMessage:
    """One message of the case's thread, as the prompt shows it (debtor text fenced)."""

    author: Literal["debtor", "us"]
    text: str
    on: date | None = None


@dataclass(frozen=True)
class DraftRequest:
    """Everything needed to draft one ladder letter (the same inputs as `LetterRenderer`)."""

    policy: Policy
    step: LadderStep
    debtor: DebtorFacts
    case: CaseState
    invoices: Sequence[InvoiceLine]
    history: ClientHistory
    on: date
    broken_promise: bool = False
    tone: str | None = None
    thread: Sequence[ThreadMessage] = ()
    instruction: str | None = None  # an officer's wish ("softer, mention their good history")
    case_id: int | None = None


@dataclass(frozen=True)
class DraftResult:
    """A draft ready for the approval queue, and which engine produced it and why."""

    request: DraftRequest
    letter: Letter
    findings: list[Finding]
    engine: Literal["llm", "template"]
    engine_note: str | None = None
    call_ids: list[int] = field(default_factory=list)
    tokens: int = 0

    @property
    def blocked(self) -> bool:
        """Tell whether a blocking finding keeps the draft from approval."""
        return any(f.blocking for f in self.findings)


# --- the drafter ------------------------------------------------------------------------------


class LLMDrafter:
    """Draft ladder letters with a model, checked against the facts; fall back to templates."""

    def __init__(
        self,
        client: ChatModelPort,
        prompts: PromptLibrary,
        renderer: LetterRenderer,
        *,
        max_concurrency: int | None = None,
    ):
        self.client = client
        self.prompts = prompts
        self.renderer = renderer
        self.prose_renderer = ProseRenderer(renderer)
        self.max_concurrency = max(1, max_concurrency or client.max_concurrency)

    def _render_kwargs(self, req: DraftRequest) -> dict[str, Any]:
        return {
            "policy": req.policy,
            "debtor": req.debtor,
            "case": req.case,
            "invoices": req.invoices,
            "history": req.history,
            "on": req.on,
            "broken_promise": req.broken_promise,
            "tone": req.tone,
        }

    def _template(self, req: DraftRequest) -> Letter:
        return self.renderer.render(step=req.step, render_pdf=False, **self._render_kwargs(req))

    def _prepare(self, req: DraftRequest) -> tuple[Letter, str, list[dict[str, str]]]:
        template = self._template(req)
        digest, messages = self.prompt(req, template)
        return template, digest, messages

    def _template_findings(
        self, req: DraftRequest, template: Letter, memo: dict[str, list[Finding]]
    ) -> list[Finding]:
        """Validate the template letter once, only when needed (a fallback or a comparison)."""
        if "template" not in memo:
            memo["template"] = self._validate(template, req)
        return memo["template"]

    def _validate(self, letter: Letter, req: DraftRequest) -> list[Finding]:
        return validate_text(
            letter.subject, letter.text, letter.facts,
            policy=req.policy, debtor=req.debtor, case=req.case, on=req.on, step=req.step,
        )  # fmt: skip

    def prompt(self, req: DraftRequest, template: Letter) -> tuple[str, list[dict[str, str]]]:
        """Return the prompt hash and messages for one draft."""
        policy = req.policy
        rendered = self.prompts.render(
            PROMPT,
            language=template.language,
            jurisdiction=policy.jurisdiction,
            sender=(policy.agency.name if policy.agency and policy.mode == "agency" else policy.creditor.sender_name or policy.creditor.name),
            agency=policy.mode == "agency",
            creditor_name=policy.creditor.name,
            step_name=req.step.name,
            step_purpose=step_purpose(policy, req.step),
            formal_notice=req.step.formal_notice,
            tone=template.tone,
            voice_guidelines=policy.voice.guidelines,
            forbidden_words=list(policy.voice.forbidden_words),
            debtor_name=req.debtor.name,
            consumer=req.debtor.kind == "consumer",
            invoice_count=len(req.invoices),
            broken_promise=req.broken_promise,
            terms=terms_lines(policy, req.debtor, template.facts.penalties is not None),
            history=history_lines(req.history),
            thread=[
                {"author": m.author, "date": m.on.isoformat() if m.on else None, "text": m.text}
                for m in list(req.thread)[-4:]
            ],
            instruction=req.instruction,
        )  # fmt: skip
        return rendered.hash, rendered.messages

    def _judge(
        self, prose: DraftProse, req: DraftRequest, template: Letter, memo: dict[str, list[Finding]]
    ) -> tuple[Letter | None, list[Finding], list[Finding]]:
        """Compose and check; return (letter, all findings, blocking findings due to the model)."""
        prose_findings = check_prose(
            prose.text(), template.facts, policy=req.policy, step=req.step, debtor=req.debtor
        )
        try:
            letter = self.prose_renderer.render(
                prose.blocks(), step=req.step, language=template.language,
                render_pdf=False, **self._render_kwargs(req),
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - a template problem means: use the template draft
            failure = Finding("prose_render", f"The prose could not be put in the letter: {exc}")
            return None, [*prose_findings, failure], [failure]
        findings = prose_findings + self._validate(letter, req)
        new = [f for f in findings if f.blocking]
        if new:  # blocking findings the template letter has too are not the model's doing
            known = {(f.code, f.message) for f in self._template_findings(req, template, memo)}
            new = [f for f in new if (f.code, f.message) not in known]
        return letter, findings, new

    async def adraft(self, req: DraftRequest) -> DraftResult:
        """Draft one letter: model prose if it passes the guardrails, else the template."""
        from assistant.llm.client import BudgetExceeded

        # CPU-bound steps run in worker threads so the event loop keeps serving answers.
        template, digest, messages = await asyncio.to_thread(self._prepare, req)
        memo: dict[str, list[Finding]] = {}
        call_ids: list[int] = []
        tokens = 0
        reasons: list[str] = []
        for attempt in (1, 2):
            try:
                result: StructuredResult[DraftProse] = await self.client.astructured(
                    PURPOSE, PROMPT, messages, DraftProse,
                    case_id=req.case_id, creditor=req.policy.slug, prompt_hash=digest,
                )  # fmt: skip
            except BudgetExceeded as exc:
                reasons.append(str(exc))
                break
            if result.call_id is not None:
                call_ids.append(result.call_id)
            tokens += result.tokens_in + result.tokens_out
            if result.parsed is None:
                reason = f"unreadable answer ({(result.error or 'no answer')[:160]})"
                new: list[Finding] = []
                if result.raw_text is None:  # the endpoint failed (after its own retries)
                    reasons.append(f"attempt {attempt}: model call failed: {result.error}")
                    self.client.mark_fallback(result.call_id, reasons[-1])
                    break
            else:
                letter, findings, new = await asyncio.to_thread(
                    self._judge, result.parsed, req, template, memo
                )
                if letter is not None and not new:
                    note = self._llm_note(reasons)
                    blocks = result.parsed.blocks()
                    return await asyncio.to_thread(
                        self._finish, req, letter, findings, "llm", note, call_ids, tokens, blocks
                    )
                reason = "; ".join(f"{f.code}: {f.message}" for f in new)
            reasons.append(f"attempt {attempt}: {reason}")
            self.client.mark_fallback(result.call_id, reason)
            messages = [
                *messages,
                {"role": "assistant", "content": result.raw_text or ""},
                retry_message(new, result.error if result.parsed is None else None),
            ]
        note = "LLM draft rejected, template used — " + " | ".join(reasons)
        fallback = Finding("llm_fallback", note[:1000], blocking=False)
        return await asyncio.to_thread(
            self._fallback, req, template, memo, fallback, note, call_ids, tokens
        )

    def _fallback(
        self,
        req: DraftRequest,
        template: Letter,
        memo: dict[str, list[Finding]],
        fallback: Finding,
        note: str,
        call_ids: list[int],
        tokens: int,
    ) -> DraftResult:
        findings = [*self._template_findings(req, template, memo), fallback]
        return self._finish(req, template, findings, "template", note, call_ids, tokens)

    @staticmethod
    def _llm_note(reasons: list[str]) -> str | None:
        return ("accepted on retry after: " + " | ".join(reasons)) if reasons else None

    def _finish(
        self,
        req: DraftRequest,
        letter: Letter,
        findings: list[Finding],
        engine: Literal["llm", "template"],
        note: str | None,
        call_ids: list[int],
        tokens: int,
        prose: Mapping[str, str] | None = None,
    ) -> DraftResult:
        if req.step.pdf:  # the PDF is rendered once, for the letter that is kept
            kwargs = self._render_kwargs(req)
            if prose is not None:
                full = self.prose_renderer.render(
                    prose, step=req.step, language=letter.language, **kwargs
                )
            else:
                full = self.renderer.render(step=req.step, **kwargs)
            letter = replace(letter, pdf=full.pdf)
        return DraftResult(req, letter, findings, engine, note, call_ids, tokens)

    def draft(self, req: DraftRequest) -> DraftResult:
        """Draft one letter (blocking; use `adraft` inside an event loop)."""

        async def run() -> DraftResult:
            try:
                return await self.adraft(req)
            finally:
                await self.client.aclose()

        return asyncio.run(run())

    async def draft_many(
        self, requests: Sequence[DraftRequest], *, progress: Progress | None = None
    ) -> list[DraftResult]:
        """Draft many letters concurrently.

        The client keeps at most RELANCE_LLM_MAX_CONCURRENCY model calls in flight; here at
        most half as many again drafts are in progress, so rendering and checking overlap with
        the network waits instead of all happening up front.
        """
        in_progress = asyncio.Semaphore(self.max_concurrency + (self.max_concurrency + 1) // 2)
        done = 0

        async def one(req: DraftRequest) -> DraftResult:
            nonlocal done
            async with in_progress:
                result = await self.adraft(req)
            done += 1
            if progress is not None:
                progress(done, len(requests))
            return result

        return list(await asyncio.gather(*(one(r) for r in requests)))


def build_drafter(app: App, *, client: ChatModelPort | None = None) -> LLMDrafter:
    """Return the LLM drafter of `app` (raises LLMNotConfigured without an endpoint)."""
    from assistant.letters.rates import RateTable
    from assistant.llm import PromptLibrary, build_llm_client, default_prompts_dir

    return LLMDrafter(
        client or build_llm_client(app),
        PromptLibrary(default_prompts_dir()),
        LetterRenderer(app.templates_dir, RateTable.packaged()),
    )


def draft_with_llm(
    app: App, requests: Sequence[DraftRequest], *, progress: Progress | None = None
) -> list[DraftResult]:
    """Draft `requests` with the model (template fallback per draft); blocking."""
    drafter = build_drafter(app)

    async def run() -> list[DraftResult]:
        try:
            return await drafter.draft_many(requests, progress=progress)
        finally:
            await drafter.client.aclose()

    return asyncio.run(run())
