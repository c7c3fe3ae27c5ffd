"""The workspace served for real (uvicorn on a loopback port) and driven by Debian's Chromium.

Playwright for Python drives /usr/bin/chromium (`executable_path`): its own browser download
cannot work on this machine, and every asset comes from the app itself.
"""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from pydantic import SecretStr

from assistant.bootstrap import App, build_app
from assistant.config import Settings
from assistant.db.engine import session_scope
from assistant.services.cycle import run_cycle
from assistant.services.portfolio import ensure_creditor
from assistant.services.users import add_user
from assistant.web.app import create_web_app
from tests.helpers import ROOT, seed_debtor

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery"
SECRET = "test-secret-key-for-the-workspace-0123456789"


@dataclass
class Workspace:
    """A served workspace: its URL and the App behind it."""

    url: str
    app: App


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed_portfolio(app: App, on: date) -> None:
    """Two creditors with overdue debtors, drafted by a real cycle, and four accounts."""
    with session_scope(app.engine) as s:
        bois = ensure_creditor(s, app.policies["atelier-bois"])
        thames = ensure_creditor(s, app.policies["thames-supplies"])
        for i in range(1, 6):
            seed_debtor(
                s,
                bois,
                f"B{i:03d}",
                f"Client Bois {i} SARL",
                [(f"FA-2026-{i:04d}", 10 + i, 100000 + i * 1234)],
                on,
            )
        for i in range(1, 3):
            seed_debtor(
                s,
                thames,
                f"T{i:03d}",
                f"Thames Client {i} Ltd",
                [(f"INV-{i:05d}", 15, 50000 + i * 100)],
                on,
                language="en",
            )
        known = list(app.policies)
        add_user(s, "alice", "officer", ["atelier-bois"], PASSWORD, "setup", known)
        add_user(s, "bob", "officer", ["atelier-bois"], PASSWORD, "setup", known)
        add_user(s, "tom", "officer", ["thames-supplies"], PASSWORD, "setup", known)
        add_user(s, "mia", "manager", ["atelier-bois"], PASSWORD, "setup", known)
        add_user(s, "root", "admin", [], PASSWORD, "setup", known)
    run_cycle(app, on)


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """Serve a seeded workspace on a free loopback port for one test."""
    policies = tmp_path / "policies"  # a copy: publishing a policy writes into it
    shutil.copytree(ROOT / "policies", policies)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'web.db'}",
        policies_dir=policies,
        templates_dir=ROOT / "templates",
        secret_key=SecretStr(SECRET),
        _env_file=None,
    )  # type: ignore[call-arg]
    app = build_app(settings, actor="setup")
    seed_portfolio(app, date.today())
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_web_app(app), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    assert server.started, "the workspace did not start"
    yield Workspace(f"http://127.0.0.1:{port}", app)
    server.should_exit = True
    thread.join(timeout=10)
    app.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Start Debian's Chromium once for the web tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, workspace):  # type: ignore[no-untyped-def]
    """A fresh browser context (no cookies) whose requests may only reach the workspace."""
    context = browser.new_context(base_url=workspace.url)
    outside: list[str] = []
    context.on(
        "request",
        lambda req: None if req.url.startswith(workspace.url) else outside.append(req.url),
    )
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()
    assert not outside, f"the page loaded assets from outside the app: {outside}"


def sign_in(page, name: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the form."""
    page.goto("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    ready(page)


def ready(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the page's script has bound its keyboard shortcuts."""
    page.wait_for_selector("html[data-ready]", state="attached")
