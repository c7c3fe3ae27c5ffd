"""`relance drafts list|show|approve|reject|edit|resolve`: the approval queue."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import typer
from sqlmodel import Session, col, select

from assistant.cli import present
from assistant.cli.common import AS_OPTION, console, fail, get_app, policies_or_fail, print_json
from assistant.db.engine import session_scope
from assistant.db.models import Case, Creditor, Debtor, Draft
from assistant.services.approval import (
    ApprovalError,
    approve_draft,
    blocking_findings,
    reject_draft,
)
from assistant.services.editing import edit_draft
from assistant.services.outbox_state import resolve_unknown

app = typer.Typer(help="Review the drafts waiting for approval.", no_args_is_help=True)


def _rows(session: Session, status: str | None, case_ref: str | None = None):  # type: ignore[no-untyped-def]
    query = (
        select(Draft, Case, Creditor, Debtor)
        .join(Case, col(Case.id) == Draft.case_id)
        .join(Creditor, col(Creditor.id) == Case.creditor_id)
        .join(Debtor, col(Debtor.id) == Case.debtor_id)
        .order_by(col(Draft.id))
    )
    if status:
        query = query.where(Draft.status == status)
    if case_ref:
        query = query.where(Case.ref == case_ref)
    return session.exec(query).all()


def draft_summary(draft: Draft, case: Case, creditor: Creditor, debtor: Debtor) -> dict[str, Any]:
    """Return the JSON form of a draft as `drafts list --json` prints it."""
    facts = draft.facts or {}
    return {
        "id": draft.id,
        "case": case.ref,
        "creditor": creditor.slug,
        "debtor_ref": debtor.account_ref,
        "debtor": debtor.legal_name,
        "kind": draft.kind,
        "step": draft.step,
        "status": draft.status,
        "engine": draft.engine,
        "engine_note": draft.engine_note,
        "subject": draft.subject,
        "total": facts.get("total_outstanding"),
        "currency": facts.get("currency"),
        "invoices": [i["number"] for i in facts.get("invoices", [])],
        "blocking": len(blocking_findings(draft)),
        "warnings": sum(1 for f in draft.findings if not f.get("blocking")),
        "findings": draft.findings,
        "requires_four_eyes": draft.requires_four_eyes,
        "first_approver": draft.first_approver,
        "review_reason": draft.review_reason,
        "message_id": draft.message_id,
        "to": draft.to_addrs,
        "created_at": draft.created_at,
        "decided_by": draft.decided_by,
        "reject_reason": draft.reject_reason,
        "sent_at": draft.sent_at,
    }


@app.command("list")
def list_drafts(
    status: str | None = typer.Option(
        None, "--status", help="pending|approved|rejected|sending|sent|failed|unknown"
    ),
    case_ref: str | None = typer.Option(None, "--case", help="Only this case."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one array)."),
) -> None:
    """List drafts, newest last."""
    application = get_app()
    with session_scope(application.engine) as session:
        rows = [draft_summary(*r) for r in _rows(session, status, case_ref)]
    if as_json:
        print_json(rows)
        return
    policies = application.policies
    creditors = present.several(rows, "creditor")
    headers = ["id", "case", "creditor", "debtor", "step", "status", "total", "findings"]
    table = present.table(*(h for h in headers if creditors or h != "creditor"), "subject")
    for r in rows:
        flag = (
            f"[red]{r['blocking']} blocking[/]"
            if r["blocking"]
            else (f"[yellow]{r['warnings']} warn[/]" if r["warnings"] else "[green]valid[/]")
        )
        loc = present.policy_locale(policies, str(r["creditor"]))
        cells = [
            str(r["id"]), str(r["case"]), str(r["creditor"]), str(r["debtor"]), str(r["step"]),
            str(r["status"]), present.money(r["total"], r["currency"], loc), flag,
            str(r["subject"]).removeprefix(f"[{r['case']}]").strip(),  # the case is shown
        ]  # fmt: skip
        table.add_row(*(c for i, c in enumerate(cells) if creditors or i != 2))
    console.print(table)
    console.print(f"{len(rows)} draft(s)")


@app.command("show")
def show(
    draft_id: int,
    as_json: bool = typer.Option(False, "--json"),
    html: bool = typer.Option(False, "--html", help="Print the HTML body."),
) -> None:
    """Show one draft: headers, body and validator findings."""
    application = get_app()
    with session_scope(application.engine) as session:
        row = session.exec(
            select(Draft, Case, Creditor, Debtor)
            .join(Case, col(Case.id) == Draft.case_id)
            .join(Creditor, col(Creditor.id) == Case.creditor_id)
            .join(Debtor, col(Debtor.id) == Case.debtor_id)
            .where(Draft.id == draft_id)
        ).first()
        if row is None:
            fail(f"draft {draft_id} does not exist")
        data = draft_summary(*row)
        data["body_text"] = row[0].body_text
        data["body_html"] = row[0].body_html
        data["has_pdf"] = row[0].pdf is not None
    if as_json:
        print_json(data)
        return
    console.rule(
        f"Draft {draft_id} — {data['status']} — {data['case']} — {data['step']} ({data['engine']})"
    )
    console.print(f"Subject: {data['subject']}", highlight=False, markup=False)
    if data["to"]:
        console.print(f"To: {data['to']}", highlight=False, markup=False)
    console.print()
    console.print(data["body_html"] if html else data["body_text"], highlight=False, markup=False)
    console.rule("validator")
    if not data["findings"]:
        console.print("[green]no findings[/]")
    findings: list[dict[str, Any]] = data["findings"]  # type: ignore[assignment]
    for f in findings:
        style = "red" if f["blocking"] else "yellow"
        console.print(
            f"[{style}]{'BLOCKING' if f['blocking'] else 'warning'}[/] {f['code']}: {f['message']}",
            highlight=False,
        )
    if data["has_pdf"]:
        console.print("PDF attached for registered mail.")


@app.command("approve")
def approve(
    draft_ids: list[int] = typer.Argument(None, help="Draft ids."),
    all_valid: bool = typer.Option(
        False, "--all-valid", help="Approve every pending draft without blocking findings."
    ),
    actor: str | None = AS_OPTION,
) -> None:
    """Approve drafts (a four-eyes step needs a second, different officer)."""
    if not draft_ids and not all_valid:
        fail("give draft ids or --all-valid")
    application = get_app(actor)
    with policies_or_fail(application):
        policies = application.policies
    failures = 0
    with session_scope(application.engine) as session:
        ids = list(draft_ids or [])
        if all_valid:
            for d in session.exec(
                select(Draft).where(Draft.status == "pending").order_by(col(Draft.id))
            ):
                if not blocking_findings(d) and d.first_approver != application.actor:
                    ids.append(d.id or 0)
        for draft_id in ids:
            try:
                with session.begin_nested():
                    result = approve_draft(
                        session,
                        draft_id,
                        application.actor,
                        policies,
                        application.settings.smtp_from,
                    )
                console.print(f"draft {draft_id}: {result.message}", highlight=False)
            except ApprovalError as exc:
                failures += 1
                console.print(f"[red]draft {draft_id}: {exc}[/]", highlight=False)
    console.print(
        f"{len(ids) - failures} approved or first-approved, {failures} refused. "
        "Nothing was sent: `relance send` emails approved drafts."
    )
    if failures:
        raise typer.Exit(1)


@app.command("reject")
def reject(
    draft_id: int,
    reason: str = typer.Option(..., "--reason", help="Why (kept in the audit trail)."),
    actor: str | None = AS_OPTION,
) -> None:
    """Reject a draft with a reason."""
    application = get_app(actor)
    try:
        with session_scope(application.engine) as session:
            result = reject_draft(session, draft_id, application.actor, reason)
    except ApprovalError as exc:
        fail(str(exc))
    console.print(f"draft {draft_id}: {result.message}", highlight=False)


SEPARATOR = "----- Relance: edit the subject on the first line, the body below this line -----"


@app.command("edit")
def edit(
    draft_id: int,
    actor: str | None = AS_OPTION,
    from_file: Path | None = typer.Option(
        None, "--from-file", help="Take the new text from a file instead of $EDITOR."
    ),
    on: str | None = typer.Option(None, "--date", help="Validation date (default today)."),
) -> None:
    """Edit a draft in $EDITOR; the edit is re-validated and goes back to pending."""
    application = get_app(actor)
    with policies_or_fail(application):
        policies = application.policies
    with session_scope(application.engine) as session:
        draft = session.get(Draft, draft_id)
        if draft is None:
            fail(f"draft {draft_id} does not exist")
        original = f"{draft.subject}\n{SEPARATOR}\n{draft.body_text}"
        read_version = draft.version  # the edit is saved only if nobody moved the draft since
    if from_file is not None:
        edited = from_file.read_text(encoding="utf-8")
    else:
        edited = _run_editor(original)
    if edited.strip() == original.strip():
        console.print("no change")
        return
    if SEPARATOR in edited:
        subject, _, text = edited.partition(f"\n{SEPARATOR}\n")
    else:
        subject, _, text = edited.partition("\n")
    try:
        with session_scope(application.engine) as session:
            result = edit_draft(
                session,
                draft_id,
                application.actor,
                policies,
                subject.strip(),
                text,
                date.fromisoformat(on) if on else date.today(),
                version=read_version,
            )
    except ApprovalError as exc:
        fail(str(exc))
    console.print(f"draft {draft_id}: {result.message}", highlight=False)
    if "blocking" in result.message:
        raise typer.Exit(1)


@app.command("resolve")
def resolve(
    draft_id: int,
    sent: bool | None = typer.Option(
        None,
        "--sent/--not-sent",
        help="--sent: the debtor got it (recorded as sent); --not-sent: approvable again.",
    ),
    reason: str = typer.Option(..., "--reason", help="How you know (kept in the audit trail)."),
    actor: str | None = AS_OPTION,
) -> None:
    """Settle an `unknown` draft after checking with the mail provider or the debtor."""
    if sent is None:
        fail("say what happened: --sent or --not-sent")
    application = get_app(actor)
    try:
        with session_scope(application.engine) as session:
            summary = resolve_unknown(
                session, draft_id, sent=bool(sent), reason=reason, actor=application.actor
            )
    except ApprovalError as exc:
        fail(str(exc))
    console.print(f"draft {draft_id}: {summary}", highlight=False)


def _run_editor(text: str) -> str:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        fh.write(text)
        path = fh.name
    try:
        subprocess.run([*shlex.split(editor), path], check=True)
        return Path(path).read_text(encoding="utf-8")
    except (OSError, subprocess.CalledProcessError) as exc:
        fail(f"the editor {editor!r} failed: {exc}")
    finally:
        os.unlink(path)
