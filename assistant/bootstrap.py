"""The composition root: the one place that builds settings, engine and adapters."""

from __future__ import annotations

import functools
import getpass
import os
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from assistant.config import Settings
from assistant.db.engine import make_engine, session_scope
from assistant.db.migrations import prepare
from assistant.policy import Policy, load_policies

if TYPE_CHECKING:
    from sqlmodel import Session

    from assistant.letters.render import LetterRenderer
    from assistant.llm.port import ChatModelPort
    from assistant.llm.prompts import PromptLibrary

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent


@dataclass(frozen=True)
class Deps:
    """The explicit dependencies a service verb runs with, built once by `App.deps`.

    `llm` is the model port (None without an endpoint); a service binds it to its own
    session with `deps.llm.using(SessionCallLog(session))` so every call is logged there.
    """

    sessions: Callable[[], AbstractContextManager[Session]]
    policies: Mapping[str, Policy]
    renderer: LetterRenderer
    prompts: PromptLibrary
    actor: str
    today: Callable[[], date]
    llm: ChatModelPort | None


@dataclass
class App:
    """Everything a command needs, built once per process."""

    settings: Settings
    actor_override: str | None = None
    _engine: Engine | None = field(default=None, repr=False)
    llm_override: ChatModelPort | None = field(default=None, repr=False)  # e.g. a fake, in tests
    _schema_ready: bool = field(default=False, repr=False)

    @property
    def engine(self) -> Engine:
        """Return the database engine, bringing the schema up to date on first use.

        SQLite and empty databases are migrated on the spot; a PostgreSQL database that is
        behind raises SchemaError (`relance db upgrade`). See docs/migrations.md.
        """
        if not self._schema_ready:
            prepare(self.bare_engine)
            self._schema_ready = True
        return self.bare_engine

    @property
    def bare_engine(self) -> Engine:
        """Return the database engine as it is, without checking its schema (migrations)."""
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    @cached_property
    def policies(self) -> dict[str, Policy]:
        """Load every policy of the policies folder (raises PolicyError)."""
        return load_policies(self.settings.policies_dir)

    @property
    def actor(self) -> str:
        """Return who is acting: `--as`, RELANCE_ACTOR or the OS user."""
        if self.actor_override:
            return self.actor_override
        if self.settings.actor:
            return self.settings.actor
        try:
            return getpass.getuser()
        except Exception:  # noqa: BLE001 - no passwd entry in some containers
            return os.environ.get("USER", "unknown")

    @property
    def templates_dir(self) -> Path:
        """Return the folder holding `letters/{fr,en}` templates."""
        return self.settings.templates_dir or find_resource("templates")

    @property
    def llm(self) -> ChatModelPort | None:
        """Return the model port: the override, else the configured endpoint, else None."""
        if self.llm_override is not None:
            return self.llm_override
        if not self.settings.llm_configured:
            return None
        return self._llm_client

    @cached_property
    def _llm_client(self) -> ChatModelPort:
        from assistant.llm import build_llm_client

        return build_llm_client(self)

    @cached_property
    def deps(self) -> Deps:
        """Build the dependencies service verbs take (policies load here: PolicyError)."""
        from assistant.letters.render import renderer_for
        from assistant.llm.prompts import PromptLibrary, default_prompts_dir

        return Deps(
            sessions=lambda: session_scope(self.engine),
            policies=self.policies,
            renderer=renderer_for(self.templates_dir),
            prompts=PromptLibrary(default_prompts_dir()),
            actor=self.actor,
            today=date.today,
            llm=self.llm,
        )

    def close(self) -> None:
        """Release the database connections."""
        if self._engine is not None:
            self._engine.dispose()


def find_resource(name: str) -> Path:
    """Find a top-level resource folder (templates, prompts) from CWD or the project."""
    for base in (Path.cwd(), PROJECT_ROOT):
        if (base / name).is_dir():
            return base / name
    raise FileNotFoundError(f"cannot find the {name!r} folder")


def reply_handler(app: App) -> Callable[..., Any]:
    """Return the handler the inbox gives each trusted reply: analyse it, apply its effects."""
    from assistant.services.replies import handle_reply

    return functools.partial(handle_reply, app=app)


def build_app(settings: Settings | None = None, actor: str | None = None) -> App:
    """Build the application from settings (environment and `.env` by default)."""
    return App(settings=settings or Settings(), actor_override=actor)
