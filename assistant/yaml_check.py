"""Validate a YAML document against a pydantic model, locating every error by line and field.

Shared by the policy and import-mapping loaders so both report mistakes the same way.
Hostile input is refused before any document is built: a size cap, a nesting cap, and a cap
on the nodes the document would expand to through its aliases (a "billion laughs" bomb is a
few hundred bytes that expand to billions of nodes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

MAX_CHARS = 1_000_000  # a policy or a mapping is a few kilobytes
MAX_DEPTH = 50  # nesting of mappings and lists
MAX_NODES = 20_000  # nodes of the document once its aliases are expanded


@dataclass(frozen=True)
class LocatedIssue:
    """One mistake: where it is (line, dotted field) and what is wrong."""

    line: int | None
    field: str
    message: str


@dataclass(frozen=True)
class FileIssue:
    """One mistake in a configuration file, with its file, line and field."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field or '(file)'}: {self.message}"


class FileIssues(Exception):
    """A configuration file that cannot be used; `issues` lists every mistake found."""

    def __init__(self, issues: list[FileIssue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class YamlInvalid(Exception):
    """The document does not validate; `issues` lists every mistake."""

    def __init__(self, issues: list[LocatedIssue]):
        self.issues = issues
        super().__init__("; ".join(i.message for i in issues))


def line_index(node: yaml.Node | None, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map every key path of a composed YAML document to its 1-based line."""
    lines: dict[tuple[Any, ...], int] = {}
    if node is None:
        return lines
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, key.value)
            lines.update(line_index(value, sub))
            lines[sub] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(line_index(item, (*path, i)))
    return lines


def nearest_line(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    """Return the line of `loc`, or of its closest parent that has one."""
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None


def field_name(loc: tuple[Any, ...]) -> str:
    """Render a pydantic location as `ladder.steps[1].days_after_due`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class YamlTooLarge(yaml.YAMLError):
    """A document that would expand beyond the caps; located at the offending node."""

    def __init__(self, problem: str, mark: Any):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


def check_expansion(text: str) -> None:
    """Raise YamlTooLarge when `text` nests too deep or its aliases expand too far.

    Reads the parser's event stream once, in constant memory per event: the size of every
    anchored node is counted as it ends, and each alias adds the size of its anchor.
    """
    sizes: dict[str, int] = {}
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, nodes counted before it)
    total = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            total += sizes.get(event.anchor or "", 1)
        elif isinstance(event, yaml.ScalarEvent):
            total += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            open_nodes.append((event.anchor, total))
            total += 1
            if len(open_nodes) > MAX_DEPTH:
                raise YamlTooLarge(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, before = open_nodes.pop()
            if anchor:
                sizes[anchor] = total - before
        if total > MAX_NODES:
            raise YamlTooLarge(
                f"the document expands to more than {MAX_NODES:,} values through its "
                "aliases (*name); write the values out instead",
                event.start_mark,
            )


def validate_yaml(text: str, model: type[M], *, what: str, unknown: str) -> M:
    """Parse `text` and validate it as `model`; raise YamlInvalid with located issues.

    A model-level check may start its message with `@dotted.field: ` to be located there.
    """
    if len(text) > MAX_CHARS:
        raise YamlInvalid(
            [LocatedIssue(None, "", f"{what} is larger than {MAX_CHARS:,} characters")]
        )
    try:
        check_expansion(text)
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlInvalid([LocatedIssue(line, "", f"invalid YAML: {problem}")]) from exc
    if not isinstance(data, dict):
        raise YamlInvalid([LocatedIssue(1, "", f"{what} must be a YAML mapping")])
    lines = line_index(node)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            loc = tuple(
                p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))
            )
            msg = err["msg"].removeprefix("Value error, ")
            if msg.startswith("@") and ": " in msg:
                path, _, msg = msg[1:].partition(": ")
                loc = (*loc, *(int(p) if p.isdigit() else p for p in path.split(".")))
            if err["type"] == "extra_forbidden":
                msg = unknown
            issues.append(LocatedIssue(nearest_line(lines, loc), field_name(loc), msg))
        raise YamlInvalid(issues) from exc
