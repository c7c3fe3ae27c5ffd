"""The cue prefilter only ever skips a pattern that could not have matched."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.mailparse.mime import parse_message
from assistant.replies.intents import _COMPILED
from assistant.replies.prefilter import could_match, required_literals
from assistant.replies.text import extract_reply_text, normalise

CORPORA = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize(
    ("pattern", "present", "absent"),
    [
        (r"\bfacture (?:en double|deux fois)\b", "la facture en double", "une facture"),
        (r"\b(?:defective|damaged)\b", "it arrived damaged", "it arrived late"),
        (r"(?<!not )\bpaid\b(?= already)", "we paid already", "we settled"),
        (r"\bleak(?:ed|s)?\b|\bbroken\b", "the pipe leaked", "the pipe is fine"),
    ],
)
def test_a_pattern_is_skipped_only_when_its_words_are_absent(
    pattern: str, present: str, absent: str
) -> None:
    need = required_literals(pattern)
    assert need is not None
    assert could_match(need, present) and re.search(pattern, present)
    assert not could_match(need, absent) and not re.search(pattern, absent)


def test_optional_parts_and_case_folding_never_make_a_requirement() -> None:
    assert required_literals(r"(?:abc)?\d+") is None
    assert required_literals(r"(?i)facture") is None
    assert required_literals(r"x*y?") is None


def test_no_cue_of_corpus_replies_is_lost_to_the_prefilter() -> None:
    texts = [
        normalise(extract_reply_text(parse_message(p.read_bytes()).text))
        for p in sorted(CORPORA.glob("replies*/**/*.eml"))[::4]  # a quarter: the check is slow
    ]
    assert len(texts) > 250
    for _intent, _flags, rx, need in _COMPILED:
        for text in texts:
            if not could_match(need, text):
                assert rx.search(text) is None, (rx.pattern[:60], text[:80])


def test_without_the_private_regex_parser_every_pattern_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If a future Python moves `re._parser`, the prefilter asks for nothing: no reply skips a cue."""
    import assistant.replies.prefilter as prefilter

    monkeypatch.setattr(prefilter, "p", None)
    assert required_literals(r"\bfacture (?:en double|deux fois)\b") is None

    class Reshaped:
        @staticmethod
        def parse(pattern: str, flags: int = 0) -> object:
            return [("an opcode this module does not know", None, None)]

    monkeypatch.setattr(prefilter, "p", Reshaped)
    assert required_literals(r"\bbroken\b") is None
    assert could_match(required_literals(r"\bbroken\b"), "it arrived broken")
