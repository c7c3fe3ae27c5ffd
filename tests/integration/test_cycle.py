"""The daily cycle and the approval queue on a real database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.models import AuditEvent, Case, Debtor, Draft, Handoff, Promise
from assistant.services.approval import ApprovalError, approve_draft, record_sent, reject_draft
from assistant.services.cycle import run_cycle
from assistant.services.portfolio import ensure_creditor
from tests.helpers import make_app, seed_debtor

TODAY = date(2026, 11, 26)
SLUG = "atelier-bois"


@pytest.fixture
def app(db_url):
    application = make_app(db_url)
    yield application
    application.close()


@pytest.fixture
def seeded(app):
    policy = app.policies[SLUG]
    with session_scope(app.engine) as s:
        creditor = ensure_creditor(s, policy)
        seed_debtor(
            s,
            creditor,
            "C001",
            "Boulangerie Martin SARL",
            [("FA-2026-0101", 12, 125000), ("FA-2026-0102", 8, 48050), ("FA-2026-0103", -5, 9900)],
            TODAY,
        )
        seed_debtor(
            s,
            creditor,
            "C002",
            "Garage des Lilas SAS",
            [("FA-2026-0201", 20, 30000, "paid"), ("FA-2026-0202", 20, 70000, "disputed")],
            TODAY,
        )
        seed_debtor(s, creditor, "C003", "Fleurs & Co", [("FA-2026-0301", 2, 50000)], TODAY)
    return app


def drafts(app):
    with session_scope(app.engine) as s:
        return s.exec(select(Draft).order_by(Draft.id)).all()


def test_cycle_drafts_one_grouped_letter_per_debtor_with_overdue_invoices(seeded):
    report = run_cycle(seeded, TODAY, creditor=SLUG)
    ds = drafts(seeded)
    assert report.total("drafts") == 1 and len(ds) == 1
    d = ds[0]
    assert d.step == "reminder_1" and d.status == "pending"
    assert "FA-2026-0101" in d.body_text and "FA-2026-0102" in d.body_text
    assert "FA-2026-0103" not in d.body_text  # not yet due
    assert "1 730,50" in d.body_text  # grouped balance, French format
    with session_scope(seeded.engine) as s:
        case = s.exec(select(Case).where(Case.id == d.case_id)).one()
    assert f"[{case.ref}]" in d.subject
    assert not [f for f in d.findings if f["blocking"]], d.findings


def test_a_second_cycle_does_not_duplicate_a_waiting_draft(seeded):
    run_cycle(seeded, TODAY, creditor=SLUG)
    report = run_cycle(seeded, TODAY, creditor=SLUG)
    assert len(drafts(seeded)) == 1
    assert report.total("awaiting_approval") == 1


def test_approval_assigns_a_message_id_and_is_audited_with_its_actor(seeded):
    run_cycle(seeded, TODAY, creditor=SLUG)
    d = drafts(seeded)[0]
    with session_scope(seeded.engine) as s:
        result = approve_draft(s, d.id, "alice", seeded.policies)
    assert result.status == "approved"
    d = drafts(seeded)[0]
    assert d.status == "approved" and d.message_id and d.message_id.endswith("@recouvra.example")
    assert d.to_addrs == "compta@c001.example"
    with session_scope(seeded.engine) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "draft.approved")).all()
    assert [(e.actor, e.entity_id) for e in events] == [("alice", str(d.id))]
    with session_scope(seeded.engine) as s, pytest.raises(ApprovalError):
        approve_draft(s, d.id, "alice", seeded.policies)  # already approved


def test_rejecting_needs_a_reason_and_a_rejected_draft_is_redrafted_next_cycle(seeded):
    run_cycle(seeded, TODAY, creditor=SLUG)
    d = drafts(seeded)[0]
    with session_scope(seeded.engine) as s, pytest.raises(ApprovalError):
        reject_draft(s, d.id, "bob", "  ")
    with session_scope(seeded.engine) as s:
        reject_draft(s, d.id, "bob", "client called, paying Friday")
    run_cycle(seeded, TODAY, creditor=SLUG)
    assert [x.status for x in drafts(seeded)] == ["rejected", "pending"]


def test_a_draft_with_a_blocking_finding_cannot_be_approved(seeded):
    run_cycle(seeded, TODAY, creditor=SLUG)
    d = drafts(seeded)[0]
    with session_scope(seeded.engine) as s:
        row = s.get(Draft, d.id)
        row.findings = [{"code": "amount_mismatch", "message": "bad amount", "blocking": True}]
        s.add(row)
    with session_scope(seeded.engine) as s, pytest.raises(ApprovalError, match="blocking"):
        approve_draft(s, d.id, "alice", seeded.policies)


def _send(app, draft_id, when):
    with session_scope(app.engine) as s:
        approve_draft(s, draft_id, "alice", app.policies)
    with session_scope(app.engine) as s:
        first = s.get(Draft, draft_id)
        if first.status == "pending":  # four-eyes
            approve_draft(s, draft_id, "bob", app.policies)
    with session_scope(app.engine) as s:
        record_sent(s, s.get(Draft, draft_id), when, "outbox")


def test_the_ladder_climbs_step_by_step_then_hands_off(seeded):
    day = TODAY
    steps = []
    for _ in range(12):
        run_cycle(seeded, day, creditor=SLUG)
        for d in [d for d in drafts(seeded) if d.status == "pending"]:
            if "Boulangerie" in d.body_text:
                steps.append(d.step)
            _send(seeded, d.id, datetime.combine(day, datetime.min.time(), UTC))
        day += timedelta(days=10)
    assert steps == ["reminder_1", "reminder_2", "reminder_3", "formal_notice"]
    with session_scope(seeded.engine) as s:
        boulangerie = s.exec(select(Case).join(Debtor).where(Debtor.account_ref == "C001")).one()
        handoffs = s.exec(select(Handoff).where(Handoff.case_id == boulangerie.id)).all()
    assert boulangerie.status == "handoff" and len(handoffs) == 1
    assert "ladder is complete" in handoffs[0].summary
    formal = [d for d in drafts(seeded) if d.step == "formal_notice"][0]
    assert formal.requires_four_eyes and formal.pdf and formal.pdf.startswith(b"%PDF")


def test_four_eyes_needs_two_different_officers(seeded):
    run_cycle(seeded, TODAY, creditor=SLUG)
    with session_scope(seeded.engine) as s:
        d = s.exec(select(Draft)).one()
        d.requires_four_eyes = True
        s.add(d)
    with session_scope(seeded.engine) as s:
        assert approve_draft(s, d.id, "alice", seeded.policies).status == "pending"
    with session_scope(seeded.engine) as s, pytest.raises(ApprovalError, match="second approver"):
        approve_draft(s, d.id, "alice", seeded.policies)
    with session_scope(seeded.engine) as s:
        assert approve_draft(s, d.id, "bob", seeded.policies).status == "approved"


def test_a_broken_promise_is_detected_and_mentioned(seeded):
    run_cycle(seeded, TODAY, creditor=SLUG)
    d = drafts(seeded)[0]
    _send(seeded, d.id, datetime.combine(TODAY, datetime.min.time(), UTC))
    with session_scope(seeded.engine) as s:
        case = s.get(Case, d.case_id)
        s.add(
            Promise(
                case_id=case.id,
                amount_cents=173050,
                currency="EUR",
                due_on=TODAY + timedelta(days=5),
                grace_days=3,
            )
        )
        case.status = "promise"
        s.add(case)
    run_cycle(seeded, TODAY + timedelta(days=6), creditor=SLUG)
    assert [x.status for x in drafts(seeded) if x.case_id == d.case_id] == ["sent"]  # paused
    report = run_cycle(seeded, TODAY + timedelta(days=9), creditor=SLUG)
    assert report.counts[SLUG]["promises_broken"] == 1
    new = [x for x in drafts(seeded) if x.status == "pending" and x.case_id == d.case_id]
    assert len(new) == 1 and new[0].step == "reminder_2"


def test_the_cycle_audits_each_case_and_draft_in_order(seeded):
    report = run_cycle(seeded, TODAY, creditor=SLUG)
    with session_scope(seeded.engine) as s:
        events = s.exec(
            select(AuditEvent)
            .where(AuditEvent.action.in_(["case.opened", "draft.created"]))
            .order_by(AuditEvent.id)
        ).all()
        cases = {c.debtor_id: c for c in s.exec(select(Case))}
        debtors = {d.account_ref: d.id for d in s.exec(select(Debtor))}
    c001, c003 = cases[debtors["C001"]], cases[debtors["C003"]]
    [d] = drafts(seeded)
    assert [(e.action, e.entity_id) for e in events] == [
        ("case.opened", c001.ref),
        ("draft.created", str(d.id)),
        ("case.opened", c003.ref),
    ]
    assert events[1].payload == {"case": c001.ref, "step": "reminder_1", "blocking": 0}
    assert all(e.actor == "tester" for e in events) and report.draft_ids == [d.id]
    assert report.counts[SLUG]["opened"] == 2 and debtors["C002"] not in cases


def test_a_taken_case_token_is_skipped_like_before(seeded):
    from assistant.services.tokens import case_token

    other = seeded.policies["distrib-pro"]
    with session_scope(seeded.engine) as s:
        creditor = ensure_creditor(s, other)
        debtor = seed_debtor(s, creditor, "X1", "Autre SA", [("F-1", 1, 100)], TODAY)
        s.add(Case(ref=case_token(f"{SLUG}/C001", 0), creditor_id=creditor.id, debtor_id=debtor.id))
    run_cycle(seeded, TODAY, creditor=SLUG)
    with session_scope(seeded.engine) as s:
        c001 = s.exec(select(Case).join(Debtor).where(Debtor.account_ref == "C001")).one()
    assert c001.ref == case_token(f"{SLUG}/C001", 1)


def test_a_crash_in_the_middle_of_a_creditor_leaves_nothing_half_written(seeded, monkeypatch):
    import assistant.services.cycle as cycle

    def boom(*args, **kwargs):
        raise RuntimeError("validator crashed")

    monkeypatch.setattr(cycle, "validate_letter", boom)
    with pytest.raises(RuntimeError, match="validator crashed"):
        run_cycle(seeded, TODAY, creditor=SLUG)
    with session_scope(seeded.engine) as s:
        assert s.exec(select(Case)).all() == []
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "case.opened")).all() == []
    assert drafts(seeded) == []


def test_drafts_are_inserted_in_batches_with_their_audit_rows(seeded, monkeypatch):
    import assistant.services.cycle as cycle

    monkeypatch.setattr(cycle, "BATCH_SIZE", 2)
    policy = seeded.policies[SLUG]
    with session_scope(seeded.engine) as s:
        creditor = ensure_creditor(s, policy)
        for n in range(4, 9):
            seed_debtor(
                s, creditor, f"C00{n}", f"Client {n}", [(f"FA-2026-0{n}01", 15, 10000 * n)], TODAY
            )
    report = run_cycle(seeded, TODAY, creditor=SLUG)
    ds = drafts(seeded)
    assert report.total("drafts") == len(ds) == 6 and report.draft_ids == [d.id for d in ds]
    with session_scope(seeded.engine) as s:
        created = s.exec(select(AuditEvent).where(AuditEvent.action == "draft.created")).all()
        cases = {c.id: c.ref for c in s.exec(select(Case))}
    assert sorted(int(e.entity_id) for e in created) == [d.id for d in ds]
    assert {e.entity_id: e.payload["case"] for e in created} == {
        str(d.id): cases[d.case_id] for d in ds
    }


def test_auto_approval_in_the_template_cycle_skips_blocked_drafts(app):
    policy = app.policies[SLUG].model_copy(update={"auto_approve": True})
    app.policies[SLUG] = policy
    with session_scope(app.engine) as s:
        creditor = ensure_creditor(s, policy)
        seed_debtor(s, creditor, "C001", "Boulangerie", [("FA-1", 12, 125000)], TODAY)
        seed_debtor(s, creditor, "C002", "Sans adresse", [("FA-2", 12, 5000)], TODAY, email=None)
    report = run_cycle(app, TODAY, creditor=SLUG)
    assert sorted(d.status for d in drafts(app)) == ["approved", "pending"]
    assert report.counts[SLUG]["auto_approved"] == 1 and report.counts[SLUG]["blocked"] == 1
    assert report.blocked == 1


def test_two_new_cases_with_the_same_first_token_get_distinct_refs(app):
    from assistant.services.tokens import case_token

    # "K632" and "K1781" share their first token (REF-DA6E): the second one takes attempt 1.
    assert case_token(f"{SLUG}/K632") == case_token(f"{SLUG}/K1781")
    with session_scope(app.engine) as s:
        creditor = ensure_creditor(s, app.policies[SLUG])
        for ref in ("K632", "K1781"):
            seed_debtor(s, creditor, ref, f"Client {ref}", [(f"F-{ref}", 12, 10000)], TODAY)
    run_cycle(app, TODAY, creditor=SLUG)
    with session_scope(app.engine) as s:
        refs = {d.account_ref: c.ref for c, d in s.exec(select(Case, Debtor).join(Debtor))}
    assert refs == {"K632": case_token(f"{SLUG}/K632"), "K1781": case_token(f"{SLUG}/K1781", 1)}


def _letters(app):
    with session_scope(app.engine) as s:
        rows = s.exec(
            select(Case.ref, Draft.step, Draft.subject, Draft.body_text, Draft.body_html)
            .join(Case, Case.id == Draft.case_id)
            .order_by(Case.ref)
        ).all()
    return [tuple(r) for r in rows]


def test_the_cycle_writes_the_same_letters_whatever_its_chunk_of_debtors(seeded, monkeypatch):
    from assistant.services import cycle

    monkeypatch.setattr(cycle, "CHUNK_DEBTORS", 1)  # one debtor per chunk
    small = run_cycle(seeded, TODAY, creditor=SLUG).as_dict()
    one_by_one = _letters(seeded)
    with session_scope(seeded.engine) as s:
        for row in [*s.exec(select(Draft)), *s.exec(select(AuditEvent))]:
            s.delete(row)
        s.flush()
        for case in s.exec(select(Case)):
            s.delete(case)
    monkeypatch.setattr(cycle, "CHUNK_DEBTORS", 2000)  # every debtor in one chunk
    whole = run_cycle(seeded, TODAY, creditor=SLUG).as_dict()
    assert small == whole
    assert one_by_one == _letters(seeded) and one_by_one


def test_a_paid_up_case_is_closed_and_a_new_debt_reopens_it_chunk_by_chunk(seeded, monkeypatch):
    from assistant.db.models import Invoice
    from assistant.services import cycle

    monkeypatch.setattr(cycle, "CHUNK_DEBTORS", 1)
    run_cycle(seeded, TODAY, creditor=SLUG)
    with session_scope(seeded.engine) as s:
        martin = s.exec(select(Debtor).where(Debtor.account_ref == "C001")).one()
        for inv in s.exec(select(Invoice).where(Invoice.debtor_id == martin.id)):
            inv.status, inv.outstanding_cents = "paid", 0
            s.add(inv)
        for d in s.exec(select(Draft)):
            s.delete(d)
    report = run_cycle(seeded, TODAY + timedelta(days=1), creditor=SLUG)
    assert report.counts[SLUG]["closed"] == 1
    with session_scope(seeded.engine) as s:
        case = s.exec(select(Case).where(Case.debtor_id == martin.id)).one()
        assert case.status == "closed"
        inv = s.exec(select(Invoice).where(Invoice.number == "FA-2026-0101")).one()
        inv.status, inv.outstanding_cents = "open", 125000
        s.add(inv)
    run_cycle(seeded, TODAY + timedelta(days=2), creditor=SLUG)
    with session_scope(seeded.engine) as s:
        assert s.exec(select(Case).where(Case.debtor_id == martin.id)).one().status == "active"
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert "case.closed" in actions and "case.reopened" in actions
