"""The workspace's JSON API over real HTTP: sessions, CSRF, scope, conflicts."""

from __future__ import annotations

import httpx
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.models import Case, Creditor, Draft
from tests.web.conftest import PASSWORD


def _ids(app, slug):  # type: ignore[no-untyped-def]
    with session_scope(app.engine) as s:
        return list(
            s.exec(
                select(Draft.id)
                .join(Case, Case.id == Draft.case_id)
                .join(Creditor, Creditor.id == Case.creditor_id)
                .where(Creditor.slug == slug)
                .order_by(Draft.id)
            ).all()
        )


def _session(url: str, name: str = "alice") -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url)
    opened = client.post("/api/session", json={"username": name, "password": PASSWORD})
    assert opened.status_code == 200, opened.text
    body = opened.json()
    assert body["user"]["name"] == name and body["user"]["creditors"] == ["atelier-bois"]
    return client, body["csrf"]


def test_health_and_sign_in(workspace):
    client = httpx.Client(base_url=workspace.url)
    assert client.get("/healthz").status_code == 200
    wrong = client.post("/api/session", json={"username": "alice", "password": "nope" * 3})
    assert wrong.status_code == 401
    assert client.get("/api/drafts").status_code == 401


def test_drafts_are_listed_within_the_officers_scope(workspace):
    client, _ = _session(workspace.url)
    rows = client.get("/api/drafts", params={"status": "pending"}).json()
    assert {r["creditor"] for r in rows} == {"atelier-bois"}
    assert {"id", "case", "creditor", "status", "subject"} <= set(rows[0])
    one = client.get(f"/api/drafts/{rows[0]['id']}").json()
    assert one["id"] == rows[0]["id"] and "FA-2026-" in one["body_text"]


def test_approve_needs_a_session_then_the_csrf_token(workspace):
    draft_id = _ids(workspace.app, "atelier-bois")[0]
    anonymous = httpx.Client(base_url=workspace.url)
    assert anonymous.post(f"/api/drafts/{draft_id}/approve").status_code == 401
    client, csrf = _session(workspace.url)
    assert client.post(f"/api/drafts/{draft_id}/approve").status_code == 403
    forged = client.post(f"/api/drafts/{draft_id}/approve", headers={"X-CSRF-Token": "x"})
    assert forged.status_code == 403
    with session_scope(workspace.app.engine) as s:
        assert s.get(Draft, draft_id).status == "pending"
    done = client.post(f"/api/drafts/{draft_id}/approve", headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200 and done.json()["status"] == "approved"
    again = client.post(f"/api/drafts/{draft_id}/approve", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 409 and "approved" in again.json()["detail"]


def test_another_creditors_draft_answers_404_like_a_missing_one(workspace):
    foreign = _ids(workspace.app, "thames-supplies")[0]
    client, csrf = _session(workspace.url)
    headers = {"X-CSRF-Token": csrf}
    for path in (f"/api/drafts/{foreign}", "/api/drafts/999999"):
        assert client.get(path).status_code == 404
    foreign_post = client.post(f"/api/drafts/{foreign}/approve", headers=headers)
    missing_post = client.post("/api/drafts/999999/approve", headers=headers)
    assert foreign_post.status_code == missing_post.status_code == 404
    assert foreign_post.json() == missing_post.json()
    with session_scope(workspace.app.engine) as s:
        assert s.get(Draft, foreign).status == "pending"


def test_reject_takes_a_reason_and_cannot_reject_twice(workspace):
    draft_id = _ids(workspace.app, "atelier-bois")[1]
    client, csrf = _session(workspace.url)
    headers = {"X-CSRF-Token": csrf}
    no_reason = client.post(f"/api/drafts/{draft_id}/reject", json={"reason": " "}, headers=headers)
    assert no_reason.status_code == 409
    done = client.post(
        f"/api/drafts/{draft_id}/reject", json={"reason": "paid by cheque"}, headers=headers
    )
    assert done.status_code == 200 and done.json()["reject_reason"] == "paid by cheque"
    twice = client.post(f"/api/drafts/{draft_id}/reject", json={"reason": "x"}, headers=headers)
    assert twice.status_code == 409


def test_cases_and_policies_follow_the_same_rules(workspace):
    client, _ = _session(workspace.url)
    cases = client.get("/api/cases").json()
    assert cases and {c["creditor"] for c in cases} == {"atelier-bois"}
    assert client.get(f"/api/cases/{cases[0]['ref']}").status_code == 200
    assert client.get("/api/policies").status_code == 403  # an officer does not edit policies
    admin = httpx.Client(base_url=workspace.url)
    admin.post("/api/session", json={"username": "root", "password": PASSWORD})
    slugs = {p["creditor"] for p in admin.get("/api/policies").json()}
    assert {"atelier-bois", "thames-supplies"} <= slugs
    assert "ladder" in admin.get("/api/policies/atelier-bois").json()["yaml"]


def test_the_api_is_documented_by_openapi_with_local_assets(workspace):
    client = httpx.Client(base_url=workspace.url)
    spec = client.get("/openapi.json").json()
    assert "/api/drafts/{draft_id}/approve" in spec["paths"] and "/login" not in spec["paths"]
    page = client.get("/docs")
    assert page.status_code == 200 and "/static/swagger/swagger-ui-bundle.js" in page.text
    assert "http" not in page.text.split("<body>")[1]
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
