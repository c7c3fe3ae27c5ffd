"""Schema migrations with Alembic, driven from code (no alembic.ini in the working folder).

`upgrade` brings any database to the newest revision: an empty one is built from revision
0001, one created by Relance 0.1.0 (tables but no `alembic_version`) is recognised and
stamped 0001 first. Migrations run in one transaction holding a lock, so two processes never
migrate at once. How to write a revision: docs/migrations.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent
FIRST_REVISION = "0001"  # the schema of Relance 0.1.0, which had no migrations
_PG_LOCK_KEY = 7_245_310_001  # pg_advisory_xact_lock key shared by every migrating process


class SchemaError(RuntimeError):
    """The database schema cannot be used or upgraded as it is."""


@dataclass(frozen=True)
class Revision:
    """One migration of the history."""

    revision: str
    down_revision: str | None
    message: str


def alembic_config(connection: Connection | None = None) -> Config:
    """Build the Alembic configuration in code, bound to `connection` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def script_directory() -> ScriptDirectory:
    """Return the revisions shipped with this version (read once per process)."""
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """Return the newest revision this version knows."""
    rev = script_directory().get_current_head()
    assert rev is not None
    return rev


def history() -> list[Revision]:
    """Return every revision, oldest first."""
    revs = list(script_directory().walk_revisions())
    return [
        Revision(
            r.revision,
            r.down_revision if isinstance(r.down_revision, str) else None,
            (r.doc or "").strip(),
        )
        for r in reversed(revs)
    ]


def current(engine: Engine) -> str | None:
    """Return the revision the database is at (None: never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def stamp_head(engine: Engine) -> None:
    """Record that the database (built with `create_all`) is at the newest revision."""
    with engine.begin() as conn:
        MigrationContext.configure(conn).stamp(script_directory(), "head")


def needs_upgrade(engine: Engine) -> bool:
    """Tell whether the database is behind this version (or empty); raise if it is ahead."""
    rev = current(engine)
    if rev is not None and rev not in {r.revision for r in history()}:
        raise SchemaError(
            f"the database is at schema revision {rev}, unknown to this version of Relance "
            f"(newest known: {head()}): it was upgraded by a newer release"
        )
    return rev != head()


def is_empty(engine: Engine) -> bool:
    """Tell whether the database holds no Relance table yet."""
    with engine.connect() as conn:
        return not _previous_release_tables() & set(sa.inspect(conn).get_table_names())


def upgrade(engine: Engine, target: str = "head") -> tuple[str | None, str]:
    """Migrate the database to `target`; return (revision before, revision after)."""
    with _migrating(engine) as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        if before is None:
            _adopt_previous_release(conn)
        try:
            command.upgrade(alembic_config(conn), target)
        except CommandError as exc:
            raise SchemaError(f"cannot upgrade the database: {exc}") from exc
        after = MigrationContext.configure(conn).get_current_revision()
    assert after is not None
    return before, after


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """Open one transaction that no other migrating process can enter at the same time.

    SQLite: foreign keys off (batch mode rebuilds tables), `BEGIN IMMEDIATE` takes the write
    lock, and the foreign keys are checked before commit. PostgreSQL: an advisory lock.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise SchemaError(f"the migration broke foreign keys: {broken[:5]}")
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
            return
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            yield conn


def _adopt_previous_release(conn: Connection) -> None:
    """Stamp 0001 on a database created by Relance 0.1.0; refuse one that only looks like it."""
    found = _columns(conn)
    if not found:
        return  # a new database: revision 0001 creates everything
    expected = _previous_release_columns()
    if not set(expected) & set(found):
        return  # empty: revision 0001 creates everything
    missing = [
        f"{table}.{column}" if column else table
        for table, columns in sorted(expected.items())
        for column in (sorted(columns - found[table]) if table in found else [""])
    ]
    if missing:
        raise SchemaError(
            "the database has Relance tables but no migration history, and they do not match "
            f"Relance 0.1.0 (missing: {', '.join(missing[:10])}): restore a backup or migrate it "
            "by hand"
        )
    MigrationContext.configure(conn).stamp(script_directory(), FIRST_REVISION)


def _columns(conn: Connection) -> dict[str, set[str]]:
    """Return table → column names of the database behind `conn`."""
    inspector = sa.inspect(conn)
    return {
        table: {c["name"] for c in inspector.get_columns(table)}
        for table in inspector.get_table_names()
    }


def _previous_release_tables() -> set[str]:
    """Return the table names of revision 0001."""
    return set(_previous_release_columns())


@lru_cache(maxsize=1)
def _previous_release_columns() -> dict[str, set[str]]:
    """Return table → columns of revision 0001, by building it in a memory database."""
    scratch = sa.create_engine("sqlite://")
    try:
        with scratch.begin() as conn:
            command.upgrade(alembic_config(conn), FIRST_REVISION)
            columns = _columns(conn)
    finally:
        scratch.dispose()
    columns.pop("alembic_version", None)
    return columns


def prepare(engine: Engine) -> tuple[str | None, str] | None:
    """Bring the schema up to date on first use where that is safe; refuse elsewhere.

    An empty database (any backend) and a SQLite file are upgraded on the spot and the
    (before, after) revisions returned; a PostgreSQL database that holds data and is behind
    raises SchemaError asking for `relance db upgrade`, so a team upgrades on purpose.
    """
    if not needs_upgrade(engine):
        return None
    if engine.dialect.name == "sqlite" or is_empty(engine):
        return upgrade(engine)
    rev = current(engine) or "none (created by Relance 0.1.0)"
    raise SchemaError(
        f"the database schema is at revision {rev} and this version of Relance needs {head()}: "
        "back the database up, then run `relance db upgrade`"
    )
