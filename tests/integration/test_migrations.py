"""Schema migrations on real databases: a fresh database, and one of the previous release with data."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import Session
from typer.testing import CliRunner

from assistant.cli.main import app
from assistant.db import migrations
from assistant.db.engine import make_engine, metadata
from assistant.db.mail_models import InboundMessage
from assistant.db.models import AuditEvent, Case, Draft, Invoice
from tests.helpers import make_app

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)

#: One row per table of revision 0001, as a user of Relance 0.1.0 would have them.
PREVIOUS_RELEASE_ROWS: dict[str, list[dict]] = {
    "creditor": [{"id": 1, "slug": "atelier-bois", "name": "Atelier Bois SAS", "created_at": AT}],
    "debtor": [
        {"id": 1, "creditor_id": 1, "account_ref": "C-001", "legal_name": "Menuiserie Durand",
         "siren": "552100554", "vat_number": "FR40552100554", "kind": "company",
         "language": "fr", "key_account": False, "address": "3 rue des Lilas\n69003 Lyon",
         "created_at": AT},
        {"id": 2, "creditor_id": 1, "account_ref": "C-002", "legal_name": "Dupont Élodie",
         "siren": None, "vat_number": None, "kind": "consumer", "language": None,
         "key_account": True, "address": None, "created_at": AT},
    ],
    "contact": [
        {"id": 1, "debtor_id": 1, "email": "compta@durand.example", "name": "Compta",
         "valid": True, "invalid_reason": None, "created_at": AT},
        {"id": 2, "debtor_id": 2, "email": "e.dupont@example.org", "name": None, "valid": False,
         "invalid_reason": "550 5.1.1 mailbox unknown", "created_at": AT},
    ],
    "invoice": [
        {"id": 1, "creditor_id": 1, "debtor_id": 1, "number": "F2026-0042",
         "issue_date": date(2026, 9, 1), "due_date": date(2026, 10, 1), "amount_cents": 123456,
         "outstanding_cents": 23456, "currency": "EUR", "status": "open", "paid_date": None,
         "updated_at": AT},
        {"id": 2, "creditor_id": 1, "debtor_id": 2, "number": "AV2026-0003", "issue_date": None,
         "due_date": date(2026, 10, 15), "amount_cents": -5000, "outstanding_cents": -5000,
         "currency": "EUR", "status": "disputed", "paid_date": None, "updated_at": AT},
    ],
    "payment": [
        {"id": 1, "creditor_id": 1, "debtor_id": 1, "invoice_id": 1, "reference": "VIR-778",
         "amount_cents": 100000, "currency": "EUR", "paid_on": date(2026, 10, 20),
         "created_at": AT},
    ],
    "case": [
        {"id": 1, "ref": "AB-0001", "creditor_id": 1, "debtor_id": 1, "status": "promise",
         "step_index": 1, "step_name": "reminder_2", "last_contact_on": date(2026, 11, 2),
         "first_letter_on": date(2026, 10, 8), "first_letter_ref": "<a1@relance.example>",
         "paused_until": None, "broken_promise_pending": False, "opened_at": AT,
         "updated_at": AT},
        {"id": 2, "ref": "AB-0002", "creditor_id": 1, "debtor_id": 2, "status": "handoff",
         "step_index": -1, "step_name": None, "last_contact_on": None, "first_letter_on": None,
         "first_letter_ref": None, "paused_until": date(2026, 12, 1),
         "broken_promise_pending": True, "opened_at": AT, "updated_at": AT},
    ],
    "draft": [
        {"id": 1, "case_id": 1, "kind": "step", "step": "reminder_2",
         "subject": "[AB-0001] Relance : facture F2026-0042", "body_text": "Madame, Monsieur,\n…",
         "body_html": "<p>Madame, Monsieur,</p>", "pdf": b"%PDF-1.4\x00\xff binary",
         "engine": "template", "engine_note": None,
         "facts": {"invoices": [{"number": "F2026-0042", "outstanding": "234.56"}]},
         "findings": [{"code": "ok", "severity": "info"}], "status": "sent",
         "requires_four_eyes": True, "first_approver": "alice", "created_by": "relance",
         "created_at": AT, "decided_by": "bob", "decided_at": AT, "reject_reason": None,
         "review_reason": None, "message_id": "<m1@relance.example>", "in_reply_to": None,
         "references": None, "to_addrs": "compta@durand.example", "attempts": 1,
         "last_error": None, "sent_at": AT},
        {"id": 2, "case_id": 2, "kind": "acknowledgement", "step": "ack", "subject": "Re: litige",
         "body_text": "Bien reçu.", "body_html": "<p>Bien reçu.</p>", "pdf": None,
         "engine": "llm", "engine_note": "fallback", "facts": {}, "findings": [],
         "status": "unknown", "requires_four_eyes": False, "first_approver": None,
         "created_by": "worker", "created_at": AT, "decided_by": None, "decided_at": None,
         "reject_reason": None, "review_reason": "amount changed", "message_id": None,
         "in_reply_to": "<x@debtor.example>", "references": "<x@debtor.example>",
         "to_addrs": None, "attempts": 3, "last_error": "421 try later", "sent_at": None},
    ],
    "promise": [
        {"id": 1, "case_id": 1, "amount_cents": 23456, "currency": "EUR",
         "due_on": date(2026, 12, 10), "grace_days": 3, "status": "pending",
         "source": "inbound:1", "created_at": AT, "resolved_on": None},
    ],
    "handoff": [
        {"id": 1, "case_id": 2, "reason": "dispute", "summary": "Conteste la livraison",
         "evidence": ["inbound:2", "« pas livré »"], "status": "open", "created_at": AT,
         "resolved_by": None, "resolved_at": None, "resolution": None},
    ],
    "task": [
        {"id": 1, "case_id": 2, "kind": "fix_contact", "detail": "address bounced",
         "status": "done", "created_at": AT, "done_by": "alice", "done_at": AT},
        {"id": 2, "case_id": None, "kind": "verify_payment", "detail": "unmatched VIR-999",
         "status": "open", "created_at": AT, "done_by": None, "done_at": None},
    ],
    "inboundmessage": [
        {"id": 1, "folder": "INBOX", "uidvalidity": 1700000000, "uid": 12,
         "raw": b"From: compta@durand.example\r\nSubject: Re: [AB-0001]\r\n\r\nJe paierai le 10.",
         "raw_sha256": "ab" * 32, "size": 72, "message_id": "<r1@durand.example>",
         "in_reply_to": "<m1@relance.example>", "references": "<m1@relance.example>",
         "subject": "Re: [AB-0001]", "from_addr": "compta@durand.example",
         "to_addrs": "recouvrement@relance.example", "sent_date": AT,
         "text": "Je paierai le 10.", "has_html": False, "attachments": [],
         "is_auto_reply": False, "is_bounce": False, "bounced_recipients": [], "case_id": 1,
         "match_method": "thread", "status": "analysed", "reply_text": "Je paierai le 10.",
         "analysis": {"intent": "promise", "confidence": 0.93}, "received_at": AT,
         "error": None},
        {"id": 2, "folder": "INBOX", "uidvalidity": 1700000000, "uid": 13,
         "raw": b"\x00\xffnot mail", "raw_sha256": "cd" * 32, "size": 10, "message_id": None,
         "in_reply_to": None, "references": None, "subject": None, "from_addr": None,
         "to_addrs": None, "sent_date": None, "text": None, "has_html": False,
         "attachments": [{"filename": "a.pdf", "size": 3}], "is_auto_reply": False,
         "is_bounce": True, "bounced_recipients": ["e.dupont@example.org"], "case_id": None,
         "match_method": None, "status": "quarantined", "reply_text": None, "analysis": None,
         "received_at": AT, "error": "no headers"},
    ],
    "mailboxstate": [
        {"id": 1, "account": "agency@127.0.0.1", "folder": "INBOX", "uidvalidity": 1700000000,
         "last_uid": 13, "updated_at": AT},
    ],
    "senderlease": [
        {"name": "outbox", "holder": "host:4242", "expires_at": AT, "acquired_at": AT},
    ],
    "llm_call": [
        {"id": 1, "created_at": AT, "case_id": 1, "creditor": "atelier-bois",
         "purpose": "reply_analysis", "prompt_name": "reply", "prompt_hash": "ef" * 32,
         "model": "gpt-4o-mini", "base_url": None, "method": "json_schema",
         "schema_name": "ReplyAnalysis", "cache_key": "12" * 32,
         "messages": [{"role": "user", "content": "…"}], "output": "{}", "parsed": {"a": 1},
         "tokens_in": 812, "tokens_out": 64, "latency_ms": 900, "attempts": 1, "error": None,
         "cached": False, "fallback_used": True, "fallback_reason": "low confidence"},
    ],
    "auditevent": [
        {"id": 1, "at": AT, "actor": "alice", "action": "draft.approve", "entity": "draft",
         "entity_id": "1", "payload": {"four_eyes": True, "note": "OK pour envoi"}},
    ],
}  # fmt: skip


def previous_release_database(url: str) -> None:
    """Build the schema of Relance 0.1.0 the way it did (no migration history) and fill it."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrations.alembic_config(conn), migrations.FIRST_REVISION)
            conn.execute(sa.text("DROP TABLE alembic_version"))
            tables = sa.MetaData()
            tables.reflect(conn)
            for name, rows in PREVIOUS_RELEASE_ROWS.items():
                conn.execute(_typed(tables.tables[name]).insert(), rows)
    finally:
        engine.dispose()


def _typed(table: sa.Table) -> sa.Table:
    """Give reflected JSON columns of SQLite their JSON type back (reflection sees NUMERIC)."""
    for column in table.columns:
        model_column = metadata().tables[table.name].columns.get(column.name)
        if model_column is not None and isinstance(model_column.type, sa.JSON):
            column.type = sa.JSON()
    return table


def snapshot(url: str) -> dict[str, list[dict]]:
    """Read back every previous-release column of every table, ordered by key."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = sa.MetaData()
            tables.reflect(conn)
            out = {}
            for name, rows in PREVIOUS_RELEASE_ROWS.items():
                table = _typed(tables.tables[name])
                columns = [table.c[c] for c in rows[0]]
                key = columns[0]
                out[name] = [
                    dict(r._mapping) for r in conn.execute(sa.select(*columns).order_by(key))
                ]
            return out
    finally:
        engine.dispose()


def flat(text: str) -> str:
    """Undo the console's line wrapping."""
    return " ".join(text.split())


def differences(url: str) -> list:
    """Return what Alembic's autogenerate finds between the database and the models."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, metadata())
    finally:
        engine.dispose()


def test_upgrading_an_empty_database_gives_exactly_the_models(db_url: str) -> None:
    # Fails when a model changed without a revision: write one (docs/migrations.md).
    engine = make_engine(db_url)
    try:
        assert migrations.upgrade(engine) == (None, migrations.head())
        assert migrations.current(engine) == migrations.head()
    finally:
        engine.dispose()
    assert differences(db_url) == []


def test_a_previous_release_database_keeps_every_row_through_the_upgrade(db_url, monkeypatch):
    previous_release_database(db_url)
    before = snapshot(db_url)
    assert {name: len(rows) for name, rows in before.items()} == {
        name: len(rows) for name, rows in PREVIOUS_RELEASE_ROWS.items()
    }
    monkeypatch.setenv("RELANCE_DATABASE_URL", db_url)
    result = CliRunner().invoke(app, ["db", "upgrade", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["from"] is None and report["to"] == migrations.head()
    assert snapshot(db_url) == before
    assert differences(db_url) == []
    application = make_app(db_url)
    try:  # the current models read the old rows
        with Session(application.engine) as session:
            sent = session.get(Draft, 1)
            assert sent is not None and sent.pdf == b"%PDF-1.4\x00\xff binary"
            assert sent.facts["invoices"][0]["number"] == "F2026-0042"
            assert session.get(Invoice, 2).outstanding_cents == -5000  # type: ignore[union-attr]
            assert session.get(Case, 1).status == "promise"  # type: ignore[union-attr]
            assert session.get(InboundMessage, 2).raw == b"\x00\xffnot mail"  # type: ignore[union-attr]
            assert session.get(AuditEvent, 1).payload["note"] == "OK pour envoi"  # type: ignore[union-attr]
    finally:
        application.close()


def test_sqlite_databases_of_the_previous_release_upgrade_on_first_use(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    previous_release_database(url)
    before = snapshot(url)
    application = make_app(url)
    try:
        with Session(application.engine) as session:
            assert session.get(Draft, 2).status == "unknown"  # type: ignore[union-attr]
        assert migrations.current(application.engine) == migrations.head()
    finally:
        application.close()
    assert snapshot(url) == before


@pytest.mark.postgres
def test_a_postgresql_database_with_data_is_not_upgraded_behind_the_team_s_back(
    db_url, monkeypatch
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite files upgrade on first use")
    previous_release_database(db_url)
    monkeypatch.setenv("RELANCE_DATABASE_URL", db_url)
    monkeypatch.setenv("RELANCE_POLICIES_DIR", str(ROOT / "policies"))
    result = CliRunner().invoke(app, ["cases", "list", "--json"])
    assert result.exit_code == 1
    assert "relance db upgrade" in flat(result.stderr) and "Traceback" not in result.output
    assert migrations.current(make_engine(db_url)) is None
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    assert CliRunner().invoke(app, ["cases", "list", "--json"]).exit_code == 0


def test_tables_that_are_not_relance_0_1_0_are_refused_not_stamped(db_url, monkeypatch) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE creditor (id INTEGER PRIMARY KEY, slug VARCHAR)"))
    monkeypatch.setenv("RELANCE_DATABASE_URL", db_url)
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "creditor.name" in flat(result.stderr) and "debtor" in flat(result.stderr)
    assert migrations.current(engine) is None
    engine.dispose()


def test_a_database_upgraded_by_a_newer_release_is_refused(db_url, monkeypatch) -> None:
    engine = make_engine(db_url)
    migrations.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    monkeypatch.setenv("RELANCE_DATABASE_URL", db_url)
    monkeypatch.setenv("RELANCE_POLICIES_DIR", str(ROOT / "policies"))
    result = CliRunner().invoke(app, ["cases", "list"])
    assert result.exit_code == 1
    assert "9999" in flat(result.stderr) and "newer release" in flat(result.stderr)


NEXT_REVISION = '''
"""A test revision: what the lead writes at merge, in batch mode."""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invoice") as batch:
        batch.add_column(sa.Column("note", sa.String(), nullable=True))
        batch.alter_column("currency", existing_type=sa.String(), nullable=True)
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    pass
'''


def test_a_batch_revision_rebuilds_referenced_tables_without_losing_rows(
    db_url, tmp_path, monkeypatch
):
    # SQLite cannot ALTER a column: batch mode copies `invoice` and `case`, which other tables
    # reference; foreign keys and rows must survive.
    scripts = tmp_path / "migrations"
    shutil.copytree(
        migrations.MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__")
    )
    # The test revision follows whatever revision is newest today.
    text = NEXT_REVISION.replace('revision = "0002"', 'revision = "next_test"', 1)
    text = text.replace('down_revision = "0001"', f'down_revision = "{migrations.head()}"')
    (scripts / "versions" / "next_test.py").write_text(text)
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", scripts)
    migrations.script_directory.cache_clear()
    try:
        previous_release_database(db_url)
        before = snapshot(db_url)
        engine = make_engine(db_url)
        assert migrations.upgrade(engine) == (None, "next_test")
        with engine.connect() as conn:
            versions = conn.execute(sa.text('SELECT version FROM "case" ORDER BY id')).all()
            assert versions == [(0,), (0,)]
        engine.dispose()
        assert snapshot(db_url) == before
    finally:
        migrations.script_directory.cache_clear()
