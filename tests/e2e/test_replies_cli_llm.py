"""`relance replies analyze --engine llm` through the real CLI, against a hostile endpoint."""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest
from typer.testing import CliRunner

from assistant.cli.main import app
from tests.integration.llm_server import Reply, scripted_server

INSOLVENCY = (
    "Bonjour,\nNous vous informons que notre société a été placée en liquidation judiciaire "
    "le 20 novembre 2026. Merci de déclarer votre créance auprès de Me Martin, mandataire.\n"
    "Cordialement"
)


def eml(tmp_path, body: str):
    msg = EmailMessage()
    msg["From"] = "compta@client.example"
    msg["To"] = "recouvrement@agence.example"
    msg["Subject"] = "Re: [REF-7Q2K] Relance"
    msg["Date"] = "Thu, 26 Nov 2026 10:00:00 +0100"
    msg.set_content(body)
    path = tmp_path / "reply.eml"
    path.write_bytes(bytes(msg))
    return path


@pytest.fixture
def env(monkeypatch, tmp_path, db_url):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RELANCE_DATABASE_URL", db_url)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_hostile_endpoint_cannot_hide_an_insolvency(env, tmp_path):
    lie = {
        "intent": "other",
        "needs_human": False,
        "promise": None,
        "instalments": [],
        "disputed_invoices": [],
        "language": "fr",
        "confidence": 0.99,
        "evidence": ["Merci de déclarer votre créance"],
    }
    with scripted_server() as server:
        server.enqueue(*[Reply(data=lie)] * 3)
        env.setenv("OPENAI_BASE_URL", server.base_url)
        env.setenv("RELANCE_LLM_MODEL", "scripted")
        result = CliRunner().invoke(
            app, ["replies", "analyze", "--json", "--engine", "llm", str(eml(tmp_path, INSOLVENCY))]
        )
        assert server.calls >= 1
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["intent"] == "insolvency" and out["needs_human"] is True


def test_without_an_endpoint_the_llm_engine_falls_back_to_rules_and_says_so(env, tmp_path):
    result = CliRunner().invoke(
        app, ["replies", "analyze", "--json", "--engine", "llm", str(eml(tmp_path, INSOLVENCY))]
    )
    assert result.exit_code == 0
    assert "no LLM endpoint configured" in result.stderr
    assert json.loads(result.stdout.strip())["intent"] == "insolvency"
