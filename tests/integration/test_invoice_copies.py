"""Invoice copies registered from a folder go with the answer that says they are attached."""
# ruff: noqa: F811 (fixtures imported from the reply-effects tests)

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from assistant.db.document_models import DraftAttachment, InvoiceDocument
from assistant.db.engine import session_scope
from assistant.importing.documents import match_invoice, register_documents
from assistant.mail.compose import SenderIdentity, compose_message
from assistant.services.attachments import draft_attachments
from tests.integration.test_reply_effects import SLUG, app, case_ref, load, reply  # noqa: F401

ASK = "Bonjour,\n\nPourriez-vous nous envoyer une copie des factures ?\n\nMerci"
PDF = b"%PDF-1.4 copie de facture"


def folder(tmp_path, *names: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "copies"
    path.mkdir()
    for name in names:
        (path / name).write_bytes(PDF + name.encode())
    return path


def test_file_names_are_matched_to_invoice_numbers():
    numbers = {"FA-2026-0101": 1, "FA-2026-0102": 2, "FA-1": 3}
    assert match_invoice("FA2026-0101", numbers) == ["FA-2026-0101"]
    assert match_invoice("Facture FA-2026-0102 Martin", numbers) == ["FA-2026-0102"]
    assert match_invoice("FA-2026-01", numbers) == []
    assert match_invoice("FA-1_FA-2026-0101", numbers) == ["FA-1", "FA-2026-0101"]


def test_registered_copies_are_attached_to_the_information_answer(app, case_ref, tmp_path):
    copies = folder(tmp_path, "FA-2026-0101.pdf", "Facture FA2026-0102.pdf", "notes.pdf", "x.txt")
    with session_scope(app.engine) as s:
        report = register_documents(s, copies, SLUG, "carol")
    assert [r["invoice"] for r in report.registered] == ["FA-2026-0101", "FA-2026-0102"]
    assert report.unmatched == ["notes.pdf"] and report.skipped == ["x.txt"]
    with session_scope(app.engine) as s:
        again = register_documents(s, copies, SLUG, "carol")
        assert again.unchanged == 2 and not again.registered
        assert len(s.exec(select(InvoiceDocument)).all()) == 2
    reply(app, case_ref, ASK)
    _, _, [answer], _, _, _ = load(app, case_ref)
    assert "Vous trouverez en pièce jointe une copie des factures concernées" in answer.body_text
    assert not [f for f in answer.findings if f["blocking"]], answer.findings
    assert answer.pdf is not None and answer.pdf.startswith(b"%PDF")  # the statement
    with session_scope(app.engine) as s:
        files = draft_attachments(s, answer.id or 0)
    assert [name for name, _, _ in files] == ["FA-2026-0101.pdf", "Facture FA2026-0102.pdf"]
    answer.message_id = "answer@recouvra.example"
    message = compose_message(
        answer,
        sender=SenderIdentity("Cabinet Recouvra", "recouvrement@recouvra.example"),
        to=["compta@c001.example"],
        case_ref=case_ref,
        date=datetime(2026, 11, 26, 10, tzinfo=UTC),
        attachments=files,
    )
    names = [part.get_filename() for part in message.iter_attachments()]
    assert len(names) == 3 and "FA-2026-0101.pdf" in names


def test_without_every_copy_the_answer_promises_none(app, case_ref, tmp_path):
    with session_scope(app.engine) as s:
        register_documents(s, folder(tmp_path, "FA-2026-0101.pdf"), SLUG, "carol")
    reply(app, case_ref, ASK)
    _, _, [answer], _, _, _ = load(app, case_ref)
    assert "une copie des factures concernées vous sera adressée" in answer.body_text
    assert "Vous trouverez en pièce jointe une copie" not in answer.body_text
    with session_scope(app.engine) as s:
        assert s.exec(select(DraftAttachment)).all() == []
