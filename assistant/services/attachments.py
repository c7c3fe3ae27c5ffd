"""Files a draft carries besides its letter PDF (invoice copies), as the outbox sends them."""

from __future__ import annotations

from sqlmodel import Session, col, select

from assistant.db.document_models import DraftAttachment


def draft_attachments(session: Session, draft_id: int) -> list[tuple[str, str, bytes]]:
    """Return (file name, content type, bytes) of each file attached to the draft."""
    rows = session.exec(
        select(DraftAttachment)
        .where(DraftAttachment.draft_id == draft_id)
        .order_by(col(DraftAttachment.id))
    ).all()
    return [(r.filename, r.content_type, r.content) for r in rows]
