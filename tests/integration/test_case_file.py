"""The one case loader: every fact about a case, the same for one case and in bulk."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from assistant.db.mail_models import InboundMessage
from assistant.db.models import Case, Draft, Handoff, Promise
from assistant.services.case_file import CaseNotFound, load_case_file, load_case_files
from assistant.services.portfolio import ensure_creditor
from tests.helpers import make_app, seed_debtor

TODAY = date(2026, 11, 26)
ATELIER = "atelier-bois"


@pytest.fixture
def app(db_url):
    application = make_app(db_url)
    yield application
    application.close()


@pytest.fixture
def ledger(app, session):
    """A case with every kind of fact, and a quiet neighbour."""
    creditor = ensure_creditor(session, app.policies[ATELIER])
    debtor = seed_debtor(
        session,
        creditor,
        "C001",
        "Boulangerie Martin SARL",
        [
            ("FA-0101", 40, 125000),
            ("FA-0102", 20, 48050, "disputed"),
            ("AV-0103", 10, -9900),  # an open credit note
            ("FA-0090", 200, 30000, "paid"),  # history: paid on its due date
        ],
        TODAY,
    )
    calm = seed_debtor(session, creditor, "C002", "Garage des Lilas", [("FA-0201", 5, 1000)], TODAY)
    case = Case(
        ref="REF-MART", creditor_id=creditor.id, debtor_id=debtor.id, status="handoff",
        step_index=1, step_name="reminder_2", last_contact_on=TODAY - timedelta(days=12),
    )  # fmt: skip
    quiet = Case(ref="REF-LILA", creditor_id=creditor.id, debtor_id=calm.id)
    session.add_all([case, quiet])
    session.flush()
    sent_at = datetime.combine(TODAY - timedelta(days=12), datetime.min.time(), tzinfo=UTC)
    session.add_all(
        [
            Promise(case_id=case.id, amount_cents=50000, due_on=TODAY + timedelta(days=4)),
            Promise(
                case_id=case.id,
                amount_cents=10000,
                due_on=TODAY - timedelta(days=30),
                status="broken",
            ),  # fmt: skip
            Handoff(case_id=case.id, reason="dispute", summary="disputes FA-0102"),
            Draft(
                case_id=case.id,
                step="reminder_2",
                subject="Relance [REF-MART]",
                body_text="…",
                body_html="…",
                status="sent",
                sent_at=sent_at,
            ),  # fmt: skip
            Draft(
                case_id=case.id, step="formal_notice", subject="s", body_text="…", body_html="…"
            ),  # fmt: skip
            InboundMessage(
                folder="INBOX",
                raw=b"x",
                raw_sha256="0",
                case_id=case.id,
                text="Nous contestons la facture FA-0102.",
                reply_text="Nous contestons la facture FA-0102.",
                received_at=sent_at + timedelta(days=2),
            ),  # fmt: skip
        ]
    )
    session.commit()
    return creditor


def test_one_case_file_holds_every_fact_the_entry_points_need(app, session, ledger):
    policy = app.policies[ATELIER]
    facts = load_case_file(session, "[ref-mart]", policy, TODAY)
    assert facts.ref == "REF-MART" and facts.creditor == ATELIER and facts.in_handoff
    assert facts.debtor.name == "Boulangerie Martin SARL"
    assert facts.debtor.emails == ("compta@c001.example",)
    assert sorted(i.number for i in facts.lines) == ["AV-0103", "FA-0101", "FA-0102"]
    assert [i.number for i in facts.open_lines] == ["FA-0101", "AV-0103"]
    assert Decimal("-99.00") in {i.outstanding for i in facts.lines}
    grace = policy.promises.grace_days
    assert facts.state.pending_promise_until == TODAY + timedelta(days=4 + grace)
    assert facts.state.broken_promises == 1 and facts.state.open_handoff
    assert facts.state.contact_dates == (TODAY - timedelta(days=12),)
    assert facts.history.paid_invoices == 1
    [draft_id] = facts.live_drafts
    assert draft_id > 0
    assert [m.author for m in facts.thread] == ["us", "debtor"]
    assert "FA-0102" in facts.thread[-1].text


def test_the_bulk_loader_gives_the_same_files_as_the_single_one(app, session, ledger):
    policy = app.policies[ATELIER]
    bulk = load_case_files(session, ledger, policy, TODAY)
    assert len(bulk) == 2
    for facts in bulk.values():
        single = load_case_file(session, facts.ref, policy, TODAY, thread=False)
        assert single == facts


def test_an_unknown_ref_is_a_clear_error(app, session, ledger):
    with pytest.raises(CaseNotFound, match="no case REF-NOPE"):
        load_case_file(session, "REF-NOPE", app.policies[ATELIER], TODAY)
