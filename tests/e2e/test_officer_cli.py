"""An officer's day through the `relance` command: contacts, notes, calls, promises, plans."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_core_cli import DAY, as_json, imported, relance

__all__ = ["relance"]


@pytest.fixture
def case(relance) -> str:
    """The case of the first draft of the sample portfolio (its reminder rejected)."""
    imported(relance)
    draft = as_json(relance("drafts", "list", "--json"))[0]
    return draft["case"]


def test_contacts_are_listed_added_invalidated_and_confirmed(relance, case):
    before = as_json(relance("contacts", "list", case, "--json"))
    assert before and all(c["state"] == "valid" for c in before)
    address = before[0]["email"]
    relance("contacts", "invalidate", case, address, code=2)  # --reason is required
    relance("contacts", "invalidate", case, address, "--reason", "bounced", "--as", "erin")
    relance("contacts", "add", case, "ap@new.example", "--name", "AP", "--role", "ap")
    relance("contacts", "add", case, "nope", code=1)
    relance("contacts", "confirm", case, "ap@new.example", code=1)  # already valid
    rows = {c["email"]: c for c in as_json(relance("contacts", "list", case, "--json"))}
    assert rows[address]["state"] == "invalid" and rows[address]["invalid_reason"] == "bounced"
    assert rows["ap@new.example"]["role"] == "ap" and rows["ap@new.example"]["state"] == "valid"
    out = relance("contacts", "add", case, address.upper(), "--as", "erin").stdout
    assert "re-validated" in out


def test_notes_calls_and_a_phone_promise_show_on_the_case(relance, case, monkeypatch):
    relance("notes", "add", case, "Rappeler lundi", "--as", "erin")
    relance("calls", "log", case, "--outcome", "busy", code=2)
    relance("calls", "log", case, "--outcome", "promise", "--note", "paiera le 10", "--as", "erin")
    promise = as_json(
        relance("promises", "add", case, "--amount", "1 200,00", "--date", "2026-12-10",
                "--via", "phone", "--today", DAY, "--json", "--as", "erin")
    )  # fmt: skip
    assert promise["source"] == "phone" and promise["case_status"] == "promise"
    listed = as_json(relance("promises", "list", "--status", "all", "--json"))
    assert [p["id"] for p in listed] == [promise["id"]]
    shown = as_json(relance("cases", "show", case, "--json", "--date", DAY))
    assert [(j["kind"], j["actor"]) for j in shown["journal"]] == [
        ("note", "erin"),
        ("call", "erin"),
    ]
    monkeypatch.setenv("COLUMNS", "80")
    text = relance("cases", "show", case, "--date", DAY).stdout
    assert "{'" not in text and "Notes and calls" in text
    assert "call (promise) by erin: paiera le 10" in text
    assert "1 200,00 € by 10/12/2026" in text.replace("\u202f", " ").replace("\xa0", " ")


def test_a_plan_is_recorded_listed_and_shown(relance, case):
    relance("plans", "add", case, "--instalment", "100:2026-12-01", "--instalment", "oops",
            code=1)  # fmt: skip
    out = relance(
        "plans", "add", case, "--instalment", "300,00:2026-12-20", "--instalment",
        "300,00:2027-01-20", "--note", "accord", "--today", DAY, "--as", "erin",
    ).stdout  # fmt: skip
    assert "2 instalment(s)" in out
    [plan] = as_json(relance("plans", "list", "--json"))
    assert plan["case"] == case and plan["status"] == "active" and plan["total"] == 600
    assert as_json(relance("plans", "list", "--status", "broken", "--json")) == []
    relance("plans", "list", "--status", "sideways", code=1)
    shown = relance("plans", "show", str(plan["id"])).stdout.replace("\u202f", " ")
    assert "20/12/2026" in shown and "300,00 €" in shown and "accord" in shown
    relance("plans", "show", "999", code=1)
    out = relance("plans", "check", "--date", "2026-12-24").stdout
    assert "1 broken" in out
    assert as_json(relance("plans", "show", str(plan["id"]), "--json"))["status"] == "broken"


def test_an_attested_date_goes_through_approval(relance, case, tmp_path):
    draft = as_json(relance("drafts", "list", "--json"))[0]
    shown = as_json(relance("drafts", "show", str(draft["id"]), "--json"))
    edited = tmp_path / "edit.txt"
    body = shown["body_text"].replace(
        "Madame, Monsieur,", "Madame, Monsieur,\n\nComme confirmé par téléphone le 28 novembre.", 1
    )
    edited.write_text(f"{shown['subject']}\n{body}", encoding="utf-8")
    relance("drafts", "edit", str(draft["id"]), "--from-file", str(edited), "--date", DAY, code=1)
    relance("drafts", "approve", str(draft["id"]), code=1)
    relance("drafts", "attest", str(draft["id"]), "--code", "date_mismatch", code=2)
    relance("drafts", "attest", str(draft["id"]), "--code", "date_mismatch",
            "--attest", "date confirmée au téléphone", "--as", "erin")  # fmt: skip
    relance("drafts", "approve", str(draft["id"]), "--as", "carol")
    after = as_json(relance("drafts", "show", str(draft["id"]), "--json"))
    [finding] = [f for f in after["findings"] if f["code"] == "date_mismatch"]
    assert after["status"] == "approved" and finding["attested_by"] == "erin"


def test_insolvency_is_refused_for_a_solvent_case(relance, case):
    relance("cases", "insolvency", case, code=1)
    assert json.loads(relance("cases", "insolvency", case, "--json").stdout) is None


def test_lists_fit_80_columns_with_whole_references_and_french_amounts(relance, case, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    refs = [c["ref"] for c in as_json(relance("cases", "list", "--json"))]
    for args in (("cases", "list"), ("drafts", "list")):
        out = relance(*args).stdout
        assert max(len(line) for line in out.splitlines()) <= 80
        for ref in (
            refs if args[0] == "cases" else {d["case"] for d in as_json(relance(*args, "--json"))}
        ):
            assert ref in out, (ref, out)
        assert "€" in out and "," in out
