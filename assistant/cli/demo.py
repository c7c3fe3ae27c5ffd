"""`relance demo`: a fresh SQLite file, the sample portfolio, one cycle, two drafts shown."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from sqlmodel import col, select

from assistant.bootstrap import build_app, find_resource
from assistant.cli.common import console, fail
from assistant.config import Settings
from assistant.db.engine import session_scope
from assistant.db.models import Case, Debtor, Draft
from assistant.importing.service import import_invoices, import_payments


def _existing(path: Path) -> Path | None:
    return path if path.exists() else None


def sample_files(examples: Path, slug: str) -> dict[str, Path | None]:
    """Return the invoices and payments files of one sample creditor, with their mappings."""
    folder = examples / slug
    invoices = next(
        (p for p in sorted(folder.glob("invoices.*")) if p.suffix in {".csv", ".xlsx"}), None
    )
    return {
        "invoices": invoices,
        "mapping": _existing(folder / "mapping.yaml"),
        "payments": _existing(folder / "payments.csv"),
        "payments_mapping": _existing(folder / "payments-mapping.yaml"),
    }


def demo_as_of(examples: Path) -> date:
    """Return the date the sample portfolio was generated for (today when unknown)."""
    marker = examples / "as_of.txt"
    return date.fromisoformat(marker.read_text().strip()) if marker.exists() else date.today()


def demo_command(
    database: Path = typer.Option(
        Path("relance-demo.db"), "--database", help="SQLite file (recreated)."
    ),
    on: str | None = typer.Option(
        None, "--date", help="Cycle date; default: the sample's as-of date."
    ),
) -> None:
    """Import the sample portfolio into a fresh SQLite file, run one cycle, show drafts."""
    from assistant.cli.main import print_cycle_report, run_cycle_with_progress

    examples = find_resource("examples")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    settings = Settings(
        database_url=f"sqlite:///{database}",
        policies_dir=find_resource("policies"),
        openai_api_key=None,
        openai_base_url=None,
    )
    application = build_app(settings, actor="demo")
    day = date.fromisoformat(on) if on else demo_as_of(examples)
    console.rule("[bold]Relance demo")
    console.print(
        f"database: {database} · policies: {settings.policies_dir} · date: {day} · engine: template (no API key)"
    )
    for slug in sorted(application.policies):
        files = sample_files(examples, slug)
        if files["invoices"] is None:
            continue
        report = import_invoices(
            application, files["invoices"], slug, mapping=files["mapping"], actor="demo"
        )
        if not report.ok:
            fail(f"sample import failed for {slug}: {report.errors[:3]}")
        line = f"{slug}: {report.rows} invoice rows imported"
        if files["payments"] is not None:
            pay = import_payments(
                application,
                files["payments"],
                slug,
                mapping=files["payments_mapping"],
                actor="demo",
            )
            if not pay.ok:
                fail(f"sample payments import failed for {slug}: {pay.errors[:3]}")
            line += f", {pay.rows} payments"
        console.print(line)
    cycle = run_cycle_with_progress(application, day)
    print_cycle_report(cycle)
    with session_scope(application.engine) as session:
        for language in ("fr", "en"):
            row = session.exec(
                select(Draft, Case, Debtor)
                .join(Case, col(Case.id) == Draft.case_id)
                .join(Debtor, col(Debtor.id) == Case.debtor_id)
                .where(col(Draft.id).in_(cycle.draft_ids))
                .order_by(col(Draft.id))
            ).all()
            pick = next((r for r in row if _language(r[0]) == language), None)
            if pick is None:
                continue
            draft, case, debtor = pick
            console.rule(
                f"draft #{draft.id} · {case.ref} · {debtor.legal_name} · {draft.step} · {language}"
            )
            console.print(f"Subject: {draft.subject}\n", highlight=False, markup=False)
            console.print(draft.body_text, highlight=False, markup=False)
    console.rule()
    console.print(f"Next: RELANCE_DATABASE_URL=sqlite:///{database} relance drafts list")
    application.close()


def _language(draft: Draft) -> str | None:
    return draft.facts.get("language") if draft.facts else None
