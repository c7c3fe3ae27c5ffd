"""Run the real outbox in a child process and die (os._exit) at a chosen point.

Usage: python crash_sender.py EVENT < SETTINGS_JSON — EVENT is an outbox progress event
("accepted": the SMTP server took the message; "appended": the Sent copy is stored too).
The process exits with status 86 right there, before the database records the outcome,
as a power cut or `kill -9` would.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from assistant.bootstrap import build_app  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.mail import build_mailbox, build_sender  # noqa: E402
from assistant.services.outbox import send_outbox  # noqa: E402

CRASH_EXIT = 86


def main() -> None:
    """Send the outbox and die at the event named on the command line."""
    values = json.loads(sys.stdin.read())  # on stdin: passwords stay out of `ps`
    now = datetime.fromisoformat(values.pop("now"))
    die_at = sys.argv[1]
    app = build_app(Settings(_env_file=None, **values), actor="crash-test")  # type: ignore[call-arg]

    def progress(event: str, draft_id: int, detail: str) -> None:
        if event == die_at:
            os._exit(CRASH_EXIT)

    mailbox = build_mailbox(app.settings)
    asyncio.run(send_outbox(app, build_sender(app.settings), mailbox, now, progress=progress))
    sys.exit(0)


if __name__ == "__main__":
    main()
