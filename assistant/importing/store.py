"""Database side of the importer: load a creditor's ledger state, apply an import plan.

Bulk statements only: one SELECT per table to load, executemany INSERT/UPDATE to write, so
100,000 rows never mean 100,000 round trips. Runs inside the caller's transaction; never
commits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from assistant.db.bulk import insert_rows
from assistant.db.models import AuditEvent, Contact, Creditor, Debtor, Invoice, Payment, utcnow
from assistant.importing.plan import SETTLEABLE, Change, DebtorState, ImportPlan, InvoiceState

_CREDITOR: sa.Table = Creditor.__table__  # type: ignore[attr-defined]
_DEBTOR: sa.Table = Debtor.__table__  # type: ignore[attr-defined]
_CONTACT: sa.Table = Contact.__table__  # type: ignore[attr-defined]
_INVOICE: sa.Table = Invoice.__table__  # type: ignore[attr-defined]
_PAYMENT: sa.Table = Payment.__table__  # type: ignore[attr-defined]
_AUDIT: sa.Table = AuditEvent.__table__  # type: ignore[attr-defined]
_CHUNK = 5000


def find_creditor(conn: Connection, slug: str) -> int | None:
    """Return the id of the creditor called `slug`, if it exists."""
    return conn.execute(sa.select(_CREDITOR.c.id).where(_CREDITOR.c.slug == slug)).scalar()


def create_creditor(conn: Connection, slug: str, name: str, actor: str) -> int:
    """Insert a creditor row and audit it; return its id."""
    now = utcnow()
    new_id = conn.execute(
        sa.insert(_CREDITOR).values(slug=slug, name=name, created_at=now).returning(_CREDITOR.c.id)
    ).scalar_one()
    conn.execute(
        sa.insert(_AUDIT).values(
            at=now,
            actor=actor,
            action="creditor.created",
            entity="creditor",
            entity_id=str(new_id),
            payload={"slug": slug, "name": name, "source": "import"},
        )
    )
    return int(new_id)


Keys = Collection[str] | sa.Select[Any]  # some account refs or invoice numbers, or a query


def load_debtors(
    conn: Connection, creditor_id: int, refs: Keys | None = None
) -> tuple[dict[str, DebtorState], dict[str, int]]:
    """Return the creditor's debtors by account ref, and their ids by account ref.

    With `refs`, only the debtors with those account refs (a query that selects them, or at
    most `_CHUNK` of them).
    """
    d, c = _DEBTOR.c, _CONTACT.c
    which = d.creditor_id == creditor_id
    if refs is not None:
        which = sa.and_(which, d.account_ref.in_(_keys(refs)))
    emails: dict[int, set[str]] = {}
    contacts = sa.select(c.debtor_id, c.email).join(_DEBTOR, d.id == c.debtor_id)
    for debtor_id, email in conn.execute(contacts.where(which)):
        emails.setdefault(debtor_id, set()).add(email.lower())  # file e-mails are lower-cased
    states: dict[str, DebtorState] = {}
    ids: dict[str, int] = {}
    rows = conn.execute(
        sa.select(
            d.id,
            d.account_ref,
            d.legal_name,
            d.siren,
            d.kind,
            d.language,
            d.key_account,
            d.address,
        ).where(which)
    )
    for row in rows:
        states[row.account_ref] = DebtorState(
            row.id,
            row.account_ref,
            row.legal_name,
            row.siren,
            row.kind,
            row.language,
            bool(row.key_account),
            frozenset(emails.get(row.id, ())),
            row.address,
        )
        ids[row.account_ref] = row.id
    return states, ids


def load_invoices(
    conn: Connection, creditor_id: int, debtor_refs: dict[int, str]
) -> dict[str, InvoiceState]:
    """Return the creditor's invoices by number."""
    i = _INVOICE.c
    columns = [i.debtor_id if c is _DEBTOR.c.account_ref else c for c in _INVOICE_STATE]
    rows = conn.execute(sa.select(*columns).where(i.creditor_id == creditor_id))
    return {r.number: _invoice_state(r, debtor_refs[r.debtor_id]) for r in rows}


_INVOICE_STATE = (
    _INVOICE.c.id,
    _INVOICE.c.number,
    _DEBTOR.c.account_ref,
    _INVOICE.c.due_date,
    _INVOICE.c.amount_cents,
    _INVOICE.c.outstanding_cents,
    _INVOICE.c.currency,
    _INVOICE.c.status,
    _INVOICE.c.issue_date,
    _INVOICE.c.paid_date,
)


def _invoice_state(r: Any, debtor_ref: str | None = None) -> InvoiceState:
    """Build an InvoiceState from a row of the `_INVOICE_STATE` columns (or `debtor_ref`)."""
    return InvoiceState(
        r.id,
        r.number,
        r.account_ref if debtor_ref is None else debtor_ref,
        r.due_date,
        r.amount_cents,
        r.outstanding_cents,
        r.currency,
        r.status,
        r.issue_date,
        r.paid_date,
    )


def _keys(keys: Keys) -> Any:
    return keys if isinstance(keys, sa.Select) else list(keys)


def load_invoices_numbered(
    conn: Connection, creditor_id: int, numbers: Keys
) -> dict[str, InvoiceState]:
    """Return the creditor's invoices with these numbers (a query, or at most `_CHUNK`)."""
    i = _INVOICE.c
    rows = conn.execute(
        sa.select(*_INVOICE_STATE)
        .join(_DEBTOR, _DEBTOR.c.id == i.debtor_id)
        .where(i.creditor_id == creditor_id, i.number.in_(_keys(numbers)))
    )
    return {r.number: _invoice_state(r) for r in rows}


def settleable_invoices(
    conn: Connection, creditor_id: int, absent_from: sa.Table | None, after: int, limit: int
) -> list[InvoiceState]:
    """Return up to `limit` open, disputed or frozen invoices with an id above `after`, by id.

    With `absent_from` (a table with a `number` column), only those whose number it lacks.
    """
    i = _INVOICE.c
    query = (
        sa.select(*_INVOICE_STATE)
        .join(_DEBTOR, _DEBTOR.c.id == i.debtor_id)
        .where(i.creditor_id == creditor_id, i.status.in_(SETTLEABLE), i.id > after)
        .order_by(i.id)
        .limit(limit)
    )
    if absent_from is not None:
        query = query.where(~sa.exists().where(absent_from.c.number == i.number))
    return [_invoice_state(r) for r in conn.execute(query)]


def count_settleable(conn: Connection, creditor_id: int, absent_from: sa.Table | None) -> int:
    """Count the open, disputed and frozen invoices (with `absent_from`: those it lacks)."""
    i = _INVOICE.c
    query = sa.select(sa.func.count()).where(i.creditor_id == creditor_id, i.status.in_(SETTLEABLE))
    if absent_from is not None:
        query = query.where(~sa.exists().where(absent_from.c.number == i.number))
    return int(conn.execute(query).scalar_one())


def load_invoice_payments(
    conn: Connection, creditor_id: int, numbers: Keys | None = None
) -> dict[str, list[tuple[Any, int]]]:
    """Return the recorded payments of each invoice, by number: (paid on, cents).

    With `numbers`, only the payments of those invoices (at most `_CHUNK` of them).
    """
    p, i = _PAYMENT.c, _INVOICE.c
    query = (
        sa.select(i.number, p.paid_on, p.amount_cents)
        .join(_INVOICE, i.id == p.invoice_id)
        .where(p.creditor_id == creditor_id)
    )
    if numbers is not None:
        query = query.where(i.number.in_(_keys(numbers)))
    rows = conn.execute(query)
    out: dict[str, list[tuple[Any, int]]] = {}
    for number, paid_on, cents in rows:
        out.setdefault(number, []).append((paid_on, cents))
    return out


def load_payment_references(conn: Connection, creditor_id: int) -> set[str]:
    """Return every payment reference already recorded for the creditor."""
    p = _PAYMENT.c
    return set(conn.execute(sa.select(p.reference).where(p.creditor_id == creditor_id)).scalars())


def _chunks(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), _CHUNK):
        yield rows[start : start + _CHUNK]


def _update(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    names = [k for k in rows[0] if k != "b_id"]
    stmt = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values({n: sa.bindparam(f"b_{n}") for n in names})
    )
    for chunk in _chunks(rows):
        conn.execute(stmt, [{"b_id": r["b_id"], **{f"b_{n}": r[n] for n in names}} for r in chunk])


def apply_plan(
    conn: Connection,
    creditor_id: int,
    plan: ImportPlan,
    actor: str,
    source: str,
    summary: dict[str, Any] | None,
    *,
    now: datetime | None = None,
    debtor_keys: Keys | None = None,
    invoice_keys: Keys | None = None,
) -> None:
    """Write every insert, update and audit event of `plan` (no commit).

    `summary` is the import's own audit event, written last (None: not now, a chunked import
    writes it after its last chunk). `debtor_keys` and `invoice_keys` narrow the look-up of the
    ids of the plan's debtors and invoices (account refs and numbers, or queries selecting
    them) when the plan is one chunk of an import: None looks up the creditor's whole ledger.
    """
    now = now or utcnow()
    insert_rows(
        conn,
        _DEBTOR,
        [
            {
                "creditor_id": creditor_id,
                "account_ref": s.account_ref,
                "legal_name": s.legal_name,
                "siren": s.siren,
                "vat_number": None,
                "kind": s.kind,
                "language": s.language,
                "key_account": s.key_account,
                "address": s.address,
                "created_at": now,
            }
            for s in plan.new_debtors
        ],
    )
    d = _DEBTOR.c
    debtor_ids = _ids(conn, d.account_ref, d.id, d.creditor_id == creditor_id, debtor_keys)
    _update(
        conn,
        _DEBTOR,
        [
            {
                "b_id": debtor_ids[s.account_ref],
                "legal_name": s.legal_name,
                "siren": s.siren,
                "kind": s.kind,
                "language": s.language,
                "key_account": s.key_account,
                "address": s.address,
            }
            for s in plan.debtor_updates
        ],
    )
    insert_rows(
        conn,
        _CONTACT,
        [
            {
                "debtor_id": debtor_ids[ref],
                "email": email,
                "name": None,
                "valid": True,
                "invalid_reason": None,
                "created_at": now,
            }
            for ref, email in plan.new_contacts
        ],
    )
    insert_rows(
        conn,
        _INVOICE,
        [_invoice_values(s, creditor_id, debtor_ids, now) for s in plan.new_invoices],
    )
    _update(
        conn,
        _INVOICE,
        [
            {"b_id": s.id, **_invoice_values(s, creditor_id, debtor_ids, now)}
            for s in plan.invoice_updates
        ],
    )
    invoice_ids: dict[str, int] = {}
    if plan.new_invoices or plan.invoice_updates or plan.new_payments:
        i = _INVOICE.c
        invoice_ids = _ids(conn, i.number, i.id, i.creditor_id == creditor_id, invoice_keys)
    insert_rows(
        conn,
        _PAYMENT,
        [
            {
                "creditor_id": creditor_id,
                "debtor_id": debtor_ids[p["debtor_ref"]],
                "invoice_id": invoice_ids.get(p["invoice_number"]) if p["invoice_number"] else None,
                "reference": p["reference"],
                "amount_cents": p["amount_cents"],
                "currency": p["currency"],
                "paid_on": p["paid_on"],
                "created_at": now,
            }
            for p in plan.new_payments
        ],
    )
    payment_ids: dict[str, int] = {}
    if plan.new_payments:
        p = _PAYMENT.c
        payment_ids = dict(
            conn.execute(sa.select(p.reference, p.id).where(p.creditor_id == creditor_id)).all()
        )
    ids = {"debtor": debtor_ids, "invoice": invoice_ids, "payment": payment_ids}
    events = [_audit_row(c, ids, actor, source, now) for c in plan.changes]
    if summary is not None:
        events.append(_summary_row(creditor_id, actor, source, summary, now))
    insert_rows(conn, _AUDIT, events)


def write_summary(
    conn: Connection,
    creditor_id: int,
    actor: str,
    source: str,
    summary: dict[str, Any],
    now: datetime,
) -> None:
    """Write the import's own audit event (after the last chunk of a chunked import)."""
    insert_rows(conn, _AUDIT, [_summary_row(creditor_id, actor, source, summary, now)])


def _summary_row(
    creditor_id: int, actor: str, source: str, summary: dict[str, Any], now: datetime
) -> dict[str, Any]:
    summary = dict(summary)
    return {
        "at": now,
        "actor": actor,
        "action": summary.pop("action"),
        "entity": "creditor",
        "entity_id": str(creditor_id),
        "payload": {"source": source, **summary},
    }


def _ids(
    conn: Connection,
    key: sa.ColumnElement[Any],
    id_: sa.ColumnElement[Any],
    where: sa.ColumnElement[bool],
    keys: Keys | None,
) -> dict[str, int]:
    """Return ids by key (account ref, invoice number): all of them, or those of `keys`."""
    if keys is None or isinstance(keys, sa.Select):
        query = sa.select(key, id_).where(where)
        if keys is not None:
            query = query.where(key.in_(keys))
        return dict(conn.execute(query).all())  # type: ignore[arg-type]
    out: dict[str, int] = {}
    wanted = sorted(keys)
    for start in range(0, len(wanted), _CHUNK):
        part = wanted[start : start + _CHUNK]
        out.update(conn.execute(sa.select(key, id_).where(where, key.in_(part))).all())  # type: ignore[arg-type]
    return out


def _invoice_values(
    s: InvoiceState, creditor_id: int, debtor_ids: dict[str, int], now: datetime
) -> dict[str, Any]:
    return {
        "creditor_id": creditor_id,
        "debtor_id": debtor_ids[s.debtor_ref],
        "number": s.number,
        "issue_date": s.issue_date,
        "due_date": s.due_date,
        "amount_cents": s.amount_cents,
        "outstanding_cents": s.outstanding_cents,
        "currency": s.currency,
        "status": s.status,
        "paid_date": s.paid_date,
        "updated_at": now,
    }


def _audit_row(
    change: Change, ids: dict[str, dict[str, int]], actor: str, source: str, now: datetime
) -> dict[str, Any]:
    entity_id = ids.get(change.entity, {}).get(change.key)
    payload: dict[str, Any] = {"key": change.key, "source": source, "after": change.after}
    if change.before:
        payload["before"] = change.before
    return {
        "at": now,
        "actor": actor,
        "action": change.action,
        "entity": change.entity,
        "entity_id": str(entity_id) if entity_id is not None else change.key,
        "payload": payload,
    }
