"""`relance replies …`: read debtor replies from `.eml` files and show what they mean.

Thin: parse each file, call `analyse_reply`, render. The `Date` header is the received time.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

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


@app.command("train")
def train_command(
    corpus: list[Path] = typer.Option(
        None, "--corpus", help="Labelled corpus folder (labels.yaml + .eml); repeatable."
    ),
    with_corrections: bool = typer.Option(
        False, "--with-corrections", help="Also learn from officers' reviewed replies (database)."
    ),
    out: Path = typer.Option(None, "--out", help="Where to write the model (.npz)."),
) -> None:
    """Train the intent model (fixed seed) from labelled replies; held-out writers are skipped."""
    from assistant.replies.model import MODEL_ENV, shipped_model_path
    from assistant.replies.training import (
        WRITER_WEIGHT,
        Example,
        counts_by_intent,
        load_corpus,
        train,
    )

    folders = corpus or [
        p for p in (Path("tests/fixtures/replies"), Path("tests/fixtures/replies2")) if p.is_dir()
    ]
    examples: list[Example] = []
    for folder in folders:
        if not (folder / "labels.yaml").is_file():
            _err.print(f"[bold red]error:[/] {folder}: no labels.yaml here", highlight=False)
            raise typer.Exit(1)
        examples += load_corpus(folder)
    corrections = 0
    if with_corrections:
        from assistant.cli.common import get_app
        from assistant.db.engine import session_scope
        from assistant.replies import Intent
        from assistant.services.reply_review import correction_examples

        with session_scope(get_app().engine) as session:
            rows = correction_examples(session)
        examples += [
            Example(text, Intent(intent), group, WRITER_WEIGHT) for text, intent, group in rows
        ]
        corrections = len(rows)
    if not examples:
        _err.print("[bold red]error:[/] no labelled replies: give --corpus FOLDER", highlight=False)
        raise typer.Exit(1)
    target = out or shipped_model_path()
    try:
        model = train(examples)
    except ValueError as exc:
        _err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    model.save(target)
    _out.print(
        f"trained on {len(examples)} replies ({corrections} officer corrections) "
        f"from {len(folders)} corpus folder(s): {counts_by_intent(examples)}"
    )
    _out.print(f"model written to {target} (temperature {model.temperature:.2f})")
    if out is not None:
        _out.print(f"use it with {MODEL_ENV}={target}")


@app.command("review")
def review_command(
    reply_id: int = typer.Argument(None, metavar="[ID]", help="The reply to confirm or correct."),
    confirm: bool = typer.Option(False, "--confirm", help="Accept the suggested reading."),
    intent: str = typer.Option(None, "--intent", help="The right intent (a correction)."),
    promise_amount: str = typer.Option(None, "--promise-amount", help="Promised amount."),
    promise_date: str = typer.Option(None, "--promise-date", help="Promised date YYYY-MM-DD."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the replies waiting for an officer, or confirm/correct one (audited, then applied)."""
    from assistant.cli.common import fail, get_app, parse_date, print_json
    from assistant.db.engine import session_scope
    from assistant.replies import Intent
    from assistant.services.reply_review import Correction, ReviewError, review_queue, review_reply

    application = get_app()
    if reply_id is None:
        if confirm or intent or promise_amount or promise_date:
            fail("give the reply ID to confirm or correct (see `relance replies review`)")
        with session_scope(application.engine) as session:
            rows = review_queue(session)
        if as_json:
            print_json(rows)
            return
        table = Table("id", "case", "from", "suggested", "conf", "promise", "evidence")
        for r in rows:
            p = r["promise"]
            promise = (
                f"{p['amount'] or '?'} {p['currency'] or ''} on {p['date'] or '?'}" if p else "—"
            )
            table.add_row(
                str(r["id"]),
                r["case"] or "",
                r["from"] or "",
                r["intent"] + (" +" + ",".join(r["also"]) if r["also"] else ""),
                f"{r['confidence'] or 0:.2f}",
                promise,
                " | ".join(r["evidence"])[:100] or r["reply_text"][:100],
            )
        _out.print(table)
        _out.print(f"{len(rows)} repl(y/ies) to review")
        return
    if confirm == bool(intent):
        fail("give exactly one of --confirm or --intent X")
    try:
        wanted = Intent(intent) if intent else None
    except ValueError:
        fail(f"unknown intent {intent!r}: one of {', '.join(i.value for i in Intent)}")
    if wanted is None and (promise_amount or promise_date):
        fail("--promise-amount/--promise-date correct a reading: use them with --intent")
    when = parse_date(promise_date) if promise_date else None
    fix = Correction(intent=wanted, promise_amount=promise_amount, promise_date=when)
    try:
        with session_scope(application.engine) as session:
            outcome = review_reply(
                session, reply_id, fix, app=application, officer=application.actor
            )
            result: dict[str, Any] = {
                "id": reply_id,
                "intent": outcome.intent,
                "needs_human": outcome.needs_human,
                "actions": outcome.actions,
                "promise_id": outcome.promise_id,
                "handoff_id": outcome.handoff_id,
                "draft_id": outcome.draft_id,
            }
    except (ReviewError, LookupError) as exc:
        fail(str(exc))
    if as_json:
        print_json(result)
        return
    _out.print(
        f"reply {reply_id}: {result['intent']} — " + ("; ".join(result["actions"]) or "recorded")
    )
