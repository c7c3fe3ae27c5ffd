"""A promise is kept by a payment made by its date plus grace, whenever that payment is imported."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.models import Case, Draft, Promise
from assistant.importing import import_payments
from assistant.services.cycle import run_cycle
from assistant.services.portfolio import ensure_creditor
from assistant.services.promises import check_promises
from tests.helpers import make_app, seed_debtor

SLUG = "atelier-bois"
TODAY = date(2026, 11, 26)
PROMISED_ON = date(2026, 12, 1)  # grace 3 days: judged from 5 December
BANK = (
    "Date de règlement;Code client;N° facture;Montant réglé;Référence paiement\n"
    "01/12/2026;C001;FA-1;500,00;VIR-1\n"
)


def seeded(db_url: str):  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    with session_scope(app.engine) as s:
        creditor = ensure_creditor(s, app.policies[SLUG])
        debtor = seed_debtor(s, creditor, "C001", "Garage Martin", [("FA-1", 20, 100000)], TODAY)
        case = Case(ref="REF-PROM", creditor_id=creditor.id, debtor_id=debtor.id,
                    status="promise", step_index=0, last_contact_on=TODAY)  # fmt: skip
        s.add(case)
        s.flush()
        # Recorded now (the real clock): possibly after the promised day of this ledger.
        s.add(Promise(case_id=case.id, due_on=PROMISED_ON, amount_cents=50000, grace_days=3))
    return app


def pay(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bank.csv"
    path.write_text(BANK, encoding="utf-8")
    assert import_payments(app, path, SLUG).ok


def state(app) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    with session_scope(app.engine) as s:
        promise = s.exec(select(Promise)).one()
        case = s.exec(select(Case)).one()
        return promise.status, case.broken_promise_pending


def test_a_payment_of_the_promised_amount_on_the_promised_day_keeps_it(db_url, tmp_path):
    app = seeded(db_url)
    pay(app, tmp_path)
    run_cycle(app, date(2026, 12, 5), creditor=SLUG)
    assert state(app) == ("kept", False)
    with session_scope(app.engine) as s:
        texts = [d.body_text for d in s.exec(select(Draft)).all()]
    assert not any("aviez annoncé" in t for t in texts)
    app.close()


def test_a_payment_imported_after_the_promise_was_judged_broken_keeps_it(db_url, tmp_path):
    app = seeded(db_url)
    with session_scope(app.engine) as s:
        creditor_id = ensure_creditor(s, app.policies[SLUG]).id
        assert check_promises(s, creditor_id or 0, date(2026, 12, 5), "t") == {
            "kept": 0,
            "broken": 1,
        }
    assert state(app) == ("broken", True)
    pay(app, tmp_path)  # the bank file arrives a day late
    with session_scope(app.engine) as s:
        assert check_promises(s, creditor_id or 0, date(2026, 12, 6), "t")["kept"] == 1
    assert state(app) == ("kept", False)
    app.close()


def test_a_payment_after_the_grace_period_does_not_keep_it(db_url, tmp_path):
    app = seeded(db_url)
    path = tmp_path / "late.csv"
    path.write_text(BANK.replace("01/12/2026", "10/12/2026"), encoding="utf-8")
    assert import_payments(app, path, SLUG).ok
    with session_scope(app.engine) as s:
        creditor_id = ensure_creditor(s, app.policies[SLUG]).id
        check_promises(s, creditor_id or 0, date(2026, 12, 11), "t")
    assert state(app) == ("broken", True)
    app.close()


def test_a_broken_promise_letter_not_yet_sent_is_withdrawn_when_the_payment_shows_up(
    db_url, tmp_path
):
    app = seeded(db_url)
    run_cycle(app, date(2026, 12, 5), creditor=SLUG)
    with session_scope(app.engine) as s:
        [first] = s.exec(select(Draft)).all()
        assert "aviez annoncé" in first.body_text and first.status == "pending"
    pay(app, tmp_path)  # paid on the promised day, the bank file came late
    run_cycle(app, date(2026, 12, 6), creditor=SLUG)
    assert state(app) == ("kept", False)
    with session_scope(app.engine) as s:
        drafts = s.exec(select(Draft).order_by(Draft.id)).all()
    assert drafts[0].status == "rejected" and "kept after all" in (drafts[0].reject_reason or "")
    assert all("aviez annoncé" not in d.body_text for d in drafts[1:])
    app.close()
