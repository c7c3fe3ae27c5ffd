"""Cycle benchmark against its floor: the daily cycle versus rendering and validating alone.

    python bench/cycle_speed.py [--invoices 100000] [--backend sqlite|postgresql] [--runs 3]
    python bench/cycle_speed.py --series 10000 100000

Each run is a child process. It imports a generated portfolio (invoices and payments, 1
debtor per 5 invoices; not timed), then times `run_cycle` on the reference date. The floor,
measured in the same run, renders and validates the same letters again with the cycle's own
renderer (templates compiled once per process, as in the cycle) and no database (the inputs the cycle handed to its renderer are kept for that, spilled to a
temporary file so that they do not count in the peak memory; the time spent spilling them is
measured and taken off the cycle's time). It prints the medians with their range, cases/s,
letters/s, the ratio cycle / floor and the peak RSS. PostgreSQL needs
RELANCE_TEST_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.floors import (  # noqa: E402
    AS_OF,
    SLUGS,
    Timer,
    build,
    database,
    floor_main,
    fmt,
    load_average,
    peak_rss_mb,
    portfolio,
    run_child,
    spread,
)
from bench.import_speed import import_all  # noqa: E402


def import_payments_all(app: Any, folder: Path) -> None:
    """Import the payments of every creditor of `folder`."""
    from assistant.importing.service import import_payments

    for slug in SLUGS:
        report = import_payments(
            app,
            folder / slug / "payments.csv",
            slug,
            mapping=folder / slug / "payments-mapping.yaml",
        )
        if not report.ok:
            raise SystemExit(f"payments of {slug} failed: {report.errors[:5]}")


def prepare(app: Any, folder: Path, cache: Path | None) -> None:
    """Fill the database: copy the cached SQLite file, or import the portfolio (not timed)."""
    if cache is not None and cache.exists():
        return
    import_all(app, folder)
    import_payments_all(app, folder)


def cycle_and_floor(app: Any) -> dict[str, Any]:
    """Time the cycle, then render and validate the same letters with no database."""
    import sqlalchemy as sa

    from assistant.db.models import Case
    from assistant.letters.render import renderer_for
    from assistant.services import cycle

    render = cycle._render
    policies: dict[str, Any] = {}
    spill = tempfile.TemporaryFile()
    spilling = Timer()
    spilling.seconds = 0.0
    letters = 0

    def keeping(renderer: Any, policy: Any, due: Any, on: Any) -> Any:
        nonlocal letters
        with Timer() as s:
            policies[policy.slug] = policy
            # One whole pickle per letter: nothing shared, so reading one back holds no other.
            pickle.dump((policy.slug, due, on), spill, pickle.HIGHEST_PROTOCOL)
        spilling.seconds += s.seconds
        letters += 1
        return render(renderer, policy, due, on)

    cycle._render = keeping  # type: ignore[assignment]
    try:
        with Timer() as t:
            report = cycle.run_cycle(app, AS_OF)
    finally:
        cycle._render = render  # type: ignore[assignment]
    rss = peak_rss_mb()
    with app.engine.connect() as conn:
        cases = conn.execute(sa.select(sa.func.count()).select_from(Case.__table__)).scalar_one()
    spill.seek(0)
    floor = 0.0
    renderer = renderer_for(app.templates_dir)  # the cycle's: its templates are compiled
    for _ in range(letters):
        slug, due, on = pickle.load(spill)
        with Timer() as f:
            render(renderer, policies[slug], due, on)
        floor += f.seconds
    spill.close()
    return {
        "cycle_s": t.seconds - spilling.seconds,
        "spill_s": spilling.seconds,
        "cases": cases,
        "drafts": report.total("drafts"),
        "letters": letters,
        "floor_s": floor,
        "peak_rss_mb": rss,
    }


def child(args: argparse.Namespace) -> None:
    """Run one cycle and its floor; print the figures as JSON."""
    folder, work = Path(args.folder), Path(args.work)
    cache = work / f"imported-{folder.name}.db" if args.backend == "sqlite" else None
    with database(args.backend, work / "cycle.db") as url:
        if cache is not None and cache.exists():
            shutil.copyfile(cache, work / "cycle.db")
        app = build(url)
        prepare(app, folder, cache)
        if cache is not None and not cache.exists():
            app.engine.dispose()
            shutil.copyfile(work / "cycle.db", cache)
        figures = cycle_and_floor(app)
        app.close()
    print(json.dumps(figures))


def measure(invoices: int, backend: str, runs: int, work: Path) -> dict[str, Any]:
    """Run `runs` children on one portfolio size; return medians and ranges."""
    folder = portfolio(work, invoices)
    results = [
        run_child(
            Path(__file__),
            ["--backend", backend, "--folder", str(folder), "--work", str(work)],
        )
        for _ in range(runs)
    ]
    first = results[0]
    return {
        "invoices": invoices,
        "backend": backend,
        "runs": runs,
        "cases": first["cases"],
        "drafts": first["drafts"],
        "load": load_average(),
        "cycle_s": spread([r["cycle_s"] for r in results]),
        "cases_per_s": spread([r["cases"] / r["cycle_s"] for r in results]),
        "letters_per_s": spread([r["letters"] / r["cycle_s"] for r in results]),
        "floor_s": spread([r["floor_s"] for r in results]),
        "floor_letters_per_s": spread([r["letters"] / r["floor_s"] for r in results]),
        "ratio": spread([r["cycle_s"] / r["floor_s"] for r in results]),
        "peak_rss_mb": spread([r["peak_rss_mb"] for r in results]),
    }


def table(rows: list[dict[str, Any]]) -> str:
    """Return the figures as a Markdown table."""
    head = (
        "| Invoices | Backend | Cases / drafts | Cycle s | Cases/s | Letters/s | "
        "Floor s (render + validate) | Cycle / floor | Peak RSS MiB | Load |\n"
        "|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [
        f"| {r['invoices']:,} | {r['backend']} | {r['cases']:,} / {r['drafts']:,} | "
        f"{fmt(r['cycle_s'], 1)} | {fmt(r['cases_per_s'])} | {fmt(r['letters_per_s'])} | "
        f"{fmt(r['floor_s'], 1)} | {fmt(r['ratio'], 1, '×')} | {fmt(r['peak_rss_mb'])} | "
        f"{r['load']} |"
        for r in rows
    ]
    return "\n".join([head, *lines])


def main(argv: list[str] | None = None) -> int:
    """Parse options, measure, print the table."""
    return floor_main(
        argv,
        __doc__,
        child,
        measure,
        table,
        prefix="relance-cycle-",
        keep_help="keep portfolios and imported databases here",
    )


if __name__ == "__main__":
    raise SystemExit(main())
