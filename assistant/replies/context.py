"""Context around dates, amounts and invoice numbers in a reply: what they refer to.

A date after "facture du" is the invoice's date, an amount after "sur les" or before "dus" is
the debt, not what is promised; "soit le 31" restates the date before it; "dès réception"
makes a time conditional. Pure helpers over normalised text (see `text.normalise`).
"""

from __future__ import annotations

import re

from .amounts import AmountHit
from .analysis import CaseContext
from .dates import DateHit
from .intents import sentence_index

REFERENCE_DATE = re.compile(
    r"(?:\b(?:factures?|invoices?|commande|order|courrier|lettre|letter|relance|rappel|reminder|"
    r"mail|e-mail|email|message|avis|livraison|delivery|devis|quote|contrat|echeance)\s+"
    r"(?:du|de|en date du|of|dated|from|on|sent on|issued on|emise? le|datee? du)\s*(?:the\s*)?"
    r"|\b(?:depuis|since|dernier|last|echue|due|dated|datee?|"
    r"(?<!sera )(?<!seront )(?<!etre )(?<!be )(?:emise?s?|issued))\s*(?:le |on |the |du )?)$"
)
REFERENCE_AFTER = re.compile(r"^\s*(?:dernier|derniere|passee?|ago|last)\b")
CONTEXT_AMOUNT = re.compile(
    r"(?:relance|rappel|reminder|concernant|regarding|re:|sur (?:les|un total de|la somme de)|"
    r"out of|total|au lieu de|instead of|encours|sur les|of the)\s*(?:de |of |:)?\s*$"
)
OWED_AFTER = re.compile(r"^\s*(?:dus?|dues?|owed|outstanding|restant|restants|en retard|overdue)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
INVOICE_REF = re.compile(
    r"\b(?:factures?|fact\.?|invoices?|inv\.?|fa)\s*(?:n[°o]\.?|nº|num(?:[ée]ro|ber)?\.?|#|ref\.?)?"
    r"\s*:?\s*([A-Z]{0,5}[-/]?\d[\w/-]*\d|\d{3,})"
    r"|\b((?:[A-Z]{1,5}-?\d{2,}(?:[-/]\d+)+)|(?:INV|FA|F|FAC|FCT)-?\d{3,})\b",
    re.IGNORECASE,
)
APPOSITION = re.compile(
    r"\b(?:soit|i\.?e\.?|that is|namely|c'est-a-dire|c-a-d|autrement dit)\W*(?:le |on |the |au )?$"
)
CONDITIONAL = re.compile(
    r"\bdes (?:encaissement|reception|que|qu'|notre|le retour|validation)|\ba reception\b|"
    r"\bupon (?:receipt|receiving)\b|\bonce (?:we|our|the|i)\b|\bas soon as (?:we|our|the|i)\b|"
    r"\bwhen (?:we|our|the|i)\b|\blorsque\b|\bquand (?:nous|notre|le|la|j)|\bsi (?:nous|notre|le|la)\b|"
    r"\bif (?:we|our|the)\b"
)
CLAUSE_BREAK = re.compile(r"[,;:]|\b(?:mais|but|however|par contre|en revanche|whereas)\b")
US_HINT = re.compile(r"\$|\busd\b|\bdollars?\b|\bus\$")


def is_reference_date(norm: str, hit: DateHit) -> bool:
    """Tell whether a date names a past document or event ("facture du 15/10", "last Friday")."""
    before = norm[max(0, hit.start - 25) : hit.start]
    after = norm[hit.end : hit.end + 12]
    return bool(REFERENCE_DATE.search(before) or REFERENCE_AFTER.match(after))


def is_context_amount(norm: str, hit: AmountHit) -> bool:
    """Tell whether an amount is the debt being talked about rather than a payment."""
    before = norm[max(0, hit.start - 25) : hit.start]
    return bool(CONTEXT_AMOUNT.search(before) or OWED_AFTER.match(norm[hit.end : hit.end + 20]))


def invoice_refs(text: str, case: CaseContext) -> list[tuple[int, str]]:
    """Return (position, number) of the invoice numbers named in the text, in order."""
    refs = [(m.start(), (m.group(1) or m.group(2)).upper()) for m in INVOICE_REF.finditer(text)]
    low = text.lower()
    for number in case.invoice_numbers:
        pos = low.find(number.lower())
        if pos >= 0:
            refs.append((pos, number))
    return sorted(refs)


def _clause(norm: str, spans: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    sent = sentence_index(spans, pos)
    start = spans[sent][0] if spans else 0
    return sent, len(CLAUSE_BREAK.findall(norm, start, pos))


def disputed_invoices(
    text: str,
    norm: str,
    spans: list[tuple[int, int]],
    dispute_cues: list[int],
    case: CaseContext,
) -> list[str]:
    """Return the invoice numbers named in the disputing clause (else sentence, else reply)."""
    refs = invoice_refs(text, case)
    clauses = {_clause(norm, spans, pos) for pos in dispute_cues}
    sentences = {sentence_index(spans, pos) for pos in dispute_cues}
    chosen = (
        [r for pos, r in refs if _clause(norm, spans, pos) in clauses]
        or [r for pos, r in refs if sentence_index(spans, pos) in sentences]
        or [r for _, r in refs]
    )
    return list(dict.fromkeys(chosen))


_BOUNDED_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,6}")
_SIGNATURE_LINE = re.compile(
    r"^\s*(?:e-?mail|mail|courriel|m|e|web|site)\s*[:.]|\b(?:tel|tél|phone|mob|fax|port)\b\s*[:.]?"
    r"\s*[+\d(]",
    re.IGNORECASE,
)


def new_contacts(text: str) -> list[str]:
    """Return the addresses a reply gives as contacts (signature lines like "Email: …" left out)."""
    found: list[str] = []
    for line in text.splitlines():
        if "@" not in line:
            continue
        if _SIGNATURE_LINE.search(line) and len(line) < 90:
            continue
        for m in _BOUNDED_EMAIL.finditer(line):
            addr = m.group(0).strip(".").lower()
            if addr not in found:
                found.append(addr)
    return found
