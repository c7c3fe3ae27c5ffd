"""Read policy YAML files and report every mistake with its file, line and field."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from assistant.policy.schema import Policy


@dataclass(frozen=True)
class PolicyIssue:
    """One mistake in a policy file."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field or '(file)'}: {self.message}"


class PolicyError(Exception):
    """A policy file that cannot be used; `issues` lists every mistake found."""

    def __init__(self, issues: list[PolicyIssue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def _line_index(node: yaml.Node | None, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map every key path of a composed YAML document to its 1-based line."""
    lines: dict[tuple[Any, ...], int] = {}
    if node is None:
        return lines
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, key.value)
            lines.update(_line_index(value, sub))
            lines[sub] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_line_index(item, (*path, i)))
    return lines


def _nearest_line(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None


def _field_name(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_policy(text: str, file: str = "<policy>") -> Policy:
    """Validate policy YAML `text`; raise PolicyError naming file, line and field."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError([PolicyIssue(file, line, "", f"invalid YAML: {problem}")]) from exc
    if not isinstance(data, dict):
        raise PolicyError([PolicyIssue(file, 1, "", "a policy must be a YAML mapping")])
    lines = _line_index(node)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            loc = tuple(
                p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))
            )
            msg = err["msg"].removeprefix("Value error, ")
            if msg.startswith("@") and ": " in msg:
                # A model-level check names the field it is about: locate the error there.
                path, _, msg = msg[1:].partition(": ")
                loc = (*loc, *path.split("."))
            if err["type"] == "extra_forbidden":
                msg = "unknown field (check its spelling)"
            issues.append(PolicyIssue(file, _nearest_line(lines, loc), _field_name(loc), msg))
        raise PolicyError(issues) from exc


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
