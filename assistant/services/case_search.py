"""Find cases by what an officer remembers: a debtor's name (typos and accents allowed), a
case ref, an account ref or an invoice number.

A read-only service verb shared by the chat and any other entry point; the caller decides
which creditors may be searched (`slugs`). Nothing here writes.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from assistant.db.models import Creditor, Debtor, Invoice
from assistant.services.case_view import list_cases


def fold(text: str) -> str:
    """Return `text` lower-cased, without accents, punctuation collapsed to single spaces."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def creditor_slugs(session: Session) -> list[str]:
    """Return every creditor's slug, sorted."""
    return list(session.exec(select(Creditor.slug).order_by(col(Creditor.slug))))


def match_score(
    query: str, row: dict[str, Any], invoice_hits: set[tuple[str, str]]
) -> tuple[float, str]:
    """Score how well a case row matches a folded query, and say on what."""
    name = fold(row["debtor"])
    if query.upper().replace(" ", "-") == row["ref"] or fold(row["ref"]) == query:
        return 100, "case ref"
    if fold(row["debtor_ref"]) == query:
        return 90, "account ref"
    if (row["creditor"], row["debtor_ref"]) in invoice_hits:
        return 80, "invoice number"
    if query in name:
        return 70, "name"
    words, size = name.split(), max(1, len(query.split()))
    windows = [" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))]
    ratio = max(difflib.SequenceMatcher(None, query, w).ratio() for w in windows)
    return (50 + ratio * 10, "similar name") if ratio >= 0.75 else (0, "")


def _invoice_hits(session: Session, query: str, slugs: Sequence[str]) -> set[tuple[str, str]]:
    """Return (creditor slug, account ref) of debtors with an invoice number containing `query`."""
    escaped = query.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = session.exec(
        select(Creditor.slug, Debtor.account_ref)
        .join(Invoice, col(Invoice.creditor_id) == Creditor.id)
        .join(Debtor, col(Debtor.id) == Invoice.debtor_id)
        .where(
            col(Creditor.slug).in_(list(slugs)),
            func.lower(Invoice.number).like(f"%{escaped}%", escape="\\"),
        )
    )
    return {(slug, ref) for slug, ref in rows}


def search_cases(
    session: Session,
    query: str,
    slugs: Sequence[str],
    *,
    status: str | None = None,
    limit: int = 20,
) -> dict[str, Any]:
    """Return the cases of `slugs` matching `query`, best first (all of them for no query)."""
    rows: list[dict[str, Any]] = []
    for slug in slugs:
        rows.extend(list_cases(session, status=status, creditor=slug))
    folded = fold(query)
    if folded:
        hits = _invoice_hits(session, query, slugs)
        scored = [(*match_score(folded, r, hits), r) for r in rows]
        rows = [
            {**r, "match": how}
            for score, how, r in sorted(scored, key=lambda p: -p[0])
            if score > 0
        ]
    return {
        "query": query,
        "count": len(rows),
        "cases": rows[:limit],
        "truncated": len(rows) > limit,
    }
