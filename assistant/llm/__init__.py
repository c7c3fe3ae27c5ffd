"""Language-model layer: the client adapter (LangChain/openai live only in `client.py`) and
the prompt files. Importing this package does not import LangChain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.llm.client import (
    BudgetExceeded,
    ChatResult,
    LLMClient,
    LLMError,
    LLMNotConfigured,
    StructuredResult,
    recent_calls,
)
from assistant.llm.prompts import PromptLibrary, RenderedPrompt, default_prompts_dir, fence_data

if TYPE_CHECKING:
    from assistant.bootstrap import App

__all__ = [
    "BudgetExceeded",
    "ChatResult",
    "LLMClient",
    "LLMError",
    "LLMNotConfigured",
    "PromptLibrary",
    "RenderedPrompt",
    "StructuredResult",
    "build_llm_client",
    "default_prompts_dir",
    "fence_data",
    "recent_calls",
]


def build_llm_client(app: App, **kwargs: Any) -> LLMClient:
    """Build the LLM client of `app` (raises LLMNotConfigured without an endpoint)."""
    if not app.settings.llm_configured:  # before `app.engine`, which opens the database
        raise LLMNotConfigured()
    return LLMClient(app.settings, app.engine, **kwargs)
