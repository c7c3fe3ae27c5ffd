"""Tables of documents letters carry: invoice copies registered from a folder, and the
files attached to a draft besides its letter PDF.

Imported by `create_schema`. Nothing here reads files or sends mail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from assistant.db.models import utcnow


class InvoiceDocument(SQLModel, table=True):
    """A copy of an invoice (PDF or image), matched to the invoice by its number."""

    __tablename__ = "invoice_document"
    __table_args__ = (UniqueConstraint("invoice_id", "sha256"),)
    id: int | None = Field(default=None, primary_key=True)
    creditor_id: int = Field(foreign_key="creditor.id", index=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    filename: str
    content_type: str
    sha256: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_by: str = "relance"
    created_at: datetime = Field(default_factory=utcnow)


class DraftAttachment(SQLModel, table=True):
    """A file sent with a draft in addition to its letter PDF (an invoice copy)."""

    __tablename__ = "draft_attachment"
    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id", index=True)
    filename: str
    content_type: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
