"""Benchmark: how long an officer takes to clear 100 valid drafts in the workspace's browser UI.

`python bench/web_queue.py` builds a fresh temp SQLite database with one creditor and N
overdue debtors (default 100), runs a real cycle (N valid drafts), serves the workspace on a
loopback port and drives Debian's Chromium through Playwright like an officer using the
keyboard: sign in, open the first draft, press `a` (approve, the next draft opens), repeat
until the queue is empty. The time from opening the first draft to the empty queue is
measured; the run is repeated (default 3 times, each on a fresh database) and the median
and range are printed. Nothing is sent; the working database is never touched.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-123"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build(folder: Path, drafts: int):  # type: ignore[no-untyped-def]
    """Return an App over a fresh database holding `drafts` valid pending drafts."""
    from pydantic import SecretStr

    from assistant.bootstrap import build_app
    from assistant.config import Settings
    from assistant.db.engine import session_scope
    from assistant.db.models import Contact, Debtor, Invoice
    from assistant.services.cycle import run_cycle
    from assistant.services.portfolio import ensure_creditor
    from assistant.services.users import add_user

    settings = Settings(
        database_url=f"sqlite:///{folder / 'bench.db'}",
        policies_dir=ROOT / "policies",
        templates_dir=ROOT / "templates",
        secret_key=SecretStr("bench-secret-key-0123456789abcdef"),
        _env_file=None,
    )  # type: ignore[call-arg]
    app = build_app(settings, actor="bench")
    today = date.today()
    with session_scope(app.engine) as s:
        creditor = ensure_creditor(s, app.policies["atelier-bois"])
        for i in range(1, drafts + 1):
            debtor = Debtor(
                creditor_id=creditor.id, account_ref=f"B{i:04d}", legal_name=f"Client {i} SARL"
            )
            s.add(debtor)
            s.flush()
            s.add(Contact(debtor_id=debtor.id, email=f"compta@b{i:04d}.example"))
            due = today - timedelta(days=10)
            s.add(
                Invoice(
                    creditor_id=creditor.id,
                    debtor_id=debtor.id,
                    number=f"FA-2026-{i:05d}",
                    issue_date=due - timedelta(days=30),
                    due_date=due,
                    amount_cents=100000 + i,
                    outstanding_cents=100000 + i,
                )
            )
        add_user(s, "officer", "officer", ["atelier-bois"], PASSWORD, "bench", app.policies)
    run_cycle(app, today)
    return app


def one_run(browser, drafts: int) -> float:  # type: ignore[no-untyped-def]
    """Serve a fresh workspace, clear its queue with the keyboard, return the seconds taken."""
    import uvicorn

    from assistant.db.engine import session_scope
    from assistant.services.draft_queue import QueueFilter, list_queue
    from assistant.web.app import create_web_app

    with tempfile.TemporaryDirectory(prefix="relance-web-bench-") as tmp:
        app = build(Path(tmp), drafts)
        with session_scope(app.engine) as s:
            pending = list_queue(s, None, QueueFilter(status="pending"))
            valid = [r for r in pending if not r.blocking and not r.draft.requires_four_eyes]
        if len(valid) != drafts or len(pending) != drafts:
            raise SystemExit(f"expected {drafts} valid drafts, the cycle made {len(valid)}")
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_web_app(app), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            threading.Event().wait(0.01)
        context = browser.new_context(base_url=f"http://127.0.0.1:{port}")
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            page.goto("/login")
            page.fill("input[name=name]", "officer")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("html[data-ready]", state="attached")
            started = time.perf_counter()
            page.keyboard.press("j")
            page.keyboard.press("Enter")
            for _ in range(drafts):
                page.wait_for_selector("#approve:not([disabled])")
                page.wait_for_selector("html[data-ready]", state="attached")
                with page.expect_navigation():
                    page.keyboard.press("a")
            page.wait_for_selector("#queue")
            elapsed = time.perf_counter() - started
            left = page.locator("#queue tbody tr[data-href]").count()
            if left:
                raise SystemExit(f"{left} drafts left in the queue after {drafts} approvals")
        finally:
            context.close()
            server.should_exit = True
            thread.join(timeout=10)
            app.close()
    return elapsed


def main() -> None:
    """Time the officer's keyboard run and print the median and range."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        for run in range(1, args.runs + 1):
            seconds = one_run(browser, args.drafts)
            times.append(seconds)
            print(f"run {run}: {args.drafts} drafts cleared in {seconds:.1f} s", flush=True)
        browser.close()
    median = statistics.median(times)
    print(
        f"officer clears {args.drafts} valid drafts with the keyboard: median {median:.1f} s "
        f"({median / args.drafts:.2f} s/draft), range {min(times):.1f}-{max(times):.1f} s "
        f"over {len(times)} runs (target: under 300 s)"
    )


if __name__ == "__main__":
    main()
