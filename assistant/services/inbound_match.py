"""Gather what points at which case for one inbound message (queries only, decides nothing).

Thread headers to our Message-IDs, case tokens (plus-address, subject, body), the sender's
address among the debtors' contacts, the sender's company domain, quoted invoice numbers.
`assistant.services.inbound_trust` decides what the evidence allows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from sqlalchemy import event, func, or_
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session, col, select

from assistant.db.models import Case, Contact, Creditor, Draft, Invoice
from assistant.mail.compose import split_addresses
from assistant.mailparse.mime import ParsedMessage
from assistant.policy.schema import Policy
from assistant.services.inbound_trust import CaseRef, Evidence, SentLetter
from assistant.services.tokens import TOKEN_RE

TOKEN_ANY_CASE = re.compile(TOKEN_RE.pattern, re.IGNORECASE)
INVOICE_CANDIDATE = re.compile(r"(?<![\w/.-])[A-Za-z0-9][A-Za-z0-9/_.-]*\d[A-Za-z0-9/_.-]*")
#: A contact recorded from a reply's say-so is not known until an officer confirms it.
UNCONFIRMED = "suggested in a reply%"
#: Letters that went, or may have gone, to the server.
SENT_STATUSES = ("sent", "sending", "unknown")

#: Consumer mail providers: a shared domain says nothing about who wrote.
WEBMAIL_DOMAINS = frozenset(
    """gmail.com googlemail.com yahoo.com yahoo.fr yahoo.co.uk ymail.com hotmail.com
    hotmail.fr hotmail.co.uk outlook.com outlook.fr live.com live.fr msn.com icloud.com me.com
    mac.com aol.com aol.fr orange.fr wanadoo.fr free.fr sfr.fr neuf.fr laposte.net bbox.fr
    numericable.fr club-internet.fr aliceadsl.fr cegetel.net noos.fr voila.fr gmx.fr gmx.com
    gmx.de gmx.net web.de protonmail.com proton.me pm.me tutanota.com fastmail.com yandex.com
    yandex.ru mail.ru zoho.com btinternet.com sky.com virginmedia.com comcast.net
    skynet.be telenet.be bluewin.ch""".split()
)


def _case_refs(session: Session, *conditions: object) -> list[CaseRef]:
    rows = session.exec(
        select(Case.id, Case.ref, Creditor.slug, Case.debtor_id)
        .join(Creditor, col(Creditor.id) == Case.creditor_id)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(col(Case.id))
    ).all()
    return [CaseRef(i or 0, ref, slug, d) for i, ref, slug, d in rows]


def case_ref(session: Session, case_id: int) -> CaseRef | None:
    """Return one case as the trust decision sees it."""
    found = _case_refs(session, Case.id == case_id)
    return found[0] if found else None


def _thread_ids(parsed: ParsedMessage) -> list[str]:
    return [i for i in [parsed.in_reply_to, *reversed(parsed.references)] if i]


def by_thread(session: Session, ids: list[str]) -> CaseRef | None:
    """Return the case of the newest of our letters `ids` names (the direct parent first)."""
    if not ids:
        return None
    by_id = dict(
        session.exec(
            select(Draft.message_id, Draft.case_id).where(col(Draft.message_id).in_(ids))
        ).all()
    )
    for mid in ids:
        if mid in by_id:
            return case_ref(session, by_id[mid])
    return None


def _tokens(texts: Iterable[str]) -> list[str]:
    found: list[str] = []
    for text in texts:
        for m in TOKEN_ANY_CASE.findall(text or ""):
            if m.upper() not in found:
                found.append(m.upper())
    return found


def _by_token(session: Session, parsed: ParsedMessage) -> list[CaseRef]:
    for source in (parsed.recipient_addrs, [parsed.subject], [parsed.text]):
        refs = _tokens(source)
        if refs:
            found = _case_refs(session, col(Case.ref).in_(refs))
            if found:
                return found
    return []


def _known_contact(email_matches: object) -> object:
    """Return `email_matches` restricted to contacts not merely suggested in a reply."""
    return email_matches & or_(  # type: ignore[operator]
        col(Contact.valid).is_(True),
        col(Contact.invalid_reason).is_(None),
        ~col(Contact.invalid_reason).like(UNCONFIRMED),
    )


def _by_contacts(session: Session, condition: object) -> list[CaseRef]:
    debtors = set(session.exec(select(Contact.debtor_id).where(condition)).all())  # type: ignore[arg-type]
    return _case_refs(session, col(Case.debtor_id).in_(debtors)) if debtors else []


def _company_domain(address: str, own_domains: set[str]) -> str | None:
    domain = address.rpartition("@")[2].strip().lower()
    if not domain or domain in WEBMAIL_DOMAINS or domain in own_domains:
        return None
    return domain


def _by_invoice(session: Session, text: str) -> list[CaseRef]:
    candidates = {c.rstrip("./-_") for c in INVOICE_CANDIDATE.findall(text or "")}
    candidates = {c for c in candidates if len(c) >= 4}
    if not candidates:
        return []
    pairs = session.exec(
        select(Invoice.creditor_id, Invoice.debtor_id).where(
            col(Invoice.number).in_(sorted(candidates)[:500])
        )
    ).all()
    debtors = {d for _, d in pairs}
    return _case_refs(session, col(Case.debtor_id).in_(debtors)) if debtors else []


class Lookups:
    """The three look-ups every reply needs, one query each: the sender among the known
    contacts, the thread's Message-IDs among our letters, the case tokens among the refs."""

    def __init__(self, session: Session):
        self.session = session

    def sender_of(self, sender: str) -> list[CaseRef]:
        """Return the cases whose debtor has `sender` (lower-case) as a known contact."""
        return _by_contacts(self.session, _known_contact(func.lower(Contact.email) == sender))

    def thread(self, ids: list[str]) -> CaseRef | None:
        """Return the case of the newest of our letters `ids` names."""
        return by_thread(self.session, ids)

    def tokens(self, parsed: ParsedMessage) -> list[CaseRef]:
        """Return the cases of the first tokens found (recipients, subject, then body)."""
        return _by_token(self.session, parsed)


#: What the look-ups read: a write to one of these tables makes a `BatchLookups` stale.
LOOKED_UP = frozenset({"contact", "draft", "case", "creditor"})


class BatchLookups(Lookups):
    """`Lookups` for a batch of parsed messages, loaded together in four queries (and the
    cases they name, held in the session for filing).

    Holds what the database said when it was built. It watches its session: once the session
    writes a contact, a letter, a case or a creditor (a bounce invalidating a contact, a reply
    handler's effects), it is `stale` and the caller builds a new one for the messages left.
    `close` stops the watching.
    """

    def __init__(self, session: Session, batch: Iterable[ParsedMessage]):
        super().__init__(session)
        self.stale = False
        event.listen(session, "after_flush", self._flushed)
        event.listen(session, "do_orm_execute", self._executed)
        senders: set[str] = set()
        ids: set[str] = set()
        refs: set[str] = set()
        for parsed in batch:
            sender = (parsed.from_addr or "").strip().lower()
            if "@" in sender:
                senders.add(sender)
            ids.update(_thread_ids(parsed))
            for source in (parsed.recipient_addrs, [parsed.subject], [parsed.text]):
                refs.update(_tokens(source))
        self._debtors: dict[str, set[int]] = {}
        if senders:
            for debtor_id, email in session.exec(
                select(Contact.debtor_id, func.lower(Contact.email)).where(
                    _known_contact(func.lower(Contact.email).in_(sorted(senders)))  # type: ignore[arg-type]
                )
            ).all():
                self._debtors.setdefault(email, set()).add(debtor_id)
        self._case_of_letter: dict[str, int] = (
            dict(
                session.exec(
                    select(Draft.message_id, Draft.case_id).where(
                        col(Draft.message_id).in_(sorted(ids))
                    )
                ).all()  # type: ignore[arg-type]
            )
            if ids
            else {}
        )
        debtors: set[int] = set().union(*self._debtors.values())
        letters = set(self._case_of_letter.values())
        self._cases: list[CaseRef] = (
            _case_refs(
                session,
                or_(
                    col(Case.debtor_id).in_(debtors),
                    col(Case.id).in_(letters),
                    col(Case.ref).in_(sorted(refs)),
                ),
            )
            if debtors or letters or refs
            else []
        )
        self._by_id = {c.id: c for c in self._cases}
        # Filing reads these cases (`session.get`): held here, they are read once per batch.
        self._held = (
            session.exec(select(Case).where(col(Case.id).in_(self._by_id))).all()
            if self._by_id
            else []
        )
        self._by_ref = {c.ref: c for c in self._cases if c.ref in refs}

    def _flushed(self, session: Session, _context: object) -> None:
        for row in (*session.new, *session.dirty, *session.deleted):
            if getattr(row, "__tablename__", None) in LOOKED_UP:
                self.stale = True

    def _executed(self, state: ORMExecuteState) -> None:
        if state.is_select:
            return
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in LOOKED_UP:
            self.stale = True

    def close(self) -> None:
        """Stop watching the session's writes."""
        event.remove(self.session, "after_flush", self._flushed)
        event.remove(self.session, "do_orm_execute", self._executed)

    def sender_of(self, sender: str) -> list[CaseRef]:
        debtors = self._debtors.get(sender, set())
        return [c for c in self._cases if c.debtor_id in debtors]  # by case id, as the query

    def thread(self, ids: list[str]) -> CaseRef | None:
        for mid in ids:
            if mid in self._case_of_letter:
                return self._by_id.get(self._case_of_letter[mid])
        return None

    def tokens(self, parsed: ParsedMessage) -> list[CaseRef]:
        for source in (parsed.recipient_addrs, [parsed.subject], [parsed.text]):
            refs = _tokens(source)
            if refs:
                found = sorted(
                    {
                        self._by_ref[r].id: self._by_ref[r] for r in refs if r in self._by_ref
                    }.values(),
                    key=lambda c: c.id,
                )
                if found:
                    return found
        return []


def gather_evidence(
    session: Session,
    parsed: ParsedMessage,
    policies: Mapping[str, Policy],
    own_domains: set[str],
    lookups: Lookups | None = None,
) -> Evidence:
    """Return everything that points at a case for `parsed`.

    When the sender is a known contact of every case the thread and tokens name (or, with
    none named, of a single case), nothing else can change the decision: the invoice and
    domain look-ups are skipped. `lookups` (default: one query each) answers the sender, thread
    and token look-ups, e.g. a `BatchLookups` loaded for a whole batch.
    """
    lookups = lookups or Lookups(session)
    sender = (parsed.from_addr or "").strip().lower() or "(no sender)"
    sender_of = tuple(lookups.sender_of(sender)) if "@" in sender else ()
    thread = lookups.thread(_thread_ids(parsed))
    tokens = tuple(lookups.tokens(parsed))
    named = {c.id for c in (thread, *tokens) if c is not None}
    known = {c.id for c in sender_of}
    if (named and named <= known) or (not named and len(known) == 1):
        return Evidence(sender, thread, tokens, sender_of=sender_of)
    domain = _company_domain(sender, own_domains) if "@" in sender else None
    domain_of = (
        _by_contacts(
            session,
            _known_contact(func.lower(Contact.email).endswith(f"@{domain}", autoescape=True)),
        )
        if domain
        else []
    )
    trusted = frozenset(
        c.id
        for c in domain_of
        if c.creditor in policies and policies[c.creditor].replies.trust_sender_domain
    )
    return Evidence(
        sender=sender,
        thread=thread,
        tokens=tokens,
        invoices=tuple(_by_invoice(session, f"{parsed.subject}\n{parsed.text}")),
        sender_of=sender_of,
        domain_of=tuple(domain_of),
        domain_trusted=trusted,
    )


def sent_letters(session: Session, ids: Iterable[str]) -> list[SentLetter]:
    """Return our letters (sent, or possibly sent) whose Message-ID is among `ids`."""
    wanted = [i for i in dict.fromkeys(ids) if i]
    if not wanted:
        return []
    rows = session.exec(
        select(Draft.message_id, Draft.case_id, Draft.to_addrs).where(
            col(Draft.message_id).in_(wanted), col(Draft.status).in_(SENT_STATUSES)
        )
    ).all()
    out = []
    for mid, case_id, to in rows:
        case = case_ref(session, case_id)
        if case is not None and mid:
            out.append(SentLetter(mid, case, tuple(a.lower() for a in split_addresses(to))))
    return out
