"""Web workspace accounts and policy versions, letter attachments, resume decisions,
compare-and-set drafts with one live letter per case and step.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

LIVE = ("pending", "approved", "sending", "unknown")


def upgrade() -> None:
    """Add the workspace tables, the letters' attachments and the drafts' version/live key."""
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("creditors", sa.JSON(), nullable=True),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_user_name"), "user", ["name"], unique=True)
    op.create_table(
        "loginthrottle",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "policy_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor", sa.String(), nullable=False),
        sa.Column("yaml_text", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_policy_version_creditor"), "policy_version", ["creditor"])
    op.create_index(op.f("ix_policy_version_status"), "policy_version", ["status"])
    op.create_table(
        "invoice_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("content_type", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["creditor_id"], ["creditor.id"]),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("invoice_id", "sha256"),
    )
    op.create_index(op.f("ix_invoice_document_creditor_id"), "invoice_document", ["creditor_id"])
    op.create_index(op.f("ix_invoice_document_invoice_id"), "invoice_document", ["invoice_id"])
    op.create_table(
        "draft_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("content_type", sa.String(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["draft.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_draft_attachment_draft_id"), "draft_attachment", ["draft_id"])
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("resumed_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("resumed_balance_cents", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("resumed_broken_promises", sa.Integer(), nullable=True))
    with op.batch_alter_table("draft") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("live_key", sa.String(), nullable=True))
    _backfill_live_keys()
    with op.batch_alter_table("draft") as batch:
        batch.create_unique_constraint("uq_draft_live_key", ["live_key"])


def _backfill_live_keys() -> None:
    """Give each live ladder letter its key; a second live letter for the same case and step
    (what 0.1.0's concurrent cycles could create) is rejected if not yet sent, so it can never
    reach the debtor twice; one already sending or unknown keeps no key and stays for an officer.
    """
    bind = op.get_bind()
    draft = sa.table(
        "draft",
        sa.column("id", sa.Integer()),
        sa.column("case_id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("step", sa.String()),
        sa.column("status", sa.String()),
        sa.column("live_key", sa.String()),
        sa.column("reject_reason", sa.String()),
        sa.column("decided_by", sa.String()),
    )
    rows = bind.execute(
        sa.select(draft.c.id, draft.c.case_id, draft.c.step, draft.c.status)
        .where(draft.c.kind == "step", draft.c.status.in_(LIVE))
        .order_by(draft.c.id)
    ).all()
    seen: set[str] = set()
    for draft_id, case_id, step, status in rows:
        key = f"{case_id}:step:{step}"
        if key not in seen:
            seen.add(key)
            bind.execute(sa.update(draft).where(draft.c.id == draft_id).values(live_key=key))
        elif status in ("pending", "approved"):
            bind.execute(
                sa.update(draft)
                .where(draft.c.id == draft_id)
                .values(
                    status="rejected",
                    reject_reason="duplicate of an earlier live letter (upgrade to 0.2)",
                    decided_by="relance db upgrade",
                )
            )


def downgrade() -> None:
    """Not supported: restore the backup taken before upgrading."""
    raise NotImplementedError("downgrade is not supported: restore your backup")
