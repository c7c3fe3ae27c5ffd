"""Settings read from the environment and `.env` (pydantic-settings).

Only the composition root builds a `Settings`; nothing here connects to anything.
Every setting is mirrored in `.env.example`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.redact import Redactor, redact_url, url_password

DEFAULT_DATABASE_URL = "sqlite:///relance.db"


class Settings(BaseSettings):
    """Everything Relance can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="RELANCE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = DEFAULT_DATABASE_URL
    policies_dir: Path = Path("policies")
    templates_dir: Path | None = None
    actor: str | None = None

    # Mail (SMTP outbox / IMAP inbox)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_from: str | None = None
    smtp_rate_per_second: float = 5.0
    smtp_timeout: float = 30.0
    imap_host: str = "127.0.0.1"
    imap_port: int = 993
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_security: Literal["none", "starttls", "tls"] = "tls"
    imap_folder: str = "INBOX"
    imap_processed_folder: str | None = "Processed"
    imap_sent_folder: str = "Sent"
    imap_batch_size: int = 100
    imap_poll_seconds: int = 60
    reply_to: str | None = None

    # Web workspace (`relance serve`): signs the session cookies; required to serve
    secret_key: SecretStr | None = None
    # Send the session cookie over HTTPS only (set true behind a TLS proxy)
    web_secure_cookies: bool = False
    web_session_hours: int = 12

    # LLM (OpenAI-compatible endpoint through LangChain); OPENAI_* keep their usual names
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = 30.0
    llm_max_concurrency: int = 4
    llm_daily_token_budget: int = 200_000
    llm_structured_method: Literal["json_schema", "function_calling"] = "json_schema"

    @property
    def llm_configured(self) -> bool:
        """Tell whether an OpenAI-compatible endpoint is configured."""
        return self.openai_api_key is not None or self.openai_base_url is not None

    def redactor(self) -> Redactor:
        """Return the helper that masks every secret of these settings in a text."""
        return Redactor.of(
            [
                url_password(self.database_url),
                url_password(self.openai_base_url),
                self.smtp_password,
                self.imap_password,
                self.openai_api_key,
            ]
        )

    def __repr_args__(self) -> Any:
        """Show settings without the passwords of their URLs (SecretStr hide themselves)."""
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if isinstance(value, str) else value
