"""Prompt files: Jinja templates in `prompts/`, versioned by the sha256 of the file.

A prompt file holds two blocks, ``system`` and ``user``; rendering gives the chat messages
plus the prompt's name and hash, which the client writes to the call log. Text written by a
debtor is fenced with the `fence` filter (see `fence_data`). Reads files only; no model here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

Message = dict[str, str]
_FENCE_TAG = re.compile(
    r"<\s*(/?)\s*(debtor_[a-z_]*|thread_[a-z_]*|data|system|instructions?)\b", re.IGNORECASE
)


def fence_data(text: str | None) -> str:
    """Neutralise tags a text could use to leave its data fence (`</debtor_reply>`…)."""
    if not text:
        return ""
    return _FENCE_TAG.sub(lambda m: f"‹{m.group(1)}{m.group(2)}", text)


@dataclass(frozen=True)
class RenderedPrompt:
    """The messages of a rendered prompt, with the version they came from."""

    name: str
    hash: str
    messages: list[Message]


class PromptLibrary:
    """Load and render the prompt files of one folder (compiled once, hashed once)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.env = Environment(
            loader=FileSystemLoader(str(self.folder)),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["fence"] = fence_data
        self._cache: dict[str, tuple[Template, str]] = {}

    def path(self, name: str) -> Path:
        """Return the file of prompt `name`."""
        return self.folder / f"{name}.md.j2"

    def _load(self, name: str) -> tuple[Template, str]:
        hit = self._cache.get(name)
        if hit is None:
            data = self.path(name).read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            hit = (self.env.get_template(f"{name}.md.j2"), digest)
            self._cache[name] = hit
        return hit

    def hash(self, name: str) -> str:
        """Return the sha256 of prompt `name` (its version)."""
        return self._load(name)[1]

    def render(self, name: str, **context: Any) -> RenderedPrompt:
        """Render prompt `name` into system and user messages."""
        template, digest = self._load(name)
        jctx = template.new_context(context)
        messages: list[Message] = []
        for role in ("system", "user"):
            if role in template.blocks:
                content = "".join(template.blocks[role](jctx)).strip()
                if content:
                    messages.append({"role": role, "content": content})
        if not messages:
            raise ValueError(f"prompt {name!r} has neither a system nor a user block")
        return RenderedPrompt(name=name, hash=digest, messages=messages)


def default_prompts_dir() -> Path:
    """Return the shipped `prompts/` folder (from CWD or the project)."""
    from assistant.bootstrap import find_resource

    return find_resource("prompts")
