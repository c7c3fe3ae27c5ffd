"""Mark, in a draft's text, the fragments its validator findings name (presentation only)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup

_QUOTED = (
    re.compile(r"«\s*(.+?)\s*»"),
    re.compile(r"\bInvoice (\S+) is not\b"),
    re.compile(r"\bThe (?:date|amount|rate) (.+?) is not\b"),
    re.compile(r"\ba rate \((.+?)\)"),
)


def fragments(findings: Iterable[Mapping[str, Any]]) -> list[tuple[str, bool]]:
    """Return (fragment, blocking) pairs quoted by the findings' messages, longest first."""
    found: dict[str, bool] = {}
    for finding in findings:
        message = str(finding.get("message", ""))
        for pattern in _QUOTED:
            for match in pattern.finditer(message):
                text = match.group(1).strip()
                if len(text) >= 2:
                    found[text] = found.get(text, False) or bool(finding.get("blocking"))
    return sorted(found.items(), key=lambda item: -len(item[0]))


def highlighted(text: str, findings: Iterable[Mapping[str, Any]]) -> Markup:
    """Return `text` escaped, with every fragment a finding names wrapped in <mark>."""
    marks = fragments(findings)
    if not marks:
        return Markup(html.escape(text))
    pattern = re.compile("|".join(re.escape(f) for f, _ in marks))
    blocking = dict(marks)
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        css = "finding blocking" if blocking.get(match.group(0)) else "finding warning"
        out.append(f'<mark class="{css}">{html.escape(match.group(0))}</mark>')
        last = match.end()
    out.append(html.escape(text[last:]))
    return Markup("".join(out))


def marked(text: str | None, phrases: Iterable[str], css: str = "evidence") -> Markup:
    """Return `text` escaped, with every phrase of `phrases` (case ignored) wrapped in <mark>."""
    text = text or ""
    wanted = sorted(
        {p.strip() for p in phrases if p and len(p.strip()) >= 2}, key=len, reverse=True
    )
    if not wanted:
        return Markup(html.escape(text))
    pattern = re.compile("|".join(re.escape(p) for p in wanted), re.IGNORECASE)
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        out.append(f'<mark class="{css}">{html.escape(match.group(0))}</mark>')
        last = match.end()
    out.append(html.escape(text[last:]))
    return Markup("".join(out))
