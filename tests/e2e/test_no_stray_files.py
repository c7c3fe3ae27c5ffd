"""Commands that need no database leave no `relance.db` in the working folder."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from assistant.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
REPLY = """From: Jean <jean@client.example>
To: recouvrement@relance.example
Subject: Re: Facture F-2026-0042
Content-Type: text/plain; charset=utf-8

Nous réglerons 1 250,00 € vendredi.
"""


def test_commands_without_a_database_create_none_in_the_working_folder(tmp_path, monkeypatch):
    # The default database is `relance.db` in the working folder: no test setting in the way.
    monkeypatch.delenv("RELANCE_DATABASE_URL")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RELANCE_POLICIES_DIR", str(ROOT / "policies"))
    reply = tmp_path / "reply.eml"
    reply.write_text(REPLY, encoding="utf-8")
    runner = CliRunner()
    llm = runner.invoke(app, ["replies", "analyze", str(reply), "--engine", "llm", "--json"])
    assert llm.exit_code == 0, llm.output
    assert "promise_to_pay" in llm.stdout and "using the rules engine" in llm.stderr
    for args in (["replies", "analyze", str(reply)], ["policy", "check"], ["db", "history"]):
        assert runner.invoke(app, args).exit_code == 0, args
    assert sorted(p.name for p in Path.cwd().iterdir()) == ["reply.eml"]
