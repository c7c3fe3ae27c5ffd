"""`relance chat`: ask the assistant about cases, promises, drafts and policies."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from assistant.cli.common import AS_OPTION, console, err_console, fail, get_app, print_json

if TYPE_CHECKING:
    from assistant.chat.agent import ChatAnswer

HOWTO = """No LLM endpoint is configured, so the chat is not available.
Set, in the environment or in `.env`:
  OPENAI_API_KEY=…          (OpenAI, Azure OpenAI, Mistral…; any value for a local server)
  OPENAI_BASE_URL=…         (e.g. http://127.0.0.1:11434/v1 for Ollama; omit for OpenAI)
  RELANCE_LLM_MODEL=…       (a model that supports tool calling, e.g. gpt-4o-mini)
See docs/chat.md and docs/llm.md."""


def chat_command(
    question: str | None = typer.Argument(
        None, help="One question; omit it for an interactive conversation."
    ),
    actor: str | None = AS_OPTION,
    creditor: list[str] | None = typer.Option(
        None,
        "--creditor",
        help="Creditor slug the officer may see (repeatable); default: every creditor.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the answer and tool calls as JSON."),
) -> None:
    """Ask the assistant; it reads the database and may queue drafts, never sends or approves."""
    from assistant.chat.agent import ChatSession
    from assistant.llm import LLMNotConfigured

    application = get_app(actor)
    if not application.settings.llm_configured:
        err_console.print(HOWTO, highlight=False, markup=False)
        raise typer.Exit(1)
    try:
        chat = ChatSession(application, application.actor, set(creditor) if creditor else None)
    except LLMNotConfigured:
        err_console.print(HOWTO, highlight=False, markup=False)
        raise typer.Exit(1) from None
    if question is not None:
        answer = chat.ask(question)
        if as_json:
            print_json(answer.as_dict())
        else:
            _show(answer)
        if answer.error and answer.error != "max_rounds":
            raise typer.Exit(1)
        return
    if as_json:
        fail("--json needs a question")
    console.print("Ask about cases, promises, drafts or policies. Empty line or Ctrl-D to quit.")
    while True:
        try:
            line = console.input("[bold]> [/]").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not line or line in ("quit", "exit"):
            return
        _show(chat.ask(line))


def _show(answer: ChatAnswer) -> None:
    for call in answer.tool_calls:
        mark = "refused" if call.refused else ("ok" if call.ok else "error")
        console.print(f"[dim]· {call.name} {call.args} — {mark}[/]", highlight=False)
    console.print(answer.text, highlight=False, markup=False)
