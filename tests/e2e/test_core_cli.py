"""The core workflow through the `relance` command: import, cycle, review, approve, edit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "atelier-bois"
DAY = "2026-11-26"


@pytest.fixture
def relance(monkeypatch, tmp_path, db_url):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RELANCE_DATABASE_URL", db_url)
    monkeypatch.setenv("RELANCE_POLICIES_DIR", str(ROOT / "policies"))
    monkeypatch.setenv("RELANCE_TEMPLATES_DIR", str(ROOT / "templates"))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RELANCE_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (
            args,
            result.output,
            result.stderr if result.stderr_bytes else "",
        )
        return result

    return run


def as_json(result):
    return json.loads(result.stdout)


def imported(relance):
    relance(
        "import",
        "invoices",
        str(SAMPLE / "invoices.csv"),
        "--creditor",
        "atelier-bois",
        "--mapping",
        str(SAMPLE / "mapping.yaml"),
    )
    return as_json(relance("cycle", "--date", DAY, "--creditor", "atelier-bois", "--json"))


def test_import_cycle_and_review_from_the_command_line(relance):
    summary = imported(relance)
    assert summary["drafts"] > 10 and summary["blocked"] == 0
    drafts = as_json(relance("drafts", "list", "--status", "pending", "--json"))
    assert len(drafts) == summary["drafts"]
    first = drafts[0]
    assert first["subject"].startswith(f"[{first['case']}]") and first["blocking"] == 0
    shown = as_json(relance("drafts", "show", str(first["id"]), "--json"))
    for number in first["invoices"]:
        assert number in shown["body_text"]
    case = as_json(relance("cases", "show", first["case"], "--json", "--date", DAY))
    assert case["history"]["paid_invoices"] >= 1  # paid rows of the export are the client history
    assert {d["id"] for d in case["drafts"]} == {first["id"]}


def test_approval_is_audited_with_the_actor_and_nothing_is_sent(relance):
    imported(relance)
    draft = as_json(relance("drafts", "list", "--json"))[0]
    result = relance("--as", "alice", "drafts", "approve", str(draft["id"]))
    assert "Nothing was sent" in result.stdout
    after = as_json(relance("drafts", "show", str(draft["id"]), "--json"))
    assert after["status"] == "approved" and after["decided_by"] == "alice" and after["message_id"]
    relance("drafts", "approve", str(draft["id"]), code=1)  # not pending any more


def test_reject_needs_a_reason_and_records_it(relance):
    imported(relance)
    draft = as_json(relance("drafts", "list", "--json"))[0]
    relance("drafts", "reject", str(draft["id"]), code=2)  # --reason is required
    relance("drafts", "reject", str(draft["id"]), "--reason", "client called", "--as", "bob")
    after = as_json(relance("drafts", "show", str(draft["id"]), "--json"))
    assert (after["status"], after["reject_reason"], after["decided_by"]) == (
        "rejected",
        "client called",
        "bob",
    )


def test_an_edit_that_changes_an_amount_is_blocked(relance, tmp_path):
    imported(relance)
    draft = as_json(relance("drafts", "list", "--json"))[0]
    shown = as_json(relance("drafts", "show", str(draft["id"]), "--json"))
    total = shown["body_text"].split("Total restant dû : ")[1].split("\n")[0]
    edited = tmp_path / "edit.txt"
    edited.write_text(
        f"{shown['subject']}\n" + shown["body_text"].replace(total, "9 999,99 €"), encoding="utf-8"
    )
    relance("drafts", "edit", str(draft["id"]), "--from-file", str(edited), "--date", DAY, code=1)
    after = as_json(relance("drafts", "show", str(draft["id"]), "--json"))
    assert after["blocking"] >= 1 and any(f["code"] == "amount_mismatch" for f in after["findings"])
    relance("drafts", "approve", str(draft["id"]), code=1)
    # A harmless edit is accepted and the draft can be approved again.
    edited.write_text(
        f"{shown['subject']}\n" + shown["body_text"].replace("Madame, Monsieur,", "Bonjour,"),
        encoding="utf-8",
    )
    relance("drafts", "edit", str(draft["id"]), "--from-file", str(edited), "--date", DAY)
    relance("drafts", "approve", "--all-valid", "--as", "carol")
    assert as_json(relance("drafts", "show", str(draft["id"]), "--json"))["status"] == "approved"


def test_policy_check_names_file_line_and_field(relance, tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (ROOT / "policies" / "atelier-bois.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("minimum_amount: 50", "minimum_amount: -5"), encoding="utf-8")
    result = relance("policy", "check", str(bad), "--json", code=1)
    [entry] = as_json(result)["files"]
    [error] = entry["errors"]
    assert (
        error["field"] == "minimum_amount"
        and error["line"] == text[: text.index("minimum_amount")].count("\n") + 1
    )
    relance("policy", "check", str(ROOT / "policies"))


def test_policy_preview_renders_a_step(relance):
    result = relance("policy", "preview", "atelier-bois", "--step", "formal_notice", "--date", DAY)
    assert "mise en demeure" in result.stdout.lower()
    relance("policy", "preview", "atelier-bois", "--step", "nope", code=1)


def test_edit_opens_the_editor_and_revalidates(relance, monkeypatch, tmp_path):
    imported(relance)
    draft = as_json(relance("drafts", "list", "--json"))[0]
    script = tmp_path / "editor.sh"
    script.write_text('#!/bin/sh\nsed -i "s/Madame, Monsieur,/Chère cliente, cher client,/" "$1"\n')
    script.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(script))
    monkeypatch.delenv("VISUAL", raising=False)
    relance("drafts", "edit", str(draft["id"]), "--date", DAY, "--as", "dave")
    after = as_json(relance("drafts", "show", str(draft["id"]), "--json"))
    assert "Chère cliente, cher client," in after["body_text"] and after["blocking"] == 0
    assert "Chère cliente" in after["body_html"]


def test_an_officer_pauses_and_resumes_a_case(relance):
    imported(relance)
    draft = as_json(relance("drafts", "list", "--json"))[0]
    relance("drafts", "reject", str(draft["id"]), "--reason", "on hold")
    relance("cases", "pause", draft["case"], code=2)  # --reason is required
    relance("cases", "pause", draft["case"], "--reason", "calling the client", "--as", "erin")
    assert as_json(relance("cases", "show", draft["case"], "--json"))["status"] == "paused"
    relance("cycle", "--date", DAY, "--creditor", "atelier-bois")
    assert not [
        d
        for d in as_json(relance("drafts", "list", "--status", "pending", "--json"))
        if d["case"] == draft["case"]
    ]
    relance("cases", "resume", draft["case"], "--note", "no agreement")
    relance("cycle", "--date", DAY, "--creditor", "atelier-bois")
    assert [
        d
        for d in as_json(relance("drafts", "list", "--status", "pending", "--json"))
        if d["case"] == draft["case"]
    ]
