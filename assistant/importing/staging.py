"""The checked rows of an invoice import, kept in a temporary table of its own transaction.

A streamed import checks a file a block at a time and puts the good rows here instead of in
memory. The table tells duplicates apart (one indexed lookup per block), gives the rows back
grouped by debtor or in file order, a chunk at a time, and lets the ledger be compared with
the file by a query (which open invoices the file does not list). It is dropped at the end;
on PostgreSQL it would also go with the transaction.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from operator import attrgetter

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from assistant.importing.rows import InvoiceRow, ParsedRows, duplicate_error
from assistant.importing.store import insert_rows

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
_FIELDS = attrgetter(
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
_LOOKUP = 5000  # keys per IN list


def _dump(row: InvoiceRow) -> bytes:
    return pickle.dumps(_FIELDS(row), protocol=pickle.HIGHEST_PROTOCOL)


def _load(data: bytes) -> InvoiceRow:
    return InvoiceRow(*pickle.loads(data))


class StagedRows:
    """The good, distinct rows of one import, in a temp table on `conn` (its transaction)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.count = 0
        for table in (_DEBTORS, STAGED):
            table.drop(conn, checkfirst=True)
        for table in (STAGED, _DEBTORS):
            table.create(conn)

    def drop(self) -> None:
        """Drop the temp tables (the connection goes back to its pool clean)."""
        for table in (_DEBTORS, STAGED):
            table.drop(self.conn, checkfirst=True)

    def add(self, rows: list[InvoiceRow], parsed: ParsedRows[InvoiceRow]) -> list[InvoiceRow]:
        """Keep the rows whose number is new; count or refuse the others (in `parsed`).

        An invoice number seen before with identical values is a duplicate; with different
        values it is an error on the later line, naming the earlier one (`duplicate_error`).
        Returns the rows kept.
        """
        header = parsed.columns["invoice_number"]
        earlier = self._by_number({r.number for r in rows})
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

    def by_debtor(self, debtors: int) -> Iterator[list[InvoiceRow]]:
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
            page = self.conn.execute(
                sa.select(d.debtor_ref, d.first_line)
                .where(d.first_line > after)
                .order_by(d.first_line)
                .limit(debtors)
            ).all()
            if not page:
                return
            after = page[-1].first_line
            refs = [r.debtor_ref for r in page]
            rows: list[InvoiceRow] = []
            for start in range(0, len(refs), _LOOKUP):
                query = sa.select(s.line, s.row).where(
                    s.debtor_ref.in_(refs[start : start + _LOOKUP])
                )
                rows += [_load(data) for _, data in self.conn.execute(query)]
            rows.sort(key=attrgetter("line"))
            yield rows

    def in_file_order(self, size: int) -> Iterator[list[InvoiceRow]]:
        """Yield the rows `size` at a time, in file order."""
        after = 0
        while True:
            page = self.conn.execute(
                sa.select(STAGED.c.line, STAGED.c.row)
                .where(STAGED.c.line > after)
                .order_by(STAGED.c.line)
                .limit(size)
            ).all()
            if not page:
                return
            after = page[-1].line
            yield [_load(data) for _, data in page]
