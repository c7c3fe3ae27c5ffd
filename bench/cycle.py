"""Benchmark: generate a large portfolio, import it, run one full cycle, print the figures.

`python bench/cycle.py` generates 20,000 debtors / 100,000 invoices with the sample
generator (`examples/generate.py`) into a temp folder, imports them into a fresh temp SQLite
database, runs one cycle on the reference date, and prints rows/s, drafts/s and peak memory
(a Markdown table ready for README). It never touches the working database.

To time the cycle again without generating and importing again, keep a work folder and
reuse it: `python bench/cycle.py --keep /tmp/relance-bench --reuse` caches the imported
database there (keyed by size, seed and date) and copies it fresh for each run; the import
figures shown are then those of the run that built the cache, and the peak memory is the
cycle's alone. `--profile FILE` writes a cProfile of the cycle (`python -m pstats FILE`).
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import importlib.util
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 26)


def peak_rss_mb() -> float:
    """Return the peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)  # bytes on macOS, KiB else


def load_generator() -> ModuleType:
    """Load `examples/generate.py` (not a package) as a module."""
    name = "relance_examples_generate"
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / "generate.py")
    if spec is None or spec.loader is None:
        raise SystemExit("cannot load examples/generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def require(module: str, name: str, what: str) -> Callable[..., Any] | None:
    """Return `module.name`, or print which piece is missing and return None."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        print(f"MISSING: {what} — `{module}.{name}` is not available yet ({exc}).")
        return None


class Timer:
    """Measure the wall time of a block."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def _progress(enabled: bool) -> Callable[[str, int, int], None] | None:
    if not enabled:
        return None
    last = [0.0]

    def tick(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 1 or done == total:
            last[0] = now
            print(f"  … {stage}: {done}/{total}", file=sys.stderr, flush=True)

    return tick


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Generate, import and cycle; return the figures (missing pieces leave them out)."""
    figures: dict[str, Any] = {
        "debtors": args.debtors,
        "invoices": args.invoices,
        "as_of": args.as_of.isoformat(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    cache_db, cache_json = work / "imported.db", work / "imported.json"
    key = {k: figures[k] for k in ("debtors", "invoices", "as_of")} | {"seed": args.seed}
    if args.reuse and cache_db.exists() and cache_json.exists():
        cached = json.loads(cache_json.read_text())
        if cached.get("key") == key:
            print(f"reusing the imported portfolio in {cache_db} (generate and import skipped)")
            figures.update(cached["figures"])
            shutil.copyfile(cache_db, work / "bench.db")
            return _cycle(args, work, figures)
    gen = load_generator()
    data = work / "portfolio"
    with Timer() as t:
        ledgers = gen.generate_portfolio(
            data, debtors=args.debtors, invoices=args.invoices, as_of=args.as_of, seed=args.seed
        )
    figures["generate_s"] = round(t.seconds, 2)
    figures["payments"] = sum(len(lg.payments) for lg in ledgers.values())
    print(
        f"generated {args.debtors} debtors / {args.invoices} invoices in {t.seconds:.1f} s "
        f"({', '.join(f'{s}: {len(lg.invoices)}' for s, lg in ledgers.items())})"
    )

    import_invoices = require("assistant.importing.service", "import_invoices", "the importer")
    import_payments = require("assistant.importing.service", "import_payments", "the importer")
    build_app = require("assistant.bootstrap", "build_app", "the composition root")
    settings_cls = require("assistant.config", "Settings", "the settings")
    if not (import_invoices and build_app and settings_cls):
        figures["missing"] = True
        return figures

    db = work / "bench.db"
    db.unlink(missing_ok=True)  # a kept folder may hold the database of an earlier run
    settings = settings_cls(database_url=f"sqlite:///{db}", policies_dir=ROOT / "policies")
    app = build_app(settings, actor="bench")
    progress = _progress(args.progress)
    try:
        with Timer() as t:
            rows = 0
            for slug in ledgers:
                folder = data / slug
                source = next(folder.glob("invoices.*"))
                report = import_invoices(
                    app,
                    source,
                    slug,
                    mapping=folder / "mapping.yaml",
                    today=args.as_of,
                    progress=progress,
                )
                _check(report, source)
                rows += report.rows
        figures["import_rows"] = rows
        figures["import_s"] = round(t.seconds, 2)
        figures["import_rows_per_s"] = round(rows / t.seconds)
        figures["rss_after_import_mb"] = round(peak_rss_mb())
        print(
            f"imported {rows} invoice rows in {t.seconds:.1f} s "
            f"({rows / t.seconds:,.0f} rows/s), peak RSS {peak_rss_mb():.0f} MiB"
        )
        if import_payments:
            with Timer() as t:
                paid = 0
                for slug in ledgers:
                    folder = data / slug
                    report = import_payments(
                        app, folder / "payments.csv", slug, mapping=folder / "payments-mapping.yaml"
                    )
                    _check(report, folder / "payments.csv")
                    paid += report.rows
            figures["payments_s"] = round(t.seconds, 2)
            print(f"imported {paid} payments in {t.seconds:.1f} s")

    finally:
        app.close()
    if args.reuse:
        shutil.copyfile(db, cache_db)
        saved = {k: v for k, v in figures.items() if k not in key}
        cache_json.write_text(json.dumps({"key": key, "figures": saved}))
    return _cycle(args, work, figures)


def _cycle(args: argparse.Namespace, work: Path, figures: dict[str, Any]) -> dict[str, Any]:
    """Run one cycle on the imported database `work/bench.db` and add its figures."""
    run_cycle = require("assistant.services.cycle", "run_cycle", "the cycle service")
    build_app = require("assistant.bootstrap", "build_app", "the composition root")
    settings_cls = require("assistant.config", "Settings", "the settings")
    if not (run_cycle and build_app and settings_cls):
        figures["missing"] = True
        return figures
    db = work / "bench.db"
    settings = settings_cls(database_url=f"sqlite:///{db}", policies_dir=ROOT / "policies")
    app = build_app(settings, actor="bench")
    progress = _progress(args.progress)
    try:
        try:
            profiler = cProfile.Profile() if args.profile else None
            with Timer() as t:
                if profiler:
                    profiler.enable()
                cycle = run_cycle(app, args.as_of, progress=progress)
                if profiler:
                    profiler.disable()
            if profiler:
                profiler.dump_stats(args.profile)
                print(f"cycle profile written to {args.profile} (python -m pstats {args.profile})")
        except Exception as exc:
            if "Template" not in type(exc).__name__:
                raise
            print(f"MISSING: usable letter templates — the cycle cannot render drafts ({exc}).")
            figures["missing"] = True
            return figures
        drafts = cycle.total("drafts")
        cases = _count_cases(app)
        figures.update(
            cycle_s=round(t.seconds, 2),
            drafts=drafts,
            cases=cases,
            handoffs=cycle.total("handoffs"),
            blocked=cycle.blocked,
            drafts_per_s=round(drafts / t.seconds),
            cases_per_s=round(cases / t.seconds),
            peak_rss_mb=round(peak_rss_mb()),
        )
        print(
            f"cycle on {args.as_of}: {drafts} drafts ({cycle.blocked} blocked), "
            f"{cycle.total('handoffs')} hand-offs, {cases} cases in {t.seconds:.1f} s "
            f"→ {drafts / t.seconds:,.0f} drafts/s, {cases / t.seconds:,.0f} cases/s"
        )
    finally:
        app.close()
    return figures


def _check(report: Any, path: Path) -> None:
    if not getattr(report, "ok", True):
        errors = "\n".join(f"  {e}" for e in report.errors[:10])
        raise SystemExit(f"import of {path} failed:\n{errors}")


def _count_cases(app: Any) -> int:
    from sqlalchemy import func
    from sqlmodel import Session, select

    from assistant.db.models import Case

    with Session(app.engine) as session:
        return int(session.exec(select(func.count()).select_from(Case)).one())


def markdown(f: dict[str, Any]) -> str:
    """Return the figures as the Markdown table README shows."""
    rows = [
        ("Portfolio", f"{f['debtors']:,} debtors / {f['invoices']:,} invoices"),
        ("Machine", f"{f['cpus']} CPU, Python {f['python']}, SQLite"),
        ("Generate", f"{f['generate_s']} s"),
    ]
    if "import_s" in f:
        rows.append(("Import invoices", f"{f['import_s']} s — {f['import_rows_per_s']:,} rows/s"))
    if "payments_s" in f:
        rows.append(("Import payments", f"{f['payments']:,} rows in {f['payments_s']} s"))
    if "cycle_s" in f:
        rows.append(("Cycle", f"{f['cycle_s']} s — {f['drafts']:,} drafts, {f['cases']:,} cases"))
        rows.append(("Throughput", f"{f['drafts_per_s']:,} drafts/s, {f['cases_per_s']:,} cases/s"))
        rows.append(("Peak memory", f"{f['peak_rss_mb']} MiB RSS"))
    lines = ["| Measure | Result |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the benchmark, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debtors", type=int, default=20_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--as-of", type=date.fromisoformat, default=AS_OF)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--progress", action="store_true", help="show progress on stderr")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the cycle to this file")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: cache the imported database there and reuse it on the next run "
        "(same size, seed and date), so only the cycle is timed again",
    )
    args = parser.parse_args(argv)
    if args.reuse and not args.keep:
        parser.error("--reuse needs --keep DIR")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        figures = run(args, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="relance-bench-") as tmp:
            figures = run(args, Path(tmp))
    print()
    print(json.dumps(figures, indent=2) if args.json else markdown(figures))
    return 2 if figures.get("missing") else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
