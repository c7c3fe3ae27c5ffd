"""Request plumbing of the workspace: the database session, the signed-in person, CSRF.

No business rule lives here: it only answers "who is asking" and "may this request write".
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from assistant.bootstrap import App
from assistant.services.users import Scope, active_user, scope_of

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class NotSignedIn(Exception):
    """The request has no valid session: send the browser to the sign-in page."""


class Forbidden(Exception):
    """The signed-in person's role may not do this."""


class NotFound(Exception):
    """The object does not exist or lies outside the person's scope (answered alike)."""


class CsrfRejected(Exception):
    """A state-changing request without the session's CSRF token."""


def relance(request: Request) -> App:
    """Return the application the server was built with."""
    return request.app.state.relance  # type: ignore[no-any-return]


def db(request: Request) -> Iterator[Session]:
    """Yield a session for one request: committed when the page succeeded, else rolled back."""
    session = Session(relance(request).engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# Committed before the response leaves, so the next page (a redirect) sees the change.
DB = Annotated[Session, Depends(db, scope="function")]


def csrf_token(request: Request) -> str:
    """Return the session's CSRF token, creating one on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def current_scope(request: Request, session: DB) -> Scope:
    """Return the signed-in person's scope; a disabled account is signed out at once."""
    name = request.session.get("user")
    if not name:
        raise NotSignedIn()
    user = active_user(session, str(name))
    if user is None:
        request.session.clear()
        raise NotSignedIn()
    return scope_of(user)


Who = Annotated[Scope, Depends(current_scope)]


async def check_csrf(request: Request) -> None:
    """Refuse a POST whose CSRF token (form field or header) is not the session's."""
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not secrets.compare_digest(str(expected), sent):
        raise CsrfRejected()


Csrf = Depends(check_csrf)


def require_manager(scope: Scope) -> None:
    """Refuse unless the person may edit policies."""
    if not scope.edits_policies:
        raise Forbidden()


def require_admin(scope: Scope) -> None:
    """Refuse unless the person manages accounts."""
    if not scope.manages_users:
        raise Forbidden()
