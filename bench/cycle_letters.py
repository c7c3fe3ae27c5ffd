"""Dump every letter a cycle drafts, to compare two versions of the code byte for byte.

    python bench/cycle_letters.py --db imported.db --out letters.json
    python bench/cycle_letters.py --compare before.json after.json

The first form copies the SQLite database `--db` (an imported portfolio, e.g. the one
`bench/cycle_speed.py --keep DIR` caches), runs the cycle on the reference date on the copy
and writes, per case token and step, the subject, text, HTML, a SHA-256 of the PDF, the
facts and the findings of each draft, plus the cycle's counters. Run it on two checkouts
(the script puts its own checkout first on the path) and compare the two files: the second
form prints the differences and exits 1 if there are any.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.floors import AS_OF, build  # noqa: E402


def dump(db: Path, out: Path) -> None:
    """Run the cycle on a copy of `db` and write its letters to `out`."""
    import sqlalchemy as sa

    from assistant.db.models import Case, Draft
    from assistant.services.cycle import run_cycle

    with tempfile.TemporaryDirectory(prefix="relance-letters-") as tmp:
        copy = Path(tmp) / "cycle.db"
        shutil.copyfile(db, copy)
        app = build(f"sqlite:///{copy}")
        report = run_cycle(app, AS_OF)
        letters: dict[str, Any] = {}
        with app.engine.connect() as conn:
            drafts, cases_t = Draft.__table__, Case.__table__  # type: ignore[attr-defined]
            query = sa.select(cases_t.c.ref.label("case_ref"), *drafts.c).join(
                cases_t, cases_t.c.id == drafts.c.case_id
            )
            for row in conn.execute(query):
                m = row._mapping
                letters[f"{m['case_ref']}/{m['step']}/{m['kind']}"] = {
                    "subject": m["subject"],
                    "text": m["body_text"],
                    "html": m["body_html"],
                    "pdf": hashlib.sha256(m["pdf"]).hexdigest() if m["pdf"] else None,
                    "facts": m["facts"],
                    "findings": m["findings"],
                    "status": m["status"],
                    "four_eyes": m["requires_four_eyes"],
                }
            cases = dict(conn.execute(sa.select(cases_t.c.ref, cases_t.c.status)).all())
        app.close()
    summary = report.as_dict()
    summary.pop("date", None)
    out.write_text(
        json.dumps({"report": summary, "cases": cases, "letters": letters}, sort_keys=True)
    )
    print(f"{len(letters):,} letters, {len(cases):,} cases -> {out}")


def compare(before: Path, after: Path) -> int:
    """Print how two dumps differ; return 1 if they do."""
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    diffs = 0
    for part in ("report", "cases"):
        if a[part] != b[part]:
            diffs += 1
            print(f"{part} differ")
    la, lb = a["letters"], b["letters"]
    for key in sorted(set(la) | set(lb)):
        if la.get(key) != lb.get(key):
            diffs += 1
            if diffs <= 20:
                fields = [
                    f
                    for f in (la.get(key) or lb.get(key) or {})
                    if (la.get(key) or {}).get(f) != (lb.get(key) or {}).get(f)
                ]
                print(f"letter {key} differs: {', '.join(fields) or 'missing'}")
    print(f"{len(la):,} / {len(lb):,} letters compared, {diffs} difference(s)")
    return 1 if diffs else 0


def main(argv: list[str] | None = None) -> int:
    """Parse options; dump or compare."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if not args.db or not args.out:
        parser.error("--db and --out are needed to dump")
    dump(args.db, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
