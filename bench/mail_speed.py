"""Benchmark: the outbox and the inbox against their floors, median of several runs.

    python bench/mail_speed.py [--messages 500] [--runs 3] [--database-url URL] [--json]

Each run starts fresh servers on loopback (aiosmtpd in-process, an unprivileged Dovecot like
the tests: `apt-get install dovecot-imapd`) and a fresh database (a temp SQLite file, or a
throw-away schema on `--database-url`), then measures on the same messages:
  * floor of the outbox = the SMTP adapter alone (one connection, no database) + the IMAP
    APPEND alone of the same messages to the Sent folder (one connection);
  * outbox = the real `send_outbox` (re-check, claim, SMTP, Sent copy, mark sent, audit);
  * floor of the inbox = a bare FETCH BODY.PEEK[] of the same messages, in the same batches;
  * inbox = the real `ingest_inbox` (store raw, parse, match, trust, file, move).
The ratio is the real path's time over its floor's (1.0 would be free). The rate limit
(RELANCE_SMTP_RATE_PER_SECOND) is off: it measures the machinery. Timings swing on a shared
machine: compare the ratios, and note the load average printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

from assistant.bootstrap import build_app  # noqa: E402
from assistant.db.engine import session_scope  # noqa: E402
from assistant.db.models import Draft  # noqa: E402
from assistant.mail import build_mailbox, build_sender  # noqa: E402
from assistant.mail.compose import message_bytes  # noqa: E402
from assistant.services.inbox import ingest_inbox  # noqa: E402
from assistant.services.outbox import send_outbox  # noqa: E402
from bench.floors import Timer, fmt, load_average, machine, spread  # noqa: E402
from bench.mail import (  # noqa: E402
    NOW,
    Counter,
    adapter_messages,
    reply,
    scratch_database,
    seed,
    settings_for,
)
from tests.integration.dovecot import free_port, start_dovecot  # noqa: E402


def one_run(n: int, database_url: str | None) -> dict[str, float]:
    """Measure the floors and the real paths once, on fresh servers and a fresh database."""
    work = Path(tempfile.mkdtemp(prefix="relance-bench-mail-"))
    work.chmod(0o755)
    dovecot = start_dovecot(work / "dovecot")
    smtp_port = free_port()
    controller = Controller(Counter(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    url, drop_database = scratch_database(database_url, work)
    out: dict[str, float] = {}
    try:
        settings = settings_for(url, smtp_port, dovecot)
        app = build_app(settings, actor="bench")
        messages = adapter_messages(n)
        sender = build_sender(settings)
        with Timer() as t:
            results = asyncio.run(sender.send_batch(messages))
        assert len(results) == n and not any(isinstance(r, Exception) for r in results)
        out["smtp_s"] = t.seconds
        mailbox = build_mailbox(settings)
        sent = mailbox.sent_folder(settings.imap_sent_folder)
        with Timer() as t:
            for m in messages:
                mailbox.append(sent, message_bytes(m), flags=("\\Seen",), when=NOW)
        out["append_s"] = t.seconds
        mailbox.close()

        ids = seed(app, n)
        with session_scope(app.engine) as s:
            mids = [s.get(Draft, i).message_id for i in ids]  # type: ignore[union-attr]
        mailbox = build_mailbox(settings)
        with Timer() as t:
            report = asyncio.run(send_outbox(app, build_sender(settings), mailbox, NOW))
        out["outbox_s"] = t.seconds
        mailbox.close()
        assert len(report.sent) == n, report.as_dict()

        mailbox = build_mailbox(settings)
        for i in range(n):
            mailbox.append("INBOX", reply(i, mids[i]), flags=(), when=NOW)
        batch = settings.imap_batch_size
        with Timer() as t:
            uids = mailbox.uids_after("INBOX", 0)
            fetched = sum(
                len(mailbox.fetch("INBOX", uids[k : k + batch])) for k in range(0, len(uids), batch)
            )
        out["fetch_s"] = t.seconds
        mailbox.close()
        assert fetched == n
        mailbox = build_mailbox(settings)
        with Timer() as t:
            ingest = ingest_inbox(app, mailbox, analyse=False)
        out["inbox_s"] = t.seconds
        mailbox.close()
        assert ingest.stored == n, ingest.as_dict()
        out["matched"] = sum(ingest.matched.values())
        app.close()
    finally:
        controller.stop()
        dovecot.stop()
        drop_database()
        shutil.rmtree(work, ignore_errors=True)
    return out


def summarise(n: int, runs: list[dict[str, float]]) -> dict[str, Any]:
    """Return rates (median and range) and the ratios to the floors."""

    def rates(key: str) -> dict[str, float]:
        return spread([n / r[key] for r in runs])

    def ratio(real: str, *floor: str) -> dict[str, float]:
        return spread([r[real] / sum(r[f] for f in floor) for r in runs])

    return {
        "smtp_adapter_per_s": rates("smtp_s"),
        "imap_append_per_s": rates("append_s"),
        "outbox_floor_per_s": spread([n / (r["smtp_s"] + r["append_s"]) for r in runs]),
        "outbox_per_s": rates("outbox_s"),
        "outbox_ratio": ratio("outbox_s", "smtp_s", "append_s"),
        "fetch_per_s": rates("fetch_s"),
        "inbox_per_s": rates("inbox_s"),
        "inbox_ratio": ratio("inbox_s", "fetch_s"),
    }


def main() -> None:
    """Run the measurements `--runs` times and print medians, ranges and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    n = args.messages
    loads = [load_average()]
    runs = []
    for _ in range(args.runs):
        runs.append(one_run(n, args.database_url))
        loads.append(load_average())
    figures: dict[str, Any] = {
        "messages": n,
        "runs": args.runs,
        "database": "postgresql" if args.database_url else "sqlite",
        "machine": machine(),
        "load_average": loads,
        **summarise(n, runs),
    }
    if args.json:
        print(json.dumps(figures))
        return
    f = figures
    print(f"mail: {n} messages, {f['database']}, median of {args.runs} runs (range)")
    print(f"machine: {f['machine']}; 1-min load average: {', '.join(loads)}")
    print("| path | messages/s | time ÷ floor |")
    print("|---|---:|---:|")
    print(f"| SMTP adapter alone (aiosmtpd, one connection) | {fmt(f['smtp_adapter_per_s'])} | |")
    print(f"| IMAP APPEND alone (Dovecot, one connection) | {fmt(f['imap_append_per_s'])} | |")
    print(f"| outbox floor: SMTP + APPEND | {fmt(f['outbox_floor_per_s'])} | 1 |")
    print(
        f"| outbox: re-check, claim, SMTP, Sent copy, mark sent | {fmt(f['outbox_per_s'])} "
        f"| {fmt(f['outbox_ratio'], 2)} |"
    )
    print(f"| inbox floor: bare FETCH (Dovecot) | {fmt(f['fetch_per_s'])} | 1 |")
    print(
        f"| inbox: fetch, store raw, parse, match, trust, file, move | {fmt(f['inbox_per_s'])} "
        f"| {fmt(f['inbox_ratio'], 2)} |"
    )


if __name__ == "__main__":
    main()
