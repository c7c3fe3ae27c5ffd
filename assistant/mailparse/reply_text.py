"""Isolate what the writer of an e-mail reply wrote, dropping quotes, signatures and footers.

Pure and deterministic: text in, text out; no I/O, no clock, no configuration. It must
never raise (on an internal error it falls back to the whole text, stripped) and it
must stay fast (a few thousand messages per second) because every inbound mail of a
case goes through it before any analysis.

What is removed:

* quoted history: ``>`` blocks; attribution lines ("On … wrote:", "Le … a écrit :",
  possibly wrapped over several lines, Gmail's ISO-date variant); Outlook header blocks
  without ``>`` ("De : … Envoyé : … À : … Objet :", "From: … Sent: … To: … Subject:");
  "-----Original Message-----", "Message d'origine", forwarded-message separators and
  long underscore rules. Text written *under* a ``>`` quote (bottom-posting, inline
  answers) is kept; text under an unquoted header (Outlook style) is history.
* signatures: everything after a ``--`` delimiter; contact blocks (title, phone,
  address, SIRET, capital social) after a closing line; mobile and webmail footers
  ("Envoyé de mon iPhone", "Get Outlook for iOS" …) and anything below them;
  confidentiality / environment disclaimers; "external sender" banners.

Sign-off decision: the polite closing words and the writer's name just below them
("Cordialement,\\nJean Dupont") are KEPT; the lines after the name are dropped when
they look like a signature block. Measured on a public peer suite of 149 pairs taken from
nine open-source reply parsers, keeping scores higher than stripping (see
bench/reply_text_peers.md), and a closing line carries tone ("Merci d'avance") that
the reply analysis can use. ``split_reply(text, keep_signoff=False)`` strips them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.mailparse import reply_patterns as p

_MAX_SIGNATURE_LINES = 14
_MAX_SIGNATURE_LINE_LEN = 90


@dataclass(frozen=True)
class ReplyParts:
    """The three parts of a reply body: the writer's text, quoted history, signature."""

    reply: str
    quoted: str
    signature: str


def extract_reply(text: str) -> str:
    """Return only the text the writer of ``text`` wrote, stripped."""
    return split_reply(text).reply


def split_reply(text: str, *, keep_signoff: bool = True) -> ReplyParts:
    """Split a plain-text body into the writer's reply, the quoted history and the signature."""
    try:
        return _split(text, keep_signoff)
    except Exception:  # never let a pathological body break ingestion
        fallback = _normalise(text if isinstance(text, str) else "")
        return ReplyParts(reply=fallback.strip(), quoted="", signature="")


# --------------------------------------------------------------------------- core walk
def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")


def _split(text: str, keep_signoff: bool) -> ReplyParts:
    raw = [line.rstrip() for line in _normalise(text).split("\n")]
    clean = [p.clean_line(line) for line in raw]
    n = len(raw)
    kept: list[int] = []
    quoted: list[int] = []
    signature: list[int] = []
    overrides: dict[int, str] = {}
    i = 0
    while i < n:
        c = clean[i]
        if p.is_blank(c):
            kept.append(i)
            i += 1
            continue
        if _ends_reply(clean, i):
            quoted.extend(range(i, n))
            break
        if p.is_device_line(c) or p.SIG_DELIMITER.match(c) or _is_disclaimer(clean, i):
            signature.extend(range(i, n))
            break
        end = _attribution_end(clean, i)
        if end is not None:
            split_at = p.ATTRIB_INLINE.search(c) if end == i else None
            if split_at and not p.ATTRIB_START.match(c):
                overrides[i] = raw[i][: split_at.start()].rstrip()
                kept.append(i)
            quoted.extend(range(i, end + 1))
            nxt = _next_non_blank(clean, end + 1)
            if nxt is not None and p.is_quote(clean[nxt]):
                stop = _quote_block_end(clean, nxt)
                quoted.extend(range(end + 1, stop))
                i = stop
                continue
            quoted.extend(range(end + 1, n))
            break
        if p.is_quote(c):
            stop = _quote_block_end(clean, i)
            if not _false_quote(clean, i, stop):
                quoted.extend(range(i, stop))
                i = stop
                continue
        if p.BANNER.match(c) and not any(not p.is_blank(clean[k]) for k in kept):
            while i < n and not p.is_blank(clean[i]):  # the banner paragraph
                i += 1
            continue
        kept.append(i)
        i += 1

    lines = [(k, overrides.get(k, raw[k]).replace("\ufeff", "")) for k in kept]
    body, sig = _strip_signature(lines, keep_signoff)
    return ReplyParts(
        reply=_tidy([line for _, line in body]),
        quoted=_tidy([raw[k] for k in sorted(set(quoted))]),
        signature=_tidy(sig + [raw[k] for k in signature]),
    )


def _next_non_blank(clean: list[str], start: int, limit: int | None = None) -> int | None:
    end = len(clean) if limit is None else min(len(clean), start + limit)
    for k in range(start, end):
        if not p.is_blank(clean[k]):
            return k
    return None


def _ends_reply(clean: list[str], i: int) -> bool:
    """Tell whether line ``i`` opens history that runs to the end (Outlook style)."""
    c = clean[i]
    if p.SEPARATOR.match(c) or p.FORWARD_INTRO.match(c) or p.UNDERSCORES.match(c):
        return True
    if p.MESSAGE_DU.match(c) and i + 1 < len(clean) and _header_block(clean, i + 1):
        return True
    return _header_block(clean, i)


def _header_block(clean: list[str], i: int) -> bool:
    """Tell whether an Outlook-like "From:/Sent:/To:/Subject:" block starts at line ``i``."""
    first = p.header_group(clean[i])
    if first is None:
        return False
    groups = {first}
    loose = 0
    for k in range(i + 1, min(len(clean), i + 14)):
        c = clean[k]
        if p.is_blank(c):
            break
        group = p.header_group(c)
        if group is None:
            loose += 1
            if loose > 2:
                break
            continue
        loose = 0
        groups.add(group)
    return len(groups) >= 3 and bool(groups & {"from", "subject"})


def _attribution_end(clean: list[str], i: int) -> int | None:
    """Return the last line of an attribution header starting at line ``i``, if any."""
    c = clean[i]
    if p.is_quote(c):
        return None
    if p.ATTRIB_END.search(c):
        if p.DASHED_WROTE.match(c):
            return i
        if (p.ATTRIB_START.match(c) or p.DATE_START.match(c)) and p.HAS_DIGIT.search(c):
            return i
        if p.ATTRIB_INLINE.search(c):
            return i
        if p.SHORT_WROTE.match(c):
            after = _next_non_blank(clean, i + 1, 4)
            if p.EMAIL.search(c) or after is None or p.is_quote(clean[after]):
                return i
    if p.DATE_ONLY_START.match(c) and p.EMAIL.search(c) and len(c) < 160:
        nxt_i = _next_non_blank(clean, i + 1, 3)
        if nxt_i is not None and p.is_quote(clean[nxt_i]):
            return i
    is_date = bool(p.DATE_START.match(c))
    if not (p.ATTRIB_START.match(c) or is_date) or len(c) > 200:
        return None
    joined = c
    for k in range(i + 1, min(len(clean), i + 6)):
        nxt = clean[k]
        if p.is_blank(nxt):
            continue
        if len(nxt) > 160 or p.ATTRIB_START.match(nxt) or p.DATE_START.match(nxt):
            return None
        joined += " " + nxt
        if p.ATTRIB_END.search(nxt) or (is_date and nxt.rstrip().endswith(":")):
            return k if p.HAS_DIGIT.search(joined) and len(joined) < 400 else None
    if is_date and c.rstrip().endswith(":"):
        nxt_i = _next_non_blank(clean, i + 1, 3)
        if nxt_i is not None and p.is_quote(clean[nxt_i]):
            return i
    return None


def _quote_block_end(clean: list[str], i: int) -> int:
    """Return the index just after the ``>`` block starting at ``i`` (blank lines bridged)."""
    k = i
    n = len(clean)
    while k < n:
        if p.is_quote(clean[k]):
            k += 1
            continue
        if p.is_blank(clean[k]):
            nxt = _next_non_blank(clean, k)
            if nxt is not None and p.is_quote(clean[nxt]):
                k = nxt
                continue
        break
    return k


def _false_quote(clean: list[str], start: int, stop: int) -> bool:
    """Tell a lone ``>`` line wedged inside a paragraph (">>> link <<<") from a quote."""
    if stop - start != 1 or start == 0 or stop >= len(clean):
        return False
    before, after = clean[start - 1], clean[stop]
    return not p.is_blank(before) and not p.is_blank(after) and not p.is_quote(before)


def _is_disclaimer(clean: list[str], i: int) -> bool:
    if not p.DISCLAIMER_START.match(clean[i]):
        return False
    para = []
    for k in range(i, min(len(clean), i + 8)):
        if p.is_blank(clean[k]):
            break
        para.append(clean[k])
    return bool(p.DISCLAIMER_WORD.search(" ".join(para)))


# --------------------------------------------------------------------------- signatures
Line = tuple[int, str]


def _strip_signature(lines: list[Line], keep_signoff: bool) -> tuple[list[Line], list[str]]:
    """Split the kept lines into body and trailing signature block."""
    while lines and p.is_junk(p.clean_line(lines[-1][1])):
        lines.pop()
    visible = [j for j, (_, line) in enumerate(lines) if not p.is_blank(p.clean_line(line))]
    signoff = None
    for j in reversed(visible[-_MAX_SIGNATURE_LINES:]):
        if p.SIGNOFF.match(p.clean_line(lines[j][1])):
            signoff = j
            break
    if signoff is not None:
        return _cut_after_signoff(lines, signoff, keep_signoff)
    # No closing line: a lone "-Name" line or a legal/contact paragraph ends the text.
    if (
        visible
        and p.DASH_NAME_LINE.match(p.clean_line(lines[visible[-1]][1]))
        and (len(visible) < 2 or not p.clean_line(lines[visible[-2]][1]).lstrip().startswith("-"))
    ):
        j = visible[-1]
        return lines[:j], [line for _, line in lines[j:]]
    para_start = _last_paragraph_start(lines)
    if para_start is not None and _is_contact_paragraph([t for _, t in lines[para_start:]]):
        return lines[:para_start], [line for _, line in lines[para_start:]]
    return lines, []


def _cut_after_signoff(
    lines: list[Line], signoff: int, keep_signoff: bool
) -> tuple[list[Line], list[str]]:
    name_line = None
    skipped: list[int] = []  # logo/image placeholders between closing line and name
    m = p.SIGNOFF.match(p.clean_line(lines[signoff][1]))
    if not (m and m.group("name")):
        for j in range(signoff + 1, min(len(lines), signoff + 5)):
            c = p.clean_line(lines[j][1])
            if p.is_blank(c):
                continue
            if p.IMAGE_PLACEHOLDER.match(c):
                skipped.append(j)
                continue
            if _is_name(c):
                name_line = j
            break
    after = signoff + 1 if name_line is None else name_line + 1
    head = [line for j, line in enumerate(lines[:after]) if j not in skipped]
    tail = [lines[j][1] for j in skipped] + [t for _, t in lines[after:]]
    ps = next((j for j, t in enumerate(tail) if p.PS_LINE.match(t)), len(tail))
    sig_part, ps_part = tail[:ps], tail[ps:]
    if not _looks_like_signature(sig_part):
        return lines, []
    ps_lines = [(-1, "")] + [(-1, t) for t in ps_part] if ps_part else []
    if keep_signoff:
        return head + ps_lines, sig_part
    body = lines[:signoff] + ps_lines
    return body, [t for _, t in head[signoff:]] + sig_part


def _is_name(clean: str) -> bool:
    """Tell whether a line is the writer's name (optionally "Name | Title")."""
    candidate = p.NAME_SEPARATOR.split(clean.strip(), maxsplit=1)[0]
    return (
        bool(p.NAME_LINE.match(candidate))
        and len(candidate.split()) <= 4
        and not p.SIGNOFF.match(candidate)
        and not p.LEGAL_MARKER.search(clean)
        and not p.is_prose(clean)
    )


def _looks_like_signature(tail: list[str]) -> bool:
    """Tell whether the lines under a closing line are a signature block, not more text."""
    visible = [p.clean_line(t) for t in tail if not p.is_blank(p.clean_line(t))]
    if len(visible) > _MAX_SIGNATURE_LINES:
        return False
    if any(p.BUSINESS_WORDS.search(t) and not p.LEGAL_MARKER.search(t) for t in visible):
        return False
    evidence = any(
        p.SIG_EVIDENCE.search(t) or p.CONTACT_MARKER.search(t) or p.LEGAL_MARKER.search(t)
        for t in visible
    )
    short_company = len(visible) <= 2 and all(
        len(t.split()) <= 5 and not p.HAS_DIGIT.search(t) for t in visible
    )
    if visible and not (evidence or short_company):
        return False
    return all(
        p.CONTACT_MARKER.search(t)
        or p.LEGAL_MARKER.search(t)
        or (len(t.strip()) <= _MAX_SIGNATURE_LINE_LEN and not p.is_prose(t))
        for t in visible
    )


def _last_paragraph_start(lines: list[Line]) -> int | None:
    j = len(lines) - 1
    while j >= 0 and p.is_blank(p.clean_line(lines[j][1])):
        j -= 1
    if j < 0:
        return None
    while j > 0 and not p.is_blank(p.clean_line(lines[j - 1][1])):
        j -= 1
    return j if j > 0 else None


def _is_contact_paragraph(para: list[str]) -> bool:
    visible = [p.clean_line(t) for t in para if not p.is_blank(p.clean_line(t))]
    if not visible or not _looks_like_signature(visible):
        return False
    if any(p.LEGAL_MARKER.search(t) for t in visible):
        return True
    contacts = sum(1 for t in visible if p.CONTACT_LABEL.search(t))
    return len(visible) >= 3 and contacts >= 2


_BLANK_RUN = re.compile(r"\n{3,}")


def _tidy(lines: list[str]) -> str:
    """Join lines, collapse runs of blank lines and strip the result."""
    text = "\n".join("" if p.is_blank(p.clean_line(line)) else line.rstrip() for line in lines)
    return _BLANK_RUN.sub("\n\n", text).strip("\n").strip()
