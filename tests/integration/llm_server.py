"""A tiny OpenAI-compatible chat endpoint on loopback, answering from a script.

Serves `POST /v1/chat/completions` (and `GET /v1/models`) from a queue of `Reply` objects, or
from a `responder(request_json) -> Reply` when the queue is empty; records every request;
supports delays, error statuses (429, 500…) and tool calls. A `Reply(data=…)` answers in the
mode the request asked for: a forced tool call when the request carries `tools`, JSON content
otherwise (json_schema). Used by the integration tests and by `bench/llm_drafting.py`:

    with ScriptedLLMServer() as server:
        server.enqueue(Reply(data={"intent": "other", ...}), Reply(status=429))
        Settings(OPENAI_BASE_URL=server.base_url, ...)
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer."""

    content: str | None = None  # free text, sent as message.content
    data: Any = None  # structured answer: content JSON or a tool call, as the request asks
    tool_calls: list[dict[str, Any]] | None = None  # explicit tool calls ({"name", "arguments"})
    status: int = 200
    delay: float = 0.0
    usage: tuple[int, int] = (120, 40)  # prompt_tokens, completion_tokens
    headers: dict[str, str] = field(default_factory=dict)
    error: str = "scripted error"


Responder = Callable[[dict[str, Any]], Reply]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog (5) stalls bursts of concurrent clients


_ids = itertools.count(1)


def _tool_name(request: dict[str, Any]) -> str:
    choice = request.get("tool_choice")
    if isinstance(choice, dict):
        return str(choice.get("function", {}).get("name", ""))
    tools = request.get("tools") or [{}]
    return str(tools[0].get("function", {}).get("name", ""))


def completion_body(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    """Build the JSON of a chat completion answering `request` with `reply`."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    calls = reply.tool_calls
    if reply.data is not None:
        payload = reply.data if isinstance(reply.data, str) else json.dumps(reply.data)
        if request.get("tools"):
            calls = [{"name": _tool_name(request), "arguments": payload}]
        else:
            message["content"] = payload
    finish = "stop"
    if calls:
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": f"call_{next(_ids)}",
                "type": "function",
                "function": {"name": c["name"], "arguments": c["arguments"]},
            }
            for c in calls
        ]
        finish = "tool_calls"
    prompt, completion = reply.usage
    return {
        "id": f"chatcmpl-{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "scripted"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


class ScriptedLLMServer:
    """An OpenAI-compatible endpoint in a background thread, answering from a script."""

    def __init__(self, responder: Responder | None = None, host: str = "127.0.0.1", port: int = 0):
        self.responder = responder
        self.queue: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = _Server((host, port), self._handler_class())
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """Return the OpenAI base URL (`http://127.0.0.1:PORT/v1`)."""
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}/v1"

    @property
    def calls(self) -> int:
        """Return how many chat completions were requested."""
        with self._lock:
            return len(self.requests)

    def enqueue(self, *replies: Reply) -> None:
        """Add scripted replies, served in order."""
        with self._lock:
            self.queue.extend(replies)

    def next_reply(self, request: dict[str, Any]) -> Reply:
        """Record `request` and return the reply to serve."""
        with self._lock:
            self.requests.append(request)
            if self.queue:
                return self.queue.popleft()
        if self.responder is not None:
            return self.responder(request)
        return Reply(status=500, error="no scripted reply left")

    def start(self) -> ScriptedLLMServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body stall on delayed ACKs (40 ms)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                return

            def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def do_GET(self) -> None:  # noqa: N802
                if self.path.rstrip("/").endswith("/models"):
                    self._send(
                        200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]}, {}
                    )
                else:
                    self._send(404, {"error": {"message": "not found"}}, {})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}}, {})
                    return
                try:
                    request = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    self._send(400, {"error": {"message": "invalid JSON"}}, {})
                    return
                reply = server.next_reply(request)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.status != 200:
                    body = {
                        "error": {"message": reply.error, "type": "scripted", "code": reply.status}
                    }
                    self._send(reply.status, body, reply.headers)
                    return
                self._send(200, completion_body(request, reply), reply.headers)

        return Handler


@contextmanager
def scripted_server(responder: Responder | None = None) -> Iterator[ScriptedLLMServer]:
    """Run a `ScriptedLLMServer` for the duration of a `with` block (or a pytest fixture)."""
    server = ScriptedLLMServer(responder).start()
    try:
        yield server
    finally:
        server.stop()


def estimated_usage(request: dict[str, Any], answer: Any) -> tuple[int, int]:
    """Estimate prompt and completion tokens (about four characters a token)."""
    prompt = len(json.dumps(request.get("messages", []), ensure_ascii=False)) // 4
    return prompt, len(json.dumps(answer, ensure_ascii=False)) // 4


def main(argv: list[str] | None = None) -> None:
    """Serve one structured answer forever, in its own process (for benchmarks).

    python -m tests.integration.llm_server --data '{"opening": …}' --delay 0.5
    prints `READY <base_url>` on stdout once listening.
    """
    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible endpoint")
    parser.add_argument("--data", required=True, help="JSON of the structured answer")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait per call")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    answer = json.loads(args.data)

    def respond(request: dict[str, Any]) -> Reply:
        return Reply(data=answer, delay=args.delay, usage=estimated_usage(request, answer))

    server = ScriptedLLMServer(respond, port=args.port)
    print(f"READY {server.base_url}", flush=True)
    try:
        server._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._server.server_close()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
