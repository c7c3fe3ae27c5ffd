"""The composition root: the one place that builds settings, engine and adapters."""

from __future__ import annotations

import functools
import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from assistant.config import Settings
from assistant.db.engine import create_schema, make_engine
from assistant.policy import Policy, load_policies

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent


@dataclass
class App:
    """Everything a command needs, built once per process."""

    settings: Settings
    actor_override: str | None = None
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        """Return the database engine, creating the schema on first use."""
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
            create_schema(self._engine)
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
