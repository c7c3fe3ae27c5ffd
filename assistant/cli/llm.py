"""`relance llm`: check the configured endpoint, read the model-call log. Thin: no logic here."""

from __future__ import annotations

from typing import Literal

import typer
from pydantic import BaseModel
from rich.markup import escape
from rich.table import Table

from assistant.cli.common import console, err_console, get_app, print_json
from assistant.redact import redact_url

app = typer.Typer(
    help="Language-model endpoint: check it, read the call log.", no_args_is_help=True
)


class Probe(BaseModel):
    """A tiny answer to test structured output."""

    answer: Literal["ok"]
    number: int


PROBE = [
    {"role": "system", "content": "You answer health checks in the requested structure."},
    {"role": "user", "content": 'Answer "ok" and the number 42.'},
]


@app.command("check")
def check() -> None:
    """Say whether the endpoint answers and which structured-output methods work."""
    from assistant.llm import BudgetExceeded, LLMNotConfigured, build_llm_client

    application = get_app()
    settings = application.settings
    try:
        client = build_llm_client(application, max_attempts=1)
    except LLMNotConfigured as exc:
        err_console.print(f"[bold red]not configured:[/] {exc}", highlight=False)
        err_console.print(
            "Examples:\n"
            "  OpenAI   OPENAI_API_KEY=sk-…  RELANCE_LLM_MODEL=gpt-4o-mini\n"
            "  Mistral  OPENAI_API_KEY=…  OPENAI_BASE_URL=https://api.mistral.ai/v1  "
            "RELANCE_LLM_MODEL=mistral-small-latest\n"
            "  Ollama   OPENAI_BASE_URL=http://127.0.0.1:11434/v1  RELANCE_LLM_MODEL=llama3.1  "
            "RELANCE_LLM_STRUCTURED_METHOD=function_calling",
            highlight=False,
        )
        raise typer.Exit(1) from None
    endpoint = redact_url(settings.openai_base_url or "https://api.openai.com/v1 (default)")
    redact = settings.redactor()
    console.print(f"endpoint: {endpoint}\nmodel:    {settings.llm_model}", highlight=False)
    try:
        chat = client.chat(
            "check", None, [{"role": "user", "content": "Reply with the single word OK."}],
            use_cache=False,
        )  # fmt: skip
        if not chat.ok:
            console.print(
                f"[red]✗ the endpoint does not answer:[/] {escape(redact(chat.error))}",
                highlight=False,
            )
            raise typer.Exit(1)
        console.print(
            f"[green]✓[/] answers ({chat.latency_ms} ms, {chat.tokens_in}+{chat.tokens_out} tokens)"
        )
        works: dict[str, bool] = {}
        for method in ("json_schema", "function_calling"):
            result = client.structured("check", None, PROBE, Probe, method=method, use_cache=False)
            works[method] = result.ok
            mark = "[green]✓[/]" if result.ok else "[red]✗[/]"
            detail = f"{result.latency_ms} ms" if result.ok else redact(result.error or "")[:200]
            console.print(
                f"{mark} structured output, method {method}: {escape(detail)}", highlight=False
            )
    except BudgetExceeded as exc:
        err_console.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(1) from None
    configured = settings.llm_structured_method
    if works[configured]:
        console.print(f"ready: RELANCE_LLM_STRUCTURED_METHOD={configured} works.")
        return
    other = [m for m, ok in works.items() if ok]
    if other:
        console.print(
            f"[yellow]set RELANCE_LLM_STRUCTURED_METHOD={other[0]}[/]: the configured method "
            f"({configured}) fails on this endpoint.",
            highlight=False,
        )
    else:
        console.print("[red]no structured-output method works: the LLM engines will fall back.[/]")
    raise typer.Exit(1)


@app.command("log")
def log(
    as_json: bool = typer.Option(False, "--json", help="One JSON object per call, per line."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="How many calls, newest first."),
    purpose: str | None = typer.Option(None, "--purpose", help="Only calls of this purpose."),
) -> None:
    """Show the latest model calls: purpose, tokens, latency, errors, fallbacks."""
    from assistant.llm import recent_calls

    rows = recent_calls(get_app().engine, limit=limit, purpose=purpose)
    if as_json:
        for row in rows:
            base_url = redact_url(row.base_url) if row.base_url else None
            print_json(row.model_dump(mode="json") | {"base_url": base_url})
        return
    if not rows:
        console.print("no model call recorded yet")
        return
    table = Table(
        "id",
        "at (UTC)",
        "purpose",
        "creditor",
        "case",
        "model",
        "tokens",
        "ms",
        "flags",
        "error / fallback",
    )
    for row in rows:
        flags = " ".join(
            f for f, on in (("cached", row.cached), ("fallback", row.fallback_used)) if on
        )
        note = row.error or row.fallback_reason or ""
        table.add_row(
            str(row.id),
            row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            row.purpose,
            row.creditor or "",
            str(row.case_id or ""),
            row.model,
            f"{row.tokens_in}+{row.tokens_out}",
            str(row.latency_ms),
            flags,
            note[:80],
        )
    console.print(table)
