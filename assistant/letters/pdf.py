"""Build the registered-mail PDF of a formal notice (fpdf2): letterhead, address block, body.

The body is the same wording as the email text, with the invoice list drawn as a table.
French and English fit the Windows-1252 core fonts (é, œ, €, ’, « »), which are fast; a
letter with other characters (a Polish or Turkish name) embeds DejaVu Sans when it is
installed, else those characters are simplified. No file is written: bytes are returned.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fpdf import FPDF
from fpdf.fonts import CORE_FONTS_CHARWIDTHS

if TYPE_CHECKING:
    from assistant.letters.render import LetterRenderer

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
_CORE_ENCODING = "windows-1252"
_LABELS: dict[str, dict[str, Any]] = {
    "fr": {
        "mail": "Lettre recommandée avec demande d'avis de réception",
        "subject": "Objet : ",
        "date": "Le ",
        "cols": ("Facture", "Date", "Échéance", "Montant", "Reste dû"),
        "total": "Total restant dû",
        "credit": "Avoir ",
    },
    "en": {
        "mail": "Sent by recorded delivery",
        "subject": "Subject: ",
        "date": "",
        "cols": ("Invoice", "Date", "Due date", "Amount", "Outstanding"),
        "total": "Total outstanding",
        "credit": "Credit note ",
    },
}


@lru_cache(maxsize=8)
def _core_widths(fontkey: str) -> dict[str, float]:
    """Map each Windows-1252 character to its width in a core font (thousandths of em)."""
    table: dict[str, float] = {}
    by_byte: dict[Any, Any] = CORE_FONTS_CHARWIDTHS[fontkey]
    for code in range(256):
        char = bytes([code]).decode(_CORE_ENCODING, errors="ignore")
        if char:
            table[char] = float(by_byte[chr(code)])
    return table


def _fits_core_font(text: str) -> bool:
    try:
        text.encode(_CORE_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


class _LetterPdf(FPDF):
    def __init__(self, needs_unicode: bool) -> None:
        super().__init__(format="A4")
        self.unicode = False
        self.core_fonts_encoding = _CORE_ENCODING
        regular, bold = DEJAVU_DIR / "DejaVuSans.ttf", DEJAVU_DIR / "DejaVuSans-Bold.ttf"
        if needs_unicode and regular.exists() and bold.exists():
            self.add_font("DejaVu", "", str(regular))
            self.add_font("DejaVu", "B", str(bold))
            self.family_name = "DejaVu"
            self.unicode = True
        else:
            self.family_name = "Helvetica"
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(True, margin=18)

    def safe(self, text: str) -> str:
        text = text.replace("\u202f", " ")
        if self.unicode or _fits_core_font(text):
            return text
        out = []
        for char in text:
            if _fits_core_font(char):
                out.append(char)
            else:  # Ł → L, ő → o; anything else becomes "?"
                base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
                out.append(base or "?")
        return "".join(out)

    def use(self, size: float, bold: bool = False) -> None:
        self.set_font(self.family_name, "B" if bold else "", size)

    def _measure(self) -> Callable[[str], float]:
        """Return a fast word-width function for the current font (core fonts: a table)."""
        if self.unicode:
            return self.get_string_width
        widths = _core_widths(self.font_family + self.font_style)
        scale = self.font_size_pt * 0.001 / self.k
        return lambda word: sum(widths.get(c, 556) for c in word) * scale

    def para(self, text: str, size: float = 10, bold: bool = False, gap: float = 2.5) -> None:
        """Write a paragraph, wrapping words greedily (fpdf2's multi_cell is slow here)."""
        self.use(size, bold)
        height = size * 0.5
        measure = self._measure()
        space = measure(" ")
        for raw in self.safe(text).split("\n"):
            line: list[str] = []
            width = 0.0
            for word in raw.split(" "):
                word_width = measure(word)
                if line and width + space + word_width > self.epw:
                    self.cell(0, height, " ".join(line), new_x="LMARGIN", new_y="NEXT")
                    line, width = [], 0.0
                width += (space if line else 0.0) + word_width
                line.append(word)
            self.cell(0, height, " ".join(line), new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)


def table_rows(
    pdf: _LetterPdf,
    widths: Sequence[float],
    aligns: Sequence[str],
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
) -> None:
    """Draw a grey header row then one bordered row per item of `rows`."""
    pdf.use(9, bold=True)
    pdf.set_fill_color(235, 235, 235)
    for width, col, align in zip(widths, header, aligns, strict=True):
        pdf.cell(width, 6, pdf.safe(col), border=1, align=align, fill=True)
    pdf.ln()
    pdf.use(9)
    for values in rows:
        for width, value, align in zip(widths, values, aligns, strict=True):
            pdf.cell(width, 6, pdf.safe(value), border=1, align=align)
        pdf.ln()


def _invoice_table(pdf: _LetterPdf, ctx: dict[str, Any], labels: dict[str, Any]) -> None:
    widths = (40, 28, 28, 37, 37)
    aligns = ("L", "L", "L", "R", "R")
    rows = (
        (inv.number, inv.issue_date, inv.due_date, inv.amount, inv.outstanding)
        for inv in ctx["invoices"]
    )
    table_rows(pdf, widths, aligns, labels["cols"], rows)
    pdf.use(9, bold=True)
    pdf.cell(sum(widths[:-1]), 6, pdf.safe(labels["total"]), border=1)
    pdf.cell(widths[-1], 6, pdf.safe(ctx["total"]), border=1, align="R")
    pdf.ln(9)


def letter_pdf(
    renderer: LetterRenderer, ctx: dict[str, Any], subject: str, *, with_statement: bool = False
) -> bytes:
    """Return the PDF of a letter rendered from the same context as its email text.

    With `with_statement`, the statement of account follows the letter on its own page.
    """
    lang = ctx["lang"]
    labels = _LABELS[lang]
    # The letterhead, address block and date are drawn: the body starts at the greeting.
    layout = renderer.template(f"{lang}/_layout.txt.j2")
    body = layout.render(dict(ctx, formal_notice=False, in_pdf=True))
    table_text = renderer.template(f"{lang}/partials/invoices.txt.j2").render(ctx).strip()
    before, _, after = body.partition(table_text)
    if not _:
        before, after = body, ""

    agency = ctx["agency"]
    creditor = ctx["creditor"]
    sender = agency or creditor
    everything = "".join((body, subject, ctx["debtor"].name, ctx.get("debtor_address") or ""))
    pdf = _LetterPdf(needs_unicode=not _fits_core_font(everything.replace("\u202f", " ")))
    pdf.set_title(subject)
    pdf.add_page()
    pdf.para(sender.name, size=13, bold=True, gap=0.5)
    head = [sender.address]
    contact = " — ".join(x for x in (sender.phone, sender.email) if x)
    if contact:
        head.append(contact)
    if sender.siren:
        head.append(f"SIREN {sender.siren}")
    if agency:
        head.append(f"{creditor.name}, {creditor.address}")
    pdf.para("\n".join(head), size=9, gap=8)

    pdf.use(10, bold=True)
    recipient = ctx["debtor"].name
    if ctx.get("debtor_address"):
        recipient += "\n" + ctx["debtor_address"]
    for line in recipient.split("\n"):
        pdf.set_x(110)
        pdf.cell(80, 5, pdf.safe(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.use(10)
    pdf.cell(
        0,
        5,
        pdf.safe(labels["date"] + ctx["letter_date"]),
        align="R",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.para(labels["mail"], size=9, gap=3)
    pdf.para(labels["subject"] + subject, size=10, bold=True, gap=4)

    for chunk in before.strip().split("\n\n"):
        if chunk.strip():
            pdf.para(chunk.strip())
    if after:
        _invoice_table(pdf, ctx, labels)
        for chunk in after.strip().split("\n\n"):
            if chunk.strip():
                pdf.para(chunk.strip(), size=8.5 if chunk.startswith("--") else 10)
    if with_statement:
        from assistant.letters.statement import add_statement

        add_statement(pdf, ctx)
    return bytes(pdf.output())
