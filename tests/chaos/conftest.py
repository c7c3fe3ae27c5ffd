"""Fixtures of the chaos tests: the real mail servers of the integration tests."""

from tests.integration.servers import dovecot, imap_account  # noqa: F401  (fixtures)
