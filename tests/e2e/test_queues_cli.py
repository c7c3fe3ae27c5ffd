"""`relance handoffs|promises|tasks` on a real database, through Typer's CliRunner."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import typer
from sqlmodel import select
from typer.testing import CliRunner

from assistant.cli import handoffs, promises, tasks
from assistant.db.engine import session_scope
from assistant.db.models import AuditEvent, Case, Draft, Invoice
from tests.helpers import ROOT
from tests.integration.test_reply_effects import RECEIVED, SIGN, app, case_ref, reply

__all__ = ["app", "case_ref"]  # fixtures shared with the integration tests

DISPUTE = (
    "Bonjour,\n\nNous contestons la facture FA-2026-0102 : la marchandise n'a jamais été livrée."
    + SIGN
)
PROMISE = "Bonjour,\n\nNous réglerons 1 250,00 € le 5 décembre par virement." + SIGN
CLAIMS_PAID = "Bonjour,\n\nNous avons déjà réglé ces factures le 20 novembre." + SIGN


def cli() -> typer.Typer:
    """Mount the sub-apps as `relance` does."""
    root = typer.Typer()
    root.add_typer(handoffs.app, name="handoffs")
    root.add_typer(promises.app, name="promises")
    root.add_typer(tasks.app, name="tasks")

    @root.callback()
    def _main() -> None:
        """Relance."""

    return root


@pytest.fixture
def run(app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("RELANCE_DATABASE_URL", app.settings.database_url)
    monkeypatch.setenv("RELANCE_POLICIES_DIR", str(ROOT / "policies"))
    monkeypatch.setenv("RELANCE_TEMPLATES_DIR", str(ROOT / "templates"))
    monkeypatch.setenv("COLUMNS", "200")
    runner, root = CliRunner(), cli()

    def invoke(*args: str, code: int = 0):
        result = runner.invoke(root, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return invoke


def invoice_status(app, number: str) -> str:
    with session_scope(app.engine) as s:
        return s.exec(select(Invoice).where(Invoice.number == number)).one().status


def case_status(app, ref: str) -> str:
    with session_scope(app.engine) as s:
        return s.exec(select(Case).where(Case.ref == ref)).one().status


def test_handoffs_list_show_and_resolve_with_resume(app, case_ref, run):
    reply(app, case_ref, DISPUTE)
    [row] = json.loads(run("handoffs", "list", "--json").output)
    assert row["case"] == case_ref and row["reason"] == "dispute" and row["status"] == "open"
    assert case_ref in run("handoffs", "list").output

    shown = json.loads(run("handoffs", "show", str(row["id"]), "--json").output)
    assert shown["case_status"] == "handoff" and shown["evidence"]
    assert "jamais été livrée" in shown["replies"][0]["reply_text"]
    assert {i["number"]: i["status"] for i in shown["invoices"]} == {
        "FA-2026-0101": "open",
        "FA-2026-0102": "disputed",
    }
    text = run("handoffs", "show", str(row["id"])).output
    assert "dispute" in text and "jamais été livrée" in text

    run("handoffs", "resolve", str(row["id"]), "--note", "", "--resume", code=1)
    done = run(
        "handoffs", "resolve", str(row["id"]), "--note", "Avoir à venir sur FA-0102", "--resume",
        "--as", "alice",
    )  # fmt: skip
    assert "resolved" in done.output and "active" in done.output
    assert case_status(app, case_ref) == "active"
    assert invoice_status(app, "FA-2026-0102") == "disputed"  # stays out of dunning
    assert json.loads(run("handoffs", "list", "--json").output) == []
    [resolved] = json.loads(run("handoffs", "list", "--status", "resolved", "--json").output)
    assert (
        resolved["resolved_by"] == "alice" and resolved["resolution"] == "Avoir à venir sur FA-0102"
    )
    with session_scope(app.engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "handoff.resolved")).one()
    assert event.actor == "alice" and event.payload["note"] == "Avoir à venir sur FA-0102"
    run("handoffs", "resolve", str(row["id"]), "--note", "again", code=1)  # already resolved


def test_resolve_with_undispute_and_close(app, case_ref, run):
    reply(app, case_ref, DISPUTE)
    [row] = json.loads(run("handoffs", "list", "--json").output)
    run("handoffs", "resolve", str(row["id"]), "--note", "x", "--resume", "--close", code=1)
    run("handoffs", "resolve", str(row["id"]), "--note", "Livraison prouvée", "--resume",
        "--undispute")  # fmt: skip
    assert invoice_status(app, "FA-2026-0102") == "open"
    reply(app, case_ref, DISPUTE)
    [again] = json.loads(run("handoffs", "list", "--json").output)
    run("handoffs", "resolve", str(again["id"]), "--note", "Accord amiable signé", "--close")
    assert case_status(app, case_ref) == "closed"


def test_promises_list_filters_by_status_and_date(app, case_ref, run):
    reply(app, case_ref, PROMISE)
    [p] = json.loads(run("promises", "list", "--json").output)
    assert p["case"] == case_ref and p["amount"] == 1250.0 and p["currency"] == "EUR"
    assert p["due_on"] == "2026-12-05" and p["grace_until"] == "2026-12-08"
    assert p["status"] == "pending"
    assert json.loads(run("promises", "list", "--status", "broken", "--json").output) == []
    assert json.loads(run("promises", "list", "--due-before", "2026-12-05", "--json").output) == []
    assert (
        len(json.loads(run("promises", "list", "--due-before", "2026-12-06", "--json").output)) == 1
    )
    assert "1 250,00 €" in run("promises", "list", "--status", "pending").output  # French view
    run("promises", "list", "--status", "forgotten", code=2)


def test_tasks_list_and_done(app, case_ref, run):
    reply(app, case_ref, CLAIMS_PAID, at=RECEIVED + timedelta(hours=1))
    [t] = json.loads(run("tasks", "list", "--json").output)
    assert t["kind"] == "verify_payment" and t["case"] == case_ref
    run("tasks", "done", str(t["id"]), "--as", "bob")
    assert json.loads(run("tasks", "list", "--json").output) == []
    [d] = json.loads(run("tasks", "list", "--status", "done", "--json").output)
    assert d["done_by"] == "bob"
    run("tasks", "done", str(t["id"]), code=1)


def test_unknown_ids_fail_cleanly(app, run):
    assert "no hand-off 99" in run("handoffs", "show", "99", code=1).output
    run("tasks", "done", "99", code=1)


def test_an_officer_hand_off_withdraws_the_drafts_waiting_to_go(app, case_ref, run):
    with session_scope(app.engine) as s:
        case = s.exec(select(Case).where(Case.ref == case_ref)).one()
        s.add(Draft(case_id=case.id, step="reminder_2", subject="…", body_text="…", body_html="…"))

    run("handoffs", "open", case_ref, "--note", "", code=1)
    done = run("handoffs", "open", case_ref, "--note", "Appel du gérant", "--as", "alice")

    assert "1 draft(s) withdrawn" in done.output
    assert case_status(app, case_ref) == "handoff"
    [row] = json.loads(run("handoffs", "list", "--json").output)
    assert (row["reason"], row["summary"]) == ("officer", "Appel du gérant")
    with session_scope(app.engine) as s:
        statuses = sorted(d.status for d in s.exec(select(Draft)))
    assert statuses == ["rejected", "sent", "sent"]
