"""`relance policy check|preview`."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer

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
from assistant.domain import CaseState, ClientHistory, DebtorFacts, InvoiceLine
from assistant.letters.rates import RateTable
from assistant.letters.render import LetterRenderer
from assistant.letters.validator import validate_letter
from assistant.policy.loader import PolicyError, load_policy, policy_files
from assistant.services.case_file import find_case, load_case_file

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
    results: list[dict[str, Any]] = []
    for path in targets:
        try:
            pol = load_policy(path)
            results.append({"file": str(path), "ok": True, "slug": pol.slug, "errors": []})
        except PolicyError as exc:
            results.append(
                {
                    "file": str(path),
                    "ok": False,
                    "slug": None,
                    "errors": [
                        {"line": i.line, "field": i.field, "message": i.message} for i in exc.issues
                    ],
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
            for e in r["errors"]:
                where = f"{r['file']}:{e['line']}" if e["line"] else r["file"]
                err_console.print(
                    f"[red]error[/] {where}: {e['field'] or '(file)'}: {e['message']}",
                    highlight=False,
                )
    if bad:
        raise typer.Exit(1)


def _sample(on) -> tuple[DebtorFacts, CaseState, list[InvoiceLine]]:  # type: ignore[no-untyped-def]
    debtor = DebtorFacts(
        ref="PREVIEW", name="Exemple Client SARL", emails=("compta@client.example",)
    )
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
    ]
    return debtor, CaseState(ref="REF-PREV"), invoices


@app.command("preview")
def preview(
    slug: str = typer.Argument(..., help="Creditor slug."),
    step: str = typer.Option(..., "--step", help="Ladder step name."),
    case_ref: str | None = typer.Option(None, "--case", help="Render for a real case."),
    on: str | None = typer.Option(None, "--date", help="Letter date (YYYY-MM-DD)."),
    html: bool = typer.Option(False, "--html", help="Print the HTML body instead of the text."),
) -> None:
    """Render one step of a policy's ladder, on a sample debtor or a real case."""
    application = get_app()
    day = parse_date(on)
    with policies_or_fail(application):
        policies = application.policies
    if slug not in policies:
        fail(f"no policy for creditor {slug!r} (known: {', '.join(sorted(policies))})")
    policy = policies[slug]
    try:
        ladder_step = policy.step(step)
    except KeyError:
        fail(
            f"no step {step!r} in {slug} (steps: {', '.join(s.name for s in policy.ladder.steps)})"
        )
    debtor, state, invoices = _sample(day)
    history = ClientHistory()
    if case_ref:
        with session_scope(application.engine) as session:
            found = find_case(session, case_ref)
            if found is None or found[1] != slug:
                fail(f"no case {case_ref} for creditor {slug}")
            facts = load_case_file(session, found[0], policy, day, thread=False)
            debtor, state, invoices = facts.debtor, facts.state, list(facts.open_lines)
            history = facts.history
    renderer = LetterRenderer(application.templates_dir, RateTable.packaged())
    letter = renderer.render(
        policy=policy,
        step=ladder_step,
        debtor=debtor,
        case=state,
        invoices=invoices,
        history=history,
        on=day,
        render_pdf=False,
    )
    findings = validate_letter(letter, policy=policy, debtor=debtor, case=state, on=day)
    console.rule(f"[bold]{letter.subject}")
    console.print(letter.html if html else letter.text, highlight=False, markup=False)
    console.rule()
    for f in findings:
        style = "red" if f.blocking else "yellow"
        console.print(
            f"[{style}]{'BLOCKING' if f.blocking else 'warning'}[/] {f.code}: {f.message}",
            highlight=False,
        )
