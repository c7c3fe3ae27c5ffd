"""Two of anything at once is safe for drafts and the outbox (real processes, real servers).

Quick cases of the scenarios `bench/chaos.py` repeats many times.
"""

from __future__ import annotations

import pytest

from tests.chaos.sending_scenarios import (
    Outcome,
    Rig,
    edit_vs_send,
    kill_during_send,
    two_cycles,
    two_senders,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def rig(db_url, smtp_server, imap_account, tmp_path) -> Rig:
    return Rig(db_url, smtp_server, imap_account, tmp_path)


async def test_two_cycles_at_once_draft_every_due_letter_exactly_once(rig):
    assert await two_cycles(rig, n=12) == Outcome(detail="")


async def test_two_senders_at_once_deliver_each_letter_exactly_once(rig):
    outcome = await two_senders(rig, n=10)
    assert (outcome.duplicates, outcome.losses, outcome.needless_unknown) == (0, 0, 0)
    assert len(rig.smtp.messages) == 10


async def test_sigkill_during_a_paced_send_neither_duplicates_nor_loses(rig):
    outcome = await kill_during_send(rig, n=4, kill_after=2)
    assert (outcome.duplicates, outcome.losses, outcome.needless_unknown) == (0, 0, 0), outcome
    assert len(rig.smtp.messages) == 4


async def test_edits_racing_the_send_never_change_or_reopen_a_sent_letter(rig):
    assert await edit_vs_send(rig, n=3) == Outcome()
