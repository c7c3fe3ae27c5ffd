"""Schema of Relance 0.1.0 (the release before migrations), table by table.

Revision ID: 0001
Revises:
Create Date: 2026-12-03

Do not edit: databases created by 0.1.0 are stamped with this revision as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table of Relance 0.1.0."""
    op.create_table(
        "auditevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=True),
        sa.Column("entity_id", sa.String(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_auditevent_action"), "auditevent", ["action"], unique=False)
    op.create_index(op.f("ix_auditevent_at"), "auditevent", ["at"], unique=False)
    op.create_table(
        "creditor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_creditor_slug"), "creditor", ["slug"], unique=True)
    op.create_table(
        "llm_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("creditor", sa.String(), nullable=True),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("prompt_name", sa.String(), nullable=True),
        sa.Column("prompt_hash", sa.String(), nullable=True),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("base_url", sa.String(), nullable=True),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("schema_name", sa.String(), nullable=True),
        sa.Column("cache_key", sa.String(), nullable=False),
        sa.Column("messages", sa.JSON(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("parsed", sa.JSON(), nullable=True),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("fallback_used", sa.Boolean(), nullable=False),
        sa.Column("fallback_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_llm_call_cache_key"), "llm_call", ["cache_key"], unique=False)
    op.create_index(op.f("ix_llm_call_case_id"), "llm_call", ["case_id"], unique=False)
    op.create_index(op.f("ix_llm_call_created_at"), "llm_call", ["created_at"], unique=False)
    op.create_index(op.f("ix_llm_call_creditor"), "llm_call", ["creditor"], unique=False)
    op.create_index(op.f("ix_llm_call_fallback_used"), "llm_call", ["fallback_used"], unique=False)
    op.create_index(op.f("ix_llm_call_purpose"), "llm_call", ["purpose"], unique=False)
    op.create_table(
        "mailboxstate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(), nullable=False),
        sa.Column("folder", sa.String(), nullable=False),
        sa.Column("uidvalidity", sa.Integer(), nullable=True),
        sa.Column("last_uid", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_mailboxstate_account"), "mailboxstate", ["account"], unique=False)
    op.create_index(op.f("ix_mailboxstate_folder"), "mailboxstate", ["folder"], unique=False)
    op.create_table(
        "senderlease",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("holder", sa.String(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "debtor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("account_ref", sa.String(), nullable=False),
        sa.Column("legal_name", sa.String(), nullable=False),
        sa.Column("siren", sa.String(), nullable=True),
        sa.Column("vat_number", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=True),
        sa.Column("key_account", sa.Boolean(), nullable=False),
        sa.Column("address", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditor.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("creditor_id", "account_ref"),
    )
    op.create_index(op.f("ix_debtor_creditor_id"), "debtor", ["creditor_id"], unique=False)
    op.create_table(
        "case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("step_name", sa.String(), nullable=True),
        sa.Column("last_contact_on", sa.Date(), nullable=True),
        sa.Column("first_letter_on", sa.Date(), nullable=True),
        sa.Column("first_letter_ref", sa.String(), nullable=True),
        sa.Column("paused_until", sa.Date(), nullable=True),
        sa.Column("broken_promise_pending", sa.Boolean(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditor.id"],
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["debtor.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("creditor_id", "debtor_id"),
    )
    op.create_index(op.f("ix_case_creditor_id"), "case", ["creditor_id"], unique=False)
    op.create_index(op.f("ix_case_debtor_id"), "case", ["debtor_id"], unique=False)
    op.create_index(op.f("ix_case_ref"), "case", ["ref"], unique=True)
    op.create_index(op.f("ix_case_status"), "case", ["status"], unique=False)
    op.create_table(
        "contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("invalid_reason", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["debtor.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("debtor_id", "email"),
    )
    op.create_index(op.f("ix_contact_debtor_id"), "contact", ["debtor_id"], unique=False)
    op.create_index(op.f("ix_contact_email"), "contact", ["email"], unique=False)
    op.create_table(
        "invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("outstanding_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("paid_date", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditor.id"],
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["debtor.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("creditor_id", "number"),
    )
    op.create_index(op.f("ix_invoice_creditor_id"), "invoice", ["creditor_id"], unique=False)
    op.create_index(op.f("ix_invoice_debtor_id"), "invoice", ["debtor_id"], unique=False)
    op.create_index(op.f("ix_invoice_status"), "invoice", ["status"], unique=False)
    op.create_table(
        "draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("body_text", sa.String(), nullable=False),
        sa.Column("body_html", sa.String(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("engine", sa.String(), nullable=False),
        sa.Column("engine_note", sa.String(), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("requires_four_eyes", sa.Boolean(), nullable=False),
        sa.Column("first_approver", sa.String(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reject_reason", sa.String(), nullable=True),
        sa.Column("review_reason", sa.String(), nullable=True),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.Column("in_reply_to", sa.String(), nullable=True),
        sa.Column("references", sa.String(), nullable=True),
        sa.Column("to_addrs", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_draft_case_id"), "draft", ["case_id"], unique=False)
    op.create_index(op.f("ix_draft_message_id"), "draft", ["message_id"], unique=False)
    op.create_index(op.f("ix_draft_status"), "draft", ["status"], unique=False)
    op.create_table(
        "handoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_handoff_case_id"), "handoff", ["case_id"], unique=False)
    op.create_index(op.f("ix_handoff_status"), "handoff", ["status"], unique=False)
    op.create_table(
        "inboundmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("folder", sa.String(), nullable=False),
        sa.Column("uidvalidity", sa.Integer(), nullable=True),
        sa.Column("uid", sa.Integer(), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("raw_sha256", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.Column("in_reply_to", sa.String(), nullable=True),
        sa.Column("references", sa.String(), nullable=True),
        sa.Column("subject", sa.String(), nullable=True),
        sa.Column("from_addr", sa.String(), nullable=True),
        sa.Column("to_addrs", sa.String(), nullable=True),
        sa.Column("sent_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("text", sa.String(), nullable=True),
        sa.Column("has_html", sa.Boolean(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=True),
        sa.Column("is_auto_reply", sa.Boolean(), nullable=False),
        sa.Column("is_bounce", sa.Boolean(), nullable=False),
        sa.Column("bounced_recipients", sa.JSON(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("match_method", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("reply_text", sa.String(), nullable=True),
        sa.Column("analysis", sa.JSON(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_inboundmessage_case_id"), "inboundmessage", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_inboundmessage_from_addr"), "inboundmessage", ["from_addr"], unique=False
    )
    op.create_index(
        op.f("ix_inboundmessage_message_id"), "inboundmessage", ["message_id"], unique=False
    )
    op.create_index(
        op.f("ix_inboundmessage_raw_sha256"), "inboundmessage", ["raw_sha256"], unique=False
    )
    op.create_index(
        op.f("ix_inboundmessage_received_at"), "inboundmessage", ["received_at"], unique=False
    )
    op.create_index(op.f("ix_inboundmessage_status"), "inboundmessage", ["status"], unique=False)
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditor.id"],
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["debtor.id"],
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("creditor_id", "reference"),
    )
    op.create_index(op.f("ix_payment_creditor_id"), "payment", ["creditor_id"], unique=False)
    op.create_index(op.f("ix_payment_debtor_id"), "payment", ["debtor_id"], unique=False)
    op.create_table(
        "promise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_promise_case_id"), "promise", ["case_id"], unique=False)
    op.create_index(op.f("ix_promise_status"), "promise", ["status"], unique=False)
    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_by", sa.String(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_task_case_id"), "task", ["case_id"], unique=False)
    op.create_index(op.f("ix_task_status"), "task", ["status"], unique=False)


def downgrade() -> None:
    """Drop every table."""
    op.drop_index(op.f("ix_task_status"), table_name="task")
    op.drop_index(op.f("ix_task_case_id"), table_name="task")
    op.drop_table("task")
    op.drop_index(op.f("ix_promise_status"), table_name="promise")
    op.drop_index(op.f("ix_promise_case_id"), table_name="promise")
    op.drop_table("promise")
    op.drop_index(op.f("ix_payment_debtor_id"), table_name="payment")
    op.drop_index(op.f("ix_payment_creditor_id"), table_name="payment")
    op.drop_table("payment")
    op.drop_index(op.f("ix_inboundmessage_status"), table_name="inboundmessage")
    op.drop_index(op.f("ix_inboundmessage_received_at"), table_name="inboundmessage")
    op.drop_index(op.f("ix_inboundmessage_raw_sha256"), table_name="inboundmessage")
    op.drop_index(op.f("ix_inboundmessage_message_id"), table_name="inboundmessage")
    op.drop_index(op.f("ix_inboundmessage_from_addr"), table_name="inboundmessage")
    op.drop_index(op.f("ix_inboundmessage_case_id"), table_name="inboundmessage")
    op.drop_table("inboundmessage")
    op.drop_index(op.f("ix_handoff_status"), table_name="handoff")
    op.drop_index(op.f("ix_handoff_case_id"), table_name="handoff")
    op.drop_table("handoff")
    op.drop_index(op.f("ix_draft_status"), table_name="draft")
    op.drop_index(op.f("ix_draft_message_id"), table_name="draft")
    op.drop_index(op.f("ix_draft_case_id"), table_name="draft")
    op.drop_table("draft")
    op.drop_index(op.f("ix_invoice_status"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_debtor_id"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_creditor_id"), table_name="invoice")
    op.drop_table("invoice")
    op.drop_index(op.f("ix_contact_email"), table_name="contact")
    op.drop_index(op.f("ix_contact_debtor_id"), table_name="contact")
    op.drop_table("contact")
    op.drop_index(op.f("ix_case_status"), table_name="case")
    op.drop_index(op.f("ix_case_ref"), table_name="case")
    op.drop_index(op.f("ix_case_debtor_id"), table_name="case")
    op.drop_index(op.f("ix_case_creditor_id"), table_name="case")
    op.drop_table("case")
    op.drop_index(op.f("ix_debtor_creditor_id"), table_name="debtor")
    op.drop_table("debtor")
    op.drop_table("senderlease")
    op.drop_index(op.f("ix_mailboxstate_folder"), table_name="mailboxstate")
    op.drop_index(op.f("ix_mailboxstate_account"), table_name="mailboxstate")
    op.drop_table("mailboxstate")
    op.drop_index(op.f("ix_llm_call_purpose"), table_name="llm_call")
    op.drop_index(op.f("ix_llm_call_fallback_used"), table_name="llm_call")
    op.drop_index(op.f("ix_llm_call_creditor"), table_name="llm_call")
    op.drop_index(op.f("ix_llm_call_created_at"), table_name="llm_call")
    op.drop_index(op.f("ix_llm_call_case_id"), table_name="llm_call")
    op.drop_index(op.f("ix_llm_call_cache_key"), table_name="llm_call")
    op.drop_table("llm_call")
    op.drop_index(op.f("ix_creditor_slug"), table_name="creditor")
    op.drop_table("creditor")
    op.drop_index(op.f("ix_auditevent_at"), table_name="auditevent")
    op.drop_index(op.f("ix_auditevent_action"), table_name="auditevent")
    op.drop_table("auditevent")
