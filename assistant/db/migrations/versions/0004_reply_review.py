"""The officers' review queue of replies Relance would not apply on its own; each decision
is also a labelled example for retraining.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the `reply_review` table."""
    op.create_table(
        "reply_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("handed_off", sa.Boolean(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=True),
        sa.Column("suggested_intent", sa.String(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("intent", sa.String(), nullable=True),
        sa.Column("promise_amount", sa.String(), nullable=True),
        sa.Column("promise_currency", sa.String(), nullable=True),
        sa.Column("promise_date", sa.Date(), nullable=True),
        sa.Column("officer", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["inbound_id"], ["inboundmessage.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_reply_review_case_id"), "reply_review", ["case_id"])
    op.create_index(op.f("ix_reply_review_created_at"), "reply_review", ["created_at"])
    op.create_index(op.f("ix_reply_review_inbound_id"), "reply_review", ["inbound_id"], unique=True)
    op.create_index(op.f("ix_reply_review_status"), "reply_review", ["status"])


def downgrade() -> None:
    """Not supported: restore the backup taken before upgrading."""
    raise NotImplementedError("downgrade is not supported: restore your backup")
