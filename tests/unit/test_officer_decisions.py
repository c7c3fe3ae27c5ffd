"""The officer verbs' pure decisions: instalments kept or broken, deadlines, attestation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from assistant.db.models import Contact
from assistant.services.attestation import attested
from assistant.services.case_journal import parse_amount
from assistant.services.contacts import contact_state, normalise_email
from assistant.services.insolvency import add_months, claim_deadline
from assistant.services.officer_common import OfficerActionError
from assistant.services.payment_plans import Due, instalment_outcomes, parse_instalment

D1, D2, D3 = date(2026, 12, 10), date(2027, 1, 10), date(2027, 2, 10)
PLAN = [Due(1, D1, 30000, "pending"), Due(2, D2, 30000, "pending"), Due(3, D3, 40000, "pending")]


@pytest.mark.parametrize(
    ("paid", "on", "expected"),
    [
        (0, date(2026, 12, 13), {}),  # within the grace period: nothing decided
        (30000, date(2026, 12, 14), {1: "kept"}),
        (29999, date(2026, 12, 14), {1: "broken"}),
        (60000, date(2027, 1, 14), {1: "kept", 2: "kept"}),
        (45000, date(2027, 1, 14), {1: "kept", 2: "broken"}),  # payments cover in date order
        (100000, date(2027, 3, 1), {1: "kept", 2: "kept", 3: "kept"}),
    ],
)
def test_instalments_are_kept_when_payments_reach_the_running_total(paid, on, expected):
    assert instalment_outcomes(PLAN, paid, 3, on) == expected


def test_settled_instalments_are_not_decided_again():
    done = [Due(1, D1, 30000, "kept"), *PLAN[1:]]
    assert instalment_outcomes(done, 30000, 3, date(2027, 1, 14)) == {2: "broken"}


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 20), 2, date(2027, 1, 20)),
        (date(2026, 12, 31), 2, date(2027, 2, 28)),
        (date(2027, 12, 31), 2, date(2028, 2, 29)),
        (date(2026, 10, 15), 2, date(2026, 12, 15)),
    ],
)
def test_months_are_added_as_calendar_months(day, months, expected):
    assert add_months(day, months) == expected


def test_the_deadline_counts_from_the_publication_when_known():
    assert claim_deadline(date(2026, 11, 25), date(2026, 11, 20)) == (
        date(2027, 1, 25),
        "publication",
    )
    assert claim_deadline(None, date(2026, 11, 20)) == (date(2027, 1, 20), "handoff")
    assert claim_deadline(None, None) == (None, "unknown")


def test_attesting_unblocks_only_the_named_figure_and_keeps_it_visible():
    findings = [
        {"code": "date_mismatch", "message": "28 novembre", "blocking": True},
        {"code": "amount_mismatch", "message": "12,00 €", "blocking": True},
        {"code": "long_text", "message": "long", "blocking": False},
    ]
    out, n = attested(findings, {"date_mismatch"}, "confirmé par téléphone", "alice", "T")
    assert n == 1 and len(out) == 3
    assert out[0] == {
        "code": "date_mismatch", "message": "28 novembre", "blocking": False,
        "attested_by": "alice", "attested_reason": "confirmé par téléphone", "attested_at": "T",
    }  # fmt: skip
    assert out[1]["blocking"] and out[2] == findings[2]
    assert findings[0]["blocking"]  # the input is not changed


@pytest.mark.parametrize("code", ["threat", "no_contact", "penalties_to_consumer", "template_code"])
def test_legal_tone_and_contact_findings_cannot_be_attested(code):
    with pytest.raises(OfficerActionError, match=f"cannot attest {code}"):
        attested([{"code": code, "blocking": True}], {code}, "sure", "alice", "T")


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1250", "1250"),
        ("1 250,50", "1250.50"),
        ("1250.5", "1250.5"),
        ("10\u202f266,45 €", "10266.45"),
    ],
)
def test_amounts_are_read_as_officers_type_them(text, amount):
    assert parse_amount(text) == Decimal(amount)


def test_an_instalment_is_amount_colon_date():
    assert parse_instalment("500,00:2026-12-15") == (Decimal("500.00"), date(2026, 12, 15))
    for bad in ("500", "500:15/12/2026", "x:2026-12-15"):
        with pytest.raises(OfficerActionError):
            parse_instalment(bad)


def test_emails_are_checked_and_lower_cased():
    assert normalise_email("  Jean.Petit@Martin.EXAMPLE ") == "jean.petit@martin.example"
    for bad in ("jean", "jean@", "@martin.example", "jean@martin", "a..b@x.example", "a b@x.fr"):
        with pytest.raises(OfficerActionError):
            normalise_email(bad)


def test_a_contact_from_a_reply_is_to_confirm_a_bounced_one_invalid():
    assert contact_state(Contact(debtor_id=1, email="a@x.fr")) == "valid"
    suggested = Contact(
        debtor_id=1, email="b@x.fr", valid=False,
        invalid_reason="suggested in a reply: officer to confirm",
    )  # fmt: skip
    assert contact_state(suggested) == "to_confirm"
    bounced = Contact(debtor_id=1, email="c@x.fr", valid=False, invalid_reason="550 unknown")
    assert contact_state(bounced) == "invalid"
