"""Sessions, CSRF and throttling, checked over plain HTTP against the served workspace."""

from __future__ import annotations

import re

import httpx
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.models import Draft
from tests.web.conftest import PASSWORD


def _token(client: httpx.Client, path: str = "/login") -> str:
    html = client.get(path).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _signed_in(url: str, name: str = "alice") -> httpx.Client:
    client = httpx.Client(base_url=url, follow_redirects=False)
    token = _token(client)
    response = client.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf_token": token, "next": "/"}
    )
    assert response.status_code == 303, response.text
    return client


def test_the_session_cookie_is_signed_httponly_and_samesite_lax(workspace):
    client = httpx.Client(base_url=workspace.url)
    token = _token(client)
    response = client.post(
        "/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token}
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "alice" not in response.headers["set-cookie"]  # signed and encoded, not plain


def test_a_state_change_without_the_csrf_token_is_refused(workspace):
    client = _signed_in(workspace.url)
    with session_scope(workspace.app.engine) as s:
        draft_id = s.exec(select(Draft.id).order_by(Draft.id)).first()
    refused = client.post(f"/drafts/{draft_id}/approve")
    assert refused.status_code == 403
    forged = client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    with session_scope(workspace.app.engine) as s:
        assert s.get(Draft, draft_id).status == "pending"
    token = _token(client, "/")
    accepted = client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": token})
    assert accepted.status_code == 303
    with session_scope(workspace.app.engine) as s:
        assert s.get(Draft, draft_id).status == "approved"


def test_sign_in_is_locked_after_five_failures_even_with_the_right_password(workspace):
    client = httpx.Client(base_url=workspace.url)
    token = _token(client)
    for _ in range(5):
        wrong = client.post(
            "/login", data={"name": "bob", "password": "x" * 12, "csrf_token": token}
        )
        assert wrong.status_code == 401
    locked = client.post("/login", data={"name": "bob", "password": PASSWORD, "csrf_token": token})
    assert locked.status_code == 401
    assert "too many failed sign-ins" in locked.text
    other = _signed_in(workspace.url, "alice")  # another account is not affected
    assert other.get("/").status_code == 200


def test_pages_are_served_with_a_strict_content_security_policy(workspace):
    client = _signed_in(workspace.url)
    page = client.get("/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert 'src="http' not in page.text and 'href="http' not in page.text
    assert client.get("/static/htmx.min.js").status_code == 200
