"""Inbound mail under chaos, with real Dovecot and a real database (SQLite and PostgreSQL).

Two fetches at once, strangers' mail, forged bounces, two messages with one Message-ID: each
scenario (in `inbound_scenarios`) must see nothing doubled, nothing lost and no case changed
by someone who is not the debtor.
"""

from __future__ import annotations

import pytest

from tests.chaos import inbound_scenarios as sc

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("lease", [True, False], ids=["lease", "lease-bypassed"])
def test_two_fetches_at_once_store_and_apply_each_reply_once(db_url, imap_account, tmp_path, lease):
    outcome = sc.two_fetches(db_url, imap_account, tmp_path, replies=150, lease=lease)

    details = outcome.details
    assert details["exit_codes"] == [0, 0], details["stderr"]
    assert sum(details["fetched"]) >= 150  # between them, the two runs read every reply
    assert (details["stored"], details["analysed"]) == (150, 150)
    assert (details["promises"], details["acks"]) == (150, 150)
    assert outcome.ok, outcome


def test_a_strangers_mail_changes_no_case_and_waits_in_triage(db_url, imap_account, tmp_path):
    outcome = sc.stranger_mail(db_url, imap_account, tmp_path)

    assert outcome.ok, outcome
    triage = outcome.details["triage"]
    assert triage["s1@tiers"][0] == "unmatched"
    assert triage["s1@tiers"][2].startswith("invoice number of REF-")
    assert "not a known contact" in triage["s2@tiers"][2]  # another creditor's token
    assert "not a known contact" in triage["s4@tiers"][2]  # forged In-Reply-To
    reasons = sorted(why for _, _, why in triage.values())
    assert any(" but token to " in why for why in reasons), reasons  # thread X, token Y
    # attached by an officer, the stranger's dispute now applies to the case it names
    after = outcome.details["after_attach"]
    assert after["handoffs"] == 1 and "disputed" in {s for _, s in after["invoices"]}
    assert "attached to" in outcome.details["attached"]


def test_forged_bounces_invalidate_nothing_and_a_real_one_does(db_url, imap_account, tmp_path):
    outcome = sc.forged_bounce(db_url, imap_account, tmp_path)

    assert outcome.ok, outcome
    reasons = sorted(why for _, _, why in outcome.details["triage"].values() if why)
    assert len(reasons) == 3 and all(why.startswith("bounce not counted") for why in reasons)


def test_two_messages_with_one_message_id_are_both_kept(db_url, imap_account, tmp_path):
    outcome = sc.same_message_id(db_url, imap_account, tmp_path)

    assert outcome.ok, outcome
    assert outcome.details["statuses"] == ["analysed", "unmatched"]
    assert "also that of message" in outcome.details["reasons"][1]
    after = outcome.details["after_attach"]  # the insolvency notice, attached, applies
    assert after["handoffs"] == 1 and {s for _, s in after["invoices"]} == {"frozen"}


def test_a_fetch_killed_mid_way_then_run_again_applies_every_reply_once(
    db_url, imap_account, tmp_path
):
    outcome = sc.fetch_killed(db_url, imap_account, tmp_path, replies=60)

    assert outcome.ok, outcome
    assert outcome.details["at_kill"]["analysed"] < 60  # it really died mid-way
