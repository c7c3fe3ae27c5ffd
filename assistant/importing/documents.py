"""Register invoice copies from a folder: each file is matched to an invoice by its number.

A file matches when its name (without extension), reduced to letters and digits, equals an
invoice number reduced the same way, or contains it as a separate part ("FA2026-0101.pdf",
"Facture FA2026-0101 Lefevre.pdf"). Files that match no invoice, or several, are reported
and left alone. Re-registering the same file changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from assistant.db.document_models import InvoiceDocument
from assistant.db.models import Creditor, Invoice
from assistant.services.audit import record

CONTENT_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg",
                 ".jpeg": "image/jpeg"}  # fmt: skip
_PARTS = re.compile(r"[^A-Za-z0-9]+")


def _squash(text: str) -> str:
    return _PARTS.sub("", text).upper()


def match_invoice(stem: str, numbers: Mapping[str, Any]) -> list[str]:
    """Return the invoice numbers a file name designates (pure): exact, else as a part."""
    squashed = _squash(stem)
    by_key: dict[str, list[str]] = {}
    for number in numbers:
        by_key.setdefault(_squash(number), []).append(number)
    if squashed in by_key:
        return by_key[squashed]
    parts = [p for p in re.split(r"[\s_]+", stem) if p]
    found = {n for p in parts for n in by_key.get(_squash(p), [])}
    return sorted(found)


@dataclass
class DocumentsReport:
    """What `import documents` found in the folder and registered."""

    folder: str
    creditor: str
    files: int = 0
    registered: list[dict[str, str]] = field(default_factory=list)
    unchanged: int = 0
    unmatched: list[str] = field(default_factory=list)
    ambiguous: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of `relance import documents --json`."""
        return {
            "folder": self.folder,
            "creditor": self.creditor,
            "files": self.files,
            "registered": self.registered,
            "unchanged": self.unchanged,
            "unmatched": self.unmatched,
            "ambiguous": self.ambiguous,
            "skipped": self.skipped,
        }


def register_documents(
    session: Session, folder: Path, creditor_slug: str, actor: str, *, dry_run: bool = False
) -> DocumentsReport:
    """Register the invoice copies of `folder` for one creditor; raise LookupError if unknown."""
    creditor = session.exec(select(Creditor).where(Creditor.slug == creditor_slug)).first()
    if creditor is None:
        raise LookupError(f"unknown creditor {creditor_slug!r}: import its invoices first")
    invoices = {
        inv.number: inv
        for inv in session.exec(select(Invoice).where(Invoice.creditor_id == creditor.id))
    }
    report = DocumentsReport(str(folder), creditor_slug)
    known = {
        (d.invoice_id, d.sha256)
        for d in session.exec(
            select(InvoiceDocument).where(InvoiceDocument.creditor_id == creditor.id)
        )
    }
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        kind = CONTENT_TYPES.get(path.suffix.lower())
        if kind is None:
            report.skipped.append(path.name)
            continue
        report.files += 1
        numbers = match_invoice(path.stem, invoices)
        if not numbers:
            report.unmatched.append(path.name)
            continue
        if len(numbers) > 1:
            report.ambiguous.append({"file": path.name, "invoices": numbers})
            continue
        invoice = invoices[numbers[0]]
        content = path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        if (invoice.id, digest) in known:
            report.unchanged += 1
            continue
        known.add((invoice.id, digest))
        report.registered.append({"file": path.name, "invoice": invoice.number})
        if dry_run:
            continue
        session.add(
            InvoiceDocument(
                creditor_id=creditor.id or 0,
                invoice_id=invoice.id or 0,
                filename=path.name,
                content_type=kind,
                sha256=digest,
                content=content,
                created_by=actor,
            )
        )
        record(session, actor, "document.registered", "invoice", invoice.number, file=path.name)
    return report


def invoice_copies(session: Session, creditor_id: int, numbers: list[str]) -> list[InvoiceDocument]:
    """Return the latest registered copy of each invoice of `numbers`, in that order."""
    if not numbers:
        return []
    rows = session.exec(
        select(InvoiceDocument, Invoice.number)
        .join(Invoice, col(Invoice.id) == InvoiceDocument.invoice_id)
        .where(InvoiceDocument.creditor_id == creditor_id, col(Invoice.number).in_(numbers))
        .order_by(col(InvoiceDocument.id).desc())
    ).all()
    latest: dict[str, InvoiceDocument] = {}
    for doc, number in rows:
        latest.setdefault(number, doc)
    return [latest[n] for n in numbers if n in latest]
