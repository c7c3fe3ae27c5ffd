"""Put a model's prose into the ladder templates: only the `intro` and `closing` blocks change.

`ProseRenderer` derives, per template, a child that prints `llm_prose.<block>` in place of
the step template's wording blocks, so the invoice table, amounts, penalties, payment
instructions, legal mentions and signature stay verbatim. Pure rendering: no model, no I/O
beyond the template loader.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, DictLoader

from assistant.letters.render import Letter, LetterRenderer
from assistant.policy.schema import LadderStep

_PROSE: ContextVar[Mapping[str, str] | None] = ContextVar("relance_llm_prose", default=None)
_CHILD_PREFIX = "llm__"


class _ProseSlot:
    """Template global `llm_prose`: reads the prose of the draft being rendered (per task)."""

    def __getattr__(self, name: str) -> str:
        prose = _PROSE.get()
        if prose is None or name not in prose:
            raise AttributeError(name)
        return prose[name]


def _block_re(name: str) -> re.Pattern[str]:
    return re.compile(
        r"(\{%-?\s*block\s+"
        + name
        + r"\s*-?%\})(.*?)(\{%-?\s*endblock(?:\s+"
        + name
        + r")?\s*-?%\})",
        re.DOTALL,
    )


def _print_prose(block: str) -> Callable[[re.Match[str]], str]:
    """Return a substitution that makes a block print `llm_prose.<block>`."""
    return lambda m: m.group(1) + "{{ llm_prose." + block + " }}" + m.group(3)


class ProseRenderer:
    """Render letters whose ``intro``/``closing`` wording is replaced by given prose.

    For each step template it derives, once, a child template whose two blocks print
    `llm_prose.<block>`; everything else (subject, request, facts partials, legal mentions,
    signature, HTML and PDF) is rendered by the unchanged `LetterRenderer`.
    """

    BLOCKS = ("intro", "closing")

    def __init__(self, renderer: LetterRenderer):
        self.renderer = renderer
        env = renderer.env
        self._base: BaseLoader = env.loader  # type: ignore[assignment]
        self._children: dict[str, str] = {}
        self._lock = threading.Lock()
        env.loader = ChoiceLoader([DictLoader(self._children), self._base])
        env.globals["llm_prose"] = _ProseSlot()

    def _child(self, language: str, template: str) -> str:
        child = f"{_CHILD_PREFIX}{template}"
        key = f"{language}/{child}.txt.j2"
        with self._lock:  # drafts render in worker threads: derive each child once, whole
            if key not in self._children:
                sources: dict[str, str] = {}
                for ext in ("html", "txt"):
                    source, _, _ = self._base.get_source(
                        self.renderer.env, f"{language}/{template}.{ext}.j2"
                    )
                    for block in self.BLOCKS:
                        source, n = _block_re(block).subn(_print_prose(block), source)
                        if ext == "txt" and n != 1:
                            raise ValueError(
                                f"template {language}/{template}.txt.j2 has no {block!r} block"
                            )
                    sources[f"{language}/{child}.{ext}.j2"] = source
                self._children.update(sources)
        return child

    def render(
        self, prose: Mapping[str, str], *, step: LadderStep, language: str, **kwargs: Any
    ) -> Letter:
        """Render the letter of `step` with `prose` as its intro and closing."""
        child_step = step.model_copy(update={"template": self._child(language, step.template)})
        token = _PROSE.set(dict(prose))
        try:
            return self.renderer.render(step=child_step, **kwargs)
        finally:
            _PROSE.reset(token)
