"""`handoffs resolve --resume` is followed by dunning, not by the same hand-off again."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.models import Draft, Handoff
from assistant.services.cycle import run_cycle
from assistant.services.portfolio import ensure_creditor
from assistant.services.queues import resolve_handoff
from tests.helpers import make_app, seed_debtor

SLUG = "atelier-bois"  # hands off at 15 000 €
TODAY = date(2026, 11, 26)


def test_a_resumed_case_above_the_threshold_is_not_handed_off_again(db_url):
    app = make_app(db_url)
    with session_scope(app.engine) as s:
        creditor = ensure_creditor(s, app.policies[SLUG])
        seed_debtor(s, creditor, "C001", "Garage Martin", [("FA-1", 10, 1600000)], TODAY)
    assert run_cycle(app, TODAY, creditor=SLUG).total("handoffs") == 1
    with session_scope(app.engine) as s:
        [handoff] = s.exec(select(Handoff)).all()
        resolve_handoff(s, handoff.id or 0, "carol", note="Accord du directeur", resume=True)
    report = run_cycle(app, TODAY, creditor=SLUG)
    assert report.total("handoffs") == 0 and report.total("drafts") == 1
    with session_scope(app.engine) as s:
        assert len(s.exec(select(Handoff)).all()) == 1
        [draft] = s.exec(select(Draft)).all()
        assert draft.step == "reminder_1"
    app.close()


def test_a_larger_balance_after_the_resume_hands_off_again(db_url):
    app = make_app(db_url)
    with session_scope(app.engine) as s:
        creditor = ensure_creditor(s, app.policies[SLUG])
        debtor = seed_debtor(s, creditor, "C001", "Garage Martin", [("FA-1", 10, 1600000)], TODAY)
    run_cycle(app, TODAY, creditor=SLUG)
    with session_scope(app.engine) as s:
        [handoff] = s.exec(select(Handoff)).all()
        resolve_handoff(s, handoff.id or 0, "carol", note="Accord du directeur", resume=True)
    with session_scope(app.engine) as s:
        from assistant.db.models import Invoice

        s.add(Invoice(creditor_id=creditor.id, debtor_id=debtor.id, number="FA-2",
                      due_date=date(2026, 11, 20), amount_cents=50000, outstanding_cents=50000))  # fmt: skip
    assert run_cycle(app, TODAY, creditor=SLUG).total("handoffs") == 1
    app.close()
