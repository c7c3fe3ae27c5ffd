"""`policy preview --case` reads the case through the one loader; no endpoint, no database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from assistant.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "atelier-bois"
DAY = "2026-11-26"


def run(*args: str, code: int = 0):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (args, result.output)
    return result


def test_preview_of_a_real_case_shows_its_own_invoices(monkeypatch, tmp_path, db_url):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RELANCE_DATABASE_URL", db_url)
    monkeypatch.setenv("RELANCE_POLICIES_DIR", str(ROOT / "policies"))
    monkeypatch.setenv("RELANCE_TEMPLATES_DIR", str(ROOT / "templates"))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RELANCE_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    run(
        "import", "invoices", str(SAMPLE / "invoices.csv"), "--creditor", "atelier-bois",
        "--mapping", str(SAMPLE / "mapping.yaml"),
    )  # fmt: skip
    run("cycle", "--date", DAY, "--creditor", "atelier-bois")
    draft = json.loads(run("drafts", "list", "--json").stdout)[0]
    shown = json.loads(run("cases", "show", draft["case"], "--date", DAY, "--json").stdout)
    invoices = [i["number"] for i in shown["invoices"] if i["status"] == "open"]
    assert invoices
    result = run(
        "policy", "preview", "atelier-bois", "--step", draft["step"],
        "--case", draft["case"].lower(), "--date", DAY,
    )  # fmt: skip
    assert draft["case"] in result.stdout
    # exactly the invoices the real draft lists: the planner's selection, not every open one
    assert all(number in result.stdout for number in draft["invoices"])
    assert not [n for n in invoices if n not in draft["invoices"] and n in result.stdout]
    assert "REF-PREV" not in result.stdout
    other = run(
        "policy", "preview", "distrib-pro", "--step", "reminder_1", "--case", draft["case"],
        code=1,
    )  # fmt: skip
    assert f"no case {draft['case']}" in other.output


def test_the_llm_reply_engine_without_an_endpoint_creates_no_database(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RELANCE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    eml = ROOT / "tests" / "fixtures" / "replies" / "en_claims_paid_10.eml"
    result = run("replies", "analyze", str(eml), "--engine", "llm")
    assert "using the rules engine" in result.output
    assert list(tmp_path.iterdir()) == []
