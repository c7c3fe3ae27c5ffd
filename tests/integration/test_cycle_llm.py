"""`relance cycle --engine llm` (and `engine: llm` in a policy) against a scripted endpoint."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import select
from typer.testing import CliRunner

from assistant.bootstrap import build_app
from assistant.cli import main as cli_main
from assistant.config import Settings
from assistant.db.engine import session_scope
from assistant.db.llm_models import LLMCall
from assistant.db.models import AuditEvent, Case, Draft
from assistant.llm import LLMNotConfigured
from assistant.services.cycle import CycleReport, run_cycle
from assistant.services.portfolio import ensure_creditor
from tests.helpers import seed_debtor
from tests.integration.llm_server import Reply, scripted_server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 26)
SLUG = "atelier-bois"

GOOD = {
    "opening": "Nous revenons vers vous au sujet des factures rappelées ci-dessous, "
    "dont nous n'avons pas encore reçu le règlement.",
    "body": ["Il s'agit sans doute d'un simple oubli, et nous vous remercions d'avance."],
    "closing": "Si un point bloque le règlement, nous sommes disponibles pour en parler "
    "par téléphone.",
}
INVENTED_AMOUNT = {**GOOD, "body": ["Le montant de 1 520,00 € reste à régler."]}


def settings(db_url: str, base_url: str | None = None) -> Settings:
    extra = {"OPENAI_BASE_URL": base_url} if base_url else {}
    return Settings(
        database_url=db_url,
        policies_dir=ROOT / "policies",
        templates_dir=ROOT / "templates",
        llm_model="scripted",
        llm_timeout=5.0,
        llm_max_concurrency=4,
        _env_file=None,
        **extra,
    )  # type: ignore[call-arg]


def seed(app, *, with_email: bool = True) -> None:
    with session_scope(app.engine) as s:
        creditor = ensure_creditor(s, app.policies[SLUG])
        seed_debtor(
            s,
            creditor,
            "C001",
            "Boulangerie Martin SARL",
            [("FA-2026-0101", 12, 125000), ("FA-2026-0102", 8, 48050)],
            TODAY,
        )
        seed_debtor(
            s,
            creditor,
            "C004",
            "Menuiserie Durand",
            [("FA-2026-0401", 15, 20000)],
            TODAY,
            email="compta@{ref}.example" if with_email else None,
        )


@pytest.fixture
def server():
    with scripted_server() as srv:
        yield srv


@pytest.fixture
def llm_app(server, db_url):
    app = build_app(settings(db_url, server.base_url), actor="tester")
    seed(app)
    yield app
    app.close()


def drafts(app) -> list[Draft]:
    with session_scope(app.engine) as s:
        return list(s.exec(select(Draft).order_by(Draft.id)))


def llm_calls(app) -> list[LLMCall]:
    with session_scope(app.engine) as s:
        return list(s.exec(select(LLMCall).order_by(LLMCall.id)))


def test_the_llm_engine_drafts_prose_that_passes_the_guardrails(server, llm_app):
    server.responder = lambda request: Reply(data=GOOD)
    report = run_cycle(llm_app, TODAY, creditor=SLUG, engine="llm")
    assert report.engines == {SLUG: "llm"} and report.total("drafts") == 2
    ds = drafts(llm_app)
    assert [d.engine for d in ds] == ["llm", "llm"] and all(d.status == "pending" for d in ds)
    for d in ds:
        assert not [f for f in d.findings if f["blocking"]], d.findings
        assert GOOD["opening"] in d.body_text and d.engine_note is None
    assert "FA-2026-0101" in ds[0].body_text and "1 730,50" in ds[0].body_text  # facts kept
    calls = llm_calls(llm_app)
    assert len(calls) == 2 and {c.case_id for c in calls} == {d.case_id for d in ds}
    with session_scope(llm_app.engine) as s:
        events = list(s.exec(select(AuditEvent).where(AuditEvent.action == "draft.created")))
        cases = list(s.exec(select(Case)))
    assert sorted(e.entity_id for e in events) == sorted(str(d.id) for d in ds)
    assert len(cases) == 2 and sorted(report.draft_ids) == [d.id for d in ds]


def test_an_invented_amount_falls_back_to_the_template_and_says_why(server, llm_app):
    server.responder = lambda request: Reply(data=INVENTED_AMOUNT)
    report = run_cycle(llm_app, TODAY, creditor=SLUG, engine="llm")
    ds = drafts(llm_app)
    assert len(ds) == 2 and report.blocked == 0
    for d in ds:
        assert d.engine == "template" and "invented_amount" in (d.engine_note or "")
        assert "1 520" not in d.body_text
        flag = [f for f in d.findings if f["code"] == "llm_fallback"]
        assert flag and not flag[0]["blocking"]  # visible in the queue, not blocking
    assert len(llm_calls(llm_app)) == 4  # one retry each, then the template


def test_auto_approval_after_llm_drafting_skips_blocked_drafts(server, db_url):
    app = build_app(settings(db_url, server.base_url), actor="tester")
    try:
        app.policies[SLUG] = app.policies[SLUG].model_copy(update={"auto_approve": True})
        seed(app, with_email=False)  # C004 has no address: its draft is blocked
        server.responder = lambda request: Reply(data=GOOD)
        report = run_cycle(app, TODAY, creditor=SLUG, engine="llm")
        by_status = Counter((d.engine, d.status) for d in drafts(app))
        assert by_status == {("llm", "approved"): 1, ("llm", "pending"): 1}
        assert report.counts[SLUG]["auto_approved"] == 1 and report.counts[SLUG]["blocked"] == 1
        blocked = [d for d in drafts(app) if d.status == "pending"][0]
        assert [f["code"] for f in blocked.findings if f["blocking"]] == ["no_contact"]
    finally:
        app.close()


def test_a_second_cycle_waits_for_the_llm_draft_to_be_approved(server, llm_app):
    server.responder = lambda request: Reply(data=GOOD)
    run_cycle(llm_app, TODAY, creditor=SLUG, engine="llm")
    report = run_cycle(llm_app, TODAY, creditor=SLUG, engine="llm")
    assert report.total("awaiting_approval") == 2 and report.total("drafts") == 0
    assert len(drafts(llm_app)) == 2 and len(llm_calls(llm_app)) == 2


def test_an_explicit_llm_engine_without_an_endpoint_raises_before_writing(db_url):
    app = build_app(settings(db_url), actor="tester")
    try:
        seed(app)
        with pytest.raises(LLMNotConfigured):
            run_cycle(app, TODAY, creditor=SLUG, engine="llm")
        assert drafts(app) == []
        with pytest.raises(ValueError, match="unknown drafting engine"):
            run_cycle(app, TODAY, engine="gpt")
    finally:
        app.close()


def test_engine_llm_in_policies_without_an_endpoint_warns_once_and_uses_templates(db_url):
    app = build_app(settings(db_url), actor="tester")
    try:
        for slug in list(app.policies):
            app.policies[slug] = app.policies[slug].model_copy(update={"engine": "llm"})
        seed(app)
        report = run_cycle(app, TODAY)
        assert len(report.notes) == 1 and "no LLM endpoint" in report.notes[0]
        assert set(report.engines.values()) == {"template"} and len(report.engines) > 1
        assert [d.engine for d in drafts(app)] == ["template", "template"]
        assert report.as_dict()["notes"] == report.notes
    finally:
        app.close()


def test_the_policy_engine_is_the_default_and_the_option_overrides_it(server, db_url):
    app = build_app(settings(db_url, server.base_url), actor="tester")
    try:
        app.policies[SLUG] = app.policies[SLUG].model_copy(update={"engine": "llm"})
        seed(app)
        server.responder = lambda request: Reply(data=GOOD)
        report = run_cycle(app, TODAY, creditor=SLUG, engine="template")
        assert report.engines == {SLUG: "template"} and server.calls == 0
        for d in drafts(app):  # reject them so the next cycle drafts again
            with session_scope(app.engine) as s:
                row = s.get(Draft, d.id)
                row.status = "rejected"
                s.add(row)
        report = run_cycle(app, TODAY, creditor=SLUG)
        assert report.engines == {SLUG: "llm"} and server.calls == 2
    finally:
        app.close()


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch, tmp_path, db_url):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RELANCE_DATABASE_URL", db_url)
    monkeypatch.setenv("RELANCE_POLICIES_DIR", str(ROOT / "policies"))
    monkeypatch.setenv("RELANCE_TEMPLATES_DIR", str(ROOT / "templates"))
    monkeypatch.setenv("RELANCE_LLM_MODEL", "scripted")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RELANCE_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    app = build_app(settings(db_url), actor="tester")
    seed(app)
    app.close()
    return monkeypatch


def test_cli_engine_llm_without_an_endpoint_prints_how_to_configure_one(cli):
    result = CliRunner().invoke(cli_main.app, ["cycle", "--date", "2026-11-26", "--engine", "llm"])
    assert result.exit_code == 1
    assert LLMNotConfigured.HOWTO in " ".join(result.stderr.split())
    result = CliRunner().invoke(cli_main.app, ["cycle", "--engine", "gpt"])
    assert result.exit_code == 2 and "template, llm" in result.stderr


def test_cli_cycle_with_the_llm_engine(cli, server):
    cli.setenv("OPENAI_BASE_URL", server.base_url)
    server.responder = lambda request: Reply(data=GOOD)
    args = ["cycle", "--date", "2026-11-26", "--creditor", SLUG, "--engine", "llm", "--json"]
    result = CliRunner().invoke(cli_main.app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["drafts"] == 2 and summary["engines"] == {SLUG: "llm"}
    assert summary["blocked"] == 0 and server.calls == 2


def test_the_cycle_table_shows_blocked_per_creditor_and_fits_80_columns(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(cli_main, "console", Console(file=out, width=200, color_system=None))
    report = CycleReport(on=TODAY, blocked=7)
    for slug, n in (("thames-supplies", 3), ("distrib-pro", 4), ("atelier-bois", 0)):
        report.counts[slug] = Counter(
            opened=12345, drafts=34567, blocked=n, handoffs=12345, wait=45678,
            nothing=56789, awaiting_approval=67890, closed=12345,
        )  # fmt: skip
        report.engines[slug] = "llm" if slug == "thames-supplies" else "template"
    cli_main.print_cycle_report(report)
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80, out.getvalue()
    header = next(line.split() for line in lines if line.startswith("creditor"))
    rows = {line.split()[0]: line.split() for line in lines if line[:1].isalpha()}
    blocked = header.index("blocked")
    assert rows["thames-supplies"][blocked] == "3" and rows["distrib-pro"][blocked] == "4"
    assert rows["total"][blocked] == "7" and rows["total"][2] == "103701"
    assert "LLM drafting: thames-supplies" in " ".join(out.getvalue().split())
