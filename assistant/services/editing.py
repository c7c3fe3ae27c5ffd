"""An officer's edit of a draft: re-validate the new text against the stored facts."""

from __future__ import annotations

import html as html_lib
from collections.abc import Callable
from datetime import date

from sqlmodel import Session

from assistant.db.models import Case, Creditor, Draft
from assistant.domain import Finding
from assistant.letters.facts_json import letter_facts_from_dict
from assistant.letters.validator import validate_text
from assistant.policy.schema import Policy
from assistant.services.approval import ApprovalError, ApprovalResult, apply_edit
from assistant.services.portfolio import debtor_facts, load_portfolio
from assistant.services.responses import RESPONSE_KINDS, response_findings, response_step


def text_to_html(text: str) -> str:
    """Render plain text as simple HTML paragraphs (used after a manual edit)."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n")]
    body = "".join(
        "<p>" + "<br>".join(html_lib.escape(line) for line in p.split("\n")) + "</p>\n"
        for p in paragraphs
        if p.strip()
    )
    return f'<!DOCTYPE html>\n<html><body style="font-family: Arial, sans-serif">\n{body}</body></html>\n'


def revalidate(
    session: Session, draft: Draft, policies: dict[str, Policy], subject: str, text: str, on: date
) -> list[Finding]:
    """Validate `subject`/`text` as if they were the draft's, against its stored facts."""
    case = session.get(Case, draft.case_id)
    assert case is not None
    creditor = session.get(Creditor, case.creditor_id)
    assert creditor is not None
    policy = policies.get(creditor.slug)
    if policy is None:
        raise ApprovalError(f"no policy for creditor {creditor.slug!r}")
    pf = load_portfolio(session, creditor, on)
    debtor = debtor_facts(pf.debtors[case.debtor_id], pf.emails.get(case.debtor_id, []))
    state = pf.case_state(case, policy.promises.grace_days)
    is_response = draft.kind in RESPONSE_KINDS
    findings = validate_text(
        subject,
        text,
        letter_facts_from_dict(draft.facts),
        policy=policy,
        debtor=debtor,
        case=state,
        on=on,
        step=response_step(policy, draft.kind) if is_response else draft.step,
    )
    return response_findings(findings) if is_response else findings


def edit_draft(
    session: Session,
    draft_id: int,
    actor: str,
    policies: dict[str, Policy],
    subject: str,
    text: str,
    on: date,
    *,
    version: int | None = None,
    checked: Callable[[], None] | None = None,
) -> ApprovalResult:
    """Replace a draft's subject and text after re-validating them.

    The edit is saved only if the draft is still at `version` (default: the version read
    here, before the re-validation): a draft sent or approved meanwhile refuses it.
    `checked` runs between the re-validation and the save (tests slow it down there).
    """
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise ApprovalError(f"draft {draft_id} does not exist")
    read = draft.version if version is None else version
    findings = revalidate(session, draft, policies, subject, text, on)
    if checked is not None:
        checked()
    return apply_edit(
        session, draft_id, actor, subject, text, text_to_html(text), findings, version=read
    )
