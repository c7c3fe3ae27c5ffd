"""Drafting letters with a language model, under the guardrails of `grounding` and the
letters validator (issue 5). The template engine stays the default; see `llm_drafter`.
"""

from sqlmodel import Session

from assistant.drafting.grounding import check_grounding, check_prose, check_tone
from assistant.drafting.llm_drafter import (
    DraftProse,
    DraftRequest,
    DraftResult,
    LLMDrafter,
    ProseRenderer,
    ThreadMessage,
    build_drafter,
    draft_with_llm,
)


def load_thread(session: Session, case_id: int, *, limit: int = 4) -> list[ThreadMessage]:
    """Return the last messages of a case, oldest first (read by the case loader)."""
    from assistant.services.case_file import load_thread as read

    return read(session, case_id, limit=limit)


__all__ = [
    "DraftProse",
    "DraftRequest",
    "DraftResult",
    "LLMDrafter",
    "ProseRenderer",
    "ThreadMessage",
    "build_drafter",
    "check_grounding",
    "check_prose",
    "check_tone",
    "draft_with_llm",
    "load_thread",
]
