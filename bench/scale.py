"""Scale bench: send and cycle throughput with 1, 2 and 4 worker processes on PostgreSQL.

    RELANCE_TEST_DATABASE_URL=postgresql+psycopg://… python bench/scale.py \
        [--drafts 200] [--debtors 150] [--runs 3] [--workers 1 2 4] [--json]

Each run gets a fresh PostgreSQL schema and a fresh aiosmtpd sink on loopback. Worker
processes start, load everything, report ready, and start together on "go":
  * send  — N processes each run the real outbox (`send_outbox`, SKIP LOCKED claims, no
            rate limit, no IMAP copy) until no approved draft is left;
  * cycle — N processes each run the daily cycle of every creditor; the cycle lease of a
            creditor and date lets one process draft it while the others take the next.
Throughput is letters per second from the first start to the last finish; the table shows
the median of `--runs` runs and their range. Every child has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.bootstrap import build_app  # noqa: E402
from assistant.config import Settings  # noqa: E402

CHILD_TIMEOUT = 300.0


def _settings(url: str, smtp_port: int | None) -> dict[str, object]:
    values: dict[str, object] = {
        "database_url": url,
        "policies_dir": str(ROOT / "policies"),
        "templates_dir": str(ROOT / "templates"),
        "smtp_from": "recouvrement@recouvra.example",
        "reply_to": "recouvrement+{token}@recouvra.example",
        "smtp_rate_per_second": 0,
    }
    if smtp_port:
        values.update(smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_security="none")
    return values


def child(job: str) -> None:
    """Run one worker process: read settings, say ready, wait for go, work, print counts."""
    values = json.loads(sys.stdin.readline())
    app = build_app(Settings(_env_file=None, **values), actor=f"bench-{os.getpid()}")  # type: ignore[arg-type]
    from tests.integration.mailworld import NOW

    if job == "send":
        from assistant.mail import build_sender
        from assistant.services.outbox import send_outbox

        sender = build_sender(app.settings)
        print("ready", flush=True)
        sys.stdin.readline()
        start = time.time()
        report = asyncio.run(send_outbox(app, sender, None, NOW))
        done = len(report.sent)
    else:
        from assistant.services.cycle import run_cycle

        _ = app.policies
        print("ready", flush=True)
        sys.stdin.readline()
        start = time.time()
        done = len(run_cycle(app, NOW.date()).draft_ids)
    print(json.dumps({"start": start, "end": time.time(), "done": done}), flush=True)
    app.close()


def _seed_send(url: str, n: int) -> None:
    from tests.chaos.sending_scenarios import seed

    app = build_app(Settings(_env_file=None, **_settings(url, None)), actor="bench")  # type: ignore[arg-type]
    try:
        seed(app, n, approve=True)
    finally:
        app.close()


def _seed_cycle(url: str, n: int) -> None:
    from assistant.db.engine import session_scope
    from assistant.services.portfolio import ensure_creditor
    from tests.helpers import seed_debtor
    from tests.integration.mailworld import NOW

    app = build_app(Settings(_env_file=None, **_settings(url, None)), actor="bench")  # type: ignore[arg-type]
    try:
        with session_scope(app.engine) as s:
            for slug, policy in sorted(app.policies.items()):
                creditor = ensure_creditor(s, policy)
                for i in range(n):
                    seed_debtor(
                        s,
                        creditor,
                        f"S{i:05d}",
                        f"{slug} client {i}",
                        [(f"{slug}-{i}", 12, 10000 + i)],
                        NOW.date(),
                    )
    finally:
        app.close()


def run(job: str, workers: int, url: str, smtp_port: int | None) -> tuple[float, int]:
    """Start `workers` children together; return (letters per second, letters)."""
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", job],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    try:
        for p in procs:
            assert p.stdin and p.stdout
            p.stdin.write(json.dumps(_settings(url, smtp_port)) + "\n")
            p.stdin.flush()
            assert p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, _ = p.communicate(timeout=CHILD_TIMEOUT)
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    done = sum(r["done"] for r in results)
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    return done / wall if wall > 0 else 0.0, done


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", choices=("send", "cycle"), help=argparse.SUPPRESS)
    parser.add_argument("--drafts", type=int, default=200)
    parser.add_argument("--debtors", type=int, default=150, help="Per creditor, for the cycle.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if not os.environ.get("RELANCE_TEST_DATABASE_URL", "").startswith("postgresql"):
        sys.exit("set RELANCE_TEST_DATABASE_URL to a PostgreSQL URL: N workers need PostgreSQL")
    from bench.chaos import database, smtp_sink

    rows = []
    for job, size, seed in (
        ("send", args.drafts, _seed_send),
        ("cycle", args.debtors, _seed_cycle),
    ):
        for workers in args.workers:
            rates, counts = [], set()
            for _ in range(args.runs):
                with database("postgresql", Path("/tmp")) as url, smtp_sink() as smtp:
                    seed(url, size)
                    rate, done = run(job, workers, url, smtp.port)
                    if job == "send":
                        counts.add(len(smtp.messages))
                    rates.append(rate)
                    counts.add(done)
            rows.append(
                {
                    "job": job,
                    "workers": workers,
                    "letters": sorted(counts),
                    "median_per_s": round(statistics.median(rates), 1),
                    "min_per_s": round(min(rates), 1),
                    "max_per_s": round(max(rates), 1),
                    "runs": args.runs,
                }
            )
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'job':<6} {'workers':>7} {'letters':>9} {'median/s':>9} {'range/s':>15}")
    for r in rows:
        span = f"{r['min_per_s']}–{r['max_per_s']}"
        letters = "/".join(str(c) for c in r["letters"])
        print(f"{r['job']:<6} {r['workers']:>7} {letters:>9} {r['median_per_s']:>9} {span:>15}")


if __name__ == "__main__":
    main()
