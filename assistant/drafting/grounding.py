"""Check model-written prose against the case facts and the policy's tone (pure).

The model writes only the prose of a letter; the facts blocks come from the templates. Any
amount, date, percentage, duration, invoice or reference number, IBAN or e-mail address in
the prose that the case facts do not hold is a blocking finding, and so is a tone that
breaks the policy: its forbidden words, threats, or formal-notice wording at a step that is
not the formal notice. No I/O, no clock, no model here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from assistant.domain import CENT, DebtorFacts, Finding, LetterFacts
from assistant.policy.schema import LadderStep, Policy

MAX_PROSE_CHARS = 2500

_MONTHS = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "fev": 2, "mar": 3, "apr": 4, "avr": 4, "jun": 6, "jul": 7, "juil": 7,
    "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_CUR = r"(?:€|eur|euros?|£|gbp|\$|usd|dollars?|chf|livres?|pounds?)"
_NUM = r"\d{1,3}(?:[ .,'’]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IBAN = re.compile(r"\b[a-z]{2}\d{2}(?:[ ]?[a-z0-9]{4}){2,7}(?:[ ]?[a-z0-9]{1,3})?\b")
_PERCENT = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)\s?(?:%|pour ?cent|per ?cent|percent)")
_ISO = re.compile(r"(?<![\d-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d-])")
_NUMERIC_DATE = re.compile(r"(?<![\d/.])(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?(?![\d/])")
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:er|st|nd|rd|th|e)?\s+(?:of\s+)?({_MONTH_RE})\b\.?(?:,?\s+(\d{{4}}))?"
)
_MONTH_DAY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?")
_MONEY = re.compile(
    rf"(?<![\w.,]){_CUR}\s?(?P<a>{_NUM})(?![\d])|(?<![\w.,])(?P<b>{_NUM})\s?(?:k\s?)?{_CUR}(?![a-z])"
    rf"|(?<![\w.,])(?P<c>\d{{1,3}}(?:[ .,'’]\d{{3}})+[.,]\d{{2}}|\d+[.,]\d{{2}})(?![\d%])"
)
_DURATION = re.compile(
    r"(?<![\w.,])(\d{1,4})\s?(?:jours?|days?|semaines?|weeks?|mois|months?|heures?|hours?)\b"
)
_REFERENCE = re.compile(
    r"(?:factures?|invoices?|avoirs?|credit notes?|n[°o]\.?|nº|num(?:ero|ber)?|ref(?:erence)?\.?|#)"
    r"\s*:?\s*([a-z0-9][\w/-]*\d[\w/-]*)"
    r"|\b([a-z]{1,6}[-/]?\d[\w]*(?:[-/][\w]+)+|[a-z]{1,6}\d{3,}|\d{3,}[-/]\d+(?:[-/]\d+)*)\b"
)
_BARE_NUMBER = re.compile(r"(?<![\w.,])\d[\d ,.'’]*\d(?![\w])|(?<![\w.,])\d(?![\w.,])")

# Intimidation: never in an amicable letter, whatever the step.
THREATS: tuple[str, ...] = (
    "vous le regretterez", "vous allez le regretter", "consequences graves", "graves consequences",
    "vos proches", "votre employeur", "votre famille", "rendre public", "publiquement",
    "liste noire", "mauvais payeur", "mauvais payeurs", "nous saurons", "derniere chance",
    "you will regret", "serious consequences", "your family", "your employer", "publicly",
    "public list", "blacklist", "blacklisted", "credit file", "credit rating", "credit score",
    "ruin", "last chance", "or else", "we know where",
)  # fmt: skip
# Legal escalation: only the formal notice may speak of it (and its template already does).
LEGAL_ESCALATION: tuple[str, ...] = (
    "poursuites", "poursuite judiciaire", "procedure judiciaire", "action en justice",
    "action judiciaire", "tribunal", "avocat", "contentieux", "injonction de payer",
    "recouvrement judiciaire", "justice", "legal action", "legal proceedings", "court",
    "lawsuit", "sue you", "solicitor", "solicitors", "lawyer", "lawyers", "litigation",
    "county court", "debt collectors", "collection agency", "enforcement",
)  # fmt: skip
# Wording of a formal notice or an ultimatum: out of place before the formal-notice step.
FORMAL_NOTICE_WORDING: tuple[str, ...] = (
    "mise en demeure", "mettre en demeure", "mettons en demeure", "met en demeure",
    "vaut mise en demeure", "sommation", "dernier rappel", "derniere relance",
    "dernier avertissement", "ultime relance", "ultimatum", "sans autre avis",
    "sans autre relance", "sans nouvel avis", "formal notice", "final demand", "final notice",
    "final reminder", "letter before action", "letter before claim", "last warning",
    "final warning", "without further notice", "without further warning",
)  # fmt: skip


def fold(text: str) -> str:
    """Lowercase, strip accents and unify apostrophes and spaces (same meaning, comparable)."""
    text = text.replace("\u2019", "'").replace("\u00a0", " ").replace("\u202f", " ")
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _phrase_regex(phrases: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({fold(p).strip() for p in phrases if p and p.strip()}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)")


_THREAT_RE = _phrase_regex(THREATS)
_LEGAL_RE = _phrase_regex(LEGAL_ESCALATION)
_FORMAL_RE = _phrase_regex(FORMAL_NOTICE_WORDING)


def _amount(token: str) -> Decimal | None:
    s = re.sub(r"[ '’]", "", token)
    if "," in s and "." in s:
        s = (
            s.replace(".", "").replace(",", ".")
            if s.rfind(",") > s.rfind(".")
            else s.replace(",", "")
        )
    elif "," in s:
        head, _, tail = s.rpartition(",")
        s = s.replace(",", "") if len(tail) == 3 else f"{head.replace(',', '')}.{tail}"
    elif s.count(".") > 1 or (s.count(".") == 1 and len(s.rpartition(".")[2]) == 3):
        s = s.replace(".", "")
    try:
        return Decimal(s).quantize(CENT)
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class Allowed:
    """What the prose may state: the case facts and the policy's own strings."""

    amounts: frozenset[Decimal] = frozenset()
    dates: frozenset[date] = frozenset()
    percents: frozenset[Decimal] = frozenset()
    integers: frozenset[int] = frozenset()
    references: frozenset[str] = frozenset()
    ibans: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    texts: tuple[str, ...] = field(default_factory=tuple)  # folded policy strings (addresses…)


def allowed_facts(
    facts: LetterFacts, policy: Policy, step: LadderStep, debtor: DebtorFacts
) -> Allowed:
    """Collect every figure and identifier the prose may repeat."""
    amounts = {facts.total_outstanding, *facts.extra_amounts}
    dates = {facts.letter_date, *facts.extra_dates}
    integers = {len(facts.invoices), policy.terms.payment_terms_days, step.deadline_days or 8}
    for inv in facts.invoices:
        amounts |= {inv.amount, inv.outstanding}
        dates |= {d for d in (inv.due_date, inv.issue_date, inv.paid_date) if d}
        integers.add(inv.days_late(facts.letter_date))
    if facts.deadline:
        dates.add(facts.deadline)
    percents: set[Decimal] = set()
    pen = facts.penalties
    if pen is not None:
        amounts |= {pen.interest, pen.indemnity, pen.total, facts.total_outstanding + pen.total}
        for _, interest, indemnity in pen.per_invoice:
            amounts |= {interest, indemnity}
        if pen.rate_percent is not None:
            percents.add(Decimal(pen.rate_percent).quantize(CENT))
    amounts.add(policy.terms.indemnity_amount)
    creditor, agency = policy.creditor, policy.agency
    refs = {facts.case_ref, *(i.number for i in facts.invoices)}
    emails = {e for e in (creditor.email, agency.email if agency else None, *debtor.emails) if e}
    texts = [creditor.name, creditor.address, creditor.phone or "", creditor.siren or ""]
    if agency:
        texts += [
            agency.name,
            agency.address,
            agency.phone or "",
            agency.siren or "",
            agency.mandate_reference,
        ]
    return Allowed(
        amounts=frozenset(a.quantize(CENT) for a in amounts),
        dates=frozenset(dates),
        percents=frozenset(percents),
        integers=frozenset(integers),
        references=frozenset(fold(r) for r in refs),
        ibans=frozenset({re.sub(r"\s", "", fold(creditor.iban))} if creditor.iban else set()),
        emails=frozenset(fold(e) for e in emails),
        texts=tuple(fold(t) for t in texts if t),
    )


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for s, e in spans:
        for i in range(s, e):
            chars[i] = " "
    return "".join(chars)


def _date_ok(day: int, month: int, year: int | None, allowed: frozenset[date]) -> bool:
    return any(
        d.day == day and d.month == month and (year is None or d.year == year) for d in allowed
    )


def _year(token: str | None) -> int | None:
    if not token:
        return None
    y = int(token)
    return y + 2000 if y < 100 else y


def check_grounding(prose: str, allowed: Allowed) -> list[Finding]:
    """Return a blocking finding for each figure or identifier the facts do not hold."""
    findings: list[Finding] = []
    text = fold(prose)
    for t in allowed.texts:  # the policy's own strings (addresses, phones) are not inventions
        if len(t) >= 6:
            text = text.replace(t, " " * len(t))

    def flag(code: str, what: str) -> None:
        findings.append(
            Finding(code, f"The model's prose states {what}, which the case facts do not hold.")
        )

    used: list[tuple[int, int]] = []
    for m in _EMAIL.finditer(text):
        used.append(m.span())
        if m.group(0).rstrip(".") not in allowed.emails:
            flag("invented_email", f"the e-mail address {m.group(0)!r}")
    text = _blank(text, used)
    used = []
    for m in _IBAN.finditer(text):
        if sum(c.isdigit() for c in m.group(0)) < 10:
            continue
        used.append(m.span())
        if re.sub(r"\s", "", m.group(0)) not in allowed.ibans:
            flag("invented_iban", f"the IBAN {m.group(0).upper()!r}")
    text = _blank(text, used)
    used = []
    for rx in (_ISO,):
        for m in rx.finditer(text):
            used.append(m.span())
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if not _date_ok(d, mo, y, allowed.dates):
                flag("invented_date", f"the date {m.group(0)!r}")
    for m in _DAY_MONTH.finditer(text):
        used.append(m.span())
        if not _date_ok(int(m.group(1)), _MONTHS[m.group(2)], _year(m.group(3)), allowed.dates):
            flag("invented_date", f"the date {m.group(0).strip()!r}")
    for m in _MONTH_DAY.finditer(text):
        if any(s <= m.start() < e for s, e in used):
            continue
        used.append(m.span())
        if not _date_ok(int(m.group(2)), _MONTHS[m.group(1)], _year(m.group(3)), allowed.dates):
            flag("invented_date", f"the date {m.group(0).strip()!r}")
    text = _blank(text, used)
    used = []
    for m in _NUMERIC_DATE.finditer(text):
        a, b = int(m.group(1)), int(m.group(2))
        if not (1 <= a <= 31 and 1 <= b <= 12) and not (1 <= b <= 31 and 1 <= a <= 12):
            continue
        if m.group(3) is None and "." in m.group(0):
            continue  # "12.50" is an amount, not a date
        used.append(m.span())
        year = _year(m.group(3))
        if not (_date_ok(a, b, year, allowed.dates) or _date_ok(b, a, year, allowed.dates)):
            flag("invented_date", f"the date {m.group(0)!r}")
    text = _blank(text, used)
    used = []
    for m in _PERCENT.finditer(text):
        used.append(m.span())
        if _amount(m.group(1)) not in allowed.percents:
            flag("invented_percentage", f"the percentage {m.group(0).strip()!r}")
    text = _blank(text, used)
    used = []
    for m in _REFERENCE.finditer(text):
        ref = (m.group(1) or m.group(2) or "").strip("-/.")
        if not ref or ref in allowed.references:
            used.append(m.span())
            continue
        if m.group(2) and not any(c.isalpha() for c in ref) and "/" in ref:
            continue  # "12/2026" style: left to the date and number checks
        if m.group(1) and _amount(ref) is not None and not any(c.isalpha() for c in ref):
            if "-" not in ref and "/" not in ref:
                continue  # "invoice of 1250": a figure, checked as an amount below
        used.append(m.span())
        flag("invented_reference", f"the invoice or reference number {ref.upper()!r}")
    text = _blank(text, used)
    used = []
    for m in _MONEY.finditer(text):
        used.append(m.span())
        token = m.group("a") or m.group("b") or m.group("c")
        value = _amount(token)
        if value is not None and "k" in m.group(0).replace(token, "") and m.group("b"):
            value = (value * 1000).quantize(CENT)
        if value not in allowed.amounts:
            flag("invented_amount", f"the amount {m.group(0).strip()!r}")
    text = _blank(text, used)
    used = []
    for m in _DURATION.finditer(text):
        used.append(m.span())
        if int(m.group(1)) not in allowed.integers:
            flag("invented_duration", f"the duration {m.group(0).strip()!r}")
    text = _blank(text, used)
    years = {d.year for d in allowed.dates}
    for m in _BARE_NUMBER.finditer(text):
        value = _amount(m.group(0))
        if value is None:
            continue
        if value in allowed.amounts or (
            value == value.to_integral_value() and int(value) in allowed.integers | years
        ):
            continue
        if value < 100 and value == value.to_integral_value():
            continue  # small counts ("2 factures", "3 échanges") carry no money or date
        flag("invented_number", f"the figure {m.group(0).strip()!r}")
    return findings


def check_tone(prose: str, policy: Policy, step: LadderStep) -> list[Finding]:
    """Return blocking findings for forbidden words, threats and misplaced formal wording."""
    findings: list[Finding] = []
    text = fold(prose)
    forbidden = _phrase_regex(policy.voice.forbidden_words)
    if forbidden is not None:
        for word in sorted({m.group(0) for m in forbidden.finditer(text)}):
            findings.append(
                Finding("forbidden_word", f"The prose uses the forbidden word {word!r}.")
            )
    if _THREAT_RE is not None:
        for phrase in sorted({m.group(0) for m in _THREAT_RE.finditer(text)}):
            findings.append(Finding("threat", f"The prose sounds like a threat: {phrase!r}."))
    if not step.formal_notice:
        for rx, code, what in (
            (_LEGAL_RE, "legal_escalation", "speaks of legal action"),
            (_FORMAL_RE, "formal_notice_tone", "sounds like a formal notice"),
        ):
            if rx is None:
                continue
            for phrase in sorted({m.group(0) for m in rx.finditer(text)}):
                findings.append(
                    Finding(
                        code,
                        f"Step {step.name} is not the formal notice, yet the prose {what}: {phrase!r}.",
                    )
                )
    if len(prose) > MAX_PROSE_CHARS:
        findings.append(
            Finding(
                "long_prose", f"The prose is {len(prose)} characters long (max {MAX_PROSE_CHARS})."
            )
        )
    if re.search(r"\{\{|\{%|\}\}|%\}", prose):
        findings.append(Finding("template_code", "The prose contains template code."))
    return findings


def check_prose(
    prose: str, facts: LetterFacts, *, policy: Policy, step: LadderStep, debtor: DebtorFacts
) -> list[Finding]:
    """Run the grounding and tone checks on model-written prose."""
    return check_grounding(prose, allowed_facts(facts, policy, step, debtor)) + check_tone(
        prose, policy, step
    )
