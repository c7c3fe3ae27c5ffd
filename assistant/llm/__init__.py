"""Language-model layer: the model port, its LangChain adapter and fake, and the prompts.

LangChain and openai live only in `runtime.py` and are imported on first call. Importing this
package does not import LangChain and opens no connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.llm.client import LLMClient
from assistant.llm.fake import FakeChatModel, MemoryCallLog
from assistant.llm.port import ChatModelPort
from assistant.llm.prompts import PromptLibrary, RenderedPrompt, default_prompts_dir, fence_data
from assistant.llm.records import (
    BudgetExceeded,
    CallLog,
    CallRecord,
    ChatResult,
    LLMError,
    LLMNotConfigured,
    StructuredResult,
    ToolTurn,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from assistant.bootstrap import App
    from assistant.db.llm_models import LLMCall

__all__ = [
    "BudgetExceeded",
    "CallLog",
    "CallRecord",
    "ChatModelPort",
    "ChatResult",
    "FakeChatModel",
    "LLMClient",
    "LLMError",
    "LLMNotConfigured",
    "MemoryCallLog",
    "PromptLibrary",
    "RenderedPrompt",
    "StructuredResult",
    "ToolTurn",
    "build_llm_client",
    "default_prompts_dir",
    "fence_data",
    "recent_calls",
]


def build_llm_client(app: App, log: CallLog | None = None, **kwargs: Any) -> LLMClient:
    """Build the LLM client of `app` writing to `log` (raises LLMNotConfigured first).

    The configuration is checked before the database is touched: without an endpoint no
    database (or `./relance.db`) is created. Without `log`, calls go to the app's database
    one short transaction each.
    """
    if not app.settings.llm_configured:
        raise LLMNotConfigured()
    if log is None:
        from assistant.services.llm_calls import EngineCallLog

        log = EngineCallLog(app.engine)
    return LLMClient(app.settings, log, **kwargs)


def recent_calls(engine: Engine, *, limit: int = 20, purpose: str | None = None) -> list[LLMCall]:
    """Return the latest logged calls, newest first (optionally of one purpose)."""
    from assistant.services.llm_calls import recent_calls as read

    return read(engine, limit=limit, purpose=purpose)
