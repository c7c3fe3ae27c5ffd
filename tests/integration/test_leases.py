"""Leases: one holder per name within a database, and databases never block each other."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from assistant.db.engine import create_schema, make_engine
from assistant.services.leases import LeaseBusy, acquire, lock_free, release

TTL = timedelta(minutes=5)
PG_URL = os.environ.get("RELANCE_TEST_DATABASE_URL", "")


def test_a_second_holder_is_refused_until_the_first_releases(engine: sa.Engine) -> None:
    first = acquire(engine, "cycle:acme:2026-12-03", TTL, holder="worker-1")
    with pytest.raises(LeaseBusy):
        acquire(engine, "cycle:acme:2026-12-03", TTL, holder="worker-2")
    other = acquire(engine, "cycle:acme:2026-12-04", TTL, holder="worker-2")  # another name
    release(other)
    release(first)
    again = acquire(engine, "cycle:acme:2026-12-03", TTL, holder="worker-2")
    release(again)


@pytest.fixture
def two_schemas(
    fresh_pg_schema: Callable[[], AbstractContextManager[str]],
) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    """Two databases kept as schemas of one PostgreSQL server (as tenants or test runs are)."""
    if not PG_URL:
        pytest.skip("needs RELANCE_TEST_DATABASE_URL (PostgreSQL)")
    with fresh_pg_schema() as one_url, fresh_pg_schema() as two_url:
        engines = [make_engine(one_url), make_engine(two_url)]
        for eng in engines:
            create_schema(eng)
        yield engines[0], engines[1]
        for eng in engines:
            eng.dispose()


def test_the_same_lease_in_two_schemas_does_not_block(
    two_schemas: tuple[sa.Engine, sa.Engine],
) -> None:
    one, two = two_schemas
    held = acquire(one, "cycle:acme:2026-12-03", TTL, holder="tenant-1")
    assert not lock_free(one, "cycle:acme:2026-12-03")
    assert lock_free(two, "cycle:acme:2026-12-03")
    other = acquire(two, "cycle:acme:2026-12-03", TTL, holder="tenant-2")
    release(other)
    release(held)
    assert lock_free(one, "cycle:acme:2026-12-03")
