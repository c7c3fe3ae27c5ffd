"""The checked rows of an invoice import, kept in a temporary table of its own transaction.

A streamed import checks a file a block at a time and puts the good rows here instead of in
memory. The table tells duplicates apart (one indexed lookup per block), gives the rows back
grouped by debtor or in file order, a chunk at a time, and lets the ledger be compared with
the file by a query (which open invoices the file does not list). It is dropped at the end;
on PostgreSQL it would also go with the transaction.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from assistant.db.bulk import insert_rows
from assistant.importing.rows import InvoiceRow, ParsedRows, duplicate_error

_META = sa.MetaData()
STAGED = sa.Table(
    "relance_import_rows",
    _META,
    sa.Column("line", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("number", sa.String, nullable=False, unique=True),
    sa.Column("debtor_ref", sa.String, nullable=False, index=True),
    sa.Column("row", sa.LargeBinary, nullable=False),
    prefixes=["TEMPORARY"],
)
_DEBTORS = sa.Table(
    "relance_import_debtors",
    _META,
    sa.Column("debtor_ref", sa.String, primary_key=True),
    sa.Column("first_line", sa.Integer, nullable=False, index=True),
    prefixes=["TEMPORARY"],
)
_NAMES = (
    "line",
    "debtor_ref",
    "debtor_name",
    "number",
    "due_date",
    "amount",
    "outstanding",
    "currency",
    "issue_date",
    "paid_date",
    "emails",
    "siren",
    "address",
    "kind",
    "language",
    "key_account",
)
_FIELDS = attrgetter(*_NAMES)
_LOOKUP = 5000  # keys per IN list


def _dump(row: InvoiceRow) -> bytes:
    """Encode a row with marshal: plain values only (dates as ordinals, amounts as text).

    pickle would rebuild each Decimal and date through its reduce protocol, several times
    slower for what is the import's inner loop.
    """
    (line, ref, name, number, due, amount, left, ccy, issue, paid, *rest) = _FIELDS(row)
    return marshal.dumps(
        (
            line,
            ref,
            name,
            number,
            due.toordinal(),
            str(amount),
            str(left),
            ccy,
            issue.toordinal() if issue else None,
            paid.toordinal() if paid else None,
            *rest,
        )
    )


@lru_cache(maxsize=8192)
def _day(ordinal: int | None) -> date | None:
    return None if ordinal is None else date.fromordinal(ordinal)


@lru_cache(maxsize=8192)
def _decimal(text: str) -> Decimal:
    return Decimal(text)  # Decimals are immutable: one object may serve many rows


def _load(data: bytes) -> InvoiceRow:
    values = list(marshal.loads(data))
    values[4], values[8], values[9] = _day(values[4]), _day(values[8]), _day(values[9])
    values[5], values[6] = _decimal(values[5]), _decimal(values[6])
    # A frozen dataclass sets each field through object.__setattr__: fill its __dict__ at
    # once instead (the same instance, a third of the time).
    row = object.__new__(InvoiceRow)
    row.__dict__.update(zip(_NAMES, values, strict=True))
    return row


_FILTER_BITS = 1 << 23  # 1 MiB: few false hits up to a million invoice numbers


@dataclass(frozen=True)
class Chunk:
    """Some staged rows, with queries that select their keys (no list of values to send)."""

    rows: list[InvoiceRow]
    refs: sa.Select[Any]  # the account refs of the chunk's debtors
    numbers: sa.Select[Any] | None = None  # the chunk's invoice numbers (a chunk of rows)


class StagedRows:
    """The good, distinct rows of one import, in a temp table on `conn` (its transaction)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.count = 0
        # A bit per hashed invoice number (two bits each): a block whose numbers hit no bit
        # has no duplicate of an earlier block, and needs no look-up.
        self._seen = bytearray(_FILTER_BITS // 8)
        for table in (_DEBTORS, STAGED):
            table.drop(conn, checkfirst=True)
        for table in (STAGED, _DEBTORS):
            table.create(conn)

    def drop(self) -> None:
        """Drop the temp tables (the connection goes back to its pool clean)."""
        for table in (_DEBTORS, STAGED):
            table.drop(self.conn, checkfirst=True)

    def _hit(self, number: str, mark: bool) -> bool:
        h = hash(number)
        a, b = h % _FILTER_BITS, (h >> 23) % _FILTER_BITS
        seen = self._seen
        hit = bool(seen[a >> 3] & (1 << (a & 7)) and seen[b >> 3] & (1 << (b & 7)))
        if mark:
            seen[a >> 3] |= 1 << (a & 7)
            seen[b >> 3] |= 1 << (b & 7)
        return hit

    def add(self, rows: list[InvoiceRow], parsed: ParsedRows[InvoiceRow]) -> list[InvoiceRow]:
        """Keep the rows whose number is new; count or refuse the others (in `parsed`).

        An invoice number seen before with identical values is a duplicate; with different
        values it is an error on the later line, naming the earlier one (`duplicate_error`).
        Returns the rows kept.
        """
        header = parsed.columns["invoice_number"]
        earlier = self._by_number({r.number for r in rows if self._hit(r.number, False)})
        kept: list[InvoiceRow] = []
        for row in rows:
            first = earlier.get(row.number)
            if first is None:
                earlier[row.number] = row
                kept.append(row)
                continue
            error = duplicate_error(first, row, header)
            if error is None:
                parsed.duplicates += 1
            else:
                parsed.errors.append(error)
        if kept:
            for row in kept:
                self._hit(row.number, True)
            staged = [
                {"line": r.line, "number": r.number, "debtor_ref": r.debtor_ref, "row": _dump(r)}
                for r in kept
            ]
            insert_rows(self.conn, STAGED, staged)
            self.count += len(kept)
        return kept

    def _by_number(self, numbers: set[str]) -> dict[str, InvoiceRow]:
        if not self.count or not numbers:
            return {}
        out: dict[str, InvoiceRow] = {}
        wanted = sorted(numbers)
        for start in range(0, len(wanted), _LOOKUP):
            part = wanted[start : start + _LOOKUP]
            query = sa.select(STAGED.c.row).where(STAGED.c.number.in_(part))
            for (data,) in self.conn.execute(query):
                row = _load(data)
                out[row.number] = row
        return out

    def debtor_count(self) -> int:
        """Return how many distinct debtors the rows name."""
        query = sa.select(sa.func.count(sa.distinct(STAGED.c.debtor_ref)))
        return int(self.conn.execute(query).scalar_one())

    def by_debtor(self, debtors: int) -> Iterator[Chunk]:
        """Yield the rows of `debtors` debtors at a time, debtors in the order the file first
        names them, each chunk's rows in file order (so a debtor's rows come together)."""
        s, d = STAGED.c, _DEBTORS.c
        self.conn.execute(sa.delete(_DEBTORS))
        self.conn.execute(
            sa.insert(_DEBTORS).from_select(
                ["debtor_ref", "first_line"],
                sa.select(s.debtor_ref, sa.func.min(s.line)).group_by(s.debtor_ref),
            )
        )
        after = 0
        while True:
            last = self.conn.execute(
                sa.select(sa.func.max(sa.literal_column("first_line"))).select_from(
                    sa.select(d.first_line)
                    .where(d.first_line > after)
                    .order_by(d.first_line)
                    .limit(debtors)
                    .subquery()
                )
            ).scalar()
            if last is None:
                return
            span = sa.and_(d.first_line > after, d.first_line <= last)
            query = (
                sa.select(s.row)
                .join(_DEBTORS, d.debtor_ref == s.debtor_ref)
                .where(span)
                .order_by(s.line)
            )
            rows = [_load(data) for (data,) in self.conn.execute(query)]
            yield Chunk(rows, sa.select(d.debtor_ref).where(span))
            after = last

    def in_file_order(self, size: int) -> Iterator[Chunk]:
        """Yield the rows `size` at a time, in file order."""
        s = STAGED.c
        after = 0
        while True:
            page = self.conn.execute(
                sa.select(s.line, s.row).where(s.line > after).order_by(s.line).limit(size)
            ).all()
            if not page:
                return
            span = sa.and_(s.line > after, s.line <= page[-1].line)
            rows = [_load(data) for _, data in page]
            yield Chunk(rows, sa.select(s.debtor_ref).where(span), sa.select(s.number).where(span))
            after = page[-1].line
