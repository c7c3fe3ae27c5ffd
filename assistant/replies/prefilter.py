"""Literal prefilters for the cue patterns: skip a regex when the text cannot match it.

Most of the ~250 cue patterns find nothing in a given reply, yet Python's regex engine tries each
one at every position. `required_literals(pattern)` reads the pattern's syntax tree and returns
strings of which at least one must occur in any text the pattern matches (or None when no such
set can be derived); `could_match` is then a few C substring searches. It is a necessary
condition only: a pattern whose literals are present still runs, so readings never change.
Pure functions.

The syntax tree comes from CPython's private `re._parser` (3.11+). Should a future Python move
or reshape it, `required_literals` answers None ("no requirement") and every pattern simply
runs: slower, never a different reading.
"""

from __future__ import annotations

import re
from typing import Any

try:
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser as p  # type: ignore[attr-defined]

    _REPEATS = {c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT}
except (ImportError, AttributeError):  # another Python: no prefilter, every pattern runs
    c = p = None
    _REPEATS = set()

Need = frozenset[str] | None


def required_literals(pattern: str, flags: int = 0) -> Need:
    """Return strings one of which occurs in every match of `pattern`, or None if unknown."""
    if p is None or flags & re.IGNORECASE or "(?i" in pattern:
        return None
    try:
        return _need(p.parse(pattern, flags))
    except Exception:  # noqa: BLE001 - a private tree of another shape: no requirement, never a skip
        return None


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
