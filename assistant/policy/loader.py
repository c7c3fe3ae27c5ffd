"""Read policy YAML files and report every mistake with its file, line and field."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from assistant.policy.schema import Policy
from assistant.yaml_check import FileIssue, FileIssues, YamlInvalid, validate_yaml

PolicyIssue = FileIssue


class PolicyError(FileIssues):
    """A policy file that cannot be used; `issues` lists every mistake."""


def parse_policy(text: str, file: str = "<policy>") -> Policy:
    """Validate policy YAML `text`; raise PolicyError naming file, line and field."""
    try:
        return validate_yaml(
            text, Policy, what="a policy", unknown="unknown field (check its spelling)"
        )
    except YamlInvalid as exc:
        raise PolicyError(
            [PolicyIssue(file, i.line, i.field, i.message) for i in exc.issues]
        ) from exc


def load_policy(path: Path) -> Policy:
    """Load and validate one policy file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([PolicyIssue(str(path), None, "", f"cannot read: {exc}")]) from exc
    return parse_policy(text, str(path))


def policy_files(paths: Iterable[Path]) -> list[Path]:
    """Expand directories into their policy files (`*.yaml`, `*.yml`, not `_*`)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(
                f
                for f in p.iterdir()
                if f.suffix in {".yaml", ".yml"} and not f.name.startswith("_")
            )
        else:
            out.append(p)
    return out


def load_policies(directory: Path) -> dict[str, Policy]:
    """Load every policy of `directory`, keyed by creditor slug; raise on any error."""
    if not directory.is_dir():
        where = directory.resolve()
        raise PolicyError(
            [
                PolicyIssue(
                    str(directory),
                    None,
                    "",
                    f"no policies folder at {where}: set RELANCE_POLICIES_DIR (see .env.example)",
                )
            ]
        )
    policies: dict[str, Policy] = {}
    issues: list[PolicyIssue] = []
    for f in policy_files([directory]):
        try:
            pol = load_policy(f)
        except PolicyError as exc:
            issues += exc.issues
            continue
        if pol.slug in policies:
            issues.append(
                PolicyIssue(str(f), None, "creditor.slug", f"duplicate slug {pol.slug!r}")
            )
        policies[pol.slug] = pol
    if issues:
        raise PolicyError(issues)
    return policies
