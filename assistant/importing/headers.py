"""Recognise the column headers of French and English ERP exports.

Pure: maps header texts to canonical fields. When a header is unknown it is ignored; when two
headers claim the same field, or a required field has no header, it raises `HeaderError` that
asks for a mapping file. It never guesses from cell contents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from assistant.importing.mapping import ImportMapping
from assistant.importing.reading import RawTable
from assistant.importing.values import cell_text, fold

# fmt: off
INVOICE_FIELDS = (
    "debtor_ref", "debtor_name", "debtor_email", "debtor_siren", "debtor_address", "debtor_type",
    "debtor_language", "key_account", "invoice_number", "issue_date", "due_date", "amount",
    "outstanding", "currency", "paid_date",
)
PAYMENT_FIELDS = (
    "debtor_ref", "debtor_name", "invoice_number", "payment_ref", "amount", "currency", "paid_date",
)
FIELDS = tuple(dict.fromkeys(INVOICE_FIELDS + PAYMENT_FIELDS))
INVOICE_REQUIRED = (
    ("invoice_number",), ("due_date",), ("amount", "outstanding"), ("debtor_ref", "debtor_name"),
)
PAYMENT_REQUIRED = (("amount",), ("paid_date",), ("debtor_ref", "debtor_name", "invoice_number"))

# Header texts; both sides go through `normalise_header` before they are compared.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "debtor_ref": (
        "code client", "client code", "n client", "numero client", "numero de client",
        "compte client", "compte", "code tiers", "tiers", "ref client", "reference client",
        "customer code", "customer id", "customer no", "customer number", "customer ref",
        "customer account", "account", "account code", "account no", "account number",
        "account ref", "debtor ref", "debtor code", "client id",
    ),
    "debtor_name": (
        "raison sociale", "nom client", "nom du client", "client", "societe", "nom",
        "denomination", "intitule", "intitule tiers", "nom tiers", "customer", "customer name",
        "company", "company name", "name", "debtor", "debtor name", "account name",
    ),
    "debtor_email": (
        "email", "e mail", "mail", "courriel", "adresse email", "adresse e mail",
        "adresse mail", "email relance", "e mail relance", "email contact", "contact email",
        "email address", "emails", "billing email", "email facturation",
    ),
    "debtor_address": (
        "adresse", "adresse client", "adresse postale", "adresse de facturation",
        "adresse facturation", "address", "postal address", "billing address",
        "customer address", "debtor address",
    ),
    "debtor_siren": ("siren", "n siren", "numero siren", "siret", "n siret", "company number"),
    "debtor_type": (
        "type client", "type de client", "type tiers", "type de tiers", "categorie client",
        "categorie de client", "categorie tiers", "nature client", "nature du client",
        "nature tiers", "customer type", "client type", "debtor type", "customer category",
        "type", "categorie", "nature", "category", "b2b b2c", "b2b/b2c",
    ),
    "debtor_language": ("langue", "langue client", "language", "lang", "customer language"),
    "key_account": ("grand compte", "compte cle", "key account", "vip", "strategic account"),
    "invoice_number": (
        "n facture", "numero facture", "numero de facture", "no facture", "facture",
        "n piece", "numero piece", "numero de piece", "piece", "ref piece", "reference piece",
        "n document", "invoice", "invoice no", "invoice number", "invoice num", "invoice ref",
        "invoice reference", "invoice id", "num", "document number", "doc no",
    ),
    "issue_date": (
        "date facture", "date de facture", "date de la facture", "date piece", "date de piece",
        "date emission", "date d emission", "date document", "invoice date", "issue date",
        "date issued", "document date", "date",
    ),
    "due_date": (
        "date d echeance", "date echeance", "echeance", "date limite de paiement",
        "date de reglement prevue", "due date", "due", "due on", "payment due", "date due",
        "due by",
    ),
    "amount": (
        "montant ttc", "montant", "montant facture", "total ttc", "montant initial",
        "montant de la facture", "amount", "invoice amount", "total", "total amount",
        "amount incl tax", "gross amount", "original amount",
    ),
    "outstanding": (
        "reste du", "reste a payer", "reste a regler", "solde", "solde du", "solde restant",
        "montant du", "restant du", "encours", "balance", "balance due", "amount due",
        "outstanding", "open amount", "open balance", "amount outstanding", "remaining",
    ),
    "currency": ("devise", "monnaie", "currency", "ccy", "cur"),
    "paid_date": (
        "date de reglement", "date reglement", "date de paiement", "date paiement",
        "date d encaissement", "date encaissement", "regle le", "paye le", "paid date",
        "paid on", "date paid", "payment date", "settled on", "settlement date",
    ),
    "payment_ref": (
        "reference paiement", "ref paiement", "reference reglement", "ref reglement",
        "n reglement", "numero reglement", "n paiement", "reference virement",
        "payment ref", "payment reference", "payment id", "payment no", "payment number",
        "transaction id", "transaction ref", "reference", "ref",
    ),
}
# Only in payment files: in an invoice file "Montant réglé" is not the invoice amount.
_PAYMENT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "amount": (
        "montant regle", "montant paye", "montant du reglement", "montant encaisse",
        "amount paid", "paid amount", "payment amount", "credit",
    ),
}
# fmt: on
_HEADER_SCAN = 20  # lines searched for the header row (exports often start with a title)


# Bare words that other exports use for something else (a document type "FA"/"AV"): such a
# column is read as the debtor type only when its cells are debtor types (see `rows`).
AMBIGUOUS_HEADERS: dict[str, str] = {
    "type": "debtor_type",
    "categorie": "debtor_type",
    "category": "debtor_type",
    "nature": "debtor_type",
}


def _lookup(synonyms: dict[str, tuple[str, ...]]) -> dict[str, str]:
    # Every canonical field name is its own header too (debtor_email, debtor_siren, …).
    own = {normalise_header(f): f for f in synonyms}
    return own | {normalise_header(n): f for f, names in synonyms.items() for n in names}


class HeaderError(ValueError):
    """The header row cannot be read without a mapping file."""


def normalise_header(text: str) -> str:
    """Fold case, accents and punctuation: `N° de Facture :` → `n de facture`."""
    folded = fold(text).replace("°", " ").replace("º", " ").replace("#", " no ")
    folded = re.sub(r"[^a-z0-9]+", " ", folded).strip()
    folded = re.sub(r"^(no|nr|num|numero) (?=.)", "n ", folded)
    folded = re.sub(r" (no|nr|num)$", " no", folded)
    return folded


_INVOICE_LOOKUP = _lookup({**_SYNONYMS, **{f: () for f in FIELDS if f not in _SYNONYMS}})
_PAYMENT_LOOKUP = {**_INVOICE_LOOKUP, **_lookup(_PAYMENT_SYNONYMS)}


def recognise(header: str, payments: bool = False) -> str | None:
    """Return the canonical field a header names (in a payments file when `payments`), or None."""
    return (_PAYMENT_LOOKUP if payments else _INVOICE_LOOKUP).get(normalise_header(header))


def match_headers(
    headers: Sequence[str], fields: Iterable[str] = INVOICE_FIELDS, payments: bool = False
) -> dict[str, int]:
    """Map canonical fields to column indexes; raise HeaderError on duplicates."""
    wanted = set(fields)
    found: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        field = recognise(header, payments) if header else None
        if field in wanted:
            found.setdefault(field, []).append(index)
    clashes = {f: ix for f, ix in found.items() if len(ix) > 1}
    if clashes:
        details = "; ".join(
            f"{f} ← " + ", ".join(repr(headers[i]) for i in ix) for f, ix in sorted(clashes.items())
        )
        raise HeaderError(
            f"ambiguous headers: {details}. Write a mapping file (--mapping) that names the "
            "column to use for each field."
        )
    return {f: ix[0] for f, ix in found.items()}


def score_header_row(cells: Sequence[str], payments: bool = False) -> int:
    """Count how many cells of a row are known headers (to find the header row)."""
    return sum(1 for c in cells if c and recognise(c, payments) is not None)


def require_fields(
    columns: dict[str, int], required: Iterable[Iterable[str]], *, mapped: bool
) -> None:
    """Raise HeaderError when a group of alternative required fields has no column."""
    missing = [group for group in map(tuple, required) if not any(f in columns for f in group)]
    if not missing:
        return
    names = ", ".join(" or ".join(group) for group in missing)
    hint = (
        "check the 'columns' of the mapping file"
        if mapped
        else "rename the column or write a mapping file (--mapping) that names it"
    )
    raise HeaderError(f"no column found for {names}: {hint}.")


@dataclass
class Columns:
    """Where the header row is and which column holds each canonical field."""

    header_line: int
    index: dict[str, int]
    names: dict[str, str]
    first_data: int  # position in table.rows
    width: int = 0  # cells in the header row
    headers: tuple[str, ...] = ()


def locate_columns(table: RawTable, mapping: ImportMapping | None, payments: bool) -> Columns:
    """Find the header row and the column of each canonical field; raise HeaderError."""
    fields = PAYMENT_FIELDS if payments else INVOICE_FIELDS
    mapped = mapping.columns.as_dict() if mapping else {}
    wrong = [f for f in mapped if f not in fields]
    if wrong:
        kind = "a payments" if payments else "an invoices"
        raise HeaderError(f"mapping field(s) {', '.join(wrong)} do not apply to {kind} import")
    pos = _header_position(table, mapping, payments, mapped)
    line, cells = table.rows[pos]
    headers = [cell_text(c) for c in cells]
    index: dict[str, int] = {}
    for fld, header in mapped.items():
        hits = [i for i, h in enumerate(headers) if h == header] or [
            i for i, h in enumerate(headers) if normalise_header(h) == normalise_header(header)
        ]
        if not hits:
            raise HeaderError(
                f"the mapping names column {header!r} for {fld}, but the header row (line "
                f"{line}) has: {', '.join(repr(h) for h in headers if h)}"
            )
        if len(hits) > 1:
            raise HeaderError(f"column {header!r} appears {len(hits)} times on line {line}")
        index[fld] = hits[0]
    rest = [h if i not in index.values() else "" for i, h in enumerate(headers)]
    auto = match_headers(rest, [f for f in fields if f not in index], payments=payments)
    for fld, i in list(auto.items()):
        if AMBIGUOUS_HEADERS.get(normalise_header(headers[i])) == fld and not _all_parse(
            table, pos + 1, i, fld
        ):
            del auto[fld]
    index.update(auto)
    require_fields(index, PAYMENT_REQUIRED if payments else INVOICE_REQUIRED, mapped=bool(mapped))
    width = max((i for i, h in enumerate(headers) if h), default=-1) + 1
    names = {f: headers[i] for f, i in index.items()}
    return Columns(line, index, names, pos + 1, width, tuple(headers[:width]))


def _all_parse(table: RawTable, first: int, column: int, fld: str) -> bool:
    """Tell whether `column` holds values of `fld`: most of its non-empty cells read as such.

    A column of document types ("Facture", "Avoir") is not a debtor-type column; one with a
    stray value ("association" among particulier/professionnel) is, and that cell becomes a
    located bad row instead of the whole column being dropped (debtors silently businesses).
    """
    from assistant.importing.values import parse_kind

    parsers = {"debtor_type": parse_kind}
    parse = parsers[fld]
    good = bad = 0
    for _, cells in table.rows[first:]:
        if column < len(cells) and cell_text(cells[column]):
            try:
                parse(cells[column])
                good += 1
            except ValueError:
                bad += 1
    return good > bad


def _header_position(
    table: RawTable, mapping: ImportMapping | None, payments: bool, mapped: dict[str, str]
) -> int:
    if not table.rows:
        raise HeaderError("the file is empty")
    if mapping and mapping.header_row:
        for pos, (line, _) in enumerate(table.rows):
            if line == mapping.header_row:
                return pos
        raise HeaderError(f"header_row {mapping.header_row} is empty or beyond the file")
    scan = table.rows[:_HEADER_SCAN]
    if mapped:
        wanted = {normalise_header(h) for h in mapped.values()}
        for pos, (_, cells) in enumerate(scan):
            found = {normalise_header(cell_text(c)) for c in cells}
            if wanted <= found:
                return pos
    scores = [score_header_row([cell_text(c) for c in cells], payments) for _, cells in scan]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    if scores[best] < 2:
        raise HeaderError(
            "no header row recognised in the first lines; write a mapping file (--mapping) "
            "that names the columns"
        )
    return best
