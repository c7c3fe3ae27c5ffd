"""`relance policy check|preview`."""

from __future__ import annotations

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
from assistant.policy.loader import PolicyError, load_policy, policy_files
from assistant.services.policy_preview import PreviewError, preview_step

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
        if case_ref:  # the database is opened only for a real case
            with session_scope(application.engine) as session:
                shown = preview_step(
                    session, policy, step, day, application.templates_dir, case_ref
                )
        else:
            shown = preview_step(None, policy, step, day, application.templates_dir)
    except PreviewError as exc:
        fail(str(exc))
    letter, findings = shown.letter, shown.findings
    console.rule(f"[bold]{letter.subject}")
    console.print(letter.html if html else letter.text, highlight=False, markup=False)
    console.rule()
    for f in findings:
        style = "red" if f.blocking else "yellow"
        console.print(
            f"[{style}]{'BLOCKING' if f.blocking else 'warning'}[/] {f.code}: {f.message}",
            highlight=False,
        )
