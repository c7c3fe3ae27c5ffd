"""Chaos bench: run the concurrency scenarios many times and count what went wrong.

    python bench/chaos.py [--runs 20] [--backend sqlite|postgresql|both] [--only NAME] [--json]

Each run gets a fresh database (a temp SQLite file, or a new schema in the PostgreSQL of
RELANCE_TEST_DATABASE_URL), a fresh aiosmtpd on loopback and a fresh IMAP user of one private
Dovecot. Prints: scenario, backend, runs, duplicates, losses, needless unknown, changes made by a
stranger's mail.

The scenarios live in a registry (`SCENARIOS` below): name -> (async function(rig) ->
Outcome, needs IMAP). To add one, write the function and add a line.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from tests.chaos import inbound_scenarios as inbound  # noqa: E402
from tests.chaos.sending_scenarios import (  # noqa: E402
    Outcome,
    Rig,
    edit_vs_send,
    kill_during_send,
    two_cycles,
    two_senders,
)
from tests.integration.dovecot import start_dovecot  # noqa: E402
from tests.integration.servers import (  # noqa: E402
    ImapAccount,
    RecordingHandler,
    SmtpServer,
)


def _inbound(scenario, **options):  # type: ignore[no-untyped-def]
    """Adapt an inbound scenario (db_url, imap, workdir) -> its Outcome to this registry."""

    async def run(rig: Rig) -> Outcome:
        out = await asyncio.to_thread(scenario, rig.db_url, rig.imap, rig.workdir, **options)
        detail = "" if out.ok else str(out.details)[:300]
        return Outcome(out.duplicates, out.losses, 0, detail, out.stranger_changes)

    return run


#: name -> (scenario, needs IMAP).
SCENARIOS = {
    "two cycles at once": (two_cycles, False),
    "two senders at once": (two_senders, True),
    "SIGKILL during send": (kill_during_send, True),
    "edit racing send": (edit_vs_send, True),
    "two fetches at once": (_inbound(inbound.two_fetches, replies=150, lease=True), True),
    "two fetches, no lease": (_inbound(inbound.two_fetches, replies=150, lease=False), True),
    "SIGKILL during fetch": (_inbound(inbound.fetch_killed, replies=150), True),
    "stranger's mail": (_inbound(inbound.stranger_mail), True),
    "forged bounce": (_inbound(inbound.forged_bounce), True),
    "two messages, one Message-ID": (_inbound(inbound.same_message_id), True),
}
_users = itertools.count(1)


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    """Yield the URL of an empty database of `backend`; drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'chaos.db'}"
        return
    url = os.environ["RELANCE_TEST_DATABASE_URL"]
    schema = f"chaos_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def smtp_sink() -> Iterator[SmtpServer]:
    """Run a recording aiosmtpd on a free loopback port."""
    from tests.integration.dovecot import free_port

    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


def run_once(name: str, backend: str, dovecot) -> Outcome:  # type: ignore[no-untyped-def]
    """Run scenario `name` once on `backend` with fresh servers and database."""
    scenario, needs_imap = SCENARIOS[name]
    folder = Path(tempfile.mkdtemp(prefix="relance-chaos-"))
    try:
        with database(backend, folder) as url, smtp_sink() as smtp:
            user = f"user{next(_users)}"
            imap = (
                ImapAccount(dovecot.host, dovecot.port, user, f"pw-{user}") if needs_imap else None
            )
            return asyncio.run(scenario(Rig(url, smtp, imap, folder)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    """Run every scenario `--runs` times per backend and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--only", help="Run only the scenarios whose name contains this.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not os.environ.get("RELANCE_TEST_DATABASE_URL"):
        backends.remove("postgresql")
        print("RELANCE_TEST_DATABASE_URL is not set: PostgreSQL skipped", file=sys.stderr)
    names = [n for n in SCENARIOS if not args.only or args.only.lower() in n.lower()]
    base = Path(tempfile.mkdtemp(prefix="relance-chaos-dovecot-"))
    dovecot = start_dovecot(base, spare_users=max(300, args.runs * len(names) * 2 + 10))
    rows = []
    try:
        for name in names:
            for backend in backends:
                totals, started, notes = [0, 0, 0, 0], time.monotonic(), []
                for _ in range(args.runs):
                    out = run_once(name, backend, dovecot)
                    counts = (
                        out.duplicates,
                        out.losses,
                        out.needless_unknown,
                        out.stranger_changes,
                    )
                    for i, v in enumerate(counts):
                        totals[i] += v
                    if out.detail and (out.duplicates or out.losses or out.stranger_changes):
                        notes.append(out.detail)
                rows.append(
                    {
                        "scenario": name,
                        "backend": backend,
                        "runs": args.runs,
                        "duplicates": totals[0],
                        "losses": totals[1],
                        "needless_unknown": totals[2],
                        "stranger_changes": totals[3],
                        "seconds": round(time.monotonic() - started, 1),
                        "notes": notes[:3],
                    }
                )
    finally:
        dovecot.stop()
        shutil.rmtree(base, ignore_errors=True)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(
        f"{'scenario':<30} {'backend':<11} {'runs':>5} {'duplicates':>11} {'losses':>7} "
        f"{'needless unknown':>17} {'stranger changes':>17}"
    )
    for r in rows:
        print(
            f"{r['scenario']:<30} {r['backend']:<11} {r['runs']:>5} {r['duplicates']:>11} "
            f"{r['losses']:>7} {r['needless_unknown']:>17} {r['stranger_changes']:>17}"
        )
        for note in r["notes"]:
            print(f"    {note}")


if __name__ == "__main__":
    main()
