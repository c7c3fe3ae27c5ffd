"""Shared pieces of the floor benchmarks: portfolios, databases, child runs, medians.

Each timed run happens in a child process, so its peak memory (`ru_maxrss`) is its own; the
parent only generates portfolios, starts children and prints medians with their range.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 26)
SLUGS = ("atelier-bois", "distrib-pro", "thames-supplies")
CHILD_TIMEOUT = 3600.0


def peak_rss_mb() -> float:
    """Return the peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def load_average() -> str:
    """Return the 1-minute load average, or '?' where the OS has none."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def machine() -> str:
    """Describe the machine in one line."""
    return f"{os.cpu_count()} CPU, Python {platform.python_version()}, {platform.system()}"


def portfolio(work: Path, invoices: int, seed: int = 7) -> Path:
    """Generate (once, cached in `work`) a portfolio of `invoices` invoices, 1 debtor per 5."""
    folder = work / f"portfolio-{invoices}-{seed}"
    done = folder / ".done"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "generate.py"),
            "--debtors",
            str(max(invoices // 5, 3)),
            "--invoices",
            str(invoices),
            "--out",
            str(folder),
            "--as-of",
            AS_OF.isoformat(),
            "--seed",
            str(seed),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    done.touch()
    return folder


def invoice_file(folder: Path, slug: str) -> Path:
    """Return the invoice export of `slug` in a generated portfolio."""
    return next((folder / slug).glob("invoices.*"))


@contextmanager
def database(backend: str, path: Path) -> Iterator[str]:
    """Yield the URL of an empty database (a new SQLite file or PostgreSQL schema); drop it."""
    if backend == "sqlite":
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        for f in files:
            f.unlink(missing_ok=True)
        try:
            yield f"sqlite:///{path}"
        finally:
            for f in files:
                f.unlink(missing_ok=True)
        return
    from bench.chaos import database as pg_database

    with pg_database("postgresql", path.parent) as url:
        yield url


def build(url: str) -> Any:
    """Build the app on `url` with the repository's policies and templates."""
    from assistant.bootstrap import build_app
    from assistant.config import Settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        policies_dir=ROOT / "policies",
        templates_dir=ROOT / "templates",
    )
    return build_app(settings, actor="bench")


def run_child(script: Path, args: list[str]) -> dict[str, Any]:
    """Run `script --child ARGS` and return the JSON it prints last."""
    out = subprocess.run(
        [sys.executable, str(script), "--child", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def spread(values: list[float]) -> dict[str, float]:
    """Return the median, lowest and highest of `values`."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fmt(s: dict[str, float], digits: int = 0, unit: str = "") -> str:
    """Show a median and its range: `1,234 (1,100–1,300)`."""
    f = f"{{:,.{digits}f}}"
    return f"{f.format(s['median'])}{unit} ({f.format(s['min'])}–{f.format(s['max'])})"


class Timer:
    """Measure the wall time of a block."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def floor_main(
    argv: list[str] | None,
    doc: str,
    child: Callable[[argparse.Namespace], None],
    measure: Callable[[int, str, int, Path], dict[str, Any]],
    table: Callable[[list[dict[str, Any]]], str],
    *,
    prefix: str,
    keep_help: str,
) -> int:
    """The command line shared by the floor benchmarks: parse, run the children, print."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--series", type=int, nargs="+", help="several sizes, e.g. 10000 100000")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help=keep_help)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return 0
    sizes = args.series or [args.invoices]

    def go(work: Path) -> list[dict[str, Any]]:
        return [measure(n, args.backend, args.runs, work) for n in sizes]

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        rows = go(args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            rows = go(Path(tmp))
    print(json.dumps(rows, indent=2) if args.json else f"{machine()}\n\n{table(rows)}")
    return 0
