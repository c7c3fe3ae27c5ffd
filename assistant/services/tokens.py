"""Case reference tokens such as `REF-7Q2K` (pure)."""

from __future__ import annotations

import hashlib
import re

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud over the phone
TOKEN_RE = re.compile(r"\bREF-[2-9A-HJ-NP-Z]{4,6}\b")


def case_token(seed: str, attempt: int = 0) -> str:
    """Return a stable token for `seed`; bump `attempt` on a collision."""
    digest = hashlib.sha256(f"{seed}#{attempt}".encode()).digest()
    length = 4 if attempt < 8 else 6
    return "REF-" + "".join(ALPHABET[b % 32] for b in digest[:length])
