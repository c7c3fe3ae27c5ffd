"""Measure the reply engine on the labelled corpus: accuracy, hand-off recall, promises, speed.

Usage (from the repository root):

    .venv/bin/python bench/replies_eval.py [--corpus tests/fixtures/replies] [--errors]
    .venv/bin/python bench/replies_eval.py --engine llm --model echo|hostile [--limit N]

Prints intent accuracy and macro-F1, needs_human recall and precision, promise date and
amount exact-match (over replies labelled as promises), the per-intent confusion matrix and
replies per second (analysis only, .eml parsing excluded, one core). `evaluate()` returns the
same figures for `tests/unit/test_reply_corpus.py`.

`--engine llm` runs the real LLM engine (LangChain ChatOpenAI, checks, fallback, call log in a
temporary SQLite file) against a scripted OpenAI-compatible endpoint on loopback
(`bench/scripted_models.py`): `echo` answers with a competent reading, `hostile` with a
confident wrong one. It measures the plumbing and the safety net, not a model's accuracy.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.mailparse.mime import parse_message  # noqa: E402
from assistant.replies import Intent, analyse_reply  # noqa: E402
from assistant.replies.analysis import ReplyAnalysis  # noqa: E402

DEFAULT_CORPUS = ROOT / "tests" / "fixtures" / "replies"


@dataclass
class Report:
    """The figures of one evaluation run."""

    n: int = 0
    intent_accuracy: float = 0.0
    macro_f1: float = 0.0
    needs_human_recall: float = 0.0
    needs_human_precision: float = 0.0
    promise_date_exact: float = 0.0
    promise_amount_exact: float = 0.0
    promises: int = 0
    replies_per_second: float = 0.0
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _load(corpus: Path) -> list[tuple[dict, str, object, bool]]:
    labels = yaml.safe_load((corpus / "labels.yaml").read_text(encoding="utf-8"))
    items = []
    for label in labels:
        parsed = parse_message((corpus / label["file"]).read_bytes())
        received = parsed.date
        if received is None:
            raise ValueError(f"{label['file']}: no Date header")
        if received.tzinfo is None:
            received = received.replace(tzinfo=UTC)
        items.append((label, parsed.text, received, parsed.is_auto_reply))
    return items


def _same_amount(expected: object, got: Decimal | None) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    return Decimal(str(expected)) == got


def evaluate(
    corpus: Path = DEFAULT_CORPUS, repeat: int = 1, engine: object = None, limit: int | None = None
) -> Report:
    """Run a reply engine (the rules by default) over the corpus and compute every figure."""
    items = _load(corpus)[:limit]
    start = time.perf_counter()
    results: list[ReplyAnalysis] = []
    for _ in range(repeat):
        results = [
            analyse_reply(text, rec, engine=engine, auto_submitted=auto)  # type: ignore[arg-type]
            for _, text, rec, auto in items
        ]
    elapsed = time.perf_counter() - start
    rep = Report(n=len(items), replies_per_second=len(items) * repeat / elapsed if elapsed else 0)
    names = [i.value for i in Intent]
    rep.confusion = {a: dict.fromkeys(names, 0) for a in names}
    correct = tp_h = fp_h = fn_h = 0
    date_ok = amount_ok = promises = 0
    for (label, _, _, _), got in zip(items, results, strict=True):
        want = label["intent"]
        rep.confusion[want][got.intent.value] += 1
        ok = want == got.intent.value
        correct += ok
        h_want, h_got = bool(label["needs_human"]), got.needs_human
        tp_h += h_want and h_got
        fp_h += h_got and not h_want
        fn_h += h_want and not h_got
        problems = [] if ok else [f"intent {got.intent.value}"]
        if h_want != h_got:
            problems.append(f"needs_human {h_got}")
        if want == "promise_to_pay" and label.get("promise"):
            promises += 1
            p = label["promise"]
            gp = got.promise
            got_date = gp.date.isoformat() if gp and gp.date else None
            got_amount = gp.amount if gp else None
            if label.get("date_vague") or got_date == p["date"]:
                date_ok += 1
            else:
                problems.append(f"date {got_date} != {p['date']}")
            if _same_amount(p["amount"], got_amount):
                amount_ok += 1
            else:
                problems.append(f"amount {got_amount} != {p['amount']}")
        if problems:
            rep.errors.append(f"{label['file']}: want {want}: " + "; ".join(problems))
    rep.intent_accuracy = correct / len(items)
    f1s = []
    for name in names:
        tp = rep.confusion[name][name]
        fp = sum(rep.confusion[o][name] for o in names if o != name)
        fn = sum(rep.confusion[name][o] for o in names if o != name)
        if tp + fp + fn:
            f1s.append(2 * tp / (2 * tp + fp + fn))
    rep.macro_f1 = sum(f1s) / len(f1s) if f1s else 0.0
    rep.needs_human_recall = tp_h / (tp_h + fn_h) if tp_h + fn_h else 1.0
    rep.needs_human_precision = tp_h / (tp_h + fp_h) if tp_h + fp_h else 1.0
    rep.promises = promises
    rep.promise_date_exact = date_ok / promises if promises else 1.0
    rep.promise_amount_exact = amount_ok / promises if promises else 1.0
    return rep


def _print(rep: Report, show_errors: bool) -> None:
    print(f"replies: {rep.n} (promises labelled: {rep.promises})")
    print(f"intent accuracy      {rep.intent_accuracy:.3f}")
    print(f"intent macro-F1      {rep.macro_f1:.3f}")
    print(f"needs_human recall   {rep.needs_human_recall:.3f}")
    print(f"needs_human precision {rep.needs_human_precision:.3f}")
    print(f"promise date exact   {rep.promise_date_exact:.3f}")
    print(f"promise amount exact {rep.promise_amount_exact:.3f}")
    print(f"replies per second   {rep.replies_per_second:.0f}")
    names = list(rep.confusion)
    short = {n: n[:6] for n in names}
    print("\nconfusion (rows = labelled, columns = predicted)")
    print(" " * 22 + " ".join(f"{short[n]:>6}" for n in names))
    for want in names:
        row = rep.confusion[want]
        if sum(row.values()):
            print(f"{want:>22}" + " ".join(f"{row[n] or '.':>6}" for n in names))
    if show_errors and rep.errors:
        print("\nerrors:")
        for line in rep.errors:
            print("  " + line)


def main() -> None:
    """Parse arguments, evaluate, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--errors", action="store_true", help="list every misread reply")
    parser.add_argument("--repeat", type=int, default=5, help="passes for the speed figure")
    parser.add_argument("--engine", choices=["rules", "llm"], default="rules")
    parser.add_argument("--model", choices=["echo", "hostile"], default="echo")
    parser.add_argument("--limit", type=int, default=None, help="only the first N replies")
    args = parser.parse_args()
    if args.engine == "rules":
        _print(evaluate(args.corpus, repeat=args.repeat, limit=args.limit), args.errors)
        return
    _evaluate_llm(args)


def _evaluate_llm(args: argparse.Namespace) -> None:
    import tempfile

    from sqlalchemy import func
    from sqlmodel import Session, select

    from assistant.config import Settings
    from assistant.db.engine import create_schema, make_engine
    from assistant.db.llm_models import LLMCall
    from assistant.llm import LLMClient, PromptLibrary
    from assistant.replies.llm_engine import LLMReplyEngine
    from bench.scripted_models import MODELS
    from tests.integration.llm_server import scripted_server

    with tempfile.TemporaryDirectory() as tmp, scripted_server(MODELS[args.model]) as server:
        url = f"sqlite:///{tmp}/llm.db"
        db = make_engine(url)
        create_schema(db)
        settings = Settings(  # type: ignore[call-arg]
            database_url=url,
            OPENAI_BASE_URL=server.base_url,
            llm_model=f"scripted-{args.model}",
            llm_daily_token_budget=0,
            _env_file=None,
        )
        client = LLMClient(settings, db, backoff_base=0.01)
        engine = LLMReplyEngine(client, PromptLibrary(ROOT / "prompts"), creditor="bench")
        rep = evaluate(args.corpus, repeat=1, engine=engine, limit=args.limit)
        with Session(db) as session:
            calls = session.exec(select(func.count()).select_from(LLMCall)).one()
            fallbacks = session.exec(
                select(func.count()).select_from(LLMCall).where(LLMCall.fallback_used == True)  # noqa: E712
            ).one()
        db.dispose()
    print(f"engine: llm against the scripted '{args.model}' endpoint on loopback")
    print(f"model calls logged   {calls}, readings rejected by the checks (rules used) {fallbacks}")
    _print(rep, args.errors)


if __name__ == "__main__":
    main()
