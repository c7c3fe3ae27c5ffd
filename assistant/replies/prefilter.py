"""Literal prefilters for the cue patterns: skip a regex when the text cannot match it.

Most of the ~250 cue patterns find nothing in a given reply, yet Python's regex engine tries each
one at every position. `required_literals(pattern)` reads the pattern's syntax tree and returns
strings of which at least one must occur in any text the pattern matches (or None when no such
set can be derived); `could_match` is then a few C substring searches. It is a necessary
condition only: a pattern whose literals are present still runs, so readings never change.
Pure functions.
"""

from __future__ import annotations

import re
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser as p  # type: ignore[attr-defined]
from typing import Any

Need = frozenset[str] | None
_REPEATS = {c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT}


def required_literals(pattern: str, flags: int = 0) -> Need:
    """Return strings one of which occurs in every match of `pattern`, or None if unknown."""
    if flags & re.IGNORECASE or "(?i" in pattern:
        return None
    return _need(p.parse(pattern, flags))


def could_match(need: Need, text: str) -> bool:
    """Tell whether `text` holds one of the strings `need` asks for (None: always)."""
    return need is None or any(s in text for s in need)


def _need(seq: Any) -> Need:
    candidates: list[frozenset[str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            candidates.append(frozenset({"".join(run)}))
            run.clear()

    for op, av in seq:
        if op is c.LITERAL:
            run.append(chr(av))
            continue
        flush()
        inner: Need = None
        if op is c.BRANCH:
            alternatives = [_need(alt) for alt in av[1]]
            if all(a is not None for a in alternatives):
                inner = frozenset().union(*alternatives)  # type: ignore[arg-type]
        elif op is c.SUBPATTERN:
            _group, add_flags, _del_flags, sub = av
            inner = None if add_flags & re.IGNORECASE else _need(sub)
        elif op in _REPEATS and av[0] >= 1:
            inner = _need(av[2])
        elif op is c.ATOMIC_GROUP:
            inner = _need(av)
        if inner:
            candidates.append(inner)
    flush()
    if not candidates:
        return None
    # the most selective requirement: the longest shortest string, then the fewest strings
    return max(candidates, key=lambda s: (min(map(len, s)), -len(s)))
