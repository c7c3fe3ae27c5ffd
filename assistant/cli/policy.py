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
from assistant.letters.rates import RateTable
from assistant.letters.render import LetterRenderer
from assistant.policy.checks import check_invalid_policy, check_policy
from assistant.policy.loader import PolicyError, load_policy, policy_files
from assistant.policy.schema import Policy
from assistant.services.policy_preview import (
    PreviewError,
    letter_difference,
    preview_case,
    render_step,
    step_of,
)

app = typer.Typer(help="Check and preview creditor policies.", no_args_is_help=True)


def _readable(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


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
            # Report every error of the file in one run: what the schema refused, then what
            # can still be read (missing templates, malformed SIREN…).
            text = _readable(path)
            more = check_invalid_policy(text, templates_dir, {i.field for i in exc.issues})
            results.append(
                {
                    "file": str(path),
                    "ok": False,
                    "slug": None,
                    "errors": [
                        {"line": i.line, "field": i.field, "message": i.message} for i in exc.issues
                    ]
                    + [f.as_dict() for f in more if f.level == "error"],
                    "warnings": [f.as_dict() for f in more if f.level == "warning"],
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
    if against and live is None:
        fail(f"no live policy for creditor {policy.slug}: nothing to compare with")
    renderer = LetterRenderer(application.templates_dir, RateTable.packaged())
    try:
        ladder_step = step_of(policy, step)
        if case_ref:  # the database is opened only for a real case
            with session_scope(application.engine) as session:
                case = preview_case(session, policy, ladder_step, day, case_ref)
        else:
            case = preview_case(None, policy, ladder_step, day, None)
        shown = render_step(renderer, policy, ladder_step, case, day)
        before = (
            render_step(renderer, live, step_of(live, step), case, day)
            if against and live is not None
            else None
        )
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
    if before is not None:
        diff = letter_difference(before.letter, letter, html)
        console.rule("[bold]difference from the live policy")
        console.print(
            "\n".join(diff) if diff else "(same letter)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
