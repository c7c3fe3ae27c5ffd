"""The learnt intent model: TF-IDF n-grams and a calibrated linear classifier, read with numpy.

The model is a portable `.npz` file (no pickle): the terms, their IDF weights, one coefficient row
per intent, the intercepts and a calibration temperature. `relance replies train` writes it
(`training.py`, scikit-learn); reading needs only numpy. The shipped model sits in
`assistant/data/reply_model.npz` and is loaded lazily, on first use, never at import.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .analysis import Intent
from .features import terms

#: Setting naming another model file (e.g. one retrained with an organisation's corrections).
MODEL_ENV = "RELANCE_REPLY_MODEL"


@dataclass(frozen=True)
class IntentModel:
    """A trained intent classifier: probabilities for each intent of a reply text."""

    vocabulary: dict[str, int]
    idf: Any  # numpy array (n_terms,)
    coef: Any  # numpy array (n_intents, n_terms)
    intercept: Any  # numpy array (n_intents,)
    intents: tuple[Intent, ...]
    temperature: float = 1.0
    meta: dict[str, Any] | None = None

    def probabilities(self, text: str) -> dict[Intent, float]:
        """Return the calibrated probability of each intent for a (quote-stripped) reply text."""
        import numpy as np

        vocabulary = self.vocabulary
        counts = {vocabulary[t]: n for t, n in Counter(terms(text)).items() if t in vocabulary}
        if not counts:
            scores = self.intercept
        else:
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            vals = tf * self.idf[idx]
            vals /= np.linalg.norm(vals) or 1.0
            scores = self.coef[:, idx] @ vals + self.intercept
        z = scores / self.temperature
        z = np.exp(z - z.max())
        z /= z.sum()
        return {intent: float(p) for intent, p in zip(self.intents, z, strict=True)}

    def save(self, path: Path) -> None:
        """Write the model as a compressed, pickle-free `.npz` file."""
        import numpy as np

        order = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        np.savez_compressed(
            path,
            terms=np.array(order, dtype=str),
            idf=self.idf.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            intents=np.array([i.value for i in self.intents], dtype=str),
            temperature=np.array([self.temperature]),
            meta=np.array([json.dumps(self.meta or {}, sort_keys=True)], dtype=str),
        )


def load_model(path: Path) -> IntentModel:
    """Read a model written by `IntentModel.save` (raises OSError/ValueError when unreadable)."""
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        order = [str(t) for t in data["terms"]]
        return IntentModel(
            vocabulary={t: i for i, t in enumerate(order)},
            idf=data["idf"].astype(np.float64),
            coef=data["coef"].astype(np.float64),
            intercept=data["intercept"].astype(np.float64),
            intents=tuple(Intent(str(i)) for i in data["intents"]),
            temperature=float(data["temperature"][0]),
            meta=json.loads(str(data["meta"][0])),
        )


@lru_cache(maxsize=1)
def shipped_model_path() -> Path:
    """Return where the model shipped with the package lives."""
    return Path(str(resources.files("assistant") / "data" / "reply_model.npz"))


@lru_cache(maxsize=4)
def _cached(path: str) -> IntentModel | None:
    p = Path(path)
    return load_model(p) if p.is_file() else None


def default_model() -> IntentModel | None:
    """Return the model in use (RELANCE_REPLY_MODEL, else the shipped one), or None if absent."""
    override = os.environ.get(MODEL_ENV)
    return _cached(str(Path(override) if override else shipped_model_path()))
