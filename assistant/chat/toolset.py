"""The tools offered to the chat model: their arguments, schemas and runners.

Each entry maps a tool name to a pydantic argument model (what the model may pass; extra
keys refused) and a runner calling the thin tool in `tools` with the officer's scope. Text a
debtor wrote is fenced as data before the model sees it (`fence_debtor_text`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from assistant.chat import tools
from assistant.llm.prompts import fence_data

if TYPE_CHECKING:
    from assistant.bootstrap import App
    from assistant.llm.port import ChatModelPort


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
    client: ChatModelPort | None = None


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
