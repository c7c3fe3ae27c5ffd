"""Tables of the officer's own records: accepted payment plans and their instalments."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from assistant.db.models import utcnow


class PaymentPlan(SQLModel, table=True):
    __tablename__ = "payment_plan"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    status: str = Field(default="active", index=True)  # active|completed|broken|cancelled
    currency: str = "EUR"
    grace_days: int = 3
    note: str | None = None
    created_by: str
    created_on: date  # payments from this day count towards the instalments
    created_at: datetime = Field(default_factory=utcnow)
    resolved_on: date | None = None


class PlanInstalment(SQLModel, table=True):
    __tablename__ = "plan_instalment"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="payment_plan.id", index=True)
    position: int  # 1, 2, … in date order
    due_on: date
    amount_cents: int
    status: str = "pending"  # pending|kept|broken
    resolved_on: date | None = None
