"""Check a draft letter against the case facts, the policy and the law (pure).

Runs on every rendered draft and again after an officer edits the text: it reads the text
as a reader would (amounts, dates, invoice numbers, wording) and never trusts the template.
It must not render, store or send anything.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import lru_cache

from assistant.domain import (
    CENT,
    CaseState,
    DebtorFacts,
    Finding,
    LetterFacts,
)
from assistant.letters.facts_json import facts_to_dict, letter_facts_from_dict
from assistant.letters.figures import (
    find_invoice_numbers,
    invoice_shape,
    read_figures,
)
from assistant.letters.form_checks import announces_attachment, check_attachments, check_mail
from assistant.letters.formatting import formatter, locale_for
from assistant.letters.legal import (
    AMOUNT_SPLIT_LABELS,
    CONTRADICTORY_NO_FEES,
    L111_8_PARAGRAPHS,
    NO_FEES_STATEMENT,
    r124_4_applies,
)
from assistant.letters.penalties import effective_terms, penalties_allowed, penalties_waived
from assistant.letters.render import Letter, letter_language
from assistant.policy.schema import LadderStep, Policy

# Court-like wording and threats, never allowed in an amicable letter (compared without
# accents or case, on word boundaries). Policies add their own `voice.forbidden_words`.
BANNED_PHRASES: tuple[str, ...] = (
    # French
    "huissier",
    "huissiers",
    "commissaire de justice",
    "commandement de payer",
    "commandement",
    "sommation",
    "avis avant saisie",
    "saisie",
    "saisies",
    "saisie-attribution",
    "plainte penale",
    "poursuites penales",
    "casier judiciaire",
    "prison",
    "gendarmerie",
    "fichier des mauvais payeurs",
    "dernier avertissement avant",
    # English
    "bailiff",
    "bailiffs",
    "enforcement agent",
    "enforcement agents",
    "seizure",
    "seize",
    "repossess",
    "repossession",
    "criminal",
    "arrest",
    "arrested",
    "prosecution",
    "prosecute",
    "jail",
    "we will take you to court",
    "take you to court",
    "wage garnishment",
    "garnish",
    "final warning before",
)
PENALTY_WORDS: tuple[str, ...] = (
    "penalites de retard",
    "interets de retard",
    "indemnite forfaitaire",
    "late-payment interest",
    "late payment interest",
    "statutory interest",
    "fixed recovery indemnity",
    "fixed indemnity",
    "fixed-sum compensation",
)
LONG_TEXT_CHARS = 8000

_WORD = re.compile(r"\w+")
# The spaces that folding may drop: every Unicode whitespace outside ASCII but the no-break
# spaces, which fold to plain ones (a test checks the list against `\s` over all of Unicode).
# Looked for one by one: a text of one byte per character rules out all but U+0085 at once.
UNUSUAL_SPACES = (
    "\u0085\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u205f\u3000"
)


def _has_unusual_space(text: str) -> bool:
    return not text.isascii() and any(space in text for space in UNUSUAL_SPACES)


_MASK = " ¦ "


def _plain_quotes(text: str) -> str:
    return (
        text.replace("\u2019", "'")
        .replace("\u2018", "'")
        .replace("\u00a0", " ")
        .replace("\u202f", " ")
    )


# ---------------------------------------------------------------- text helpers
def _fold(text: str) -> str:
    """Lower-case, drop accents and non-ASCII signs, plain apostrophes: for wording checks."""
    decomposed = unicodedata.normalize("NFKD", _plain_quotes(text).casefold())
    return decomposed.encode("ascii", "ignore").decode("ascii")


def _squash(text: str) -> str:
    return " ".join(_plain_quotes(text).split())


_FOLDED_L111_8 = tuple(_fold(_squash(p)) for p in L111_8_PARAGRAPHS)
_SQUASHED_L111_8 = tuple(_squash(p) for p in L111_8_PARAGRAPHS)


@lru_cache(maxsize=1024)
def _folded_constant(text: str) -> str:
    """Return `_fold(_squash(text))` for a text that repeats across letters (cached)."""
    return _fold(_squash(text))


@lru_cache(maxsize=1024)
def _squashed_constant(text: str) -> str:
    """Return `_squash(text)` for a text that repeats across letters (cached)."""
    return _squash(text)


@lru_cache(maxsize=256)
def _folded_phrases(words: tuple[str, ...]) -> tuple[str, ...]:
    """Return the folded form of each word or phrase (empty ones dropped)."""
    return tuple(f for f in (" ".join(_fold(w).split()) for w in words) if f)


def _phrase_hits(folded: str, phrases: tuple[str, ...]) -> list[str]:
    """Return the phrases present in `folded` as whole words."""
    hits = []
    for phrase in _folded_phrases(phrases):
        index = folded.find(phrase)
        while index != -1:
            end = index + len(phrase)
            if (index == 0 or not folded[index - 1].isalnum()) and (
                end == len(folded) or not folded[end].isalnum()
            ):
                hits.append(phrase)
                break
            index = folded.find(phrase, index + 1)
    return hits


# An invoice number's shape depends only on where its ASCII digits are, not on their
# values: the shapes are cached by the number with those digits turned to zeros.
_ZEROS = str.maketrans("123456789", "000000000")


@lru_cache(maxsize=4096)
def _shape(zeroed: str) -> str | None:
    return invoice_shape(zeroed)


@lru_cache(maxsize=1024)
def _alternation(shapes: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(shapes))


def _invoice_regex(numbers: tuple[str, ...]) -> re.Pattern[str] | None:
    shapes = sorted({s for s in (_shape(n.translate(_ZEROS)) for n in numbers) if s})
    return _alternation(tuple(shapes)) if shapes else None


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


_POLICY_STRINGS: dict[int, tuple[Policy, tuple[str, ...]]] = {}


def _identity_strings(policy: Policy) -> tuple[str, ...]:
    """Return the policy's own texts (names, addresses, IBAN, phones…), cached per policy."""
    cached = _POLICY_STRINGS.get(id(policy))
    if cached is not None and cached[0] is policy:
        return cached[1]
    c = policy.creditor
    items: list[str | None] = [
        *L111_8_PARAGRAPHS,
        c.name, c.address, c.email, c.phone, c.siren, c.iban, c.bic, c.bank_name,
        c.payment_url, c.sender_name, policy.voice.sign_off, *policy.voice.signature,
    ]  # fmt: skip
    for other in policy.voice.translations.values():
        items += [other.sign_off, *(other.signature or ())]
    if policy.agency is not None:
        a = policy.agency
        items += [a.name, a.address, a.email, a.phone, a.siren, a.mandate_reference]
    found = {s for s in items if s and len(s) >= 2}
    found |= {s.replace(" ", "") for s in (c.iban, c.phone) if s and " " in s}
    strings = tuple(sorted(found, key=len, reverse=True))
    if len(_POLICY_STRINGS) > 64:
        _POLICY_STRINGS.clear()
    _POLICY_STRINGS[id(policy)] = (policy, strings)
    return strings


def _masked(text: str, policy: Policy, debtor: DebtorFacts, case: CaseState) -> str:
    """Blank out texts known to be safe (identities, references) before reading figures."""
    own = (debtor.name, *debtor.emails, case.ref, case.first_letter_ref)
    for needle in (*_identity_strings(policy), *sorted(filter(None, own), key=len, reverse=True)):
        if len(needle) >= 2 and needle in text:
            text = text.replace(needle, _MASK)
    return text


# ---------------------------------------------------------------- dates
def _allowed_dates(facts: LetterFacts, case: CaseState) -> set[date]:
    allowed = {facts.letter_date, *facts.extra_dates}
    if facts.deadline:
        allowed.add(facts.deadline)
    if case.first_letter_on:
        allowed.add(case.first_letter_on)
    for inv in facts.invoices:
        allowed.add(inv.due_date)
        if inv.issue_date:
            allowed.add(inv.issue_date)
    return allowed


# ---------------------------------------------------------------- the checks
def _check_wording(
    folded: str,
    policy: Policy,
    findings: list[Finding],
    voice_words: tuple[str, ...],
) -> None:
    seen: set[str] = set()
    for phrase in _phrase_hits(folded, BANNED_PHRASES):
        if phrase not in seen:
            seen.add(phrase)
            findings.append(
                Finding(
                    "banned_phrase",
                    f"The wording « {phrase} » sounds like a court document or a threat "
                    "and is not allowed in an amicable letter.",
                )
            )
    for phrase in _phrase_hits(folded, voice_words):
        if phrase not in seen:
            seen.add(phrase)
            findings.append(
                Finding(
                    "forbidden_word",
                    f"The word « {phrase} » is forbidden by the policy of {policy.creditor.name}.",
                )
            )


def _check_r124_4(
    flat: str,
    folded: str,
    facts: LetterFacts,
    policy: Policy,
    case: CaseState,
    language: str,
    findings: list[Finding],
) -> None:
    agency = policy.agency
    assert agency is not None

    def missing(what: str) -> None:
        findings.append(
            Finding("missing_r124_4", f"Agency letters must state {what} (article R124-4 CPCE).")
        )

    def absent(value: str) -> bool:
        return _folded_constant(value) not in folded

    for index, paragraph in enumerate(_SQUASHED_L111_8, start=2):
        if paragraph not in flat:
            missing(f"paragraph {index} of article L111-8 word for word; it is missing or altered")
    if absent(agency.name):
        missing(f"the agency's name ({agency.name})")
    if absent(agency.address):
        missing(f"the agency's address ({agency.address})")
    statement = agency.activity_statement if language == "fr" else "amicable debt recovery"
    if absent(statement) and absent(agency.activity_statement):
        missing("that the agency performs amicable debt recovery")
    if absent(policy.creditor.name):
        missing(f"the creditor's name ({policy.creditor.name})")
    if absent(policy.creditor.address):
        missing(f"the creditor's address ({policy.creditor.address})")
    if absent(agency.mandate_reference):
        missing(f"the mandate reference ({agency.mandate_reference})")
    labels = AMOUNT_SPLIT_LABELS.get(language, AMOUNT_SPLIT_LABELS["fr"])
    if any(
        f"{_folded_constant(label)} :" not in folded and f"{_folded_constant(label)}:" not in folded
        for label in labels
    ):
        missing("the amount split into principal, interest and other sums")
    if absent(NO_FEES_STATEMENT.get(language, NO_FEES_STATEMENT["fr"])):
        missing("that the cost of the amicable recovery stays with the creditor (L111-8)")
    claims = facts.penalties is not None and facts.penalties.total > 0
    if claims and any(not absent(p) for p in CONTRADICTORY_NO_FEES):
        findings.append(
            Finding(
                "contradictory_fees",
                "The letter claims late-payment interest or the recovery indemnity, then says "
                "no recovery costs are payable: state the L111-8 rule instead.",
            )
        )
    for inv in facts.invoices:
        if inv.number not in flat:
            missing(f"the basis of the debt: invoice {inv.number} is not named")
    later = case.last_contact_on or case.contact_dates or case.first_letter_on
    if case.first_letter_ref and later and case.first_letter_ref not in flat:
        missing(f"the reference of the first letter ({case.first_letter_ref})")


def _check_penalties(
    folded: str,
    facts: LetterFacts,
    policy: Policy,
    debtor: DebtorFacts,
    findings: list[Finding],
) -> None:
    claims = facts.penalties is not None and facts.penalties.total > 0
    if not claims and not _phrase_hits(folded, PENALTY_WORDS):
        return
    terms = effective_terms(policy, debtor.ref)
    if debtor.kind == "consumer":
        findings.append(
            Finding(
                "penalties_to_consumer",
                f"{debtor.name} is a consumer: late-payment penalties and the recovery "
                "indemnity cannot be claimed from a consumer.",
            )
        )
    elif penalties_waived(terms, debtor) or not penalties_allowed(terms, debtor):
        findings.append(
            Finding(
                "penalties_waived",
                f"Penalties are waived for {debtor.name} under the policy of "
                f"{policy.creditor.name}, but the letter claims them.",
            )
        )


def _check_figures(
    whole: str,
    facts: LetterFacts,
    policy: Policy,
    debtor: DebtorFacts,
    case: CaseState,
    locale: str,
    findings: list[Finding],
) -> None:
    fmt = formatter(locale)
    work = _masked(whole, policy, debtor, case)

    # Invoice numbers first: they are identifiers, not figures.
    pattern = _invoice_regex(tuple(inv.number for inv in facts.invoices))
    if pattern is not None:
        known = {inv.number for inv in facts.invoices}
        found = find_invoice_numbers(work, pattern)
        for number, _, _ in found:
            if number not in known:
                findings.append(
                    Finding(
                        "unknown_invoice",
                        f"Invoice {number} is not one of the invoices of this case.",
                    )
                )
        for _, start, end in reversed(found):
            work = work[:start] + _MASK + work[end:]

    allowed_dates = _allowed_dates(facts, case)
    allowed_dm = {(d.day, d.month) for d in allowed_dates}
    amounts = _allowed_amounts(facts)
    rate = facts.penalties.rate_percent if facts.penalties else None
    written: set[date] = set()
    reported: set[object] = set()
    for fig in read_figures(work, fmt.month_first):
        if fig.kind == "date" and fig.when is not None:
            written.add(fig.when)
            if fig.when not in allowed_dates and fig.when not in reported:
                reported.add(fig.when)
                findings.append(
                    Finding(
                        "date_mismatch",
                        f"The date {fmt.date(fig.when)} is not a date of this case "
                        "(invoice dates, letter date, deadline).",
                    )
                )
        elif fig.kind == "day_month" and fig.day_month not in allowed_dm:
            findings.append(
                Finding("date_mismatch", f"The date « {fig.shown} » matches no date of this case.")
            )
        elif fig.kind == "bad_date":
            findings.append(Finding("date_mismatch", f"« {fig.shown} » is not a valid date."))
        elif fig.kind == "percent":
            if rate is None:
                findings.append(
                    Finding(
                        "unexpected_percentage",
                        f"The letter mentions a rate ({fig.shown}) although no interest is "
                        "claimed.",
                        blocking=False,
                    )
                )
            elif fig.amount != _cents(rate):
                findings.append(
                    Finding(
                        "rate_mismatch",
                        f"The rate {fig.shown} is not the late-interest rate used for this "
                        f"case ({fmt.percent(rate)}).",
                    )
                )
        elif fig.kind == "amount" and fig.amount is not None:
            if fig.amount in amounts or fig.amount in reported:
                continue
            reported.add(fig.amount)
            findings.append(
                Finding(
                    "amount_mismatch",
                    f"The amount {fmt.money(fig.amount, facts.currency)} is not in the ledger "
                    "for this case.",
                )
            )
    if facts.deadline and facts.deadline not in written:
        findings.append(
            Finding(
                "missing_deadline",
                f"The formal notice must state its deadline ({fmt.date(facts.deadline)}).",
            )
        )


def _allowed_amounts(facts: LetterFacts) -> set[Decimal]:
    amounts = {Decimal("0.00"), _cents(facts.total_outstanding)}
    amounts.update(_cents(a) for a in facts.extra_amounts)
    for inv in facts.invoices:
        amounts.add(_cents(inv.amount))
        amounts.add(_cents(inv.outstanding))
    pen = facts.penalties
    if pen is not None:
        amounts.update(_cents(x) for x in (pen.interest, pen.indemnity, pen.total))
        amounts.add(_cents(facts.total_outstanding + pen.total))
        for _, interest, indemnity in pen.per_invoice:
            amounts.update((_cents(interest), _cents(indemnity)))
    return amounts


def _check_contacts(
    policy: Policy, step: LadderStep, case: CaseState, on: date, findings: list[Finding]
) -> None:
    cap = policy.contact_cap
    recent = [d for d in case.contact_dates if 0 <= (on - d).days < cap.per_days]
    if len(recent) >= cap.max_messages:
        findings.append(
            Finding(
                "contact_cap",
                f"{len(recent)} message(s) already sent in the last {cap.per_days} days: the "
                f"policy allows at most {cap.max_messages}.",
            )
        )
    if case.last_contact_on is not None:
        gap = (on - case.last_contact_on).days
        if gap < step.min_days_since_previous:
            findings.append(
                Finding(
                    "min_interval",
                    f"The last contact was {gap} day(s) ago; step {step.name} needs at least "
                    f"{step.min_days_since_previous} days between two contacts.",
                )
            )


def validate_text(
    subject: str,
    text: str,
    facts: LetterFacts,
    *,
    policy: Policy,
    debtor: DebtorFacts,
    case: CaseState,
    on: date,
    step: LadderStep | str,
    attachments: tuple[str, ...] | None = None,
) -> list[Finding]:
    """Check a subject and plain-text body against the facts, the policy and the law.

    `attachments` lists what the draft's PDF holds (see `Letter.attachments`); None skips
    the check of attachments the text announces.
    """
    if isinstance(step, str):
        try:
            step = policy.step(step)
        except KeyError:
            return [Finding("template_error", f"The step {step!r} is not in the ladder.")]
    findings: list[Finding] = []
    whole = subject + "\n" + text
    if "{{" in whole or "{%" in whole or "}}" in whole:
        findings.append(
            Finding(
                "template_error", "The letter still contains template code ({{ … }} or {% … %})."
            )
        )
    language = letter_language(policy, debtor)
    locale = locale_for(language, policy.jurisdiction)
    flat = _squash(text)
    folded_whole = _fold(subject) + "\n" + _fold(flat)
    wording = folded_whole
    for paragraph in _FOLDED_L111_8:  # the law's own words may use forbidden ones
        wording = wording.replace(paragraph, " ")

    _check_wording(wording, policy, findings, tuple(policy.voice.forbidden_words))
    if r124_4_applies(policy.mode, policy.jurisdiction):
        _check_r124_4(flat, folded_whole, facts, policy, case, language, findings)
    _check_penalties(wording, facts, policy, debtor, findings)
    _check_figures(whole, facts, policy, debtor, case, locale, findings)
    _check_contacts(policy, step, case, on, findings)
    findings += check_mail(policy, step, debtor, language)
    # The words announcing an attachment hold no space but one plain one: with only ASCII
    # spaces in the text (no-break spaces count as plain), the folded text as written has
    # one only where the squashed one has it too. So where neither holds, none is needed.
    if attachments is not None and (announces_attachment(folded_whole) or _has_unusual_space(text)):
        findings += check_attachments(_fold(subject) + "\n" + _fold(text), attachments)

    if not policy.creditor.iban and not policy.creditor.payment_url:
        findings.append(
            Finding(
                "no_payment_instructions",
                "The policy gives no IBAN or payment link: the letter cannot say how to pay.",
                blocking=False,
            )
        )
    if len(text) > LONG_TEXT_CHARS:
        findings.append(
            Finding(
                "long_text", f"The letter is very long ({len(text)} characters).", blocking=False
            )
        )
    sign_offs = [policy.voice.sign_off] + [t.sign_off for t in policy.voice.translations.values()]
    if not any(_squashed_constant(s) in flat for s in sign_offs):
        findings.append(
            Finding("missing_sign_off", "The policy's sign-off is missing.", blocking=False)
        )
    if facts.case_ref not in subject:
        findings.append(
            Finding(
                "missing_case_token",
                f"The subject lacks the case token [{facts.case_ref}]: replies may not be matched.",
                blocking=False,
            )
        )
    return findings


def validate_letter(
    letter: Letter, *, policy: Policy, debtor: DebtorFacts, case: CaseState, on: date
) -> list[Finding]:
    """Check a rendered letter; see `validate_text`."""
    return validate_text(
        letter.subject,
        letter.text,
        letter.facts,
        policy=policy,
        debtor=debtor,
        case=case,
        on=on,
        step=letter.step,
        attachments=letter.attachments,
    )


__all__ = [
    "BANNED_PHRASES",
    "facts_to_dict",
    "letter_facts_from_dict",
    "validate_letter",
    "validate_text",
    "blocking",
]


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """Return the findings that prevent approval."""
    return [f for f in findings if f.blocking]
