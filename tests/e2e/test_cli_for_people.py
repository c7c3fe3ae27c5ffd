"""Views for people: whole identifiers at 80 columns, French figures, readable readings."""
# ruff: noqa: F811 (the `relance` fixture is imported from the core CLI tests)

from __future__ import annotations

import re

from assistant.cli.case_print import reading
from tests.e2e.test_core_cli import as_json, imported, relance  # noqa: F401


def test_case_views_keep_identifiers_whole_and_write_french_figures(relance, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    imported(relance)
    cases = as_json(relance("cases", "list", "--json"))
    out = relance("cases", "list").stdout.replace("\u00a0", " ")
    assert max(len(line) for line in out.splitlines()) <= 80
    for case in cases:
        assert case["ref"] in out  # never "REF-T…"
    assert "…" not in out
    assert re.search(r"\d \d{3},\d{2} €|\d+,\d{2} €", out)  # 10 266,45 €, not 10266.45
    drafts = relance("drafts", "list").stdout.replace("\u00a0", " ")
    assert max(len(line) for line in drafts.splitlines()) <= 80
    for draft in as_json(relance("drafts", "list", "--json")):
        assert draft["case"] in drafts
    assert re.search(r"\d+,\d{2} €", drafts)
    shown = relance("cases", "show", cases[0]["ref"]).stdout.replace("\u00a0", " ")
    assert re.search(r"balance: [\d ]+,\d{2} €", shown)
    assert re.search(r"\d{2}/\d{2}/\d{4}", shown)


def test_promises_list_accepts_status_all(relance):
    imported(relance)
    assert as_json(relance("promises", "list", "--status", "all", "--json")) == []
    relance("promises", "list", "--status", "all")


def test_a_reply_reading_is_shown_in_words_not_as_a_dict():
    text = reading(
        {
            "intent": "promise_to_pay",
            "confidence": 0.92,
            "needs_human": False,
            "promise": {"date": "2026-12-05", "amount": "1250.00"},
            "evidence": ["nous réglerons le 5 décembre"],
        }
    )
    assert (
        text
        == "promise_to_pay (92%) promise 1250.00 by 2026-12-05 « nous réglerons le 5 décembre »"
    )
    assert "{" not in text
