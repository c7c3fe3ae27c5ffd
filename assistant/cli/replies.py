"""`relance replies …`: read debtor replies from `.eml` files and show what they mean.

Thin: parse each file, call `analyse_reply`, render. The `Date` header is the received time.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from assistant.replies import analyse_reply
from assistant.replies.analysis import ReplyAnalysis
from assistant.replies.engine import ReplyEngine

app = typer.Typer(help="Read debtor replies: intent, promise, hand-off.", no_args_is_help=True)

_out = Console()
_err = Console(stderr=True, soft_wrap=True)


@app.callback()
def replies() -> None:
    """Read debtor replies: intent, promise, hand-off."""


class EngineName(StrEnum):
    """Which reply engine to use."""

    RULES = "rules"
    LLM = "llm"


def _load(path: Path) -> tuple[str, datetime, bool]:
    """Read an .eml file: body text, received time (Date header), auto-reply flag."""
    from assistant.mailparse.mime import parse_message

    parsed = parse_message(path.read_bytes())
    received = parsed.date
    if received is None:
        _err.print(f"[yellow]warning:[/] {path}: no Date header, using the current time")
        received = datetime.now(UTC)
    return parsed.text, received, parsed.is_auto_reply


def _llm_engine() -> ReplyEngine | None:
    """Return the LLM reply engine, or None (with a note) when no endpoint is configured.

    The LLM engine logs every call in the database named by RELANCE_DATABASE_URL.
    """
    from assistant.bootstrap import build_app
    from assistant.llm import LLMNotConfigured
    from assistant.replies.llm_engine import build_reply_engine

    try:
        return build_reply_engine(build_app())
    except LLMNotConfigured:
        _err.print(
            "[yellow]note:[/] no LLM endpoint configured (OPENAI_BASE_URL / OPENAI_API_KEY / "
            "RELANCE_LLM_MODEL): using the rules engine"
        )
        return None


def _row(table: Table, path: Path, a: ReplyAnalysis) -> None:
    promise = "—"
    if a.promise is not None:
        amount = (
            f"{a.promise.amount} {a.promise.currency or ''}".strip() if a.promise.amount else "?"
        )
        promise = f"{amount} on {a.promise.date or '?'}"
    table.add_row(
        path.name,
        a.intent.value,
        "yes" if a.needs_human else "no",
        promise,
        a.language,
        f"{a.confidence:.2f}",
        " | ".join(a.evidence)[:120],
    )


@app.command("analyze")
def analyze(
    paths: list[Path] = typer.Argument(..., help="One or more .eml files."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per file, per line."),
    engine: EngineName = typer.Option(EngineName.RULES, "--engine", help="rules or llm."),
) -> None:
    """Analyse debtor replies stored as .eml files."""
    reply_engine = _llm_engine() if engine is EngineName.LLM else None
    table = Table()
    table.add_column("file", overflow="fold")
    table.add_column("intent", no_wrap=True, min_width=20)
    table.add_column("human", no_wrap=True)
    table.add_column("promise")
    table.add_column("lang", no_wrap=True)
    table.add_column("conf", no_wrap=True)
    table.add_column("evidence", overflow="fold")
    failed = 0
    for path in paths:
        try:
            text, received, auto = _load(path)
        except Exception as exc:  # unreadable, missing or not an e-mail
            _err.print(f"[bold red]error:[/] {path}: {exc}", highlight=False)
            failed += 1
            continue
        analysis = analyse_reply(text, received, engine=reply_engine, auto_submitted=auto)
        if as_json:
            line = json.dumps(analysis.to_contract_dict(file=str(path)), ensure_ascii=False)
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        else:
            _row(table, path, analysis)
    if not as_json and table.row_count:
        _out.print(table)
    if failed:
        raise typer.Exit(1)
