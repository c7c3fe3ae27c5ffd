"""Train the intent model from labelled replies (scikit-learn; fixed seed; reproducible).

Labelled replies come from corpus folders (a `labels.yaml` beside `.eml` files, as in
`tests/fixtures/replies*`) and from officers' corrections (`reply_label` rows). Held-out
writers (`heldout: true`) are never read here. The classifier is a linear SVM (one against the
rest) over TF-IDF word and character n-grams (`features.terms`); a softmax temperature over its
scores is fitted on cross-validated scores (grouped by writer) so that its probabilities are
calibrated (measured faster and as accurate as a logistic regression on this corpus).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .analysis import Intent
from .features import terms
from .model import IntentModel
from .text import extract_reply_text

SEED = 20261203
#: Replies from independent writers (and officers' corrections) count this many times more than
#: the project's own template corpus: measured leave-one-writer-out, it generalises better.
WRITER_WEIGHT = 3.0
_GROUP = re.compile(r"^(hand3_r\d+|hand2|hand|fr|en)")


@dataclass(frozen=True)
class Example:
    """One labelled reply: its quote-stripped text, its intent and its writer (the CV group)."""

    text: str
    intent: Intent
    group: str
    weight: float = 1.0


def load_corpus(folder: Path, *, heldout: bool = False) -> list[Example]:
    """Read the labelled replies of one corpus folder (held-out ones only when asked)."""
    import yaml

    from assistant.mailparse.mime import parse_message

    labels = yaml.safe_load((folder / "labels.yaml").read_text(encoding="utf-8")) or []
    out = []
    for label in labels:
        if bool(label.get("heldout")) != heldout:
            continue
        parsed = parse_message((folder / label["file"]).read_bytes())
        group = group_of_label(label)
        weight = WRITER_WEIGHT if label.get("writer") else 1.0
        text = extract_reply_text(parsed.text)
        out.append(Example(text, Intent(label["intent"]), str(group), weight))
    return out


def group_of_label(label: dict) -> str:
    """Return the cross-validation group of a labelled reply: its writer, round and batch.

    A writer's replies come in batches of about fifty; grouping by batch keeps a fold's
    replies apart from the others while a corpus has few writers.
    """
    writer = label.get("writer")
    if not writer:
        return _group_of(label["file"])
    digits = re.findall(r"\d+", str(label.get("id", "")))
    batch = int(digits[-1]) // 50 if digits else 0
    return f"{writer}-r{label.get('round', 1)}-b{batch}"


def _group_of(file: str) -> str:
    m = _GROUP.match(Path(file).name)
    return m.group(1) if m else "base"


def _fit_raw(  # noqa: ANN202
    texts: Sequence[str], intents: Sequence[str], seed: int, weights: Sequence[float] | None = None
):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vec = TfidfVectorizer(
        analyzer=terms,
        sublinear_tf=True,
        min_df=2 if len(texts) >= 50 else 1,
        max_features=60000,
        dtype=np.float64,
    )
    x = vec.fit_transform(texts)
    clf = LinearSVC(C=0.5, class_weight="balanced", random_state=seed)
    clf.fit(x, intents, sample_weight=None if weights is None else np.asarray(weights))
    return vec, clf


def cross_val_scores(
    examples: Sequence[Example], folds: int = 5, seed: int = SEED
) -> list[dict[str, float]]:
    """Return out-of-fold raw scores (log-odds per intent) for every example, grouped by writer."""
    from sklearn.model_selection import GroupKFold

    texts = [e.text for e in examples]
    ys = [e.intent.value for e in examples]
    groups = [e.group for e in examples]
    n_groups = len(set(groups))
    out: list[dict[str, float]] = [{} for _ in examples]
    splitter = GroupKFold(n_splits=min(folds, n_groups))
    for train, test in splitter.split(texts, ys, groups):
        weights = [examples[i].weight for i in train]
        vec, clf = _fit_raw([texts[i] for i in train], [ys[i] for i in train], seed, weights)
        scores = clf.decision_function(vec.transform([texts[i] for i in test]))
        for row, i in zip(scores, test, strict=True):
            out[i] = {c: float(s) for c, s in zip(clf.classes_, row, strict=True)}
    return out


def fit_temperature(scores: Sequence[dict[str, float]], truth: Sequence[str]) -> float:
    """Return the softmax temperature minimising the log-loss of out-of-fold scores."""
    best, best_t = math.inf, 1.0
    for step in range(1, 61):
        t = step / 20 if step <= 20 else step / 10 - 1
        loss = 0.0
        for row, want in zip(scores, truth, strict=True):
            if want not in row:
                continue
            m = max(row.values())
            z = sum(math.exp((v - m) / t) for v in row.values())
            loss -= (row[want] - m) / t - math.log(z)
        if loss < best:
            best, best_t = loss, t
    return best_t


def train(examples: Sequence[Example], *, seed: int = SEED, calibrate: bool = True) -> IntentModel:
    """Fit the model on every example (temperature from grouped cross-validation)."""
    import numpy as np

    if len({e.intent for e in examples}) < 2:
        raise ValueError("training needs labelled replies of at least two intents")
    texts = [e.text for e in examples]
    ys = [e.intent.value for e in examples]
    temperature = 1.0
    if calibrate and len({e.group for e in examples}) >= 2 and len(examples) >= 50:
        temperature = fit_temperature(cross_val_scores(examples, seed=seed), ys)
    vec, clf = _fit_raw(texts, ys, seed, [e.weight for e in examples])
    vocabulary = {str(t): int(i) for t, i in vec.vocabulary_.items()}
    coef = np.asarray(clf.coef_, dtype=np.float64)
    intercept = np.asarray(clf.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:  # two classes: sklearn keeps one row
        coef = np.vstack([-coef, coef]) / 2
        intercept = np.array([-intercept[0], intercept[0]]) / 2
    return IntentModel(
        vocabulary=vocabulary,
        idf=np.asarray(vec.idf_, dtype=np.float64),
        coef=coef,
        intercept=intercept,
        intents=tuple(Intent(c) for c in clf.classes_),
        temperature=temperature,
        meta={
            "examples": len(examples),
            "groups": len({e.group for e in examples}),
            "seed": seed,
            "terms": len(vocabulary),
        },
    )


def counts_by_intent(examples: Iterable[Example]) -> dict[str, int]:
    """Return how many examples each intent has (for the training summary)."""
    out: dict[str, int] = {}
    for e in examples:
        out[e.intent.value] = out.get(e.intent.value, 0) + 1
    return dict(sorted(out.items()))
