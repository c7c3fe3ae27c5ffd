"""Shared fixtures: a fresh database per test, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from assistant.db.engine import create_schema, make_engine

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("RELANCE_TEST_DATABASE_URL")
START_DIR = Path.cwd()

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(autouse=True)
def own_folder_and_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run every test in its own temp folder, on its own SQLite file unless it sets one.

    Nothing a test runs may write `relance.db` (or read `.env`) in the folder pytest was
    started from.
    """
    stray = START_DIR / "relance.db"
    there_before = stray.exists()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RELANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'relance-default.db'}")
    yield
    assert there_before or not stray.exists(), f"the test wrote {stray}"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database (a temp SQLite file, or a fresh PG schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'relance-test.db'}"
        return
    with pg_schema_url() as url:
        yield url


@pytest.fixture
def fresh_pg_schema() -> Callable[[], AbstractContextManager[str]]:
    """Give tests that need more than one database `with fresh_pg_schema() as url:`."""
    return pg_schema_url


@contextmanager
def pg_schema_url() -> Iterator[str]:
    """Yield the URL of a fresh, empty schema on the test PostgreSQL server; drop it after."""
    assert PG_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    """Yield an engine on a fresh database with every table created."""
    eng = make_engine(db_url)
    create_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    """Yield a session on a fresh database."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def policies_dir() -> Path:
    """Return the shipped policies folder."""
    return ROOT / "policies"
