"""`relance drafts attest` and `relance cases insolvency`: an officer's word on figures."""

from __future__ import annotations

import typer

from assistant.cli.common import AS_OPTION, console, fail, get_app, parse_date, print_json
from assistant.cli.present import day, money, policy_locale, run_action, table
from assistant.db.engine import session_scope
from assistant.services.attestation import ATTESTABLE, attest_findings
from assistant.services.case_journal import case_creditor
from assistant.services.insolvency import insolvency_claim, record_publication
from assistant.services.officer_common import OfficerActionError


def attest_command(
    draft_id: int,
    codes: list[str] = typer.Option(
        ..., "--code", help="Finding to attest (repeat): " + "|".join(ATTESTABLE)
    ),
    reason: str = typer.Option(
        ..., "--attest", "--reason", help="Why the figure is right (audited)."
    ),
    actor: str | None = AS_OPTION,
) -> None:
    """Attest a figure the validator cannot match: the finding stops blocking, stays visible."""
    run_action(actor, lambda s, who: attest_findings(s, draft_id, codes, reason, who))


def insolvency_command(
    ref: str,
    published: str | None = typer.Option(
        None, "--published", help="Record the BODACC publication date (YYYY-MM-DD)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    actor: str | None = AS_OPTION,
) -> None:
    """Show the claim to declare for an insolvent debtor, and its deadline."""
    if published:
        when = parse_date(published)
        run_action(actor, lambda s, who: record_publication(s, ref, when, who))
    application = get_app(actor)
    try:
        with session_scope(application.engine) as session:
            claim = insolvency_claim(session, ref)
            creditor = case_creditor(session, ref)
    except OfficerActionError as exc:
        fail(str(exc))
    if as_json:
        print_json(claim)
        return
    if claim is None:
        fail(f"case {ref} has no insolvency (no insolvency hand-off, no frozen invoice)")
    print_claim(claim, policy_locale(application.policies, creditor))


def print_claim(claim: dict, locale: str) -> None:
    """Print the claim amount, its invoices and the declaration deadline."""
    source = {"publication": "publication", "handoff": "hand-off (publication date unknown)"}
    deadline = day(claim["deadline"], locale)
    console.print(
        f"Insolvency claim: {money(claim['amount'], claim['currency'], locale)} "
        f"(frozen invoices included) — declare by {deadline}, 2 months from the "
        f"{source.get(claim['deadline_from'], 'unknown date')}",
        highlight=False,
        markup=False,
    )
    out = table("invoice", "due", "outstanding", "status")
    for i in claim["invoices"]:
        out.add_row(
            i["number"], day(i["due_date"], locale),
            money(i["outstanding"], claim["currency"], locale), i["status"],
        )  # fmt: skip
    console.print(out)
