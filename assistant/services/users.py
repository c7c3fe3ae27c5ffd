"""User accounts of the workspace: add, list, disable, sign in (argon2, throttled), scope.

The scope decides what a signed-in person sees: an officer and a manager their creditors only,
an admin every creditor. Entry points (web, chat) ask `Scope` instead of deciding themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from assistant.db.user_models import ROLES, LoginThrottle, User
from assistant.services.audit import record

#: Failed sign-ins allowed within WINDOW before the account name is locked for LOCK.
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("relance-dummy-password")


class UserError(Exception):
    """The account cannot be created, changed or used as asked."""


@dataclass(frozen=True)
class Scope:
    """Who is acting and which creditors they may see and act on."""

    user: str
    role: str
    creditors: frozenset[str] | None  # None: every creditor (admin)

    def sees(self, slug: str) -> bool:
        """Tell whether this person may see the creditor `slug`."""
        return self.creditors is None or slug in self.creditors

    def visible(self, slugs: Iterable[str]) -> list[str]:
        """Return the creditors of `slugs` this person may see, sorted."""
        return sorted(s for s in slugs if self.sees(s))

    @property
    def edits_policies(self) -> bool:
        """Tell whether this person may edit and publish policies."""
        return self.role in ("manager", "admin")

    @property
    def manages_users(self) -> bool:
        """Tell whether this person may manage accounts."""
        return self.role == "admin"


def scope_of(user: User) -> Scope:
    """Return the scope of a user account."""
    creditors = None if user.role == "admin" else frozenset(user.creditors)
    return Scope(user=user.name, role=user.role, creditors=creditors)


def add_user(
    session: Session,
    name: str,
    role: str,
    creditors: Sequence[str],
    password: str,
    actor: str,
    known_creditors: Iterable[str],
) -> User:
    """Create an account with an argon2-hashed password."""
    name = name.strip()
    if not name or any(ch.isspace() for ch in name):
        raise UserError("a user name is one word, without spaces")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    known = set(known_creditors)
    unknown = sorted(set(creditors) - known)
    if unknown:
        raise UserError(
            f"unknown creditor(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    if role != "admin" and not creditors:
        raise UserError(f"an {role} needs at least one --creditor")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.exec(select(User).where(User.name == name)).first() is not None:
        raise UserError(f"user {name!r} already exists")
    user = User(
        name=name,
        role=role,
        creditors=sorted(set(creditors)),
        password_hash=_hasher.hash(password),
        created_by=actor,
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor,
        "user.added",
        "user",
        user.id,
        name=name,
        role=role,
        creditors=user.creditors,
    )
    return user


def list_users(session: Session) -> list[dict[str, object]]:
    """Return every account (never its password hash)."""
    users = session.exec(select(User).order_by(col(User.name))).all()
    return [
        {
            "name": u.name,
            "role": u.role,
            "creditors": list(u.creditors),
            "active": u.active,
            "created_at": u.created_at,
            "last_login_at": u.last_login_at,
        }
        for u in users
    ]


def disable_user(session: Session, name: str, actor: str) -> None:
    """Disable an account: it can no longer sign in, its sessions stop working."""
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise UserError(f"user {name!r} does not exist")
    if not user.active:
        raise UserError(f"user {name!r} is already disabled")
    user.active = False
    session.add(user)
    record(session, actor, "user.disabled", "user", user.id, name=name)


def active_user(session: Session, name: str) -> User | None:
    """Return the active account called `name`, or None."""
    user = session.exec(select(User).where(User.name == name)).first()
    return user if user is not None and user.active else None


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the account, or why it was refused."""

    user: User | None
    refusal: str | None = None


def sign_in(session: Session, name: str, password: str, now: datetime) -> SignIn:
    """Check a name and password; refuse after MAX_FAILURES failures within WINDOW.

    A refusal is returned, not raised, so the caller commits the failure count with it.
    """
    key = name.strip().lower()
    throttle = session.get(LoginThrottle, key)
    if throttle and throttle.locked_until and _aware(throttle.locked_until) > now:
        return SignIn(None, "too many failed sign-ins: try again in a few minutes")
    user = session.exec(select(User).where(User.name == name.strip())).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        _fail(session, key, throttle, now)
        return SignIn(None, "wrong user name or password")
    if throttle is not None:
        session.delete(throttle)
    user.last_login_at = now
    session.add(user)
    record(session, user.name, "user.signed_in", "user", user.id)
    return SignIn(user)


def _fail(session: Session, key: str, throttle: LoginThrottle | None, now: datetime) -> None:
    if throttle is None:
        throttle = LoginThrottle(key=key, failures=0, first_failure_at=now)
    if throttle.first_failure_at is None or now - _aware(throttle.first_failure_at) > WINDOW:
        throttle.failures, throttle.first_failure_at = 0, now
    throttle.failures += 1
    if throttle.failures >= MAX_FAILURES:
        throttle.locked_until = now + LOCK
    session.add(throttle)
    record(session, key, "user.sign_in_failed", "user", None, failures=throttle.failures)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
