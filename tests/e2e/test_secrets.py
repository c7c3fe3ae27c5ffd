"""No password or API key in what the commands print, log or audit."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from assistant.cli.main import app
from assistant.db.engine import make_engine, session_scope
from assistant.redact import Redactor, redact_url, redacted_logs
from assistant.services import audit
from tests.integration.dovecot import free_port

ROOT = Path(__file__).resolve().parents[2]
DB_PASSWORD = "db-Pa55:w@rd"  # a ':' and an '@' inside: percent-encoded in the URL
DB_PASSWORD_IN_URL = "db-Pa55%3Aw%40rd"
SMTP_PASSWORD = "smtp-hunter2"
IMAP_PASSWORD = "imap-correct-horse"
API_KEY = "sk-test-0123456789abcdef"
SECRETS = (DB_PASSWORD, DB_PASSWORD_IN_URL, SMTP_PASSWORD, IMAP_PASSWORD, API_KEY, "hunter3")


def with_password(db_url: str) -> str:
    """Put a password in a PostgreSQL URL (the test server trusts loopback, so it still works)."""
    return db_url.replace("postgres@", f"postgres:{DB_PASSWORD_IN_URL}@", 1)


@pytest.fixture
def relance(monkeypatch, tmp_path, db_url):
    """Run commands with every secret set, on a database whose URL holds a password if it can."""
    url = with_password(db_url) if db_url.startswith("postgresql") else db_url
    monkeypatch.setenv("RELANCE_DATABASE_URL", url)
    monkeypatch.setenv("RELANCE_POLICIES_DIR", str(ROOT / "policies"))
    monkeypatch.setenv("RELANCE_TEMPLATES_DIR", str(ROOT / "templates"))
    dead = free_port()  # nothing listens there: every server is unreachable
    for name, value in {
        "RELANCE_SMTP_HOST": "127.0.0.1",
        "RELANCE_SMTP_PORT": str(dead),
        "RELANCE_SMTP_USERNAME": "agency",
        "RELANCE_SMTP_PASSWORD": SMTP_PASSWORD,
        "RELANCE_SMTP_SECURITY": "none",
        "RELANCE_SMTP_FROM": "relance@agency.example",
        "RELANCE_IMAP_HOST": "127.0.0.1",
        "RELANCE_IMAP_PORT": str(dead),
        "RELANCE_IMAP_USERNAME": "agency",
        "RELANCE_IMAP_PASSWORD": IMAP_PASSWORD,
        "RELANCE_IMAP_SECURITY": "none",
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": f"http://proxy-user:hunter3@127.0.0.1:{dead}/v1",
        "COLUMNS": "200",
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert not isinstance(result.exception, AssertionError)
        return result.output + (result.stderr if result.stderr_bytes else "")

    return run


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_commands_print_no_secret_and_audit_none(relance, db_url):
    outputs = {
        "init": relance("init"),
        "db current": relance("db", "current"),
        "db upgrade": relance("db", "upgrade", "--json"),
        "llm check": relance("llm", "check"),
        "llm log": relance("llm", "log", "--json"),
        "send": relance("send"),
        "fetch": relance("fetch"),
    }
    assert "database ready:" in outputs["init"]
    if db_url.startswith("postgresql"):
        assert "postgres:***@127.0.0.1" in outputs["init"]
    assert "proxy-user:***@" in outputs["llm check"]
    assert {name: leaked(text) for name, text in outputs.items()} == dict.fromkeys(outputs, [])
    engine = make_engine(with_password(db_url) if db_url.startswith("postgresql") else db_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT action, payload FROM auditevent")).all()
        calls = conn.execute(sa.text("SELECT count(*) FROM llm_call")).scalar_one()
    engine.dispose()
    assert calls >= 1  # `llm check` reached the log
    assert leaked(repr(rows)) == []


def test_an_unreachable_database_is_one_line_without_its_password(monkeypatch, tmp_path):
    monkeypatch.setenv(
        "RELANCE_DATABASE_URL",
        f"postgresql+psycopg://bob:{DB_PASSWORD_IN_URL}@127.0.0.1:{free_port()}/relance",
    )
    monkeypatch.setenv("RELANCE_POLICIES_DIR", str(ROOT / "policies"))
    for args in (["init"], ["cases", "list"], ["db", "upgrade"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
        assert "database error:" in result.stderr and "Traceback" not in result.output
        assert leaked(result.output + result.stderr) == []


def test_log_records_and_tracebacks_are_redacted():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("relance.test-secrets")
    logger.addHandler(handler)
    try:
        with redacted_logs(Redactor.of([SMTP_PASSWORD, None, "ab"])):
            try:
                raise ConnectionError(f"login agency/{SMTP_PASSWORD} refused")
            except ConnectionError:
                logger.exception("fetch from %s failed", "imaps://agency:hunter3@mail.example/")
        logger.error("outside: %s", SMTP_PASSWORD)  # the factory is gone again
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "imaps://agency:***@mail.example/" in text and "login agency/*** refused" in text
    assert text.count(SMTP_PASSWORD) == 1 and "outside:" in text


def test_audit_payloads_never_hold_a_url_password(engine):
    with session_scope(engine) as session:
        event = audit.record(
            session, "alice", "settings.changed", url=f"smtp://agency:{SMTP_PASSWORD}@mx:25"
        )
    assert event.payload == {"url": "smtp://agency:***@mx:25"}


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://u:p%40ss@db:5432/x?sslmode=require", "postgresql+psycopg://u:***@db:5432/x?sslmode=require"),
        ("sqlite:///relance.db", "sqlite:///relance.db"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
        ("see https://host:8080/path and me@example.org", "see https://host:8080/path and me@example.org"),
    ],
)  # fmt: skip
def test_redact_url(url, shown):
    assert redact_url(url) == shown
