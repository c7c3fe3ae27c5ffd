"""Tables of the web workspace: user accounts, the login throttle, policy versions.

Passwords are stored as argon2 hashes only. Nothing here talks to a database at import time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from assistant.db.models import utcnow

#: What each role may do; an admin manages users and sees every creditor.
ROLES = ("officer", "manager", "admin")


class User(SQLModel, table=True):
    """One person who signs in to the workspace."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    role: str  # officer | manager | admin
    creditors: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    password_hash: str
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str | None = None
    last_login_at: datetime | None = None


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins of one account name: locked for a while after too many."""

    key: str = Field(primary_key=True)
    failures: int = 0
    first_failure_at: datetime | None = None
    locked_until: datetime | None = None


class PolicyVersion(SQLModel, table=True):
    """One saved text of a creditor's policy: a draft, or a version that was published."""

    __tablename__ = "policy_version"

    id: int | None = Field(default=None, primary_key=True)
    creditor: str = Field(index=True)  # the creditor's slug
    yaml_text: str
    status: str = Field(default="draft", index=True)  # draft | published
    author: str
    created_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = None
