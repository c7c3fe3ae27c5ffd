"""Decide whether an inbound message may change a case, or goes to triage (pure, no I/O).

A message changes a case only when (1) its sender is a known contact of that case's debtor
(or, when the creditor's policy says `replies.trust_sender_domain`, shares a company domain
with one) and (2) whatever points at the case (thread, case token, invoice number) points at
that same case. Two references to different cases, or a reference to a case whose debtor
does not know the sender, never apply: the message goes to triage with the reason.

A bounce counts only when it is a delivery-status report naming, as failed, an address a
letter we sent went to, and that letter's Message-ID.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DOMAIN_NOT_TRUSTED = "the policy does not trust sender domains (replies.trust_sender_domain)"


@dataclass(frozen=True)
class CaseRef:
    """A case as the decision sees it."""

    id: int
    ref: str
    creditor: str  # the creditor's slug
    debtor_id: int

    def label(self) -> str:
        """Return `REF (creditor)` for reasons shown to officers."""
        return f"{self.ref} ({self.creditor})"


@dataclass(frozen=True)
class Evidence:
    """What points at which case, for one message."""

    sender: str
    thread: CaseRef | None = None  # In-Reply-To/References to a Message-ID we sent
    tokens: tuple[CaseRef, ...] = ()  # case tokens found (recipient, subject, then body)
    invoices: tuple[CaseRef, ...] = ()  # cases of the invoice numbers quoted
    sender_of: tuple[CaseRef, ...] = ()  # cases whose debtor has the sender as a contact
    domain_of: tuple[CaseRef, ...] = ()  # cases whose debtor has a contact at the domain
    domain_trusted: frozenset[int] = frozenset()  # case ids whose policy trusts the domain


@dataclass(frozen=True)
class Verdict:
    """Apply to `case` (apply=True), or keep in triage suggesting `case` with `reason`."""

    case: CaseRef | None
    method: str | None
    apply: bool
    reason: str | None = None


def _unique(cases: Sequence[CaseRef]) -> list[CaseRef]:
    return list({c.id: c for c in cases}.values())


def _trusted_by(ev: Evidence, case: CaseRef) -> bool:
    if any(c.id == case.id for c in ev.sender_of):
        return True
    return case.id in ev.domain_trusted and any(c.id == case.id for c in ev.domain_of)


def _conflict(ev: Evidence, claims: list[tuple[str, CaseRef]]) -> Verdict:
    (m1, first), (m2, second) = claims[0], next(c for c in claims if c[1].id != claims[0][1].id)
    known = [case for _, case in claims if _trusted_by(ev, case)]
    suggested = known[0] if len(known) == 1 else first
    return Verdict(
        suggested,
        m1,
        False,
        f"{m1} belongs to {first.label()} but {m2} to {second.label()}",
    )


def _by_reference(ev: Evidence) -> Verdict | None:
    claims = ([("thread", ev.thread)] if ev.thread else []) + [("token", t) for t in ev.tokens]
    if not claims:
        return None
    if len(_unique([c for _, c in claims])) > 1:
        return _conflict(ev, claims)
    method, case = claims[0]
    if _trusted_by(ev, case):
        return Verdict(case, method, True)
    why = f"sender {ev.sender} is not a known contact of {case.ref}"
    if any(c.id == case.id for c in ev.domain_of):
        why += f"; {DOMAIN_NOT_TRUSTED}"
    return Verdict(case, method, False, why)


def _by_sender(ev: Evidence, candidates: list[CaseRef], method: str) -> Verdict | None:
    if not candidates:
        return None
    if len(candidates) == 1:
        return Verdict(candidates[0], method, True)
    quoted = {c.id for c in ev.invoices}
    narrowed = [c for c in candidates if c.id in quoted]
    if len(narrowed) == 1:
        return Verdict(narrowed[0], "invoice", True)
    refs = ", ".join(c.ref for c in candidates)
    return Verdict(
        None,
        None,
        False,
        f"sender {ev.sender} writes for several cases ({refs}): no thread, token or invoice "
        "number says which",
    )


def _suggest(ev: Evidence) -> Verdict:
    invoices = _unique(ev.invoices)
    if len(invoices) == 1:
        case = invoices[0]
        why = f"invoice number of {case.ref} quoted by {ev.sender}, not a known contact"
        return Verdict(case, "invoice", False, why)
    if invoices:
        refs = ", ".join(c.ref for c in invoices)
        return Verdict(None, None, False, f"invoice numbers of several cases quoted ({refs})")
    domain = _unique(ev.domain_of)
    if len(domain) == 1:
        why = f"sender {ev.sender} shares its domain with a contact of {domain[0].ref}; "
        why += DOMAIN_NOT_TRUSTED
        return Verdict(domain[0], "domain", False, why)
    return Verdict(
        None, None, False, "no case found: no thread, case token, known sender or invoice"
    )


def decide_trust(ev: Evidence) -> Verdict:
    """Return whether the message applies to a case, which one and how, or why not."""
    verdict = _by_reference(ev)
    if verdict is not None:
        return verdict
    verdict = _by_sender(ev, _unique(ev.sender_of), "sender")
    if verdict is not None:
        return verdict
    trusted_domain = [c for c in _unique(ev.domain_of) if c.id in ev.domain_trusted]
    if len(_unique(ev.domain_of)) == len(trusted_domain):
        verdict = _by_sender(ev, trusted_domain, "domain")
        if verdict is not None:
            return verdict
    return _suggest(ev)


@dataclass(frozen=True)
class SentLetter:
    """A letter we sent (or may have sent): its Message-ID, case and recipients."""

    message_id: str
    case: CaseRef
    to: tuple[str, ...]


@dataclass(frozen=True)
class BounceVerdict:
    """Addresses to invalidate (email, case), or why the bounce does not count."""

    invalidate: tuple[tuple[str, CaseRef], ...]
    case: CaseRef | None
    reason: str | None = None


def decide_bounce(
    failed: Sequence[str] | None, original_ids: Sequence[str], letters: Sequence[SentLetter]
) -> BounceVerdict:
    """Decide what a bounce proves (`failed` None: not a delivery-status report)."""
    suggested = letters[0].case if letters else None
    if failed is None:
        why = "bounce not counted: not a delivery-status report (multipart/report)"
        return BounceVerdict((), suggested, why)
    ours = [letter for letter in letters if letter.message_id in set(original_ids)]
    if not ours:
        why = "bounce not counted: it names no Message-ID of a letter we sent"
        return BounceVerdict((), suggested, why)
    hits = tuple(
        (addr, letter.case)
        for addr in failed
        for letter in ours
        if addr.lower() in {t.lower() for t in letter.to}
    )
    if not hits:
        why = f"bounce not counted: {', '.join(failed)} is not an address the letter went to"
        return BounceVerdict((), ours[0].case, why)
    return BounceVerdict(hits, hits[0][1])
