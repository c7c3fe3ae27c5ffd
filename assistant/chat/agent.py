"""The officers' chat: a bounded tool-calling loop over the chat tools.

The model only sees the tools of `toolset`; none sends, approves, or changes an amount or a
status, so no prompt can make the chat do it. Every tool call is audited (`chat.tool`) and
every model call is logged (`LLMCall`) in the same kind of short transaction as the tool
calls, through the model port's public `call_with_tools`. Tool results that hold text
written by a debtor are fenced as data. The visibility filter lives in the tools.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from assistant.bootstrap import App
from assistant.chat import tools
from assistant.chat.common import AccessDenied, ToolError
from assistant.chat.toolset import (
    TOOLS,
    ChatTool,
    ToolContext,
    fence_debtor_text,
)
from assistant.db.engine import session_scope
from assistant.llm import ChatModelPort, LLMNotConfigured, PromptLibrary, default_prompts_dir
from assistant.llm.records import ToolTurn
from assistant.llm.runtime import describe_error
from assistant.services.audit import record
from assistant.services.llm_calls import SessionCallLog

__all__ = ["TOOLS", "ChatAnswer", "ChatSession", "ChatTool", "ToolCallRecord", "fence_debtor_text"]

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
        client: ChatModelPort | None = None,
        max_rounds: int = MAX_ROUNDS,
        prompts: PromptLibrary | None = None,
    ):
        self.app = app
        self.officer = officer
        self.creditors = None if creditors is None else frozenset(creditors)
        self.on = on
        model = client or app.llm
        if model is None:
            raise LLMNotConfigured()
        self.client: ChatModelPort = model
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
            turn = self._model_turn(messages, prompt_hash)
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

    def _model_turn(self, messages: list[Message], prompt_hash: str) -> ToolTurn:
        """Ask the model with the tools bound; its call is logged in a transaction of ours."""
        with session_scope(self.app.engine) as session:
            return self.client.using(SessionCallLog(session)).call_with_tools(
                messages,
                self.tool_defs,
                purpose="chat",
                prompt_name=PROMPT,
                prompt_hash=prompt_hash,
                creditor=self._budget_creditor(),
            )

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
