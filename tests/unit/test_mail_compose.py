"""Building the e-mail of an approved draft (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from assistant.db.models import Draft
from assistant.mail.compose import (
    ComposeError,
    SenderIdentity,
    compose_message,
    message_bytes,
    message_ids,
    reply_to_address,
    sender_identity,
    split_addresses,
    subject_with_token,
)
from assistant.policy import load_policies
from tests.helpers import ROOT

WHEN = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ME = SenderIdentity("Cabinet Recouvra", "recouvrement@recouvra.example")


def draft(**kw) -> Draft:
    values = dict(
        id=7,
        case_id=1,
        step="reminder_2",
        subject="Relance — facture FA-1",
        body_text="Bonjour,\n\nLa facture FA-1 reste impayée.",
        body_html="<p>Bonjour</p>",
        message_id="1.2.REF-7Q2K@recouvra.example",
    )
    values.update(kw)
    return Draft(**values)


def roundtrip(d: Draft, **kw):
    msg = compose_message(
        d, sender=ME, to=["compta@client.fr"], case_ref="REF-7Q2K", date=WHEN, **kw
    )
    return message_from_bytes(message_bytes(msg), policy=policy.default)


def test_threading_headers_are_bracketed_from_the_bare_ids_stored_at_approval():
    got = roundtrip(
        draft(
            in_reply_to="0.1.REF-7Q2K@recouvra.example",
            references="0.0.REF-7Q2K@recouvra.example 0.1.REF-7Q2K@recouvra.example",
        )
    )
    assert got["Message-ID"].strip() == "<1.2.REF-7Q2K@recouvra.example>"
    assert got["In-Reply-To"].strip() == "<0.1.REF-7Q2K@recouvra.example>"
    assert message_ids(got["References"]) == [
        "0.0.REF-7Q2K@recouvra.example",
        "0.1.REF-7Q2K@recouvra.example",
    ]


def test_the_subject_always_carries_the_case_token_once():
    assert (
        subject_with_token("Relance — facture FA-1", "REF-7Q2K")
        == "Relance — facture FA-1 [REF-7Q2K]"
    )
    assert subject_with_token("[REF-7Q2K] Relance", "REF-7Q2K") == "[REF-7Q2K] Relance"


def test_reply_to_is_plus_addressed_with_the_case_token():
    assert reply_to_address("recouvrement+{token}@x.fr", "REF-7Q2K") == "recouvrement+REF-7Q2K@x.fr"
    assert reply_to_address("recouvrement@x.fr", "REF-7Q2K") == "recouvrement@x.fr"
    assert reply_to_address(None, "REF-7Q2K") is None
    got = roundtrip(draft(), reply_to="recouvrement+REF-7Q2K@recouvra.example")
    assert got["Reply-To"] == "recouvrement+REF-7Q2K@recouvra.example"


def test_text_and_html_alternatives_and_the_pdf_attachment():
    got = roundtrip(draft(pdf=b"%PDF-1.4 test"))
    assert got.get_content_type() == "multipart/mixed"
    assert got.get_body(("plain",)).get_content().startswith("Bonjour,")
    assert got.get_body(("html",)).get_content().strip() == "<p>Bonjour</p>"
    [pdf] = list(got.iter_attachments())
    assert pdf.get_filename() == "REF-7Q2K-reminder_2.pdf" and pdf.get_content() == b"%PDF-1.4 test"


def test_wire_form_uses_crlf_and_7bit_safe_encodings():
    data = message_bytes(
        compose_message(
            draft(subject="Relance — échéance dépassée"),
            sender=ME,
            to=["a@b.fr"],
            case_ref="REF-7Q2K",
            date=WHEN,
        )
    )
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert all(byte < 128 for byte in data)


def test_no_recipient_or_no_message_id_is_refused():
    with pytest.raises(ComposeError):
        compose_message(draft(), sender=ME, to=[], case_ref="REF-7Q2K", date=WHEN)
    with pytest.raises(ComposeError):
        compose_message(
            draft(message_id=None), sender=ME, to=["a@b.fr"], case_ref="REF-7Q2K", date=WHEN
        )


def test_the_sender_is_the_agency_in_agency_mode_with_the_configured_address():
    policies = load_policies(ROOT / "policies")
    agency = policies["atelier-bois"]
    assert sender_identity(agency, "recouvrement@recouvra.example").header() == (
        "Cabinet Recouvra <recouvrement@recouvra.example>"
    )
    in_house = next(p for p in policies.values() if p.mode == "in_house")
    who = sender_identity(in_house, "ar@x.example")
    assert who.name == (in_house.creditor.sender_name or in_house.creditor.name)


def test_stored_address_lists_split_on_commas_and_semicolons():
    assert split_addresses("a@x.fr, B <b@y.fr>; c@z.fr") == ["a@x.fr", "b@y.fr", "c@z.fr"]
    assert split_addresses(None) == []
