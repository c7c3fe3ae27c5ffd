"""Draw the statement of account (relevé de compte) attached to a letter that promises it.

It lists the invoices of the letter with what was invoiced, paid and is still owed, then the
late-payment interest and indemnities the letter claims and the balance. Same fonts and
rendering context as the letter's PDF; no file is written: bytes are returned.
"""

from __future__ import annotations

from typing import Any

from assistant.letters.pdf import _fits_core_font, _LetterPdf, table_rows

_LABELS: dict[str, dict[str, Any]] = {
    "fr": {
        "title": "Relevé de compte au {date}",
        "creditor": "Créancier : ",
        "debtor": "Client : ",
        "reference": "Référence du dossier : ",
        "cols": ("Pièce", "Date", "Échéance", "Montant", "Réglé", "Reste dû"),
        "credit": "Avoir ",
        "balance": "Solde restant dû",
        "interest": "Intérêts de retard",
        "indemnity": "Indemnités forfaitaires pour frais de recouvrement",
        "grand_total": "Total dû, pénalités comprises",
        "pay": "Règlement : IBAN {iban}, en rappelant la référence {ref}.",
    },
    "en": {
        "title": "Statement of account at {date}",
        "creditor": "Creditor: ",
        "debtor": "Customer: ",
        "reference": "Case reference: ",
        "cols": ("Document", "Date", "Due date", "Amount", "Paid", "Outstanding"),
        "credit": "Credit note ",
        "balance": "Balance outstanding",
        "interest": "Late-payment interest",
        "indemnity": "Fixed recovery indemnities",
        "grand_total": "Total due including late-payment charges",
        "pay": "Payment: IBAN {iban}, quoting reference {ref}.",
    },
}
_WIDTHS = (34, 24, 24, 30, 29, 29)
_ALIGNS = ("L", "L", "L", "R", "R", "R")


def statement_text(ctx: dict[str, Any]) -> str:
    """Return every text the statement shows (to choose fonts able to draw it)."""
    rows = " ".join(f"{r.number} {r.amount} {r.paid} {r.outstanding}" for r in ctx["invoices"])
    return " ".join((ctx["debtor"].name, ctx["creditor"].name, ctx["creditor"].address, rows))


def add_statement(pdf: _LetterPdf, ctx: dict[str, Any]) -> None:
    """Append the statement of account of `ctx` on a new page of `pdf`."""
    labels = _LABELS[ctx["lang"]]
    creditor = ctx["creditor"]
    pdf.add_page()
    pdf.para(labels["title"].format(date=ctx["letter_date"]), size=13, bold=True, gap=3)
    pdf.para(
        f"{labels['creditor']}{creditor.name}, {creditor.address}\n"
        f"{labels['debtor']}{ctx['debtor'].name}\n"
        f"{labels['reference']}{ctx['case_ref']}",
        size=9,
        gap=5,
    )
    rows = (
        (
            (labels["credit"] if inv.credit else "") + inv.number,
            inv.issue_date,
            inv.due_date,
            inv.amount,
            inv.paid,
            inv.outstanding,
        )
        for inv in ctx["invoices"]
    )
    table_rows(pdf, _WIDTHS, _ALIGNS, labels["cols"], rows)
    lines = [(labels["balance"], ctx["total"])]
    penalties = ctx["penalties"]
    if penalties is not None:
        if penalties.has_interest:
            lines.append((labels["interest"], penalties.interest))
        if penalties.has_indemnity:
            lines.append((labels["indemnity"], penalties.indemnity))
        lines.append((labels["grand_total"], penalties.grand_total))
    pdf.use(9, bold=True)
    for label, value in lines:
        pdf.cell(sum(_WIDTHS[:-1]), 6, pdf.safe(label), border=1)
        pdf.cell(_WIDTHS[-1], 6, pdf.safe(value), border=1, align="R")
        pdf.ln()
    pdf.ln(4)
    payment = ctx["payment"]
    if payment is not None and payment.iban:
        pdf.para(labels["pay"].format(iban=payment.iban, ref=ctx["case_ref"]), size=9)


def statement_pdf(ctx: dict[str, Any], subject: str) -> bytes:
    """Return a PDF holding only the statement of account of `ctx`."""
    pdf = _LetterPdf(needs_unicode=not _fits_core_font(statement_text(ctx).replace("\u202f", " ")))
    pdf.set_title(subject)
    add_statement(pdf, ctx)
    return bytes(pdf.output())
