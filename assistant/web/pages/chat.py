"""The officers' assistant, run as the signed-in person with their creditor scope."""

from __future__ import annotations

import threading
from collections import OrderedDict

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from assistant.chat.agent import ChatSession
from assistant.llm import LLMNotConfigured
from assistant.services.users import Scope
from assistant.web.deps import Csrf, Who, csrf_token, relance
from assistant.web.render import templates

router = APIRouter()

#: Conversations kept in memory, one per signed-in browser session (the oldest are dropped).
MAX_CONVERSATIONS = 200
_lock = threading.Lock()


def _conversations(request: Request) -> OrderedDict[str, ChatSession]:
    state = request.app.state
    if not hasattr(state, "chats"):
        state.chats = OrderedDict()
    return state.chats  # type: ignore[no-any-return]


def _chat(request: Request, who: Scope) -> ChatSession | None:
    """Return this browser session's conversation, started as `who` (None: no model)."""
    app = relance(request)
    if app.llm is None:
        return None
    key = f"{who.user}:{csrf_token(request)}"  # the token changes at every sign-in
    with _lock:
        chats = _conversations(request)
        chat = chats.get(key)
        if chat is None:
            creditors = None if who.creditors is None else set(who.creditors)
            try:
                chat = ChatSession(app, who.user, creditors)
            except LLMNotConfigured:
                return None
            chats[key] = chat
            while len(chats) > MAX_CONVERSATIONS:
                chats.popitem(last=False)
        chats.move_to_end(key)
        return chat


@router.get("/chat", response_class=HTMLResponse)
def chat_page(request: Request, who: Who) -> Response:
    """Show the assistant (or how to configure it when no model endpoint is set)."""
    available = relance(request).llm is not None
    return templates.TemplateResponse(request, "chat.html", {"who": who, "available": available})


@router.post("/chat/ask", response_class=HTMLResponse, dependencies=[Csrf])
def ask(request: Request, who: Who, question: str = Form("")) -> Response:
    """Ask one question; the answer comes back with the tool calls behind it."""
    if not question.strip():
        return HTMLResponse("")
    chat = _chat(request, who)
    if chat is None:
        return templates.TemplateResponse(
            request, "_chat_turn.html", {"question": question, "answer": None}, status_code=503
        )
    answer = chat.ask(question.strip())
    return templates.TemplateResponse(
        request, "_chat_turn.html", {"question": question, "answer": answer}
    )
