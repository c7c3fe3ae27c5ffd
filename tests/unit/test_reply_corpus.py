"""The rules engine meets its targets on the labelled corpus (tests/fixtures/replies)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "replies"


def _bench():
    spec = importlib.util.spec_from_file_location(
        "replies_eval", ROOT / "bench" / "replies_eval.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report():
    return _bench().evaluate(CORPUS)


def test_corpus_shape() -> None:
    labels = yaml.safe_load((CORPUS / "labels.yaml").read_text(encoding="utf-8"))
    assert len(labels) >= 200
    assert len(list(CORPUS.glob("*.eml"))) == len(labels)
    french = sum(1 for label in labels if label["language"] == "fr") / len(labels)
    assert 0.5 <= french <= 0.7
    intents = {label["intent"] for label in labels}
    assert len(intents) == 12
    styles = {label["style"] for label in labels}
    assert {"html", "latin1", "cp1252", "qp", "b64"} <= styles


def test_intent_accuracy(report) -> None:
    assert report.intent_accuracy >= 0.95, report.errors


def test_needs_human_recall(report) -> None:
    assert report.needs_human_recall >= 0.99, report.errors


def test_promise_date_and_amount(report) -> None:
    assert report.promise_date_exact >= 0.95, report.errors
    assert report.promise_amount_exact >= 0.95, report.errors
