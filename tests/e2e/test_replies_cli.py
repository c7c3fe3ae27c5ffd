"""`relance replies analyze` end to end on .eml files (the JSON contract is stable)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from assistant.cli.replies import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "replies"

EML = """From: Jean <jean@client.example>
To: recouvrement@relance.example
Subject: Re: Facture F-2026-0042
Date: Wed, 25 Nov 2026 10:12:00 +0100
Content-Type: text/plain; charset=utf-8

Bonjour,

Nous réglerons 1 250,00 € vendredi.

Cordialement,
Jean Dupont
Tél : 01 23 45 67 89

Le mar. 24 nov. 2026 à 10:12, Relance <r@relance.example> a écrit :
> Montant dû : 2 400 € au 15/10
"""

AUTO = """From: Marie <marie@client.example>
To: recouvrement@relance.example
Subject: Re: Facture
Auto-Submitted: auto-replied
Date: Wed, 25 Nov 2026 10:12:00 +0100
Content-Type: text/plain; charset=utf-8

Merci pour votre message. Je le traiterai dès que possible.
"""

KEYS = [
    "file",
    "intent",
    "needs_human",
    "promise",
    "language",
    "reply_text",
    "confidence",
    "evidence",
    "also",
    "schedule",
    "automatic",
    "new_contacts",
]


def run(*args: str):
    return CliRunner().invoke(app, ["analyze", *args])


def test_json_contract(tmp_path: Path) -> None:
    path = tmp_path / "promise.eml"
    path.write_text(EML, encoding="utf-8")
    result = run(str(path), "--json")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert list(obj) == KEYS
    assert obj["file"] == str(path)
    assert obj["intent"] == "promise_to_pay"
    assert obj["needs_human"] is False
    assert obj["promise"] == {"amount": 1250.0, "currency": "EUR", "date": "2026-11-27"}
    assert obj["language"] == "fr"
    assert "2 400" not in obj["reply_text"] and "01 23 45" not in obj["reply_text"]
    assert 0.0 <= obj["confidence"] <= 1.0
    assert all(span in obj["reply_text"] for span in obj["evidence"])


def test_auto_reply_header_means_out_of_office(tmp_path: Path) -> None:
    path = tmp_path / "auto.eml"
    path.write_text(AUTO, encoding="utf-8")
    obj = json.loads(run(str(path), "--json").stdout.splitlines()[0])
    assert obj["intent"] == "out_of_office" and obj["promise"] is None


def test_many_files_one_line_each() -> None:
    files = sorted(FIXTURES.glob("hand_*.eml"))[:10]
    result = run(*map(str, files), "--json")
    assert result.exit_code == 0
    assert len([x for x in result.stdout.splitlines() if x.strip()]) == len(files)


def test_unreadable_file_is_reported_and_others_processed(tmp_path: Path) -> None:
    good = tmp_path / "good.eml"
    good.write_text(EML, encoding="utf-8")
    missing = tmp_path / "missing.eml"
    result = run(str(missing), str(good), "--json")
    assert result.exit_code != 0
    assert "missing.eml" in result.stderr
    assert len([x for x in result.stdout.splitlines() if x.strip()]) == 1


def test_llm_engine_without_endpoint_falls_back(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    path = tmp_path / "promise.eml"
    path.write_text(EML, encoding="utf-8")
    result = run(str(path), "--json", "--engine", "llm")
    assert result.exit_code == 0
    assert "rules" in result.stderr
    assert json.loads(result.stdout.splitlines()[0])["intent"] == "promise_to_pay"


def test_table_output(tmp_path: Path) -> None:
    path = tmp_path / "promise.eml"
    path.write_text(EML, encoding="utf-8")
    result = run(str(path))
    assert result.exit_code == 0
    assert "promise_to_pay" in result.stdout
