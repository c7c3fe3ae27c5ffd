"""`relance send`, `relance fetch`, `relance inbox unmatched|quarantine|attach`, `relance worker`.

Thin: parse options, build the adapters from settings, call one service, render.
Secrets are never printed: errors name the server and user, never the password.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Any

import typer
from rich.table import Table

from assistant.bootstrap import App
from assistant.cli import present
from assistant.cli.common import (
    AS_OPTION,
    console,
    err_console,
    fail,
    get_app,
    policies_or_fail,
    print_json,
)
from assistant.db.models import utcnow
from assistant.mail import MailNotConfigured, build_mailbox, build_sender, imap_configured
from assistant.mail.compose import ComposeError
from assistant.mail.ports import MailboxError

inbox_app = typer.Typer(
    help="Messages that need an officer: unmatched (triage) and quarantined.",
    no_args_is_help=True,
)
#: `relance fetch` exit code when another fetch holds the mailbox (EX_TEMPFAIL).
BUSY_EXIT = 75


def _app(actor: str | None = None) -> App:
    application = get_app(actor)
    with policies_or_fail(application):
        _ = application.policies
    return application


def _mailbox_or_none(application: App) -> Any | None:
    if not imap_configured(application.settings):
        return None
    return build_mailbox(application.settings)


def send_command(
    yes: bool = typer.Option(
        False, "--yes", help="Really send: this e-mails the debtors listed by the dry run."
    ),
    limit: int | None = typer.Option(None, "--limit", help="Send at most this many drafts."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    actor: str | None = AS_OPTION,
) -> None:
    """Send the approved drafts by e-mail. Without --yes, only list what would go out."""
    from assistant.services.outbox import plan_outbox, send_outbox

    application = _app(actor)
    now = utcnow()
    if not yes:
        items = plan_outbox(application, now, limit=limit)
        going = [i for i in items if not i.review and not i.hold]
        if as_json:
            print_json(
                {"dry_run": True, "would_send": len(going), "items": [i.as_dict() for i in items]}
            )
            return
        table = Table("draft", "case", "to", "subject", "now")
        for i in items:
            verdict = (
                f"[yellow]back to review: {i.review}[/]"
                if i.review
                else f"[cyan]wait: {i.hold}[/]"
                if i.hold
                else "[green]send[/]"
            )
            table.add_row(str(i.draft_id), i.case_ref, ", ".join(i.to), i.subject, verdict)
        console.print(table)
        console.print(
            f"[bold]Dry run: nothing was sent.[/] {len(going)} message(s) would go out now. "
            f"Run `relance send --yes` to e-mail {'this debtor' if len(going) == 1 else 'these debtors'}."
        )
        return
    try:
        sender = build_sender(application.settings)
        mailbox = _mailbox_or_none(application)
    except MailNotConfigured as exc:
        fail(str(exc))
    if mailbox is None:
        err_console.print(
            "[yellow]warning:[/] IMAP is not configured: no copy is kept in the Sent "
            "folder, and an interrupted send can only be marked `unknown`."
        )
    try:
        report = asyncio.run(send_outbox(application, sender, mailbox, now, limit=limit))
    except ComposeError as exc:
        fail(str(exc))
    finally:
        if mailbox is not None:
            mailbox.close()
    if as_json:
        print_json(report.as_dict())
    else:
        console.print(f"sent: {len(report.sent)}", highlight=False)
        for label, outcomes in (
            ("recovered", report.recovered),
            ("back to review", report.returned),
            ("waiting", report.held),
            ("deferred (will retry)", report.deferred),
            ("failed", report.failed),
            ("unknown (check by hand)", report.unknown),
        ):
            for draft_id, reason in outcomes:
                console.print(f"{label}: draft {draft_id}: {reason}", highlight=False, markup=False)
        for warning in report.warnings:
            err_console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if report.aborted:
        fail(f"sending stopped: {report.aborted}")


def _print_ingest(report: Any, as_json: bool) -> None:
    if as_json:
        print_json(report.as_dict())
        return
    matched = sum(report.matched.values())
    console.print(
        f"{report.folder}: {report.fetched} fetched, {report.stored} stored, "
        f"{report.duplicates} duplicate(s), {matched} matched "
        f"({', '.join(f'{k} {v}' for k, v in sorted(report.matched.items())) or '-'}), "
        f"{len(report.unmatched)} unmatched, {len(report.quarantined)} quarantined, "
        f"{report.auto_replies} auto-replies, {report.bounces} bounce(s)",
        highlight=False,
    )
    if report.unmatched:
        console.print("unmatched messages: `relance inbox unmatched`")
    if report.quarantined:
        console.print(
            "[yellow]unreadable messages kept in quarantine: `relance inbox quarantine`[/]"
        )
    for error in report.errors:
        err_console.print(f"[yellow]warning:[/] {error}", highlight=False, markup=False)


def fetch_command(
    idle: bool = typer.Option(
        False, "--idle", help="Keep watching the inbox (IDLE, else polling)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one line per round)."),
    wait: float = typer.Option(
        0,
        "--wait",
        help="Seconds to wait while another fetch reads the same mailbox (default: exit "
        f"at once with code {BUSY_EXIT}).",
    ),
    actor: str | None = AS_OPTION,
) -> None:
    """Fetch new replies from the IMAP inbox, store them and attach them to their cases."""
    from assistant.bootstrap import reply_handler
    from assistant.services.inbox import ingest_inbox
    from assistant.services.inbox_lease import MailboxBusy

    application = _app(actor)
    handler = reply_handler(application)
    try:
        mailbox = build_mailbox(application.settings)
    except MailNotConfigured as exc:
        fail(str(exc))
    stopping = {"now": False}
    if idle:
        signal.signal(signal.SIGTERM, lambda *_: stopping.update(now=True))
    try:
        while True:
            report = ingest_inbox(application, mailbox, analyse=handler, wait=wait)
            _print_ingest(report, as_json)
            if not idle or stopping["now"]:
                break
            mailbox.wait_for_changes(
                application.settings.imap_folder,
                float(application.settings.imap_poll_seconds),
                lambda: stopping["now"],
                after_uid=report.last_uid,
            )
            if stopping["now"]:
                break
    except MailboxBusy as exc:
        fail(f"fetch not run: {exc}; retry later or pass --wait SECONDS", code=BUSY_EXIT)
    except MailboxError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        pass
    finally:
        mailbox.close()


def _inbound_rows(status: str, limit: int) -> list[dict[str, Any]]:
    from assistant.db.engine import session_scope
    from assistant.services.inbound_triage import triage_rows

    with session_scope(get_app().engine) as session:
        return triage_rows(session, status, limit=limit)


@inbox_app.command("unmatched")
def unmatched(
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one array)."),
    limit: int = typer.Option(200, "--limit"),
) -> None:
    """List messages no case took on its own (triage), newest first, with the reason."""
    rows = _inbound_rows("unmatched", limit)
    if as_json:
        print_json(rows)
        return
    table = present.table(
        "id", "received", "from", "subject", "text", "suggested", "why not applied"
    )
    for r in rows:
        table.add_row(
            str(r["id"]),
            f"{r['received_at']:%Y-%m-%d %H:%M}",
            r["from"] or "",
            r["subject"] or "",
            r["snippet"],
            r["suggested_case"] or "—",
            r["reason"] or "",
        )
    console.print(table)
    console.print(
        f"{len(rows)} unmatched message(s); apply one to a case with `relance inbox attach ID REF`"
    )


@inbox_app.command("attach")
def attach(
    inbound_id: int = typer.Argument(
        ..., metavar="ID", help="The message (see `inbox unmatched`)."
    ),
    ref: str = typer.Argument(..., metavar="REF", help="The case it belongs to."),
    actor: str | None = AS_OPTION,
) -> None:
    """Attach an unmatched message to a case and apply it (analysis and effects), audited."""
    from assistant.bootstrap import reply_handler
    from assistant.db.engine import session_scope
    from assistant.services.inbound_triage import TriageError, attach_inbound

    application = _app(actor)
    try:
        with session_scope(application.engine) as session:
            message = attach_inbound(
                session, inbound_id, ref, application.actor, reply_handler(application)
            )
    except TriageError as exc:
        fail(str(exc))
    console.print(message, highlight=False, markup=False)


@inbox_app.command("quarantine")
def quarantine(
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one array)."),
    limit: int = typer.Option(200, "--limit"),
) -> None:
    """List messages that could not be read; their raw bytes are kept."""
    rows = _inbound_rows("quarantined", limit)
    if as_json:
        print_json(rows)
        return
    table = present.table("id", "received", "size", "from", "error")
    for r in rows:
        table.add_row(
            str(r["id"]),
            f"{r['received_at']:%Y-%m-%d %H:%M}",
            str(r["size"]),
            r["from"] or "?",
            r["error"] or "",
        )
    console.print(table)
    console.print(f"{len(rows)} quarantined message(s)")


def worker_command(
    no_send: bool = typer.Option(False, "--no-send", help="Do not flush the outbox."),
    no_fetch: bool = typer.Option(False, "--no-fetch", help="Do not watch the inbox."),
    actor: str | None = AS_OPTION,
) -> None:
    """Run until stopped: daily cycle, inbox watch, outbox within sending hours."""
    from assistant.services.worker import run_worker

    application = _app(actor or "relance-worker")
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        sender = None if no_send else build_sender(application.settings)
        fetching = not no_fetch and imap_configured(application.settings)
    except MailNotConfigured as exc:
        fail(str(exc))

    def factory() -> Any:
        return build_mailbox(application.settings)

    if not no_fetch and not fetching:
        err_console.print("[yellow]warning:[/] IMAP is not configured: the inbox is not watched.")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(
            application,
            sender=sender,
            mailbox_factory=factory if imap_configured(application.settings) else None,
            watch_inbox=fetching,
            stop=stop,
        )

    console.print("relance worker started; stop with Ctrl-C or SIGTERM", highlight=False)
    asyncio.run(main())
    console.print("relance worker stopped cleanly", highlight=False)
