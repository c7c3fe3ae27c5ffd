"""A postal address in the export reaches the formal notice sent by registered mail."""

from __future__ import annotations

import zlib
from datetime import date

from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.models import Debtor
from assistant.importing.service import import_invoices
from assistant.services.portfolio import debtor_facts
from tests.helpers import make_app

CSV = (
    "Code client;Raison sociale;Adresse;Email;N° facture;Date facture;Échéance;Montant TTC\n"
    'C9;Boulangerie Martin;"3 rue du Four\n69003 Lyon";compta@martin.example;FA-9;01/07/2026;'
    "31/07/2026;1 250,00\n"
)


def test_the_address_is_imported_and_printed_on_the_formal_notice(db_url, tmp_path):
    app = make_app(db_url)
    path = tmp_path / "export.csv"
    path.write_text(CSV, encoding="utf-8")
    report = import_invoices(app, path, "atelier-bois", actor="t")
    assert report.ok, report.errors
    with session_scope(app.engine) as s:
        debtor = s.exec(select(Debtor).where(Debtor.account_ref == "C9")).one()
        assert debtor.address == "3 rue du Four\n69003 Lyon"
        facts = debtor_facts(debtor, ["compta@martin.example"])
    from assistant.db.models import Invoice
    from assistant.domain import CaseState, ClientHistory
    from assistant.letters.rates import RateTable
    from assistant.letters.render import LetterRenderer
    from assistant.services.portfolio import invoice_line

    policy = app.policies["atelier-bois"]
    with session_scope(app.engine) as s:
        invoices = [invoice_line(i) for i in s.exec(select(Invoice)).all()]
    letter = LetterRenderer(app.templates_dir, RateTable.packaged()).render(
        policy=policy,
        step=policy.step("formal_notice"),
        debtor=facts,
        case=CaseState(ref="REF-ADDR"),
        invoices=invoices,
        history=ClientHistory(),
        on=date(2026, 11, 26),
    )
    assert letter.pdf is not None
    streams = b"".join(
        zlib.decompress(chunk.split(b"stream\n", 1)[1].rsplit(b"\nendstream", 1)[0])
        for chunk in letter.pdf.split(b"obj")
        if b"/FlateDecode" in chunk and b"stream\n" in chunk
    )
    assert b"69003 Lyon" in streams and b"rue du Four" in streams
    # Re-importing the same file changes nothing.
    again = import_invoices(app, path, "atelier-bois", actor="t")
    assert again.ok and again.to_dict()["updated"] == 0 and again.to_dict()["debtors_updated"] == 0
    app.close()
