"""Measure the reply engines: dev (cross-validated) and held-out figures, automation, speed.

Usage (from the repository root):

    .venv/bin/python bench/replies_eval.py [--no-dev] [--errors] [--engine offline|rules]
    .venv/bin/python bench/replies_eval.py --corpus tests/fixtures/replies [--errors]
    .venv/bin/python bench/replies_eval.py --engine llm [--base-url URL --llm-model NAME]
    .venv/bin/python bench/replies_eval.py --engine llm --model echo|hostile [--limit N]

Without `--corpus` it prints two blocks: DEV (the project corpus plus the training writers of
`tests/fixtures/replies2`, the model cross-validated by writer batch) and HELD-OUT (the writers
whose files start with `heldout-`, read by the shipped model; never listed one by one). Each
block: intent accuracy and macro-F1, needs_human recall and precision, promise date (firm
dates) and amount exact-match, the share of automatic readings and their accuracy, the
coverage/accuracy curve of automatic readings by confidence threshold, the per-intent table,
and replies per second (analysis only, median of `--repeat` passes with the range).
`evaluate()` returns the same figures for `tests/unit/test_reply_corpus.py`.

`--engine llm` runs the real LLM engine (LangChain ChatOpenAI, checks, fallback, call log in a
temporary SQLite file) on the held-out set against `--base-url` (any OpenAI-compatible
endpoint) or, without it, a scripted endpoint on loopback (`bench/scripted_models.py`: `echo`
answers with a competent reading, `hostile` with a confident wrong one — the plumbing and the
safety net, not a model's accuracy).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import UTC
from decimal import Decimal
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.mailparse.mime import parse_message  # noqa: E402
from assistant.replies import Intent, analyse_reply  # noqa: E402
from assistant.replies.analysis import NEEDS_HUMAN_INTENTS, ReplyAnalysis  # noqa: E402
from assistant.replies.training import group_of_label  # noqa: E402

DEFAULT_CORPUS = ROOT / "tests" / "fixtures" / "replies"
WRITERS_CORPUS = ROOT / "tests" / "fixtures" / "replies2"
CURVE = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.99)


@dataclass
class Item:
    """One labelled reply ready to read."""

    label: dict
    text: str
    received: object
    auto: bool
    group: str


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
    speed_range: tuple[float, float] = (0.0, 0.0)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    automatic_coverage: float = 0.0
    automatic_accuracy: float = 1.0
    curve: list[tuple[float, float, float]] = field(default_factory=list)


def load_items(corpus: Path, heldout: bool | None = None) -> list[Item]:
    """Read a labelled corpus (`heldout`: only held-out writers, only the others, or all)."""
    labels = yaml.safe_load((corpus / "labels.yaml").read_text(encoding="utf-8")) or []
    items = []
    for label in labels:
        if heldout is not None and bool(label.get("heldout")) != heldout:
            continue
        parsed = parse_message((corpus / label["file"]).read_bytes())
        received = parsed.date
        if received is None:
            raise ValueError(f"{label['file']}: no Date header")
        if received.tzinfo is None:
            received = received.replace(tzinfo=UTC)
        group = group_of_label(label)
        items.append(Item(label, parsed.text, received, parsed.is_auto_reply, group))
    return items


def _same_amount(expected: object, got: Decimal | None) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    return Decimal(str(expected)) == got


def _read_all(items: list[Item], engine: object) -> list[ReplyAnalysis]:
    return [
        analyse_reply(it.text, it.received, engine=engine, auto_submitted=it.auto)  # type: ignore[arg-type]
        for it in items
    ]


def evaluate(
    corpus: Path = DEFAULT_CORPUS,
    repeat: int = 1,
    engine: object = None,
    limit: int | None = None,
    heldout: bool | None = None,
) -> Report:
    """Run a reply engine (rules + model by default) over a corpus and compute every figure."""
    items = load_items(corpus, heldout)[:limit]
    speeds = []
    results: list[ReplyAnalysis] = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        results = _read_all(items, engine)
        elapsed = time.perf_counter() - start
        speeds.append(len(items) / elapsed if elapsed else 0.0)
    rep = score(items, results)
    speeds.sort()
    rep.replies_per_second = speeds[len(speeds) // 2]
    rep.speed_range = (speeds[0], speeds[-1])
    return rep


def _promise_problems(label: dict, got: ReplyAnalysis) -> tuple[bool, bool, list[str]]:
    p = label["promise"]
    gp = got.promise
    got_date = gp.date.isoformat() if gp and gp.date else None
    got_amount = gp.amount if gp else None
    problems = []
    vague = label.get("date_vague") or p.get("firm") is False
    date_ok = bool(vague or got_date == p.get("date"))
    if not date_ok:
        problems.append(f"date {got_date} != {p.get('date')}")
    amount_ok = _same_amount(p.get("amount"), got_amount)
    if not amount_ok:
        problems.append(f"amount {got_amount} != {p.get('amount')}")
    return date_ok, amount_ok, problems


def score(items: list[Item], results: list[ReplyAnalysis]) -> Report:
    """Compute every figure from the readings of labelled replies."""
    rep = Report(n=len(items))
    names = [i.value for i in Intent]
    rep.confusion = {a: dict.fromkeys(names, 0) for a in names}
    correct = tp_h = fp_h = fn_h = 0
    date_ok = amount_ok = promises = 0
    right: list[bool] = []
    for it, got in zip(items, results, strict=True):
        label = it.label
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
            d_ok, a_ok, more = _promise_problems(label, got)
            date_ok += d_ok
            amount_ok += a_ok
            problems += more
        right.append(not problems)
        if problems:
            rep.errors.append(f"{label['file']}: want {want}: " + "; ".join(problems))
    rep.intent_accuracy = correct / len(items) if items else 0.0
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
    auto = [ok for ok, got in zip(right, results, strict=True) if got.automatic]
    rep.automatic_coverage = len(auto) / len(items) if items else 0.0
    rep.automatic_accuracy = sum(auto) / len(auto) if auto else 1.0
    rep.curve = automatic_curve(right, results)
    return rep


def _eligible(got: ReplyAnalysis) -> bool:
    """Tell whether a reading would be automatic at a zero threshold (both sides agree)."""
    probs = got.model_probabilities or {}
    return (
        got.engine == "rules+model"
        and (not got.needs_human or got.intent in NEEDS_HUMAN_INTENTS)
        and got.decided_by == "both"
        and bool(probs)
        and (got.intent is not Intent.PROMISE_TO_PAY or bool(got.promise and got.promise.date))
    )


def automatic_curve(
    right: list[bool], results: list[ReplyAnalysis]
) -> list[tuple[float, float, float]]:
    """Return (threshold, coverage, accuracy) of automatic readings for several thresholds."""
    out = []
    n = len(results) or 1
    for t in CURVE:
        chosen = [
            ok
            for ok, got in zip(right, results, strict=True)
            if _eligible(got) and got.confidence >= t
        ]
        out.append((t, len(chosen) / n, sum(chosen) / len(chosen) if chosen else 1.0))
    return out


def cross_validated(items: list[Item], folds: int = 5) -> list[ReplyAnalysis]:
    """Read every item with a model trained on the other writers' folds (grouped by writer)."""
    from sklearn.model_selection import GroupKFold

    from assistant.replies.hybrid import HybridEngine
    from assistant.replies.text import extract_reply_text
    from assistant.replies.training import WRITER_WEIGHT, Example, fit_temperature, train

    examples = [
        Example(
            extract_reply_text(it.text),
            Intent(it.label["intent"]),
            it.group,
            WRITER_WEIGHT if it.label.get("writer") else 1.0,
        )
        for it in items
    ]
    results: list[ReplyAnalysis | None] = [None] * len(items)
    groups = [it.group for it in items]
    splits = list(GroupKFold(n_splits=folds).split(examples, groups=groups))
    models = [train([examples[i] for i in tr], calibrate=False) for tr, _ in splits]
    scores: list[dict[str, float]] = []
    truth: list[str] = []
    for model, (_, te) in zip(models, splits, strict=True):
        for i in te:
            probs = model.probabilities(examples[i].text)
            scores.append({k.value: math.log(max(v, 1e-12)) for k, v in probs.items()})
            truth.append(examples[i].intent.value)
    temperature = fit_temperature(scores, truth)  # as `train` calibrates the shipped model
    for model, (_, te) in zip(models, splits, strict=True):
        engine = HybridEngine(replace(model, temperature=temperature))
        for i in te:
            it = items[i]
            results[i] = analyse_reply(it.text, it.received, engine=engine, auto_submitted=it.auto)
    return [r for r in results if r is not None]


def _print(rep: Report, show_errors: bool, title: str = "") -> None:
    if title:
        print(f"\n=== {title} ===")
    print(f"replies: {rep.n} (promises labelled: {rep.promises})")
    print(f"intent accuracy      {rep.intent_accuracy:.3f}")
    print(f"intent macro-F1      {rep.macro_f1:.3f}")
    print(f"needs_human recall   {rep.needs_human_recall:.3f}")
    print(f"needs_human precision {rep.needs_human_precision:.3f}")
    print(f"promise date exact   {rep.promise_date_exact:.3f}")
    print(f"promise amount exact {rep.promise_amount_exact:.3f}")
    print(
        f"automatic            {rep.automatic_coverage:.3f} of replies, "
        f"{rep.automatic_accuracy:.3f} of them right"
    )
    if rep.replies_per_second:
        low, high = rep.speed_range
        print(f"replies per second   {rep.replies_per_second:.0f} (range {low:.0f}-{high:.0f})")
    if any(c for _, c, _ in rep.curve):
        print(
            "automatic curve (threshold: coverage, accuracy): "
            + "; ".join(f"{t:.2f}: {c:.2f}, {a:.3f}" for t, c, a in rep.curve)
        )
    names = list(rep.confusion)
    print("\nper intent (labelled n, recall, precision; rows = labelled, columns = predicted)")
    print(" " * 22 + "     n   rec  prec " + " ".join(f"{n[:6]:>6}" for n in names))
    for want in names:
        row = rep.confusion[want]
        total = sum(row.values())
        predicted = sum(rep.confusion[o][want] for o in names)
        if total or predicted:
            rec = row[want] / total if total else 0.0
            prec = row[want] / predicted if predicted else 0.0
            print(
                f"{want:>22}{total:>6}{rec:>6.2f}{prec:>6.2f} "
                + " ".join(f"{row[n] or '.':>6}" for n in names)
            )
    if show_errors and rep.errors:
        print("\nerrors:")
        for line in rep.errors:
            print("  " + line)


def _offline_engine(name: str) -> object:
    if name == "rules":
        from assistant.replies.rules_engine import RulesEngine

        return RulesEngine()
    from assistant.replies.hybrid import HybridEngine

    return HybridEngine()


def main() -> None:
    """Parse arguments, evaluate, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None, help="one corpus, every reply")
    parser.add_argument("--errors", action="store_true", help="list every misread dev reply")
    parser.add_argument("--repeat", type=int, default=3, help="passes for the speed figure")
    parser.add_argument("--engine", choices=["offline", "rules", "llm"], default="offline")
    parser.add_argument("--model", choices=["echo", "hostile"], default="echo")
    parser.add_argument("--base-url", default=None, help="an OpenAI-compatible endpoint")
    parser.add_argument("--llm-model", default="default", help="model name at --base-url")
    parser.add_argument("--limit", type=int, default=None, help="only the first N replies")
    parser.add_argument("--no-dev", action="store_true", help="skip the cross-validated dev run")
    args = parser.parse_args()
    if args.engine == "llm":
        _evaluate_llm(args)
        return
    engine = _offline_engine(args.engine)
    if args.corpus is not None:
        rep = evaluate(args.corpus, repeat=args.repeat, engine=engine, limit=args.limit)
        _print(rep, args.errors, f"{args.corpus} ({args.engine})")
        return
    if not args.no_dev:
        dev = load_items(DEFAULT_CORPUS) + load_items(WRITERS_CORPUS, heldout=False)
        dev = dev[: args.limit]
        if args.engine == "offline":
            results = cross_validated(dev)
            title = "DEV: project corpus + training writers, model cross-validated by writer"
        else:
            results = _read_all(dev, engine)
            title = "DEV: project corpus + training writers (rules alone)"
        _print(score(dev, results), args.errors, title)
    rep = evaluate(WRITERS_CORPUS, repeat=args.repeat, engine=engine, heldout=True)
    # held-out readings are never listed one by one: only aggregate figures
    _print(rep, False, f"HELD-OUT writers, never trained on ({args.engine})")


def _evaluate_llm(args: argparse.Namespace) -> None:
    import tempfile
    from contextlib import nullcontext

    from sqlalchemy import func
    from sqlmodel import Session, select

    from assistant.config import Settings
    from assistant.db.engine import create_schema, make_engine
    from assistant.db.llm_models import LLMCall
    from assistant.llm import LLMClient, PromptLibrary
    from assistant.replies.llm_engine import LLMReplyEngine
    from bench.scripted_models import MODELS
    from tests.integration.llm_server import scripted_server

    scripted = args.base_url is None
    serving = scripted_server(MODELS[args.model]) if scripted else nullcontext(None)
    with tempfile.TemporaryDirectory() as tmp, serving as server:
        url = f"sqlite:///{tmp}/llm.db"
        db = make_engine(url)
        create_schema(db)
        settings = Settings(  # type: ignore[call-arg]
            database_url=url,
            OPENAI_BASE_URL=server.base_url if scripted else args.base_url,
            llm_model=f"scripted-{args.model}" if scripted else args.llm_model,
            llm_daily_token_budget=0,
            _env_file=None,
        )
        client = LLMClient(settings, db, backoff_base=0.01)
        engine = LLMReplyEngine(client, PromptLibrary(ROOT / "prompts"), creditor="bench")
        if args.corpus is not None:
            rep = evaluate(args.corpus, repeat=1, engine=engine, limit=args.limit)
        else:
            rep = evaluate(WRITERS_CORPUS, repeat=1, engine=engine, limit=args.limit, heldout=True)
        with Session(db) as session:
            calls = session.exec(select(func.count()).select_from(LLMCall)).one()
            fallbacks = session.exec(
                select(func.count()).select_from(LLMCall).where(LLMCall.fallback_used == True)  # noqa: E712
            ).one()
        db.dispose()
    where = f"the scripted '{args.model}' endpoint on loopback" if scripted else args.base_url
    print(f"engine: llm against {where}")
    print(f"model calls logged   {calls}, readings rejected by the checks (rules used) {fallbacks}")
    _print(rep, args.errors and args.corpus is not None, "held-out" if args.corpus is None else "")


if __name__ == "__main__":
    main()
