"""The service verbs behind the workspace's pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.mail_models import InboundMessage
from assistant.db.models import Case, Handoff, Task
from assistant.db.user_models import PolicyVersion
from assistant.services.case_control import CaseControlError, add_note
from assistant.services.case_timeline import case_timeline
from assistant.services.policy_editor import PolicyEditError, check_text, history, publish
from assistant.services.portfolio import ensure_creditor
from assistant.services.scoped_queues import (
    handoff_in_scope,
    handoffs_for,
    inbound_for,
    promises_falling_due,
    tasks_for,
)
from assistant.services.users import Scope
from tests.helpers import ROOT, make_app, seed_debtor

TODAY = date(2026, 11, 26)
ALICE = Scope("alice", "officer", frozenset({"atelier-bois"}))
ROOT_SCOPE = Scope("root", "admin", None)


@pytest.fixture
def app(db_url, tmp_path):
    application = make_app(db_url, actor="setup")
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    application.settings.policies_dir = tmp_path / "policies"
    with session_scope(application.engine) as s:
        for slug, ref, refcase in (
            ("atelier-bois", "B1", "REF-BOIS"),
            ("thames-supplies", "T1", "REF-THAM"),
        ):
            creditor = ensure_creditor(s, application.policies[slug])
            debtor = seed_debtor(s, creditor, ref, f"{ref} Ltd", [(f"{ref}-1", 20, 50000)], TODAY)
            case = Case(ref=refcase, creditor_id=creditor.id, debtor_id=debtor.id, status="handoff")
            s.add(case)
            s.flush()
            s.add(Handoff(case_id=case.id, reason="dispute", summary=f"{ref} disputes"))
            s.add(Task(case_id=case.id, kind="call", detail=f"call {ref}"))
        s.add(Task(kind="mailbox", detail="a task about no case"))
        s.add(
            InboundMessage(folder="INBOX", raw=b"x", raw_sha256="0" * 64, status="unmatched",
                           from_addr="who@nowhere.example", received_at=datetime.now(UTC))
        )  # fmt: skip
    yield application
    application.close()


def test_queues_are_narrowed_to_the_scope_and_stray_rows_go_to_admins(app):
    with session_scope(app.engine) as s:
        assert [h["case"] for h in handoffs_for(s, ALICE)] == ["REF-BOIS"]
        assert len(handoffs_for(s, ROOT_SCOPE)) == 2
        foreign = s.exec(select(Handoff).join(Case).where(Case.ref == "REF-THAM")).one()
        assert not handoff_in_scope(s, ALICE, foreign.id)
        assert handoff_in_scope(s, ROOT_SCOPE, foreign.id)
        assert [t["detail"] for t in tasks_for(s, ALICE)] == ["call B1"]
        assert len(tasks_for(s, ROOT_SCOPE)) == 3
        assert inbound_for(app, s, ALICE, "unmatched") == []
        assert [m["from"] for m in inbound_for(app, s, ROOT_SCOPE, "unmatched")] == [
            "who@nowhere.example"
        ]
        assert promises_falling_due(s, ALICE, TODAY) == []


def test_a_note_lands_on_the_case_timeline(app):
    with session_scope(app.engine) as s:
        with pytest.raises(CaseControlError):
            add_note(s, "REF-BOIS", "alice", "   ")
        add_note(s, "REF-BOIS", "alice", "Promised by phone for Friday")
    with session_scope(app.engine) as s:
        data = case_timeline(s, "REF-BOIS", TODAY)
    notes = [e for e in data["timeline"] if e["kind"] == "note"]
    assert [(n["event"]["actor"], n["event"]["payload"]["text"]) for n in notes] == [
        ("alice", "Promised by phone for Friday")
    ]
    assert {e["kind"] for e in data["timeline"]} >= {"handoff", "task", "note"}


def test_publish_validates_writes_the_file_and_keeps_the_history(app):
    path = app.settings.policies_dir / "atelier-bois.yaml"
    original = path.read_text(encoding="utf-8")
    broken = original.replace("grace_days: 3", "grace_days: many")
    checked = check_text(broken, "atelier-bois")
    line = next(n for n, t in enumerate(broken.splitlines(), 1) if "grace_days: many" in t)
    assert not checked.ok and checked.errors[0]["line"] == line
    with session_scope(app.engine) as s, pytest.raises(PolicyEditError):
        publish(s, app.settings.policies_dir, app.policies, "atelier-bois", broken, "mia")
    assert path.read_text(encoding="utf-8") == original
    edited = original.replace("grace_days: 3", "grace_days: 5")
    with session_scope(app.engine) as s:
        publish(s, app.settings.policies_dir, app.policies, "atelier-bois", edited, "mia")
    assert path.read_text(encoding="utf-8") == edited
    assert app.policies["atelier-bois"].promises.grace_days == 5
    with session_scope(app.engine) as s:
        [version] = history(s, "atelier-bois")
        assert version["author"] == "mia" and version["published_at"] is not None
        assert s.exec(select(PolicyVersion.status)).all() == ["published"]
    assert sorted(p.name for p in path.parent.iterdir() if p.suffix == ".tmp") == []
