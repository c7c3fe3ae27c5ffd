"""Render a ladder letter (subject, text, HTML and optional PDF) from templates and facts.

Pure apart from reading templates once: the caller passes the date, the policy and the
ledger facts. Each step template (``{lang}/{name}.txt.j2``) holds the wording blocks
(``subject``, ``intro``, ``request``, ``closing``) with tone variants; the layouts and the
shared partials assemble them. Must not send, store or look at the clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, TemplateError
from markupsafe import Markup, escape

from assistant.domain import (
    CaseState,
    ClientHistory,
    DebtorFacts,
    InvoiceLine,
    LetterFacts,
    Penalties,
)
from assistant.letters.formatting import Formatter, formatter, locale_for
from assistant.letters.legal import (
    L111_8_PARAGRAPHS,
    L111_8_TITLE_EN,
    L111_8_TITLE_FR,
    NO_FEES_STATEMENT,
    US_DEBT_COLLECTOR,
    US_DEBT_DISCLOSURE,
    r124_4_applies,
)
from assistant.letters.penalties import compute_penalties, effective_terms, penalties_allowed
from assistant.letters.rates import RateTable
from assistant.policy.schema import LadderStep, Policy, Terms

LANGUAGES = ("fr", "en")
TONES = ("courteous", "neutral", "firm", "formal")
WORDING_BLOCKS = ("subject", "intro", "request", "closing")
SUBJECT_INVOICES = 3
_TRAILING = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")


_INCLUDE = re.compile(r'\{%-?\s*include\s+"([^"]+)"\s*-?%\}')


class _InliningLoader(FileSystemLoader):
    """Load templates with their `{% include "…" %}` partials pasted in at load time.

    Partials stay separate files for their authors, but a letter compiles to one template:
    no include lookup or new context per render, which doubles the rendering speed. Partials
    must therefore not `{% set %}` variables their includer relies on.
    """

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        checks = [uptodate]

        def paste(match: re.Match[str]) -> str:
            text, _, fresh = self.get_source(environment, match.group(1))
            checks.append(fresh)
            return text.rstrip("\n")

        text = _INCLUDE.sub(paste, source)
        # the letter is stale when it or any partial pasted into it changed on disk
        return text, filename, lambda: all(check() for check in checks)


_ns = SimpleNamespace  # attribute access is Jinja's fast path (dict keys cost an exception)


@dataclass(frozen=True, slots=True)
class _Row:
    """One invoice line as templates show it (strings already formatted)."""

    number: str
    issue_date: str
    due_date: str
    amount: str
    outstanding: str
    paid: str
    partial: bool
    credit: bool
    days_late: int


class LetterTemplateError(RuntimeError):
    """A letter template is missing or failed to render; the message says which."""


@dataclass(frozen=True)
class Letter:
    """A rendered draft, with the facts it was built from (for validation)."""

    subject: str
    text: str
    html: str
    pdf: bytes | None
    language: str
    tone: str
    step: str
    facts: LetterFacts
    # What the letter's PDF holds: "letter" (the registered letter), "statement" (the
    # statement of account). The validator blocks a letter promising an attachment not here.
    attachments: tuple[str, ...] = ()


def letter_language(policy: Policy, debtor: DebtorFacts) -> str:
    """Return the letter language: the debtor's, else the override's, else the policy's."""
    if debtor.language:
        code = debtor.language.strip().lower()[:2]
        if code in LANGUAGES:
            return code
    override = policy.override_for(debtor.ref)
    if override is not None and override.language:
        return override.language
    return policy.language


def letter_tone(policy: Policy, step: LadderStep, debtor: DebtorFacts, tone: str | None) -> str:
    """Return the tone: the explicit one, else the debtor override's, else the step's."""
    if tone:
        if tone not in TONES:
            raise LetterTemplateError(f"unknown tone {tone!r} (expected one of {', '.join(TONES)})")
        return tone
    override = policy.override_for(debtor.ref)
    if override is not None and override.tone:
        return override.tone
    return step.tone


def subject_invoice_list(numbers: Sequence[str]) -> str:
    """Return up to three invoice numbers for a subject line, then an ellipsis."""
    shown = ", ".join(numbers[:SUBJECT_INVOICES])
    return shown + (", …" if len(numbers) > SUBJECT_INVOICES else "")


CREDIT_NOTE_WORDS = {"fr": ("avoir", "avoirs"), "en": ("credit note", "credit notes")}


def credit_note_label(language: str, numbers: Sequence[str]) -> str:
    """Return "avoir AV-1" / "credit notes CN-1, CN-2": a credit note is never an invoice."""
    one, many = CREDIT_NOTE_WORDS.get(language, CREDIT_NOTE_WORDS["en"])
    return f"{many if len(numbers) > 1 else one} {', '.join(numbers)}"


def subject_documents(language: str, invoices: Sequence[str], credits: Sequence[str]) -> str:
    """Return the invoice numbers of a subject line, then the credit notes named as such.

    The template writes "facture(s) {{ subject_invoices }}", so the credit notes follow
    with their own word: "factures F1, F2, avoir AV1". At most three numbers in all.
    """
    shown = subject_invoice_list(invoices)
    room = SUBJECT_INVOICES - len(invoices)
    if not credits:
        return shown
    if room <= 0:
        return shown if shown.endswith("…") else shown + ", …"
    more = ", …" if len(credits) > room else ""
    return f"{shown}, {credit_note_label(language, credits[:room])}{more}"


def _render(template: Template, ctx: dict[str, Any]) -> str:
    """Render `template` with `ctx` as its context as it is: no copy, no merge of globals.

    `Template.render` copies the context twice to merge in Jinja's globals; the renderer's
    contexts already hold them. Templates cannot write into a shared context: a `set`
    goes to the template's own variables.
    """
    return "".join(template.root_render_func(template.new_context(ctx, shared=True)))


def _squeeze(text: str) -> str:
    if " \n" in text or "\t\n" in text:
        text = _TRAILING.sub("\n", text)
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def _nb(value: Any) -> str:
    return str(value).replace(" ", "\u00a0")


def _paragraphs(text: str) -> Markup:
    """Turn blank-line separated plain text into escaped HTML paragraphs."""
    html = str(escape(text.strip()))
    if not html:
        return Markup("")
    html = html.replace("\n\n", "</p>\n<p>").replace("\n", "<br>\n")
    return Markup(f"<p>{html}</p>")


_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüœæ")


def _de(name: Any) -> str:
    """Return "de X", elided to "d'X" before a vowel (À l'attention d'Auto-École)."""
    text = str(name).strip()
    if text[:1].lower() in _VOWELS:
        return f"d\u2019{text}" if "\u2019" in text else f"d'{text}"
    return f"de {text}"


def reminders_sent(policy: Policy, case: CaseState) -> int:
    """Count the dunning letters (not pre-reminders) already sent on this case.

    Read from the steps actually sent when the case history is loaded; otherwise from the
    ladder position (every step up to the last one sent; none before the first).
    """
    pre_due = {s.name for s in policy.ladder.steps if s.pre_due}
    if case.steps_sent is not None:
        return sum(1 for name in case.steps_sent if name not in pre_due)
    upto = policy.ladder.steps[: case.step_index + 1] if case.step_index >= 0 else []
    return sum(1 for s in upto if not s.pre_due)


def _first_contact(case: CaseState) -> bool:
    return case.last_contact_on is None and not case.contact_dates and case.first_letter_on is None


def _next_is_formal(policy: Policy, step: LadderStep) -> bool:
    steps = policy.ladder.steps
    for i, candidate in enumerate(steps[:-1]):
        if candidate.name == step.name:
            return steps[i + 1].formal_notice
    return False


class LetterRenderer:
    """Render letters from a templates folder; one Jinja environment, compiled once."""

    def __init__(self, templates_dir: Path, rates: RateTable):
        root = Path(templates_dir)
        # Accept the project's `templates/` folder as well as `templates/letters/`.
        if not (root / "fr").is_dir() and (root / "letters").is_dir():
            root = root / "letters"
        self.templates_dir = root
        self.rates = rates
        self.env = Environment(
            loader=_InliningLoader(str(self.templates_dir)),
            undefined=StrictUndefined,
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            auto_reload=True,  # only asked by `drop_stale`: `template` serves its own cache
            trim_blocks=True,
            lstrip_blocks=True,
            cache_size=-1,
        )
        self.env.filters["nb"] = _nb
        self.env.filters["paragraphs"] = _paragraphs
        self.env.filters["de"] = _de
        self._templates: dict[str, Template] = {}
        self._constants: dict[tuple[int, str], tuple[Policy, dict[str, Any]]] = {}

    def template(self, name: str) -> Template:
        """Return the compiled template `name` (cached)."""
        tpl = self._templates.get(name)
        if tpl is None:
            try:
                tpl = self.env.get_template(name)
            except TemplateError as exc:
                raise LetterTemplateError(f"template {name!r}: {exc}") from exc
            self._templates[name] = tpl
        return tpl

    def drop_stale(self) -> None:
        """Forget compiled templates whose file (or a partial of it) changed since compiling."""
        for name, tpl in list(self._templates.items()):
            if not tpl.is_up_to_date:
                del self._templates[name]

    def render(
        self,
        *,
        policy: Policy,
        step: LadderStep,
        debtor: DebtorFacts,
        case: CaseState,
        invoices: Sequence[InvoiceLine],
        history: ClientHistory,
        on: date,
        broken_promise: bool = False,
        tone: str | None = None,
        render_pdf: bool = True,
        statement: bool | None = None,
        extra: Mapping[str, Any] | None = None,
        extra_dates: Sequence[date] = (),
        extra_amounts: Sequence[Decimal] = (),
    ) -> Letter:
        """Render the letter of `step` for this case on date `on`.

        `extra` is shown to the templates as `extra` (e.g. a promise acknowledged in a
        response); every date and amount it states must be in `extra_dates`/`extra_amounts`,
        which the facts carry so the validator accepts those figures and no others.
        """
        if not invoices:
            raise LetterTemplateError(f"case {case.ref}: no invoice to write about")
        language = letter_language(policy, debtor)
        chosen_tone = letter_tone(policy, step, debtor, tone)
        fmt = formatter(locale_for(language, policy.jurisdiction))
        terms = effective_terms(policy, debtor.ref)
        penalties: Penalties | None = None
        if step.show_penalties and penalties_allowed(terms, debtor):
            computed = compute_penalties(invoices, terms, debtor, on, self.rates)
            if computed.per_invoice:
                penalties = computed
        deadline = on + timedelta(days=step.deadline_days or 8) if step.formal_notice else None
        currency = invoices[0].currency
        total = sum((i.outstanding for i in invoices), Decimal("0.00"))
        known_dates = (case.first_letter_on,) if case.first_letter_on else ()
        facts = LetterFacts(
            case_ref=case.ref,
            invoices=tuple(invoices),
            total_outstanding=total,
            currency=currency,
            penalties=penalties,
            letter_date=on,
            deadline=deadline,
            extra_dates=known_dates + tuple(extra_dates),
            extra_amounts=tuple(extra_amounts),
        )
        ctx = self._context(
            policy,
            step,
            debtor,
            case,
            facts,
            fmt,
            language,
            chosen_tone,
            history,
            broken_promise,
            terms,
        )
        ctx["extra"] = dict(extra or {})
        with_statement = step.statement if statement is None else statement
        ctx["statement_attached"] = with_statement
        base = f"{language}/{step.template}"
        text_tpl = self.template(f"{base}.txt.j2")
        html_tpl = self.template(f"{base}.html.j2")
        try:
            jctx = text_tpl.new_context(ctx, shared=True)
            wording = {
                name: _squeeze("".join(text_tpl.blocks[name](jctx)))
                for name in WORDING_BLOCKS
                if name in text_tpl.blocks
            }
            ctx["wording"] = _ns(**{name: wording.get(name, "") for name in WORDING_BLOCKS})
            # The layout shows the wording blocks already rendered: no second pass.
            layout = self.template(f"{language}/_layout.txt.j2")
            text = _squeeze(_render(layout, ctx)) + "\n"
            html = _render(html_tpl, ctx)
        except TemplateError as exc:
            raise LetterTemplateError(f"template {base}: {exc}") from exc
        subject = " ".join(wording.get("subject", "").split())
        if not subject:
            raise LetterTemplateError(f"template {base}.txt.j2 has an empty subject block")
        pdf = None
        attachments = (("letter",) if step.pdf else ()) + (("statement",) if with_statement else ())
        if render_pdf and step.pdf:
            from assistant.letters.pdf import letter_pdf

            pdf = letter_pdf(self, ctx, subject, with_statement=with_statement)
        elif render_pdf and with_statement:
            from assistant.letters.statement import statement_pdf

            pdf = statement_pdf(ctx, subject)
        return Letter(
            subject=subject,
            text=text,
            html=html,
            pdf=pdf,
            language=language,
            tone=chosen_tone,
            step=step.name,
            facts=facts,
            attachments=attachments,
        )

    def _policy_context(self, policy: Policy, language: str) -> dict[str, Any]:
        """Return the parts of the context that depend only on the policy and the language.

        Built once per policy and language (policies are frozen), then shared by every
        letter: templates only read them.
        """
        key = (id(policy), language)
        cached = self._constants.get(key)
        if cached is not None and cached[0] is policy:
            return cached[1]
        creditor = policy.creditor
        agency = policy.agency if policy.mode == "agency" else None
        payment = None
        if creditor.iban or creditor.payment_url:
            payment = _ns(
                iban=creditor.iban,
                bic=creditor.bic,
                bank=creditor.bank_name,
                url=creditor.payment_url,
            )
        sign_off, signature = policy.voice.closing(language)
        parts = {
            **self.env.globals,  # the context is shared with the templates, not merged
            "lang": language,
            "creditor": creditor,
            "agency": agency,
            "r124": r124_4_applies(policy.mode, policy.jurisdiction),
            "jurisdiction": policy.jurisdiction,
            "l111_8": L111_8_PARAGRAPHS,
            "l111_8_title": L111_8_TITLE_FR if language == "fr" else L111_8_TITLE_EN,
            "no_fees": NO_FEES_STATEMENT["fr" if language == "fr" else "en"],
            "payment": payment,
            "us_disclosure": US_DEBT_DISCLOSURE,
            "us_collector": US_DEBT_COLLECTOR,
            "sign_off": sign_off,
            "signature": signature,
            "sender": agency.name if agency else (creditor.sender_name or creditor.name),
            "contact_email": (agency.email if agency else None) or creditor.email,
            "contact_phone": (agency.phone if agency else None) or creditor.phone,
        }
        if len(self._constants) > 64:
            self._constants.clear()
        self._constants[key] = (policy, parts)
        return parts

    def _context(
        self,
        policy: Policy,
        step: LadderStep,
        debtor: DebtorFacts,
        case: CaseState,
        facts: LetterFacts,
        fmt: Formatter,
        language: str,
        tone: str,
        history: ClientHistory,
        broken_promise: bool,
        terms: Terms,
    ) -> dict[str, Any]:
        cur = facts.currency
        money = fmt.money
        on = facts.letter_date
        rows = [
            _Row(
                number=inv.number,
                issue_date=fmt.short_date(inv.issue_date) if inv.issue_date else "",
                due_date=fmt.short_date(inv.due_date),
                amount=money(inv.amount, inv.currency),
                outstanding=money(inv.outstanding, inv.currency),
                paid=money(max(inv.amount - inv.outstanding, Decimal("0")), inv.currency)
                if inv.outstanding >= 0
                else money(Decimal("0"), inv.currency),
                partial=inv.outstanding != inv.amount,
                credit=inv.outstanding < 0,
                days_late=inv.days_late(on),
            )
            for inv in facts.invoices
        ]
        pen = facts.penalties
        penalties_ctx = None
        zero = money(Decimal("0"), cur)
        if pen is not None:
            penalties_ctx = _ns(
                rule=terms.late_interest.rule,
                rate=fmt.percent(pen.rate_percent) if pen.rate_percent is not None else None,
                interest=money(pen.interest, cur),
                indemnity=money(pen.indemnity, cur),
                has_interest=pen.interest > 0,
                has_indemnity=pen.indemnity > 0,
                total=money(pen.total, cur),
                grand_total=money(facts.total_outstanding + pen.total, cur),
                lines=[
                    _ns(number=n, interest=money(i, cur), indemnity=money(x, cur))
                    for n, i, x in pen.per_invoice
                ],
            )
        first_contact = _first_contact(case)
        first_letter = None
        if not first_contact and (case.first_letter_ref or case.first_letter_on):
            first_letter = _ns(
                ref=case.first_letter_ref,
                date=fmt.date(case.first_letter_on) if case.first_letter_on else None,
            )
        consumer = debtor.kind == "consumer"
        # Credit notes reduce the balance; they are named as credit notes, never as invoices.
        numbers = [inv.number for inv in facts.invoices if inv.outstanding >= 0]
        credits = [inv for inv in facts.invoices if inv.outstanding < 0]
        credit_numbers = [inv.number for inv in credits]
        sent = 0 if step.pre_due else reminders_sent(policy, case)
        return {
            **self._policy_context(policy, language),
            "reminders_sent": sent,
            "nth": sent + 1,
            "tone": tone,
            "step": step.name,
            "step_template": step.template,
            "formal_notice": step.formal_notice,
            "in_pdf": False,
            "pre_due": step.pre_due or all(r.days_late == 0 for r in rows),
            "case_ref": case.ref,
            "subject_invoices": subject_documents(language, numbers, credit_numbers),
            "letter_date": fmt.date(on),
            "deadline": fmt.date(facts.deadline) if facts.deadline else None,
            "deadline_days": step.deadline_days or 8,
            "debtor": _ns(name=debtor.name, consumer=consumer),
            "invoices": rows,
            "plural": len(numbers) > 1,
            "s": "s" if len(numbers) > 1 else "",
            "nt": "nt" if len(numbers) > 1 else "",
            "numbers": ", ".join(numbers),
            "credit_notes": [
                _ns(number=i.number, amount=money(i.outstanding, cur)) for i in credits
            ],
            "next_formal": _next_is_formal(policy, step),
            "indemnity_unit": money(terms.indemnity_amount, cur),
            "earliest_due": fmt.date(min(inv.due_date for inv in facts.invoices)),
            "total": money(facts.total_outstanding, cur),
            "penalties": penalties_ctx,
            "split": _ns(
                principal=money(facts.total_outstanding, cur),
                interest=penalties_ctx.interest if penalties_ctx else zero,
                other=penalties_ctx.indemnity if penalties_ctx else zero,
                claims_indemnity=bool(penalties_ctx and penalties_ctx.has_indemnity),
            ),
            "first_contact": first_contact,
            "first_letter": first_letter,
            "us_consumer": policy.jurisdiction == "US" and consumer,
            "broken_promise": broken_promise,
            "punctual": history.punctual,
            "debtor_address": getattr(debtor, "address", None),
        }


def renderer_for(templates_dir: Path) -> LetterRenderer:
    """Return the renderer of `templates_dir`, built once per process (templates compile once).

    Each call first drops the templates edited on disk since they were compiled (a few file
    stats), so a long-running worker's next cycle writes with the templates as they are now.
    """
    renderer = _shared_renderer(templates_dir)
    renderer.drop_stale()
    return renderer


@lru_cache(maxsize=4)
def _shared_renderer(templates_dir: Path) -> LetterRenderer:
    return LetterRenderer(templates_dir, RateTable.packaged())
