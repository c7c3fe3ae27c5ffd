"""Turn raw table rows into validated invoice or payment rows, or row errors.

Pure: no file, no database, no clock. Decisions taken here (documented in the report):
- a negative amount is a credit note (avoir): allowed, its outstanding lies between the amount
  and 0, and it reduces the debtor's balance;
- outstanding defaults to the amount; it may not exceed the amount nor have the opposite sign;
- the due date may not precede the issue date;
- an invoice number twice with identical values is one invoice; with different values it is an
  error on the later line (likewise for a payment reference);
- lines whose first cells read "Total…" or "Sous-total…" with no invoice number are skipped,
  and so are copies of the header row (page breaks in printed-then-exported ledgers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import islice
from typing import Any, Generic, TypeVar

from assistant.importing.headers import Columns, locate_columns
from assistant.importing.mapping import ImportMapping
from assistant.importing.reading import RawTable
from assistant.importing.values import (
    Cell,
    DateOrder,
    DateProof,
    cell_text,
    fold,
    guess_decimal,
    is_blank,
    parse_address,
    parse_amount,
    parse_bool,
    parse_currency,
    parse_date,
    parse_emails,
    parse_kind,
    parse_language,
    parse_siren,
)

_DATE_FIELDS = ("issue_date", "due_date", "paid_date")


@dataclass(frozen=True)
class RowError:
    """One bad cell (or row): where it is, what it holds, and why it is refused."""

    line: int
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class InvoiceRow:
    """One validated invoice line of an export."""

    line: int
    debtor_ref: str
    debtor_name: str
    number: str
    due_date: date
    amount: Decimal
    outstanding: Decimal
    currency: str = "EUR"
    issue_date: date | None = None
    paid_date: date | None = None
    emails: tuple[str, ...] = ()
    siren: str | None = None
    address: str | None = None
    kind: str | None = None
    language: str | None = None
    key_account: bool | None = None

    @property
    def is_credit_note(self) -> bool:
        """Tell whether the row is a credit note (negative amount)."""
        return self.amount < 0


@dataclass(frozen=True)
class PaymentRow:
    """One validated payment line of an export."""

    line: int
    amount: Decimal
    paid_on: date
    currency: str = "EUR"
    debtor_ref: str | None = None
    debtor_name: str | None = None
    invoice_number: str | None = None
    reference: str | None = None


R = TypeVar("R")


@dataclass
class ParsedRows(Generic[R]):
    """The outcome of checking a table: good rows, bad rows, and what was skipped."""

    rows: list[R]
    errors: list[RowError]
    header_line: int
    columns: dict[str, str]  # canonical field → header as written in the file
    read: int = 0
    skipped: int = 0
    duplicates: int = 0
    notes: list[str] = field(default_factory=list)
    columns_found: Columns | None = None  # where each field was read (for the summary)


_MEMO_SIZE = 8192  # distinct values remembered per column (dates, codes, debtors repeat)
_BLOCK = 4096  # rows whose columns are parsed together
_BLANK: tuple[Any, str | None] = (None, None)  # compared by identity: a blank cell
Parsed = tuple[Any, str | None]  # (value, None) or (None, the reason it is refused)


def _parse_column(
    values: list[Cell], parse: Callable[[Cell], Any], memo: dict[Any, Parsed]
) -> list[Parsed]:
    """Parse a column of cells, each distinct value once (`memo` carries over between blocks)."""
    keys = [(v.__class__, v) for v in values]  # 1, 1.0 and True are equal keys otherwise
    if len(memo) > _MEMO_SIZE:
        memo.clear()
    for key in set(keys).difference(memo):
        value = key[1]
        if is_blank(value):
            memo[key] = _BLANK
            continue
        try:
            memo[key] = (parse(value), None)
        except ValueError as exc:
            memo[key] = (None, str(exc))
    return [memo[k] for k in keys]


def _blocks(
    rows: Iterable[tuple[int, list[Cell]]],
    cols: Columns,
    parsers: dict[str, Callable[[Cell], Any]],
    size: int = _BLOCK,
) -> Iterator[tuple[int, int, list[Cell], dict[str, list[Parsed]], int]]:
    """Yield (n, line, cells, parsed columns of its block, position in the block) per row.

    The typed fields are parsed a block of rows at a time, column by column: one call per
    distinct value instead of one per cell. `rows` is read as a stream, a block at a time.
    """
    wanted = {f: p for f, p in parsers.items() if f in cols.index}
    memos: dict[str, dict[Any, Parsed]] = {f: {} for f in wanted}
    it, start = iter(rows), 0
    while block := list(islice(it, size)):
        parsed: dict[str, list[Parsed]] = {}
        for fld, parse in wanted.items():
            i = cols.index[fld]
            column = [cells[i] if i < len(cells) else None for _, cells in block]
            parsed[fld] = _parse_column(column, parse, memos[fld])
        for k, (line, cells) in enumerate(block):
            yield start + k + 1, line, cells, parsed, k
        start += len(block)


class _Reader:
    """Read typed values out of the cells of one row, collecting errors.

    `parsed` holds the row's block already parsed column by column (see `_blocks`).
    """

    __slots__ = ("cols", "line", "cells", "errors", "parsed", "k", "_index")

    def __init__(
        self,
        cols: Columns,
        line: int,
        cells: Sequence[Cell],
        parsed: dict[str, list[Parsed]] | None = None,
        k: int = 0,
    ):
        self.cols, self.line, self.cells = cols, line, cells
        self.errors: list[RowError] = []
        self.parsed, self.k = parsed or {}, k
        self._index = cols.index

    def check_width(self) -> None:
        if len(self.cells) <= self.cols.width:
            return
        extra = [c for c in self.cells[self.cols.width :] if not is_blank(c)]
        if extra:
            self.errors.append(
                RowError(
                    self.line,
                    "",
                    cell_text(extra[0]),
                    f"{self.cols.width + len(extra)} cells but {self.cols.width} headers: check the "
                    "delimiter and the quotes around values that contain it",
                )
            )

    def raw(self, fld: str) -> Cell:
        i = self._index.get(fld)
        return self.cells[i] if i is not None and i < len(self.cells) else None

    def text(self, fld: str) -> str:
        return cell_text(self.raw(fld))

    def fail(self, fld: str, reason: str, value: Cell = None) -> None:
        shown = cell_text(value if value is not None else self.raw(fld))
        self.errors.append(RowError(self.line, self.cols.names.get(fld, fld), shown, reason))

    def get(self, fld: str, parse: Callable[[Cell], Any], required: bool = False) -> Any:
        column = self.parsed.get(fld)
        if column is not None:
            hit = column[self.k]
        elif fld not in self._index:
            hit = _BLANK
        else:
            hit = _parse_column([self.raw(fld)], parse, {})[0]
        if hit is _BLANK:
            if required:
                self.fail(fld, "missing")
            return None
        if hit[1] is not None:
            self.fail(fld, hit[1])
        return hit[0]


def _amount_parser(
    table: RawTable, cols: Columns, mapping: ImportMapping | None, amount_fields: Sequence[str]
) -> Callable[[Cell], Decimal]:
    decimal: str | None = mapping.decimal if mapping else None
    if decimal is None:
        values = (
            cells[cols.index[f]]
            for _, cells in table.rows[cols.first_data :]
            for f in amount_fields
            if f in cols.index and cols.index[f] < len(cells)
        )
        decimal = guess_decimal(values)
    if decimal is None:  # no value proves it: `;` files are French-style, `,` files cannot be
        decimal = {";": ",", ",": "."}.get(table.delimiter or "")
    return lambda v: parse_amount(v, decimal)


def _date_parsers(
    table: RawTable, cols: Columns, mapping: ImportMapping | None
) -> dict[str, Callable[[Cell], date]]:
    fmt = mapping.date_format if mapping else None
    parsers: dict[str, Callable[[Cell], date]] = {}
    proofs: dict[str, DateOrder | None] = {}
    scanned = {f: cols.index[f] for f in _DATE_FIELDS if f in cols.index and not fmt}
    if scanned:  # one scan of the rows for every date column (they may be on disk)
        found_by = {f: DateProof() for f in scanned}
        for _, c in table.rows[cols.first_data :]:
            for fld, i in scanned.items():
                if i < len(c):
                    found_by[fld].add(c[i])
        proofs = {f: p.order() for f, p in found_by.items()}
    # One order for the file unless its columns prove different orders: US m/d/y only when
    # some value proves it and none proves d/m/y.
    found = set(proofs.values()) - {None}
    default: DateOrder = "mdy" if found == {"mdy"} else "dmy"
    for fld in _DATE_FIELDS:
        if fld in cols.index:
            parsers[fld] = _date_parser(proofs.get(fld) or default, fmt)
    return parsers


def _currency_parser(default: str) -> Callable[[Cell], str]:
    return lambda value: parse_currency(value, default)


def _date_parser(order: DateOrder, fmt: str | None) -> Callable[[Cell], date]:
    return lambda value: parse_date(value, order, fmt)


def _is_total_line(reader: _Reader, cells: Sequence[Cell], key: str) -> bool:
    """Tell whether a row is a total line or the header repeated (page breaks): skip it."""
    key_text = reader.text(key)
    if key_text:
        return key_text == reader.cols.names.get(key) and reader.cols.headers == tuple(
            cell_text(c) for c in cells[: reader.cols.width]
        )
    words = [fold(cell_text(c)) for c in cells if not is_blank(c)][:3]
    return any(w.startswith(("total", "sous total", "sous-total", "grand total")) for w in words)


def parse_invoice_rows(
    table: RawTable,
    mapping: ImportMapping | None = None,
    progress: Callable[[int], None] | None = None,
    default_debtor_type: str | None = None,
) -> ParsedRows[InvoiceRow]:
    """Check every data row of an invoice export; raise HeaderError if columns are unusable.

    A debtor with no type cell gets the mapping's default, else `default_debtor_type`.
    """
    out, blocks = check_invoice_rows(table, mapping, progress, default_debtor_type)
    seen: dict[str, InvoiceRow] = {}
    for block in blocks:
        for row in block:
            first = seen.get(row.number)
            if first is None:
                seen[row.number] = row
                out.rows.append(row)
                continue
            error = duplicate_error(first, row, out.columns["invoice_number"])
            if error is None:
                out.duplicates += 1
            else:
                out.errors.append(error)
    out.errors.sort(
        key=lambda e: e.line
    )  # a duplicate's error goes among the others, in line order
    return out


def check_invoice_rows(
    table: RawTable,
    mapping: ImportMapping | None = None,
    progress: Callable[[int], None] | None = None,
    default_debtor_type: str | None = None,
    block: int = _BLOCK,
) -> tuple[ParsedRows[InvoiceRow], Iterator[list[InvoiceRow]]]:
    """Locate the columns (raise HeaderError now), then check the rows a block at a time.

    Returns the outcome, whose `rows` stay empty, and the blocks of good rows in file order,
    duplicates not yet told apart: the caller does that (`duplicate_error`), in memory or
    against rows it keeps elsewhere. Reading the blocks fills in the errors and the counts.
    """
    cols = locate_columns(table, mapping, payments=False)
    amount = _amount_parser(table, cols, mapping, ("amount", "outstanding"))
    dates = _date_parsers(table, cols, mapping)
    default_ccy = mapping.defaults.currency if mapping else "EUR"
    default_kind = (mapping.defaults.debtor_type if mapping else None) or default_debtor_type
    default_lang = mapping.defaults.debtor_language if mapping else None
    out: ParsedRows[InvoiceRow] = ParsedRows([], [], cols.header_line, cols.names)
    out.columns_found = cols
    currency = _currency_parser(default_ccy)
    parsers: dict[str, Callable[[Cell], Any]] = {
        **dates,
        "amount": amount,
        "outstanding": amount,
        "currency": currency,
        "debtor_email": parse_emails,
        "debtor_siren": parse_siren,
        "debtor_address": parse_address,
        "debtor_type": parse_kind,
        "debtor_language": parse_language,
        "key_account": parse_bool,
    }

    def checked() -> Iterator[list[InvoiceRow]]:
        good: list[InvoiceRow] = []
        rows = table.rows[cols.first_data :]
        for n, line, cells, parsed, k in _blocks(rows, cols, parsers, block):
            if progress and n % 2000 == 0:
                progress(n)
            if k == 0 and good:
                yield good
                good = []
            r = _Reader(cols, line, cells, parsed, k)
            if _is_total_line(r, cells, "invoice_number"):
                out.skipped += 1
                continue
            out.read += 1
            r.check_width()
            row = _invoice_row(r, amount, dates, currency, default_ccy, default_kind, default_lang)
            if r.errors or row is None:
                out.errors += r.errors
                continue
            good.append(row)
        if good:
            yield good

    return out, checked()


def duplicate_error(first: InvoiceRow, row: InvoiceRow, header: str) -> RowError | None:
    """Return the error for `row` repeating `first`'s number, or None if it is the same invoice."""
    diff = _invoice_diff(first, row)
    if not diff:
        return None
    return RowError(
        row.line,
        header,
        row.number,
        f"invoice {row.number} is already on line {first.line} with different values ({diff})",
    )


def _invoice_row(
    r: _Reader,
    amount: Callable[[Cell], Decimal],
    dates: dict[str, Callable[[Cell], date]],
    currency_of: Callable[[Cell], str],
    default_ccy: str,
    default_kind: str | None,
    default_lang: str | None,
) -> InvoiceRow | None:
    number = r.text("invoice_number")
    if not number:
        r.fail("invoice_number", "missing")
    ref, name = r.text("debtor_ref"), r.text("debtor_name")
    if "debtor_ref" in r.cols.index and not ref:
        r.fail("debtor_ref", "missing")
    elif not ref and not name:
        r.fail("debtor_name", "missing")
    due = r.get("due_date", dates["due_date"], required=True)
    issue = r.get("issue_date", dates["issue_date"]) if "issue_date" in dates else None
    paid = r.get("paid_date", dates["paid_date"]) if "paid_date" in dates else None
    total = r.get("amount", amount, required=True) if "amount" in r.cols.index else None
    left = r.get("outstanding", amount, required="amount" not in r.cols.index)
    currency = r.get("currency", currency_of) or default_ccy
    emails = r.get("debtor_email", parse_emails) or ()
    siren = r.get("debtor_siren", parse_siren)
    address = r.get("debtor_address", parse_address)
    kind = r.get("debtor_type", parse_kind) or default_kind
    lang = r.get("debtor_language", parse_language) or default_lang
    key = r.get("key_account", parse_bool)
    if total is None and left is not None and "amount" not in r.cols.index:
        total = left
    if left is None and total is not None:
        left = total
    if due and issue and due < issue:
        r.fail("due_date", f"due date before the issue date ({issue.isoformat()})")
    if total is not None and left is not None:
        if total >= 0 and not 0 <= left <= total:
            r.fail(
                "outstanding",
                "outstanding exceeds the amount"
                if left > total
                else "negative outstanding on an invoice (use a credit note row)",
            )
        elif total < 0 and not total <= left <= 0:
            r.fail("outstanding", "a credit note's outstanding lies between its amount and 0")
    if r.errors or total is None or left is None or due is None:
        return None
    return InvoiceRow(
        line=r.line,
        debtor_ref=ref or name,
        debtor_name=name or ref,
        number=number,
        due_date=due,
        amount=total,
        outstanding=left,
        currency=currency,
        issue_date=issue,
        paid_date=paid,
        emails=emails,
        siren=siren,
        address=address,
        kind=kind,
        language=lang,
        key_account=key,
    )


def _invoice_diff(a: InvoiceRow, b: InvoiceRow) -> str:
    names = ("debtor_ref", "amount", "outstanding", "due_date", "issue_date", "currency")
    diffs = [
        f"{n} {getattr(a, n)} ≠ {getattr(b, n)}" for n in names if getattr(a, n) != getattr(b, n)
    ]
    return ", ".join(diffs)


def parse_payment_rows(
    table: RawTable,
    mapping: ImportMapping | None = None,
    progress: Callable[[int], None] | None = None,
) -> ParsedRows[PaymentRow]:
    """Check every data row of a payment export; raise HeaderError if columns are unusable."""
    cols = locate_columns(table, mapping, payments=True)
    amount = _amount_parser(table, cols, mapping, ("amount",))
    dates = _date_parsers(table, cols, mapping)
    default_ccy = mapping.defaults.currency if mapping else "EUR"
    out: ParsedRows[PaymentRow] = ParsedRows([], [], cols.header_line, cols.names)
    out.columns_found = cols
    seen: dict[str, PaymentRow] = {}
    currency_of = _currency_parser(default_ccy)
    parsers: dict[str, Callable[[Cell], Any]] = {
        **dates,
        "amount": amount,
        "currency": currency_of,
    }
    for n, line, cells, parsed, k in _blocks(table.rows[cols.first_data :], cols, parsers):
        if progress and n % 2000 == 0:
            progress(n)
        r = _Reader(cols, line, cells, parsed, k)
        if _is_total_line(r, cells, "paid_date"):
            out.skipped += 1
            continue
        out.read += 1
        r.check_width()
        value = r.get("amount", amount, required=True)
        if value is not None and value <= 0:
            r.fail("amount", "a payment must be positive (refunds are not imported)")
        paid_on = r.get("paid_date", dates["paid_date"], required=True)
        currency = r.get("currency", currency_of) or default_ccy
        ref, name, number = r.text("debtor_ref"), r.text("debtor_name"), r.text("invoice_number")
        if not (ref or name or number):
            r.fail(
                "debtor_ref" if "debtor_ref" in cols.index else "invoice_number",
                "missing: name the customer or the invoice",
            )
        if r.errors or value is None or paid_on is None:
            out.errors += r.errors
            continue
        row = PaymentRow(
            line,
            value,
            paid_on,
            currency,
            ref or None,
            name or None,
            number or None,
            r.text("payment_ref") or None,
        )
        if row.reference is None:
            out.rows.append(row)
            continue
        first = seen.get(row.reference)
        if first is None:
            seen[row.reference] = row
            out.rows.append(row)
        elif (first.amount, first.paid_on, first.invoice_number, first.debtor_ref) == (
            row.amount,
            row.paid_on,
            row.invoice_number,
            row.debtor_ref,
        ):
            out.duplicates += 1
        else:
            out.errors.append(
                RowError(
                    line,
                    cols.names["payment_ref"],
                    row.reference,
                    f"payment {row.reference} is already on line "
                    f"{first.line} with different values",
                )
            )
    return out
