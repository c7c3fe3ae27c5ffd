"""Hide secrets (passwords, API keys) in anything Relance prints, logs or audits.

One helper for every output: `redact_url` masks the password of a URL, `Redactor` masks
the secret values of the settings wherever they appear in a text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from pydantic import SecretStr

MASK = "***"
_MIN_SECRET = 4  # shorter values would mask ordinary words; they are not secrets anyway

#: `scheme://user:password@` — the password is everything up to the last `@` of the authority.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^/\s]*)@")


def redact_url(url: str) -> str:
    """Return `url` with its password replaced by `***` (`postgresql://bob:***@host/db`)."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", url)


def url_password(url: str | None) -> str | None:
    """Return the password part of a URL, decoded, or None."""
    match = _URL_PASSWORD.search(url or "")
    return unquote(match["pw"]) if match and match["pw"] else None


@dataclass(frozen=True)
class Redactor:
    """Masks a fixed set of secret values, and every URL password, in texts."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def of(cls, values: Iterable[str | SecretStr | None]) -> Redactor:
        """Build a redactor for `values` (plain or SecretStr; None and short ones skipped)."""
        found: set[str] = set()
        for value in values:
            raw = value.get_secret_value() if isinstance(value, SecretStr) else value
            if raw and len(raw) >= _MIN_SECRET:
                found |= {raw, quote(raw, safe="")}
        return cls(tuple(sorted(found, key=len, reverse=True)))

    def __call__(self, text: object) -> str:
        """Return `text` (any object, as str) with every secret masked."""
        out = redact_url(str(text))
        for secret in self.secrets:
            out = out.replace(secret, MASK)
        return out


@contextmanager
def redacted_logs(redactor: Redactor) -> Iterator[None]:
    """Mask secrets in every log record made while inside (messages and tracebacks)."""
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            record.msg, record.args = redactor(record.getMessage()), None
        except Exception:  # noqa: BLE001 - bad format arguments: the handler reports them
            record.msg = redactor(record.msg)
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redactor(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
    try:
        yield
    finally:
        logging.setLogRecordFactory(previous)
