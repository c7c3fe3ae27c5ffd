"""Fixtures of the integration tests: real mail servers (see `servers.py`)."""

from tests.integration.servers import (  # noqa: F401  (fixtures)
    dovecot,
    imap_account,
    mail_app,
    smtp_server,
)
