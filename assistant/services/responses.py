"""Draft the answer to a debtor's reply: acknowledgement, plan proposal, remittance request,
information answer.

Answers are letters like the ladder's: the same layout and partials (invoice table, payment
instructions, agency mentions, signature), a synthetic ladder step named after the kind, the
same validator. They go to the approval queue as `pending`; they never move the ladder
(`approval.record_sent` moves it for kind "step" only) but, once sent, count as a contact.
Nothing here sends mail or commits.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from assistant.db.document_models import DraftAttachment
from assistant.db.models import Case, Draft
from assistant.domain import Finding, InvoiceLine
from assistant.letters.formatting import formatter, locale_for
from assistant.letters.render import LetterRenderer, letter_language
from assistant.letters.validator import validate_text
from assistant.policy.schema import LadderStep, Policy
from assistant.services.case_file import load_case_file

RESPONSE_KINDS = ("ack_promise", "plan_proposal", "remittance_request", "info_answer")
#: Findings that do not apply to an answer. The contact cap and the minimum interval pace
#: reminders the debtor did not ask for; an answer to the debtor's own message is not one
#: (and holding it back would leave a promise or a question unanswered).
NOT_FOR_RESPONSES = frozenset({"contact_cap", "min_interval"})


def response_step(policy: Policy, kind: str) -> LadderStep:
    """Return the synthetic ladder step a response of `kind` is rendered and checked with."""
    return LadderStep(
        name=kind,
        template=f"response_{kind}",
        tone=policy.voice.default,
        days_after_due=0,
        min_days_since_previous=0,
    )


def response_findings(findings: list[Finding]) -> list[Finding]:
    """Drop the findings that only pace reminders (see NOT_FOR_RESPONSES)."""
    return [f for f in findings if f.code not in NOT_FOR_RESPONSES]


class TemplateResponseDrafter:
    """Render, validate and store response letters from `response_<kind>` templates."""

    def __init__(self, renderer: LetterRenderer, *, actor: str = "relance"):
        self.renderer = renderer
        self.actor = actor

    def draft(
        self,
        session: Session,
        case: Case,
        kind: str,
        policy: Policy,
        on: date,
        details: dict[str, Any],
    ) -> Draft | None:
        """Draft the `kind` answer for `case` (None when no open invoice is left to name)."""
        from assistant.services.cycle import store_draft  # the cycle imports the world

        if kind not in RESPONSE_KINDS:
            raise ValueError(f"unknown response kind {kind!r}")
        facts = load_case_file(session, case, policy, on, thread=False)
        debtor, state = facts.debtor, facts.state
        lines = sorted(
            (i for i in facts.open_lines if i.outstanding != 0),
            key=lambda i: (i.due_date, i.number),
        )
        if kind == "remittance_request":
            lines = remittance_invoices(lines, on)
        if not any(i.outstanding > 0 for i in lines):
            return None
        fmt = formatter(locale_for(letter_language(policy, debtor), policy.jurisdiction))
        currency = lines[0].currency
        copies = _copies_for(session, case, kind, details, lines)
        if copies:
            details = {**details, "copies_attached": True}
        extra, dates, amounts = response_context(kind, details, fmt, currency)
        step = response_step(policy, kind)
        # Asked for invoice copies: the statement of account goes with the answer.
        statement = "invoice_copy" in extra.get("asked", ())
        letter = self.renderer.render(
            policy=policy,
            step=step,
            debtor=debtor,
            case=state,
            invoices=lines,
            history=facts.history,
            on=on,
            extra=extra,
            extra_dates=dates,
            extra_amounts=amounts,
            statement=statement,
        )
        findings = response_findings(
            validate_text(
                letter.subject,
                letter.text,
                letter.facts,
                policy=policy,
                debtor=debtor,
                case=state,
                on=on,
                step=step,
                attachments=letter.attachments + (("invoice_copies",) if copies else ()),
            )
        )
        if not debtor.emails:
            findings.append(Finding("no_contact", "The debtor has no valid email address."))
        note = None
        if "invoice_copy" in extra.get("asked", ()) and not copies:
            note = (
                "The debtor asks for invoice copies: the statement of account is attached; "
                "send the copies in a follow-up message."
            )
        draft = store_draft(
            session,
            case,
            letter,
            findings,
            policy=policy,
            actor=self.actor,
            kind=kind,
            engine_note=note,
        )
        for doc in copies:
            session.add(
                DraftAttachment(
                    draft_id=draft.id or 0,
                    filename=doc.filename,
                    content_type=doc.content_type,
                    content=doc.content,
                )
            )
        return draft


def _copies_for(
    session: Session, case: Case, kind: str, details: dict[str, Any], lines: list[InvoiceLine]
) -> list[Any]:
    """Return the registered copies to attach: every owed invoice's, or none at all."""
    if kind != "info_answer" or "invoice_copy" not in (details.get("asked") or ()):
        return []
    from assistant.importing.documents import invoice_copies

    owed = [i.number for i in lines if i.outstanding > 0]
    copies = invoice_copies(session, case.creditor_id, owed)
    return copies if len(copies) == len(owed) else []


def remittance_invoices(lines: list[InvoiceLine], on: date) -> list[InvoiceLine]:
    """Return the lines a remittance request names: those already due, and credit notes.

    Thanking a debtor for paying an invoice not yet due would be false; when nothing is due
    yet, the debtor's message can only be about the open invoices, so all are kept.
    """
    due = [i for i in lines if i.due_date <= on or i.outstanding < 0]
    return due if any(i.outstanding > 0 for i in due) else lines


def response_context(
    kind: str, details: dict[str, Any], fmt: Any, currency: str
) -> tuple[dict[str, Any], list[date], list[Decimal]]:
    """Return the template context of a response and the dates and amounts it may state."""
    dates: list[date] = []
    amounts: list[Decimal] = []
    extra: dict[str, Any] = {"kind": kind}
    if kind == "ack_promise":
        when: date = details["promise_date"]
        amount: Decimal | None = details.get("promise_amount")
        dates.append(when)
        extra["promise_date"] = fmt.date(when)
        extra["promise_amount"] = None
        if amount is not None:
            amounts.append(amount)
            extra["promise_amount"] = fmt.money(amount, details.get("promise_currency") or currency)
    elif kind == "plan_proposal":
        rows = []
        for amount, due in details["instalments"]:
            dates.append(due)
            amounts.append(amount)
            rows.append({"amount": fmt.money(amount, currency), "date": fmt.date(due)})
        extra["instalments"] = rows
        extra["as_proposed"] = bool(details.get("as_proposed"))
    elif kind == "info_answer":
        extra["asked"] = list(details.get("asked") or [])
        extra["copies_attached"] = bool(details.get("copies_attached"))
    return extra, dates, amounts
