"""`relance policy check|preview`."""

from __future__ import annotations

import difflib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from sqlmodel import select

from assistant.cli.common import (
    console,
    err_console,
    fail,
    get_app,
    parse_date,
    policies_or_fail,
    print_json,
)
from assistant.db.engine import session_scope
from assistant.db.models import Case, Creditor
from assistant.domain import CaseState, ClientHistory, DebtorFacts, Finding, InvoiceLine
from assistant.importing.history import load_histories
from assistant.letters.rates import RateTable
from assistant.letters.render import Letter, LetterRenderer
from assistant.planner import Plan, choose_tone, step_invoices
from assistant.policy.checks import check_policy
from assistant.policy.loader import PolicyError, load_policy, policy_files
from assistant.policy.schema import LadderStep, Policy
from assistant.services.portfolio import debtor_facts, invoice_line, load_portfolio

app = typer.Typer(help="Check and preview creditor policies.", no_args_is_help=True)


@app.command("check")
def check(
    paths: list[Path] = typer.Argument(
        None, help="Policy files or folders (default: the policies folder)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Validate policy files; exit non-zero on any error, naming file, line and field."""
    targets = policy_files(paths or [get_app().settings.policies_dir])
    if not targets:
        fail("no policy file found")
    templates_dir = get_app().templates_dir
    results: list[dict[str, Any]] = []
    for path in targets:
        try:
            pol = load_policy(path)
        except PolicyError as exc:
            results.append(
                {
                    "file": str(path),
                    "ok": False,
                    "slug": None,
                    "errors": [
                        {"line": i.line, "field": i.field, "message": i.message} for i in exc.issues
                    ],
                    "warnings": [],
                }
            )
            continue
        found = check_policy(pol, path.read_text(encoding="utf-8"), templates_dir)
        errors = [f.as_dict() for f in found if f.level == "error"]
        results.append(
            {
                "file": str(path),
                "ok": not errors,
                "slug": pol.slug,
                "errors": errors,
                "warnings": [f.as_dict() for f in found if f.level == "warning"],
            }
        )
    slugs = [r["slug"] for r in results if r["slug"]]
    for r in results:
        if r["slug"] and slugs.count(r["slug"]) > 1:
            r["ok"] = False
            r["errors"].append(
                {
                    "line": None,
                    "field": "creditor.slug",
                    "message": f"slug {r['slug']!r} is used by another policy file",
                }
            )
    bad = [r for r in results if not r["ok"]]
    if as_json:
        print_json({"ok": not bad, "files": results})
    else:
        for r in results:
            if r["ok"]:
                console.print(f"[green]ok[/]    {r['file']} ({r['slug']})", highlight=False)
            for label, key in (("[red]error[/]", "errors"), ("[yellow]warning[/]", "warnings")):
                for e in r[key]:
                    where = f"{r['file']}:{e['line']}" if e["line"] else r["file"]
                    err_console.print(
                        f"{label} {where}: {e['field'] or '(file)'}: {e['message']}",
                        highlight=False,
                    )
    if bad:
        raise typer.Exit(1)


def _sample(on: date, step: LadderStep) -> tuple[DebtorFacts, CaseState, list[InvoiceLine]]:
    debtor = DebtorFacts(
        ref="PREVIEW",
        name="Exemple Client SARL",
        emails=("compta@client.example",),
        address="5 rue de l'Exemple, 69002 Lyon",
    )
    soon = on + timedelta(days=max(0, min(3, -step.days_after_due)))
    invoices = [
        InvoiceLine(
            "FA-2026-0101",
            on - timedelta(days=40),
            Decimal("1250.00"),
            Decimal("1250.00"),
            issue_date=on - timedelta(days=70),
        ),
        InvoiceLine(
            "FA-2026-0117",
            on - timedelta(days=20),
            Decimal("480.50"),
            Decimal("480.50"),
            issue_date=on - timedelta(days=50),
        ),
        InvoiceLine(
            "FA-2026-0142",
            soon,
            Decimal("312.00"),
            Decimal("312.00"),
            issue_date=soon - timedelta(days=30),
        ),
    ]
    return debtor, CaseState(ref="REF-PREV"), invoices


def _preview_policy(target: str, application: Any) -> tuple[Policy, Policy | None]:
    """Return (policy to preview, live policy of the same creditor if any)."""
    with policies_or_fail(application):
        live = application.policies
    path = Path(target)
    if path.suffix in {".yaml", ".yml"} or path.is_file():
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            fail(str(exc))
        return policy, live.get(policy.slug)
    if target not in live:
        fail(f"no policy for creditor {target!r} (known: {', '.join(sorted(live))})")
    return live[target], live[target]


def _draft_for(
    renderer: LetterRenderer,
    policy: Policy,
    step: LadderStep,
    debtor: DebtorFacts,
    state: CaseState,
    lines: list[InvoiceLine],
    history: ClientHistory,
    day: date,
) -> tuple[Letter, list[Finding]]:
    """Select and render the letter of `step` exactly as the cycle drafts it."""
    from assistant.services.cycle import _Due, _render

    invoices = step_invoices(step, lines, day)
    if not any(i.outstanding > 0 for i in invoices):
        what = "falls due within the pre-reminder's horizon" if step.pre_due else "is overdue"
        fail(f"no invoice {what} on {day.isoformat()}: the cycle would not draft {step.name}")
    plan = Plan(
        "draft",
        "preview",
        step=step,
        step_index=policy.ladder.index(step.name),
        invoices=invoices,
        tone=choose_tone(policy, step, debtor, history),
        mention_broken_promise=state.broken_promise_pending,
    )
    due = _Due(Case(ref=state.ref), debtor, state, plan, history)
    return _render(renderer, policy, due, day)


def _step_of(policy: Policy, step: str) -> LadderStep:
    try:
        return policy.step(step)
    except KeyError:
        fail(
            f"no step {step!r} in {policy.slug} "
            f"(steps: {', '.join(s.name for s in policy.ladder.steps)})"
        )


@app.command("preview")
def preview(
    slug: str = typer.Argument(
        ..., help="Creditor slug, or a policy file (FILE.yaml) not yet published."
    ),
    step: str = typer.Option(..., "--step", help="Ladder step name."),
    case_ref: str | None = typer.Option(None, "--case", help="Render for a real case."),
    on: str | None = typer.Option(None, "--date", help="Letter date (YYYY-MM-DD)."),
    html: bool = typer.Option(False, "--html", help="Print the HTML body instead of the text."),
    against: str | None = typer.Option(
        None, "--against", help="'live': also show the difference from the live policy's letter."
    ),
) -> None:
    """Render one step of a policy's ladder, on a sample debtor or a real case."""
    application = get_app()
    day = parse_date(on)
    policy, live = _preview_policy(slug, application)
    if against not in (None, "live"):
        fail(f"--against {against!r}: only 'live' is supported")
    ladder_step = _step_of(policy, step)
    debtor, state, invoices = _sample(day, ladder_step)
    history = ClientHistory()
    if case_ref:
        with session_scope(application.engine) as session:
            row = session.exec(
                select(Case, Creditor).join(Creditor).where(Case.ref == case_ref)
            ).first()
            if row is None or row[1].slug != policy.slug:
                fail(f"no case {case_ref} for creditor {policy.slug}")
            case, creditor = row
            pf = load_portfolio(session, creditor, day)
            debtor = debtor_facts(pf.debtors[case.debtor_id], pf.emails.get(case.debtor_id, []))
            state = pf.case_state(case, policy.promises.grace_days)
            invoices = [invoice_line(i) for i in pf.invoices.get(case.debtor_id, [])]
            history = load_histories(session, creditor.id or 0, day).get(
                case.debtor_id, ClientHistory()
            )
    renderer = LetterRenderer(application.templates_dir, RateTable.packaged())
    letter, findings = _draft_for(
        renderer, policy, ladder_step, debtor, state, invoices, history, day
    )
    console.rule(f"[bold]{letter.subject}")
    console.print(letter.html if html else letter.text, highlight=False, markup=False)
    console.rule()
    for f in findings:
        style = "red" if f.blocking else "yellow"
        console.print(
            f"[{style}]{'BLOCKING' if f.blocking else 'warning'}[/] {f.code}: {f.message}",
            highlight=False,
        )
    if against:
        if live is None:
            fail(f"no live policy for creditor {policy.slug}: nothing to compare with")
        _show_difference(renderer, live, step, debtor, state, invoices, history, day, letter, html)


def _show_difference(
    renderer: LetterRenderer,
    live: Policy,
    step: str,
    debtor: DebtorFacts,
    state: CaseState,
    invoices: list[InvoiceLine],
    history: ClientHistory,
    day: date,
    letter: Letter,
    html: bool,
) -> None:
    """Print a unified diff from the live policy's letter to the previewed one."""
    live_letter, _ = _draft_for(
        renderer, live, _step_of(live, step), debtor, state, invoices, history, day
    )
    old = f"Subject: {live_letter.subject}\n\n" + (live_letter.html if html else live_letter.text)
    new = f"Subject: {letter.subject}\n\n" + (letter.html if html else letter.text)
    diff = list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), "live", "preview", lineterm="", n=1
        )
    )
    console.rule("[bold]difference from the live policy")
    console.print(
        "\n".join(diff) if diff else "(same letter)",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
