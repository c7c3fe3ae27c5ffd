"""Turn a reply's text into the n-gram terms the learnt intent model reads.

The same function feeds training (scikit-learn's `TfidfVectorizer(analyzer=terms)`) and reading
(`model.IntentModel`), so both see exactly the same terms. Words are lowercased without accents,
digits are folded to `0` (amounts and dates generalise), and the terms are word unigrams and
bigrams plus character 3–5-grams inside word boundaries. Pure functions over strings.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .text import normalise

_WORD = re.compile(r"[a-z0]+(?:'[a-z0]+)?|[€£$?!]")
_DIGIT = re.compile(r"\d")
_MAX_CHARS = 3000  # long letters: the first part carries the intent


def fold(text: str) -> str:
    """Return the text lowercased, without accents, digits folded to 0."""
    return _DIGIT.sub("0", normalise(text[:_MAX_CHARS]))


def terms(text: str) -> list[str]:
    """Return the word 1–2-grams and character 3–5-grams of a reply text."""
    words = _WORD.findall(fold(text))
    out = [f"w:{w}" for w in words]
    out.extend(f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False))
    for w in set(words):
        out.extend(_char_grams(w))
    return out


@lru_cache(maxsize=65536)
def _char_grams(word: str) -> tuple[str, ...]:
    """Return the character 3–5-grams of one word padded with spaces (cached: words repeat)."""
    padded = f" {word} "
    size = len(padded)
    return tuple(padded[i : i + n] for n in (3, 4, 5) if size >= n for i in range(size - n + 1))
