"""Who may change a case by mail, and which bounces count (pure decisions, real DSN corpus)."""

from __future__ import annotations

from pathlib import Path

from assistant.mailparse.dsn import read_delivery_report
from assistant.services.inbound_trust import (
    CaseRef,
    Evidence,
    SentLetter,
    decide_bounce,
    decide_trust,
)

EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"
X = CaseRef(1, "REF-XXXX", "atelier-bois", 10)
Y = CaseRef(2, "REF-YYYY", "distrib-pro", 20)
DEBTOR = "compta@martin.example"


def test_a_known_contact_replying_in_thread_applies():
    verdict = decide_trust(Evidence(DEBTOR, thread=X, tokens=(X,), sender_of=(X,)))
    assert (verdict.case, verdict.method, verdict.apply) == (X, "thread", True)


def test_a_known_contact_without_any_reference_applies_by_sender():
    verdict = decide_trust(Evidence(DEBTOR, sender_of=(X,)))
    assert (verdict.case, verdict.method, verdict.apply) == (X, "sender", True)


def test_a_stranger_quoting_an_invoice_number_goes_to_triage():
    verdict = decide_trust(Evidence("x@evil.example", invoices=(X,)))
    assert (verdict.case, verdict.apply) == (X, False)
    assert (
        verdict.reason == "invoice number of REF-XXXX quoted by x@evil.example, not a known contact"
    )


def test_a_token_of_a_case_whose_debtor_does_not_know_the_sender_goes_to_triage():
    verdict = decide_trust(Evidence(DEBTOR, tokens=(Y,), sender_of=(X,)))
    assert (verdict.case, verdict.apply) == (Y, False)
    assert verdict.reason == f"sender {DEBTOR} is not a known contact of REF-YYYY"


def test_a_thread_and_a_token_of_different_creditors_never_apply():
    verdict = decide_trust(Evidence(DEBTOR, thread=X, tokens=(Y,), sender_of=(X, Y)))
    assert not verdict.apply
    assert verdict.reason == (
        "thread belongs to REF-XXXX (atelier-bois) but token to REF-YYYY (distrib-pro)"
    )


def test_a_forged_in_reply_to_from_a_stranger_goes_to_triage():
    verdict = decide_trust(Evidence("x@evil.example", thread=Y))
    assert (verdict.case, verdict.method, verdict.apply) == (Y, "thread", False)


def test_a_contact_of_two_debtors_needs_a_reference_or_an_invoice_number():
    both = Evidence(DEBTOR, sender_of=(X, Y))
    assert not decide_trust(both).apply
    assert "several cases (REF-XXXX, REF-YYYY)" in (decide_trust(both).reason or "")
    named = Evidence(DEBTOR, sender_of=(X, Y), invoices=(Y,))
    assert (decide_trust(named).case, decide_trust(named).apply) == (Y, True)


def test_a_colleague_of_the_same_domain_applies_only_when_the_policy_trusts_domains():
    colleague = "direction@martin.example"
    refused = decide_trust(Evidence(colleague, tokens=(X,), domain_of=(X,)))
    assert not refused.apply
    allowed = Evidence(colleague, tokens=(X,), domain_of=(X,), domain_trusted=frozenset({1}))
    assert (decide_trust(allowed).case, decide_trust(allowed).apply) == (X, True)
    alone = Evidence(colleague, domain_of=(X,), domain_trusted=frozenset({1}))
    assert decide_trust(alone).method == "domain" and decide_trust(alone).apply
    untrusted = decide_trust(Evidence(colleague, domain_of=(X,)))
    assert not untrusted.apply and "replies.trust_sender_domain" in (untrusted.reason or "")


def test_nothing_pointing_anywhere_is_unmatched_without_suggestion():
    verdict = decide_trust(Evidence("promo@shop.example"))
    assert (verdict.case, verdict.apply) == (None, False)


LETTER = SentLetter("letter-1@recouvra.example", X, (DEBTOR,))


def test_a_report_naming_our_letter_and_its_recipient_invalidates_that_address():
    verdict = decide_bounce([DEBTOR], ["letter-1@recouvra.example"], [LETTER])
    assert verdict.invalidate == ((DEBTOR, X),) and verdict.reason is None


def test_bounces_that_prove_nothing_invalidate_nothing():
    not_a_report = decide_bounce(None, [], [LETTER])
    assert not not_a_report.invalidate and "not a delivery-status report" in not_a_report.reason
    unknown_id = decide_bounce([DEBTOR], ["forged@evil.example"], [LETTER])
    assert not unknown_id.invalidate and "no Message-ID of a letter we sent" in unknown_id.reason
    other_address = decide_bounce(["boss@martin.example"], [LETTER.message_id], [LETTER])
    assert not other_address.invalidate and "not an address the letter went to" in (
        other_address.reason or ""
    )


def test_real_delivery_reports_are_read_and_a_plain_notice_is_not():
    postfix = read_delivery_report(
        (EMAILS / "en-postfix-bounce-multipart-report-user-unknown.eml").read_bytes()
    )
    assert postfix is not None
    assert postfix.failed == ("paul.martin@exemple-sarl.fr",)
    assert postfix.original_ids == ("relance.REF-5BGT.001@ateliers-berthier.fr",)
    exim = (EMAILS / "en-exim-bounce-plain-x-failed-recipients.eml").read_bytes()
    assert read_delivery_report(exim) is None


def test_a_delayed_report_is_not_a_failure():
    raw = (EMAILS / "en-postfix-bounce-multipart-report-user-unknown.eml").read_bytes()
    assert read_delivery_report(raw.replace(b"Action: failed", b"Action: delayed")) is None
