"""Automatic replies: an absence is out of office; a gone mailbox with a new address is a wrong
contact; an administrator's automatic acknowledgement is insolvency."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assistant.replies import Intent, analyse_reply
from assistant.replies.hybrid import HybridEngine
from assistant.replies.rules_engine import RulesEngine

MON = datetime(2026, 11, 23, 9, 5, tzinfo=timezone(timedelta(hours=1)))
ENGINES = [RulesEngine(), HybridEngine()]


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
@pytest.mark.parametrize(
    "text",
    [
        "Paul Martin has left Corbin Supplies. This mailbox is no longer monitored.\n\n"
        "Please send your emails to accounts@corbin-supplies.co.uk.",
        "Bonjour,\n\nMme Leroy ne fait plus partie de la société depuis le 31 octobre. Cette "
        "adresse n'est plus consultée.\nMerci d'écrire désormais à compta@menuiserie-leroy.fr.",
    ],
)
def test_an_automatic_notice_that_the_mailbox_is_gone_is_a_wrong_contact(engine, text) -> None:
    got = analyse_reply(text, MON, engine=engine, auto_submitted=True)
    assert got.intent is Intent.WRONG_CONTACT
    assert got.new_contacts


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
def test_an_automatic_absence_with_a_colleague_for_urgent_matters_stays_out_of_office(
    engine,
) -> None:
    text = (
        "Je suis absente jusqu'au 30 novembre inclus. Pour toute urgence, merci de contacter "
        "ma collègue à compta@atelier-fabre.fr."
    )
    got = analyse_reply(text, MON, engine=engine, auto_submitted=True)
    assert got.intent is Intent.OUT_OF_OFFICE


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
def test_an_administrators_automatic_acknowledgement_is_insolvency(engine) -> None:
    text = (
        "Thank you for your email to the Joint Administrators of Glenmore Foods Limited "
        "(In Administration). Claims should be submitted through the creditors' portal."
    )
    got = analyse_reply(text, MON, engine=engine, auto_submitted=True)
    assert got.intent is Intent.INSOLVENCY
    assert got.needs_human
