"""Fixtures of the chaos tests: the integration tests' real mail servers."""

from tests.integration.servers import (  # noqa: F401  (fixtures)
    dovecot,
    imap_account,
    smtp_server,
)
