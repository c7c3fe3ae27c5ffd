"""Edit a creditor's policy: check a text, compare it, save it as a draft, publish it.

Checking uses the same loader and validator as `relance policy check` (`parse_policy`).
Publishing writes the YAML into the policies folder atomically (a temporary file in the same
folder, then `os.replace`), only when it validates and keeps its creditor's slug, and records
the version (author, time) in `policy_version`. Every save is audited.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from assistant.db.models import utcnow
from assistant.db.user_models import PolicyVersion
from assistant.policy.loader import PolicyError, load_policy, parse_policy, policy_files
from assistant.policy.schema import Policy
from assistant.services.audit import record


class PolicyEditError(Exception):
    """The policy text cannot be saved or published as asked."""


@dataclass(frozen=True)
class Checked:
    """A policy text's verdict: the policy when valid, else the mistakes with their line."""

    policy: Policy | None
    errors: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        """Tell whether the text can be published."""
        return self.policy is not None and not self.errors


def check_text(text: str, slug: str) -> Checked:
    """Validate `text` as the policy of creditor `slug` (its slug may not change)."""
    try:
        policy = parse_policy(text, f"{slug}.yaml")
    except PolicyError as exc:
        errors = [{"line": i.line, "field": i.field, "message": i.message} for i in exc.issues]
        return Checked(None, errors)
    if policy.slug != slug:
        error = {
            "line": _slug_line(text),
            "field": "creditor.slug",
            "message": f"this is the policy of {slug!r}: the slug cannot become {policy.slug!r}",
        }
        return Checked(None, [error])
    return Checked(policy, [])


def _slug_line(text: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith("slug:"):
            return number
    return None


def policy_path(policies_dir: Path, slug: str) -> Path:
    """Return the file of the policies folder that holds creditor `slug`'s policy."""
    for path in policy_files([policies_dir]):
        try:
            if load_policy(path).slug == slug:
                return path
        except PolicyError:
            continue
    raise PolicyEditError(f"no policy file for creditor {slug!r} in {policies_dir}")


def published_text(policies_dir: Path, slug: str) -> str:
    """Return the text of the policy file in use."""
    return policy_path(policies_dir, slug).read_text(encoding="utf-8")


def diff_lines(published: str, edited: str) -> list[str]:
    """Return the unified difference from the published text to the edited one."""
    return list(
        difflib.unified_diff(
            published.splitlines(),
            edited.splitlines(),
            fromfile="published",
            tofile="edited",
            lineterm="",
        )
    )


def latest_draft(session: Session, slug: str) -> PolicyVersion | None:
    """Return the newest draft saved for `slug` after the last publication, if any."""
    last = session.exec(
        select(PolicyVersion)
        .where(PolicyVersion.creditor == slug)
        .order_by(col(PolicyVersion.id).desc())
    ).first()
    return last if last is not None and last.status == "draft" else None


def save_draft(session: Session, slug: str, text: str, author: str) -> PolicyVersion:
    """Keep `text` as a draft of `slug`'s policy (it may still have errors)."""
    version = PolicyVersion(creditor=slug, yaml_text=text, status="draft", author=author)
    session.add(version)
    session.flush()
    errors = len(check_text(text, slug).errors)
    record(session, author, "policy.draft_saved", "policy", slug, version=version.id, errors=errors)
    return version


def publish(
    session: Session,
    policies_dir: Path,
    policies: MutableMapping[str, Policy],
    slug: str,
    text: str,
    author: str,
) -> PolicyVersion:
    """Validate `text`, write it over `slug`'s policy file atomically and put it in use."""
    checked = check_text(text, slug)
    if not checked.ok or checked.policy is None:
        first = checked.errors[0]
        where = f"line {first['line']}: " if first["line"] else ""
        raise PolicyEditError(
            f"not published: {len(checked.errors)} error(s), first {where}{first['message']}"
        )
    path = policy_path(policies_dir, slug)
    now = utcnow()
    version = PolicyVersion(
        creditor=slug, yaml_text=text, status="published", author=author, published_at=now
    )
    session.add(version)
    session.flush()
    record(session, author, "policy.published", "policy", slug, version=version.id, file=path.name)
    _write_atomically(path, text)
    policies[slug] = checked.policy
    return version


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f"_{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def history(session: Session, slug: str) -> list[dict[str, Any]]:
    """Return the published versions of `slug`'s policy, newest first."""
    rows = session.exec(
        select(PolicyVersion)
        .where(PolicyVersion.creditor == slug, PolicyVersion.status == "published")
        .order_by(col(PolicyVersion.id).desc())
    ).all()
    return [
        {
            "id": v.id,
            "author": v.author,
            "published_at": v.published_at,
            "lines": len(v.yaml_text.splitlines()),
        }
        for v in rows
    ]
