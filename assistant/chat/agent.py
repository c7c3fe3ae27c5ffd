"""The officers' chat: a bounded tool-calling loop over the chat tools.

The model only sees the tools below; none sends, approves, or changes an amount or a status,
so no prompt can make the chat do it. Every tool call is audited (`chat.tool`) and every
model call is written to the `LLMCall` log through the LLM client. Tool results that hold
text written by a debtor are fenced as data. The visibility filter lives in the tools.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session

from assistant.bootstrap import App
from assistant.chat import tools
from assistant.chat.tools import AccessDenied, ToolError
from assistant.db.engine import session_scope
from assistant.llm import LLMClient, PromptLibrary, build_llm_client, default_prompts_dir
from assistant.llm.client import BudgetExceeded, describe_error, is_transient, request_key
from assistant.llm.prompts import fence_data
from assistant.services.audit import record

PROMPT = "chat_system"
MAX_ROUNDS = 6
MAX_TOOL_CHARS = 12_000
HISTORY_TURNS = 6
NO_SUCH_TOOL = (
    "there is no tool {name!r}: the chat cannot send, approve or reject drafts, or change "
    "amounts, dates or statuses. Tell the officer to use the approval queue "
    "(`relance drafts approve|reject ID`)."
)

Message = dict[str, Any]


# --- tool arguments (what the model may pass) -------------------------------------------------


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FindCasesArgs(_Args):
    query: str = Field(
        description="Debtor name (typos allowed), case ref, account ref or invoice number; empty for all."
    )
    status: Literal["active", "paused", "promise", "handoff", "closed"] | None = None
    creditor: str | None = Field(default=None, description="Creditor slug, to narrow the search.")


class RefArgs(_Args):
    ref: str = Field(description="Case ref, e.g. REF-7Q2K.")


class CreditorArgs(_Args):
    creditor: str | None = Field(default=None, description="Creditor slug; omit for all.")


class ExplainPolicyArgs(_Args):
    creditor: str = Field(description="Creditor slug.")
    step: str | None = Field(default=None, description="A ladder step name, e.g. reminder_2.")


class PromisesDueArgs(_Args):
    start: date | None = Field(
        default=None, description="First day (YYYY-MM-DD); default Monday of this week."
    )
    end: date | None = Field(
        default=None, description="Last day (YYYY-MM-DD); default Sunday of this week."
    )


class CreateDraftArgs(_Args):
    ref: str = Field(description="Case ref, e.g. REF-7Q2K.")
    instruction: str = Field(description="What the officer wants the letter to do or stress.")
    tone: Literal["courteous", "neutral", "firm"] | None = Field(
        default=None, description="Optional tone; never firmer than the ladder step's."
    )


@dataclass
class ToolContext:
    """What a tool call runs with: the app, who asks, what they may see, and the date."""

    app: App
    session: Session
    officer: str
    creditors: Collection[str] | None
    on: date
    client: LLMClient | None = None


@dataclass(frozen=True)
class ChatTool:
    """One tool offered to the model."""

    name: str
    description: str
    args: type[_Args]
    run: Callable[[ToolContext, Any], dict[str, Any]]

    def schema(self) -> dict[str, Any]:
        """Return the OpenAI function-tool definition."""
        params = _strip_titles(self.args.model_json_schema())
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": params},
        }


def _strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip_titles(v) for k, v in schema.items() if k != "title"}
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema


def _promises(ctx: ToolContext, a: PromisesDueArgs) -> dict[str, Any]:
    start, end = tools.week_of(ctx.on)
    return tools.promises_due(ctx.session, a.start or start, a.end or end, creditors=ctx.creditors)


TOOLS: dict[str, ChatTool] = {
    t.name: t
    for t in (
        ChatTool(
            "find_cases",
            "Find cases by debtor name, case ref, account ref or invoice number.",
            FindCasesArgs,
            lambda c, a: tools.find_cases(
                c.session, a.query, a.status, creditors=c.creditors, creditor=a.creditor
            ),
        ),
        ChatTool(
            "case_summary",
            "Everything about one case: debtor, invoices, client history, drafts, promises, "
            "hand-offs, last replies and their analysis.",
            RefArgs,
            lambda c, a: tools.case_summary(c.session, a.ref, c.on, creditors=c.creditors),
        ),
        ChatTool(
            "pending_drafts",
            "List the drafts waiting for approval.",
            CreditorArgs,
            lambda c, a: tools.pending_drafts(
                c.session, creditors=c.creditors, creditor=a.creditor
            ),
        ),
        ChatTool(
            "portfolio_figures",
            "Aged balance (0-30/31-60/61-90/>90 days), promises due this week, open hand-offs, "
            "pending drafts, cases by status, approximate DSO, per creditor.",
            CreditorArgs,
            lambda c, a: tools.portfolio_figures(
                c.session, c.on, creditors=c.creditors, creditor=a.creditor
            ),
        ),
        ChatTool(
            "explain_policy",
            "What a creditor's policy says: ladder steps, tone, terms, hand-off and promise rules.",
            ExplainPolicyArgs,
            lambda c, a: tools.explain_policy(
                c.app.policies, a.creditor, a.step, creditors=c.creditors
            ),
        ),
        ChatTool(
            "why_handoff",
            "Why a case is (or would be) with a human: hand-off records and the policy's rules.",
            RefArgs,
            lambda c, a: tools.why_handoff(
                c.session, a.ref, c.on, c.app.policies, creditors=c.creditors
            ),
        ),
        ChatTool(
            "promises_due",
            "Pending promises to pay falling due in a period (default: this week).",
            PromisesDueArgs,
            _promises,
        ),
        ChatTool(
            "create_draft",
            "Queue a draft letter for a case following the officer's instruction. Facts come "
            "from the ledger; the draft is validated and waits for an officer's approval.",
            CreateDraftArgs,
            lambda c, a: tools.create_draft(
                c.session,
                c.app,
                a.ref,
                a.instruction,
                on=c.on,
                actor=c.officer,
                creditors=c.creditors,
                tone=a.tone,
                llm_client=c.client,
            ),
        ),
    )
}

DEBTOR_KEYS = frozenset({"messages", "evidence", "summary", "detail"})


def fence_debtor_text(value: Any, inside: bool = False) -> Any:
    """Wrap every string under debtor-written keys in <debtor_text> tags, neutralised."""
    if isinstance(value, dict):
        return {k: fence_debtor_text(v, inside or k in DEBTOR_KEYS) for k, v in value.items()}
    if isinstance(value, list):
        return [fence_debtor_text(v, inside) for v in value]
    if inside and isinstance(value, str) and value:
        return f"<debtor_text>{fence_data(value)}</debtor_text>"
    return value


# --- the model call (tool calling through the LLM client's log, budget and retries) -----------


@dataclass(frozen=True)
class ModelTurn:
    """What the model answered: text and/or tool calls, or an error."""

    content: str
    tool_calls: list[dict[str, Any]]
    error: str | None = None
    call_id: int | None = None


def call_with_tools(
    client: LLMClient,
    messages: Sequence[Message],
    tool_defs: list[dict[str, Any]],
    *,
    purpose: str = "chat",
    prompt_name: str | None = PROMPT,
    prompt_hash: str | None = None,
    creditor: str | None = None,
) -> ModelTurn:
    """Ask the model with tools bound; retry transient failures; log the call (no cache)."""
    key = request_key(client.model, "tools", {"tools": tool_defs}, messages)
    log = {
        "purpose": purpose,
        "prompt_name": prompt_name,
        "prompt_hash": prompt_hash,
        "messages": [dict(m) for m in messages],
        "method": "tools",
        "cache_key": key,
        "creditor": creditor,
    }
    # TODO(lead): LLMClient has no public hook for tool-calling messages; these three private
    # members (_check_budget, _backoff, _record) should become one public method there.
    try:
        client._check_budget(creditor)
    except BudgetExceeded as exc:
        client._record(**log, error=str(exc), fallback_used=True, fallback_reason="budget")
        return ModelTurn("", [], error=str(exc))
    model = client.chat_model().bind_tools(tool_defs)
    started, attempts, error, answer = time.perf_counter(), 0, None, None
    while True:
        attempts += 1
        try:
            answer = model.invoke(list(messages))
            error = None
            break
        except Exception as exc:  # noqa: BLE001 - logged and reported, never raised
            error = describe_error(exc)
            if not (is_transient(exc) and attempts < client.max_attempts):
                break
            time.sleep(client._backoff(attempts, exc))
    content = _text(answer)
    calls = [
        {"id": c.get("id") or f"call_{i}", "name": c["name"], "args": c.get("args") or {}}
        for i, c in enumerate(getattr(answer, "tool_calls", None) or [])
    ]
    bad = getattr(answer, "invalid_tool_calls", None) or []
    usage = getattr(answer, "usage_metadata", None) or {}
    row = client._record(
        **log,
        output=json.dumps({"content": content, "tool_calls": calls}, ensure_ascii=False)
        if calls
        else content,
        tokens_in=int(usage.get("input_tokens") or 0),
        tokens_out=int(usage.get("output_tokens") or 0),
        latency_ms=int((time.perf_counter() - started) * 1000),
        attempts=attempts,
        error=error or (f"invalid tool call(s): {bad}" if bad and not calls else None),
    )
    return ModelTurn(content, calls, error=row.error, call_id=row.id)


def _text(answer: Any) -> str:
    if answer is None:
        return ""
    content = answer.content
    if isinstance(content, list):
        content = "".join(c if isinstance(c, str) else str(c.get("text", "")) for c in content)
    return str(content or "").strip()


# --- the conversation -------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCallRecord:
    """One tool call the model made and how it went."""

    name: str
    args: dict[str, Any]
    ok: bool
    refused: bool = False
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {
            "name": self.name,
            "args": self.args,
            "ok": self.ok,
            "refused": self.refused,
            "error": self.error,
        }


@dataclass(frozen=True)
class ChatAnswer:
    """The assistant's answer to one question, with the tool calls behind it."""

    text: str
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {
            "text": self.text,
            "tool_calls": [t.as_dict() for t in self.tool_calls],
            "error": self.error,
        }


class ChatSession:
    """A conversation of one officer with the assistant, limited to the creditors they see."""

    def __init__(
        self,
        app: App,
        officer: str,
        creditors: set[str] | None = None,
        *,
        on: date | None = None,
        client: LLMClient | None = None,
        max_rounds: int = MAX_ROUNDS,
        prompts: PromptLibrary | None = None,
    ):
        self.app = app
        self.officer = officer
        self.creditors = None if creditors is None else frozenset(creditors)
        self.on = on
        self.client = client or build_llm_client(app)
        self.max_rounds = max(1, max_rounds)
        self.prompts = prompts or PromptLibrary(default_prompts_dir())
        self.conversation = uuid.uuid4().hex[:12]
        self.history: list[Message] = []
        self.tool_defs = [t.schema() for t in TOOLS.values()]

    @property
    def today(self) -> date:
        """Return the date the tools reason about."""
        return self.on or date.today()

    def _system(self) -> tuple[Message, str]:
        start, end = tools.week_of(self.today)
        rendered = self.prompts.render(
            PROMPT,
            officer=self.officer,
            creditors=sorted(self.creditors) if self.creditors is not None else None,
            today=self.today.isoformat(),
            week_start=start.isoformat(),
            week_end=end.isoformat(),
            tools=list(TOOLS),
        )
        return {"role": "system", "content": rendered.messages[0]["content"]}, rendered.hash

    def _budget_creditor(self) -> str | None:
        if self.creditors is not None and len(self.creditors) == 1:
            return next(iter(self.creditors))
        return None

    def ask(self, question: str) -> ChatAnswer:
        """Answer one question, calling tools for at most `max_rounds` model turns."""
        system, prompt_hash = self._system()
        messages: list[Message] = [
            system,
            *self.history[-2 * HISTORY_TURNS :],
            {"role": "user", "content": question},
        ]
        calls: list[ToolCallRecord] = []
        for _ in range(self.max_rounds):
            turn = call_with_tools(
                self.client,
                messages,
                self.tool_defs,
                prompt_hash=prompt_hash,
                creditor=self._budget_creditor(),
            )
            if turn.error:
                return ChatAnswer(f"The model could not answer: {turn.error}", calls, turn.error)
            if not turn.tool_calls:
                text = turn.content or "(the model gave no answer)"
                self.history += [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": text},
                ]
                return ChatAnswer(text, calls)
            messages.append(
                {
                    "role": "assistant",
                    "content": turn.content,
                    "tool_calls": [{**c, "type": "tool_call"} for c in turn.tool_calls],
                }
            )
            for call in turn.tool_calls:
                content, rec = self.run_tool(call["name"], call["args"])
                calls.append(rec)
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": content})
        text = (
            f"I stopped after {self.max_rounds} rounds of tool calls without a final answer; "
            "please ask a narrower question."
        )
        return ChatAnswer(text, calls, "max_rounds")

    def run_tool(self, name: str, args: dict[str, Any]) -> tuple[str, ToolCallRecord]:
        """Run one tool call for the model; audit it; return its fenced JSON result."""
        tool = TOOLS.get(name)
        refused, error, result = False, None, None
        if tool is None:
            refused, error = True, NO_SUCH_TOOL.format(name=name)
        else:
            try:
                parsed = tool.args.model_validate(args)
            except ValidationError as exc:
                error = f"invalid arguments: {exc.errors(include_url=False)}"
            else:
                try:
                    with session_scope(self.app.engine) as session:
                        ctx = ToolContext(
                            self.app, session, self.officer, self.creditors, self.today, self.client
                        )
                        result = tool.run(ctx, parsed)
                        self._audit(session, name, args, result=result)
                except AccessDenied as exc:
                    refused, error = True, str(exc)
                except ToolError as exc:
                    error = str(exc)
                except Exception as exc:  # noqa: BLE001 - reported to the model, and audited
                    error = f"the tool failed: {describe_error(exc)}"
        if result is None:
            with session_scope(self.app.engine) as session:
                self._audit(session, name, args, refused=refused, error=error)
            content = json.dumps({"error": error, "refused": refused}, ensure_ascii=False)
            return content, ToolCallRecord(name, args, False, refused, error)
        content = json.dumps(fence_debtor_text(result), ensure_ascii=False, default=str)
        if len(content) > MAX_TOOL_CHARS:
            content = content[:MAX_TOOL_CHARS] + " …[truncated: ask a narrower question]"
        return content, ToolCallRecord(name, args, True)

    def _audit(
        self,
        session: Session,
        name: str,
        args: dict[str, Any],
        *,
        result: dict[str, Any] | None = None,
        refused: bool = False,
        error: str | None = None,
    ) -> None:
        extra: dict[str, Any] = {}
        if result is not None and name == "create_draft":
            extra["draft_id"] = result.get("draft_id")
        record(
            session,
            self.officer,
            "chat.tool",
            "chat",
            self.conversation,
            name=name,
            args=args,
            ok=result is not None,
            refused=refused,
            error=error,
            creditors=sorted(self.creditors) if self.creditors is not None else None,
            **extra,
        )
