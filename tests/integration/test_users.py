"""Accounts of the workspace on a real database: hashing, scope, throttling, the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from assistant.cli.main import app as cli
from assistant.db.engine import session_scope
from assistant.db.models import AuditEvent
from assistant.db.user_models import User
from assistant.services.users import (
    MAX_FAILURES,
    UserError,
    add_user,
    disable_user,
    scope_of,
    sign_in,
)
from tests.helpers import make_app

KNOWN = ["atelier-bois", "distrib-pro", "thames-supplies"]
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(db_url):
    application = make_app(db_url)
    yield application
    application.close()


def test_a_password_is_stored_as_an_argon2_hash_and_checked(app):
    with session_scope(app.engine) as s:
        add_user(s, "alice", "officer", ["atelier-bois"], "a long secret 1", "root", KNOWN)
    with session_scope(app.engine) as s:
        user = s.exec(select(User)).one()
        assert (
            user.password_hash.startswith("$argon2") and "a long secret" not in user.password_hash
        )
        assert sign_in(s, "alice", "a long secret 1", NOW).user is not None
        assert sign_in(s, "alice", "a long secret 2", NOW).refusal == "wrong user name or password"
        assert sign_in(s, "nobody", "a long secret 1", NOW).user is None


def test_scope_follows_the_role(app):
    with session_scope(app.engine) as s:
        officer = add_user(s, "alice", "officer", ["atelier-bois"], "x" * 12, "root", KNOWN)
        admin = add_user(s, "root", "admin", [], "x" * 12, "root", KNOWN)
        assert scope_of(officer).visible(KNOWN) == ["atelier-bois"]
        assert not scope_of(officer).edits_policies
        assert scope_of(admin).visible(KNOWN) == KNOWN and scope_of(admin).manages_users


@pytest.mark.parametrize(
    ("name", "role", "creditors", "password", "message"),
    [
        ("alice", "boss", ["atelier-bois"], "x" * 12, "role must be one of"),
        ("alice", "officer", [], "x" * 12, "needs at least one --creditor"),
        ("alice", "officer", ["nope"], "x" * 12, "unknown creditor(s): nope"),
        ("alice", "officer", ["atelier-bois"], "short", "at least 10 characters"),
        ("al ice", "officer", ["atelier-bois"], "x" * 12, "one word"),
    ],
)
def test_bad_accounts_are_refused_with_the_reason(app, name, role, creditors, password, message):
    with (
        session_scope(app.engine) as s,
        pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")),
    ):
        add_user(s, name, role, creditors, password, "root", KNOWN)


def test_failures_lock_the_account_name_then_the_lock_expires(app):
    with session_scope(app.engine) as s:
        add_user(s, "alice", "officer", ["atelier-bois"], "the right one", "root", KNOWN)
    for _ in range(MAX_FAILURES):
        with session_scope(app.engine) as s:
            assert sign_in(s, "alice", "wrong password", NOW).user is None
    with session_scope(app.engine) as s:
        assert "too many" in str(sign_in(s, "alice", "the right one", NOW).refusal)
    with session_scope(app.engine) as s:
        later = NOW + timedelta(minutes=16)
        assert sign_in(s, "alice", "the right one", later).user is not None


def test_a_disabled_account_cannot_sign_in(app):
    with session_scope(app.engine) as s:
        add_user(s, "alice", "officer", ["atelier-bois"], "the right one", "root", KNOWN)
        disable_user(s, "alice", "root")
        assert sign_in(s, "alice", "the right one", NOW).user is None
        actions = s.exec(select(AuditEvent.action)).all()
        assert {"user.added", "user.disabled"} <= set(actions)


def test_users_cli_adds_lists_and_disables_without_showing_the_password(db_url, monkeypatch):
    from tests.helpers import ROOT

    monkeypatch.setenv("RELANCE_DATABASE_URL", db_url)
    monkeypatch.setenv("RELANCE_POLICIES_DIR", str(ROOT / "policies"))
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [
            "--as",
            "root",
            "users",
            "add",
            "alice",
            "--role",
            "officer",
            "--creditor",
            "atelier-bois",
            "--password-stdin",
        ],
        input="s3cret passphrase\n",
    )
    assert added.exit_code == 0, added.output
    assert "s3cret" not in added.output
    listed = runner.invoke(cli, ["users", "list", "--json"])
    assert '"name": "alice"' in listed.output and "argon2" not in listed.output
    assert runner.invoke(cli, ["users", "disable", "alice"]).exit_code == 0
    again = runner.invoke(cli, ["users", "disable", "alice"])
    assert again.exit_code == 1 and "already disabled" in again.output


def test_serve_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    from tests.helpers import ROOT

    monkeypatch.setenv("RELANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("RELANCE_POLICIES_DIR", str(ROOT / "policies"))
    monkeypatch.delenv("RELANCE_SECRET_KEY", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code == 1
    assert "RELANCE_SECRET_KEY is required" in result.output
