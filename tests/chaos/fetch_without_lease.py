"""One fetch with the single-fetch lease bypassed, configured by RELANCE_* variables.

Run as `python -m tests.chaos.fetch_without_lease` by the two-fetches scenario: two of these
race on every message, and only the database's own guarantees keep the inbox exact.
"""

from __future__ import annotations

import json

from assistant.bootstrap import build_app
from assistant.mail import build_mailbox
from assistant.services.inbox import ingest_inbox


def main() -> None:
    """Fetch once, without the lease, and print the report as JSON."""
    app = build_app()
    mailbox = build_mailbox(app.settings)
    try:
        report = ingest_inbox(app, mailbox, lease=False)
    finally:
        mailbox.close()
        app.close()
    print(json.dumps(report.as_dict()))


if __name__ == "__main__":
    main()
