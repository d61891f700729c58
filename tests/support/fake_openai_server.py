"""A small OpenAI-compatible chat-completions server for tests (127.0.0.1, a free port).

It also answers Ollama's own `POST /api/chat` (newline-delimited JSON), the
protocol LangChain's `ChatOllama` speaks, from the same script.

Each test scripts the replies (a queue: text, status code, delay before the
reply, delay between streamed chunks) and reads back every request body, to
check what the model was sent. `POST /v1/chat/completions` answers both
non-streaming (one JSON object) and streaming (server-sent events) requests,
as the real `langchain-openai` client makes them. An unscripted request gets
a 500, so a call a test did not expect is visible.

For measuring by hand: `python -m tests.support.fake_openai_server --port 8765
--reply "别点链接 [1]。" [--delay 30]` serves that reply to every request.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# How many characters each streamed chunk carries.
CHUNK_CHARS = 6


@dataclass(frozen=True)
class Reply:
    """One scripted reply."""

    content: str = ""
    status: int = 200
    delay_s: float = 0.0  # before anything is sent
    chunk_delay_s: float = 0.0  # between streamed chunks
    retry_after: int | None = None  # a Retry-After header (for a 429)


class FakeOpenAIServer:
    """Serves scripted chat completions; `requests` holds every request body received, in order.

    `default` answers every request once the script is used up (None: a 500).
    """

    def __init__(self, port: int = 0, default: Reply | None = None) -> None:
        self.default = default
        self.requests: list[dict[str, Any]] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closing.set()  # wakes handlers that are sleeping out a delay
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        """The value for `base_url` / `LLM_BASE_URL` of an OpenAI-compatible server."""
        return f"{self.root_url}/v1"

    @property
    def root_url(self) -> str:
        """The value for `LLM_BASE_URL` with `LLM_PROVIDER=ollama`."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def script(self, *replies: Reply | str) -> None:
        """Queue replies; a plain string is a 200 with that text."""
        with self._lock:
            self._replies.extend(Reply(r) if isinstance(r, str) else r for r in replies)

    def clear(self) -> None:
        """Forget the queued replies and the recorded requests."""
        with self._lock:
            self._replies.clear()
            self.requests.clear()

    def sent_texts(self) -> list[str]:
        """The content of every message of every request, in order."""
        with self._lock:
            return [str(m.get("content", "")) for body in self.requests for m in body.get("messages", [])]

    def wait_for_requests(self, count: int, timeout_s: float = 10.0) -> bool:
        """Whether `count` requests arrived within `timeout_s`."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            with self._lock:
                if len(self.requests) >= count:
                    return True
            time.sleep(0.01)
        return False

    def _next(self, body: dict[str, Any]) -> Reply | None:
        with self._lock:
            self.requests.append(body)
            return self._replies.popleft() if self._replies else self.default

    def _sleep(self, seconds: float) -> None:
        self._closing.wait(seconds)


def _handler(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            ollama = self.path.rstrip("/") == "/api/chat"
            if self.path.rstrip("/") != "/v1/chat/completions" and not ollama:
                self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                return
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                self._json(400, {"error": {"message": "bad JSON", "type": "invalid_request_error"}})
                return
            reply = server._next(body)
            if reply is None:
                self._json(500, {"error": {"message": "no scripted reply", "type": "server_error"}})
                return
            server._sleep(reply.delay_s)
            try:
                if ollama:
                    self._ollama(body, reply)
                elif reply.status != 200:
                    headers = {"Retry-After": str(reply.retry_after)} if reply.retry_after else {}
                    error = {"error": {"message": "scripted", "type": "server_error"}}
                    self._json(reply.status, error, headers)
                elif body.get("stream"):
                    self._stream(body, reply)
                else:
                    self._json(200, _completion(body, reply.content))
            except (BrokenPipeError, ConnectionResetError):  # the client gave up, as it may
                pass

        def _json(self, status: int, data: dict, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def _stream(self, body: dict, reply: Reply) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            pieces = [reply.content[i : i + CHUNK_CHARS] for i in range(0, len(reply.content), CHUNK_CHARS)]
            self._event(_chunk(body, {"role": "assistant", "content": ""}))
            for piece in pieces:
                server._sleep(reply.chunk_delay_s)
                if server._closing.is_set():
                    return
                self._event(_chunk(body, {"content": piece}))
            self._event(_chunk(body, {}, finish="stop"))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

        def _ollama(self, body: dict, reply: Reply) -> None:
            if reply.status != 200:
                self._json(reply.status, {"error": "scripted"})
                return
            if not body.get("stream", True):
                message = {"role": "assistant", "content": reply.content}
                self._json(200, {"model": body.get("model"), "message": message, "done": True})
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.end_headers()
            pieces = [reply.content[i : i + CHUNK_CHARS] for i in range(0, len(reply.content), CHUNK_CHARS)]
            for piece in pieces:
                server._sleep(reply.chunk_delay_s)
                if server._closing.is_set():
                    return
                line = {"model": body.get("model"), "message": {"role": "assistant", "content": piece}}
                self._line({**line, "done": False})
            end = {"model": body.get("model"), "message": {"role": "assistant", "content": ""}}
            self._line({**end, "done": True, "done_reason": "stop"})

        def _line(self, data: dict) -> None:
            self.wfile.write(json.dumps(data, ensure_ascii=False).encode() + b"\n")
            self.wfile.flush()

        def _event(self, data: dict) -> None:
            self.wfile.write(b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n")
            self.wfile.flush()

    return Handler


def _completion(body: dict, content: str) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(body: dict, delta: dict, finish: str | None = None) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _serve_forever() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="serve one fixed chat completion to every request")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--reply", default="[1]")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each reply")
    args = parser.parse_args()
    with FakeOpenAIServer(args.port, default=Reply(args.reply, delay_s=args.delay)) as server:
        print(f"serving on {server.base_url} (Ctrl-C stops)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    _serve_forever()
