"""The officers' chat: read-only tools over the service verbs and a tool-calling agent.

The chat answers questions and may queue a draft for approval; it can never send, approve,
or change an amount or a status (there is no such tool).
"""

from assistant.chat.common import AccessDenied, ToolError

__all__ = ["AccessDenied", "ToolError"]
