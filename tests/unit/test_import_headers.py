"""French and English headers are recognised; ambiguity asks for a mapping file."""

from __future__ import annotations

import pytest

from assistant.importing.headers import (
    PAYMENT_FIELDS,
    HeaderError,
    locate_columns,
    match_headers,
    normalise_header,
    recognise,
    require_fields,
)
from assistant.importing.mapping import MappingError, parse_mapping
from assistant.importing.reading import RawTable


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("N° facture", "invoice_number"),
        ("Numéro de facture", "invoice_number"),
        ("N° pièce", "invoice_number"),
        ("No. facture", "invoice_number"),
        ("Invoice No", "invoice_number"),
        ("Invoice number", "invoice_number"),
        ("Invoice #", "invoice_number"),
        ("Date d'échéance", "due_date"),
        ("Échéance", "due_date"),
        ("ECHEANCE", "due_date"),
        ("Due date", "due_date"),
        ("Montant TTC", "amount"),
        ("Amount", "amount"),
        ("Reste dû", "outstanding"),
        ("Solde", "outstanding"),
        ("Balance", "outstanding"),
        ("Raison sociale", "debtor_name"),
        ("Customer", "debtor_name"),
        ("Code client", "debtor_ref"),
        ("Account", "debtor_ref"),
        ("Email", "debtor_email"),
        ("E-mail relance", "debtor_email"),
        ("SIREN", "debtor_siren"),
        ("Date pièce", "issue_date"),
        ("Date facture", "issue_date"),
        ("Devise", "currency"),
        ("Currency", "currency"),
        ("Date de règlement", "paid_date"),
        ("Paid date", "paid_date"),
        ("Type client", "debtor_type"),
        ("Langue", "debtor_language"),
        ("Grand compte", "key_account"),
        ("  Montant   TTC : ", "amount"),
    ],
)
def test_known_headers(header: str, field: str) -> None:
    assert recognise(header) == field


def test_normalisation_folds_case_accents_and_punctuation() -> None:
    assert normalise_header("N° de Facture :") == "n de facture"
    assert normalise_header("Date d'ÉCHÉANCE") == "date d echeance"


def test_unknown_headers_are_ignored() -> None:
    assert recognise("Commercial") is None
    assert match_headers(["Commercial", "N° facture"]) == {"invoice_number": 1}


def test_payment_words_only_in_payment_files() -> None:
    assert recognise("Montant réglé") is None
    assert recognise("Montant réglé", payments=True) == "amount"
    assert recognise("Référence paiement", payments=True) == "payment_ref"
    assert match_headers(["Référence"], PAYMENT_FIELDS, payments=True) == {"payment_ref": 0}


def test_two_headers_for_one_field_ask_for_a_mapping() -> None:
    with pytest.raises(HeaderError, match=r"amount ← 'Montant', 'Montant TTC'.*mapping"):
        match_headers(["N° facture", "Montant", "Montant TTC"])


def test_missing_required_field_is_named() -> None:
    with pytest.raises(HeaderError, match="due_date.*mapping"):
        require_fields({"invoice_number": 0}, [("invoice_number",), ("due_date",)], mapped=False)


def _table(*rows: list[str]) -> RawTable:
    return RawTable(
        rows=[(i, list(r)) for i, r in enumerate(rows, start=1)],
        source="t",
        kind="csv",
        delimiter=";",
    )


def test_header_row_found_below_a_title() -> None:
    table = _table(
        ["Balance âgée au 26/11/2026", ""],
        ["Société : X", ""],
        ["Code client", "N° facture", "Échéance", "Solde"],
        ["C1", "F1", "01/10/2026", "1"],
    )
    cols = locate_columns(table, None, payments=False)
    assert cols.header_line == 3
    assert cols.index == {"debtor_ref": 0, "invoice_number": 1, "due_date": 2, "outstanding": 3}


def test_mapping_names_columns_and_auto_fills_the_rest() -> None:
    mapping = parse_mapping('columns:\n  invoice_number: "Pièce n°"\n  due_date: "Ech."\n')
    table = _table(["Code client", "Pièce n°", "Ech.", "Montant TTC"])
    cols = locate_columns(table, mapping, payments=False)
    assert cols.index == {"invoice_number": 1, "due_date": 2, "debtor_ref": 0, "amount": 3}


def test_mapping_column_absent_from_file() -> None:
    mapping = parse_mapping('columns:\n  invoice_number: "Pièce"\n')
    table = _table(["Code client", "Numéro", "Échéance", "Montant TTC"])
    with pytest.raises(HeaderError, match="'Pièce' for invoice_number"):
        locate_columns(table, mapping, payments=False)


def test_mapping_errors_name_file_line_and_field() -> None:
    text = 'delimiter: ";"\ndecimal: ","\ncolumns:\n  debtor_ref: "Code"\n  debtr_name: "Nom"\n'
    with pytest.raises(MappingError) as info:
        parse_mapping(text, "sage.yaml")
    assert (
        str(info.value) == "sage.yaml:5: columns.debtr_name: unknown setting (check its spelling)"
    )


def test_mapping_rejects_bad_settings() -> None:
    text = 'delimiter: ":"\nencoding: klingon\ndate_format: "dd/mm/yyyy"\n'
    with pytest.raises(MappingError) as info:
        parse_mapping(text, "m.yaml")
    fields = {(i.line, i.field) for i in info.value.issues}
    assert fields == {(1, "delimiter"), (2, "encoding"), (3, "date_format")}


def test_mapping_same_header_twice() -> None:
    with pytest.raises(MappingError, match="same header"):
        parse_mapping('columns:\n  amount: "Montant"\n  outstanding: "Montant"\n')
