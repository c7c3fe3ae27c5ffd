"""Officer records: who confirmed a contact, accepted payment plans and their instalments.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the contact's role, source and confirmation; create payment_plan and plan_instalment."""
    with op.batch_alter_table("contact") as batch:
        batch.add_column(sa.Column("role", sa.String(), nullable=True))
        batch.add_column(sa.Column("source", sa.String(), nullable=True))
        batch.add_column(sa.Column("confirmed_by", sa.String(), nullable=True))
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "payment_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_payment_plan_case_id"), "payment_plan", ["case_id"], unique=False)
    op.create_index(op.f("ix_payment_plan_status"), "payment_plan", ["status"], unique=False)
    op.create_table(
        "plan_instalment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["payment_plan.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_plan_instalment_plan_id"), "plan_instalment", ["plan_id"], unique=False
    )


def downgrade() -> None:
    """Drop the plan tables and the contact's new columns."""
    op.drop_index(op.f("ix_plan_instalment_plan_id"), table_name="plan_instalment")
    op.drop_table("plan_instalment")
    op.drop_index(op.f("ix_payment_plan_status"), table_name="payment_plan")
    op.drop_index(op.f("ix_payment_plan_case_id"), table_name="payment_plan")
    op.drop_table("payment_plan")
    with op.batch_alter_table("contact") as batch:
        batch.drop_column("confirmed_at")
        batch.drop_column("confirmed_by")
        batch.drop_column("source")
        batch.drop_column("role")
