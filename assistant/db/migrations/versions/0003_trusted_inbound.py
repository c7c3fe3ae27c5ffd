"""Trusted inbound mail: triage reason and suggested case, one stored copy per message bytes,
one sync state per mailbox folder.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the triage columns and the uniqueness the concurrent fetches rely on."""
    _mark_byte_duplicates()
    _merge_mailbox_states()
    with op.batch_alter_table("inboundmessage") as batch:
        batch.add_column(sa.Column("suggested_case_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("triage_reason", sa.String(), nullable=True))
        batch.drop_index("ix_inboundmessage_raw_sha256")
        batch.create_unique_constraint("uq_inboundmessage_raw_sha256", ["raw_sha256"])
        batch.create_foreign_key(
            "fk_inboundmessage_suggested_case_id", "case", ["suggested_case_id"], ["id"]
        )
    with op.batch_alter_table("mailboxstate") as batch:
        batch.create_unique_constraint("uq_mailboxstate_account_folder", ["account", "folder"])


def _mark_byte_duplicates() -> None:
    """0.1.0's concurrent fetches could store the same bytes twice: keep every row (nothing
    inbound is ever dropped) but mark the later copies `duplicate` with a distinct hash."""
    bind = op.get_bind()
    msg = sa.table(
        "inboundmessage",
        sa.column("id", sa.Integer()),
        sa.column("raw_sha256", sa.String()),
        sa.column("status", sa.String()),
    )
    rows = bind.execute(sa.select(msg.c.id, msg.c.raw_sha256).order_by(msg.c.id)).all()
    seen: set[str] = set()
    for row_id, digest in rows:
        if digest in seen:
            bind.execute(
                sa.update(msg)
                .where(msg.c.id == row_id)
                .values(raw_sha256=f"{digest}#copy-{row_id}", status="duplicate")
            )
        seen.add(digest)


def _merge_mailbox_states() -> None:
    """Keep one sync state per account and folder: the one that read furthest."""
    bind = op.get_bind()
    state = sa.table(
        "mailboxstate",
        sa.column("id", sa.Integer()),
        sa.column("account", sa.String()),
        sa.column("folder", sa.String()),
        sa.column("last_uid", sa.Integer()),
    )
    rows = bind.execute(
        sa.select(state.c.id, state.c.account, state.c.folder).order_by(
            state.c.account, state.c.folder, state.c.last_uid.desc(), state.c.id
        )
    ).all()
    kept: set[tuple[str, str]] = set()
    for row_id, account, folder in rows:
        if (account, folder) in kept:
            bind.execute(sa.delete(state).where(state.c.id == row_id))
        kept.add((account, folder))


def downgrade() -> None:
    """Not supported: restore the backup taken before upgrading."""
    raise NotImplementedError("downgrade is not supported: restore your backup")
