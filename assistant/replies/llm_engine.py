"""The "llm" reply engine: a model reads the reply, the rules check what it read.

The model answers in `LLMReplyReading` (structured output); `check_reading` (pure) accepts
that reading only when every evidence span occurs in the reply, the promised date and amount
(and instalments) are re-read from the evidence by the rules engine's own date and amount
parsers, disputed invoice numbers occur in the reply, and a cue of the intent (rules lexicon)
lies inside the evidence. Anything else — a failed call, a spent budget, a failed check, an
injection attempt — falls back to the rules engine and marks the logged call. When the two
engines disagree on `needs_human`, a human decides. The reply can only ever be classified:
this engine returns a `ReplyAnalysis` and nothing else. No LangChain import here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from . import intents as ix
from .amounts import find_amounts
from .analysis import (
    CONFIDENCE_THRESHOLD,
    NEEDS_HUMAN_INTENTS,
    PRECEDENCE,
    CaseContext,
    Instalment,
    Intent,
    PromiseReading,
    ReplyAnalysis,
    any_sensitive,
)
from .dates import find_dates
from .engine import ReplyEngine
from .rules_engine import RulesEngine
from .text import mask_distractors, normalise, sentence_spans

if TYPE_CHECKING:
    from assistant.bootstrap import App
    from assistant.llm.port import ChatModelPort
    from assistant.llm.prompts import PromptLibrary
    from assistant.llm.records import CallLog, StructuredResult

PROMPT = "reply_analysis"
PURPOSE = "reply_analysis"
IntentName = Literal[
    "insolvency", "legal", "dispute", "stop_contact", "hardship", "promise_to_pay",
    "payment_plan_request", "claims_paid", "request_info", "wrong_contact", "out_of_office",
    "other",
]  # fmt: skip


class LLMMoney(BaseModel):
    """An amount and/or a date the debtor commits to."""

    amount: float | None = Field(description="amount committed to, as a number; null if none")
    currency: str | None = Field(description="ISO code (EUR, GBP, USD, CHF) or null")
    date: str | None = Field(description="YYYY-MM-DD, or null")


class LLMReplyReading(BaseModel):
    """The reading of one debtor reply (every field required: strict structured output)."""

    intent: IntentName
    needs_human: bool
    promise: LLMMoney | None
    instalments: list[LLMMoney]
    disputed_invoices: list[str]
    language: Literal["fr", "en"]
    confidence: float
    evidence: list[str] = Field(description="exact passages copied from the reply")


# --- the pure check -------------------------------------------------------------------------


def locate(evidence: str, text: str) -> tuple[int, int] | None:
    """Return where `evidence` occurs in `text` (whitespace runs may differ), or None."""
    piece = evidence.strip()
    if not piece:
        return None
    at = text.find(piece)
    if at >= 0:
        return at, at + len(piece)
    words = piece.split()
    m = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return (m.start(), m.end()) if m else None


def _overlaps(start: int, end: int, regions: Iterable[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in regions)


def _decimal(value: float | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _iso(value: str | None) -> date | None | Literal[False]:
    """Parse an ISO date; False when the text is not one."""
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return False


class _Evidence:
    """The reply as the rules read it, restricted to the spans the model quoted."""

    def __init__(
        self, text: str, received: date, case: CaseContext, regions: list[tuple[int, int]]
    ):
        self.regions = regions
        norm = normalise(text)
        self.norm = norm
        masked = mask_distractors(norm, tuple(case.invoice_numbers))
        hits = find_dates(masked, received) + find_dates(masked, received, us_order=True)
        self.dates = {h.date for h in hits if _overlaps(h.start, h.end, regions)}
        self.amounts = [a for a in find_amounts(masked) if _overlaps(a.start, a.end, regions)]
        self.cues = ix.find_cues(norm, sentence_spans(text))

    def has_date(self, value: date) -> bool:
        return value in self.dates

    def has_amount(self, value: Decimal, currency: str | None) -> bool:
        for hit in self.amounts:
            if hit.value.quantize(Decimal("0.01")) != value:
                continue
            if currency and hit.currency and hit.currency != currency.upper():
                continue
            return True
        return False

    def has_cue(self, intent: Intent) -> bool:
        return any(_overlaps(c.start, c.end, self.regions) for c in self.cues.of(intent))


def _check_money(label: str, money: LLMMoney, ev: _Evidence, problems: list[str]) -> None:
    when = _iso(money.date)
    if when is False:
        problems.append(f"{label} date {money.date!r} is not a YYYY-MM-DD date")
    elif when is not None and not ev.has_date(when):
        problems.append(f"{label} date {when} cannot be read from the evidence")
    amount = _decimal(money.amount)
    if money.amount is not None and (amount is None or amount <= 0):
        problems.append(f"{label} amount {money.amount!r} is not a positive amount")
    elif amount is not None and not ev.has_amount(amount, money.currency):
        problems.append(f"{label} amount {amount} cannot be read from the evidence")


def check_reading(
    reading: LLMReplyReading, reply_text: str, received: date, case: CaseContext | None = None
) -> list[str]:
    """Return why a model reading cannot be trusted (empty when every check passes)."""
    case = case or CaseContext()
    problems: list[str] = []
    regions: list[tuple[int, int]] = []
    for piece in reading.evidence:
        where = locate(piece, reply_text)
        if where is None:
            problems.append(f"evidence not found in the reply: {piece[:80]!r}")
        else:
            regions.append(where)
    intent = Intent(reading.intent)
    if intent is not Intent.OTHER and not regions:
        problems.append(f"no evidence given for intent {intent.value}")
    if not 0.0 <= reading.confidence <= 1.0:
        problems.append(f"confidence {reading.confidence} is outside 0..1")
    ev = _Evidence(reply_text, received, case, regions)
    if intent is not Intent.OTHER and regions and not ev.has_cue(intent):
        problems.append(f"the evidence holds no cue of intent {intent.value}")
    if reading.promise is not None:
        _check_money("promise", reading.promise, ev, problems)
    for n, part in enumerate(reading.instalments, 1):
        _check_money(f"instalment {n}", part, ev, problems)
    folded = reply_text.casefold()
    for number in reading.disputed_invoices:
        if not number.strip() or number.strip().casefold() not in folded:
            problems.append(f"disputed invoice {number!r} does not occur in the reply")
    return problems


def _money(
    m: LLMMoney, default_currency: str | None
) -> tuple[Decimal | None, str | None, date | None]:
    when = _iso(m.date)
    amount = _decimal(m.amount)
    currency = (m.currency or "").upper() or (default_currency if amount is not None else None)
    return amount, currency, when if isinstance(when, date) else None


#: A checked model reading the rules agree with is applied alone at this confidence or above.
LLM_AUTOMATIC = 0.9


def merge_readings(
    reading: LLMReplyReading, rules: ReplyAnalysis, case: CaseContext
) -> ReplyAnalysis:
    """Build the analysis from a checked model reading; needs_human if either engine says so."""
    intent = Intent(reading.intent)
    if rules.intent in NEEDS_HUMAN_INTENTS and PRECEDENCE.index(rules.intent) < PRECEDENCE.index(
        intent
    ):
        # A model may refine a reading but never downgrade a sensitive one the rules found
        # (a missed insolvency or dispute is the costliest error): the rules reading stands.
        return rules.model_copy(update={"needs_human": True})
    if (
        intent is Intent.OTHER
        and rules.intent is not Intent.OTHER
        and rules.confidence >= CONFIDENCE_THRESHOLD
    ):
        # "other" cites no cue: it cannot erase a promise, a plan or a claim the rules read
        # from the debtor's own words (that would send a reminder to someone who is paying).
        return rules
    currency = case.currency or (rules.promise.currency if rules.promise else None)
    promise = None
    if reading.promise is not None:
        amount, cur, when = _money(reading.promise, currency)
        if amount is not None or when is not None:
            promise = PromiseReading(amount=amount, currency=cur, date=when)
    if (
        intent is Intent.PROMISE_TO_PAY
        and rules.intent is Intent.PROMISE_TO_PAY
        and (promise is None or promise.date is None)
    ):
        promise = rules.promise  # the model saw the promise but not its terms: the rules did
    instalments = [
        Instalment(amount=a, currency=c, date=d)
        for a, c, d in (_money(m, currency) for m in reading.instalments)
    ]
    confidence = max(0.0, min(1.0, reading.confidence))
    llm_human = (
        reading.needs_human or intent in NEEDS_HUMAN_INTENTS or confidence < CONFIDENCE_THRESHOLD
    )
    found = {intent, *rules.intents_found}
    # when the engines disagree, a human decides; so does a sensitive intent seen beside the primary
    needs_human = llm_human or rules.needs_human or any_sensitive(found)
    schedule = instalments if len(instalments) >= 2 else rules.schedule
    return ReplyAnalysis(
        intent=intent,
        needs_human=needs_human,
        promise=promise,
        instalments=instalments,
        disputed_invoices=[n.strip() for n in reading.disputed_invoices],
        language=reading.language,
        reply_text=rules.reply_text,
        confidence=round(confidence, 3),
        evidence=[e.strip() for e in reading.evidence],
        engine="llm",
        intents_found=[i for i in PRECEDENCE if i in found],
        return_date=rules.return_date if intent is Intent.OUT_OF_OFFICE else None,
        new_contact_email=rules.new_contact_email if intent is Intent.WRONG_CONTACT else None,
        also=[i for i in PRECEDENCE if i in found and i not in (intent, Intent.OTHER)],
        schedule=schedule,
        # applied without an officer only when the checked model and the rules agree, firmly
        automatic=not needs_human
        and intent is rules.intent
        and confidence >= LLM_AUTOMATIC
        and (intent is not Intent.PROMISE_TO_PAY or (promise is not None and bool(promise.date))),
        new_contacts=list(rules.new_contacts),
        loose_promise=rules.loose_promise,
    )


# --- the engine -----------------------------------------------------------------------------

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class LLMReplyEngine:
    """Reply engine that asks a model and keeps its reading only when the rules confirm it."""

    name = "llm"

    def __init__(
        self,
        client: ChatModelPort,
        prompts: PromptLibrary,
        *,
        fallback: ReplyEngine | None = None,
        creditor: str | None = None,
        case_id: int | None = None,
    ):
        self.client = client
        self.prompts = prompts
        self.fallback = fallback or RulesEngine()
        self.creditor = creditor
        self.case_id = case_id

    def prompt_messages(
        self, reply_text: str, received: date, case: CaseContext
    ) -> tuple[str, list[dict[str, str]]]:
        """Return the prompt hash and messages for one reply (the reply fenced as data)."""
        rendered = self.prompts.render(
            PROMPT,
            reply_text=reply_text,
            received_on=received.isoformat(),
            received_weekday=_WEEKDAYS[received.weekday()],
            invoice_numbers=list(case.invoice_numbers),
            balance=str(case.balance) if case.balance is not None else None,
            currency=case.currency,
        )
        return rendered.hash, rendered.messages

    def analyse(
        self,
        message: str,
        received_at: datetime,
        case: CaseContext | None = None,
        *,
        auto_submitted: bool = False,
        creditor: str | None = None,
        case_id: int | None = None,
    ) -> ReplyAnalysis:
        """Read one reply with the model, checked by the rules (falls back to them)."""
        from assistant.llm.client import BudgetExceeded

        case = case or CaseContext()
        rules = self.fallback.analyse(message, received_at, case, auto_submitted=auto_submitted)
        if auto_submitted or not rules.reply_text.strip():
            return rules  # an automatic reply (headers) or nothing to read: no model call
        digest, messages = self.prompt_messages(rules.reply_text, received_at.date(), case)
        try:
            result = self.client.structured(
                PURPOSE, PROMPT, messages, LLMReplyReading,
                case_id=case_id or self.case_id, creditor=creditor or self.creditor,
                prompt_hash=digest,
            )  # fmt: skip
        except BudgetExceeded:
            return rules
        return self.decide(result, rules, received_at.date(), case)

    async def aanalyse(
        self,
        message: str,
        received_at: datetime,
        case: CaseContext | None = None,
        *,
        auto_submitted: bool = False,
        creditor: str | None = None,
        case_id: int | None = None,
    ) -> ReplyAnalysis:
        """Async `analyse`, for reading many replies concurrently."""
        from assistant.llm.client import BudgetExceeded

        case = case or CaseContext()
        rules = self.fallback.analyse(message, received_at, case, auto_submitted=auto_submitted)
        if auto_submitted or not rules.reply_text.strip():
            return rules
        digest, messages = self.prompt_messages(rules.reply_text, received_at.date(), case)
        try:
            result = await self.client.astructured(
                PURPOSE, PROMPT, messages, LLMReplyReading,
                case_id=case_id or self.case_id, creditor=creditor or self.creditor,
                prompt_hash=digest,
            )  # fmt: skip
        except BudgetExceeded:
            return rules
        return self.decide(result, rules, received_at.date(), case)

    def decide(
        self,
        result: StructuredResult[LLMReplyReading],
        rules: ReplyAnalysis,
        received: date,
        case: CaseContext,
    ) -> ReplyAnalysis:
        """Keep the model's reading if it passes the checks, else the rules' (call marked)."""
        reading = result.parsed
        if reading is None:
            self.client.mark_fallback(result.call_id, f"model call failed: {result.error}")
            return rules
        text = rules.reply_text
        if ix.find_cues(normalise(text), sentence_spans(text)).injection:
            self.client.mark_fallback(
                result.call_id,
                "the reply holds instructions addressed to a machine: rules reading used",
            )
            return rules
        problems = check_reading(reading, rules.reply_text, received, case)
        if problems:
            self.client.mark_fallback(result.call_id, "; ".join(problems))
            return rules
        return merge_readings(reading, rules, case)


def build_reply_engine(
    app: App, *, creditor: str | None = None, log: CallLog | None = None
) -> ReplyEngine:
    """Return the "llm" reply engine of `app` (raises LLMNotConfigured without an endpoint).

    With `log` (the caller's session), the model calls are recorded in that transaction.
    """
    from assistant.llm import PromptLibrary, build_llm_client, default_prompts_dir

    return LLMReplyEngine(
        build_llm_client(app, log), PromptLibrary(default_prompts_dir()), creditor=creditor
    )


__all__ = [
    "LLMReplyEngine",
    "LLMReplyReading",
    "build_reply_engine",
    "check_reading",
    "merge_readings",
]
