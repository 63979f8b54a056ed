"""The fake LLM provider the tests run the gateway against.

It is the demo upstream plus switches and a record of what it received. A
test picks a behaviour with the `X-Fake` request header (the gateway forwards
it like any other header):

    sse:N:MS[:TOTAL]  N content chunks MS apart; a usage chunk with TOTAL
    json-usage:TOTAL  a JSON answer whose usage.total_tokens is TOTAL
    status:CODE       an OpenAI-shaped error with that status
    sleep:MS          wait MS before sending headers, then answer JSON
    malformed         a JSON content type with a body that is not JSON
    malformed-sse     SSE whose usage chunk is not JSON
    echo              the received body back, with its length and SHA-256
    redirect          302 to /elsewhere
    close             drop the connection without answering
    cut-sse:N:MS      N chunks MS apart, then drop the connection

Every request is recorded (method, target, headers, body length and SHA-256).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field

from demo_upstream import DemoHandler, error_body, serve


@dataclass
class Received:
    method: str
    target: str
    headers: dict[str, str]
    body_length: int
    body_sha256: str


@dataclass
class Recorder:
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, received: Received) -> None:
        with self.lock:
            self.requests.append(received)

    def with_request_id(self, request_id: str) -> list[Received]:
        """Return what arrived carrying this X-Request-Id."""
        with self.lock:
            return [
                r for r in self.requests if r.headers.get("x-request-id") == request_id
            ]

    def with_header(self, name: str, value: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.headers.get(name) == value]


class FakeHandler(DemoHandler):
    recorder: Recorder

    def handle_any(self) -> None:
        body = self.read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.recorder.add(
            Received(
                self.command,
                self.path,
                headers,
                len(body),
                hashlib.sha256(body).hexdigest(),
            )
        )
        mode, _, arg = headers.get("x-fake", "").partition(":")
        behave = getattr(self, "fake_" + mode.replace("-", "_"), None)
        if behave is None:
            self.default(body)
        else:
            behave(arg, body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any  # noqa: N815

    def default(self, body: bytes) -> None:
        if self.command == "GET":
            DemoHandler.do_GET(self)
        elif self.path.startswith(("/v1/chat/", "/v1/embeddings")):
            self.answer_post(body)
        else:
            self.send_json(200, {"object": "ok", "path": self.path})

    def fake_sse(self, arg: str, body: bytes) -> None:
        count, delay_ms, total = [*arg.split(":"), "", "", ""][:3]
        self.start_chunked(200, "text/event-stream")
        for i in range(int(count)):
            event = {
                "object": "chat.completion.chunk",
                "choices": [{"delta": {"content": str(i)}}],
            }
            self.write_chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
            time.sleep(int(delay_ms) / 1000)
        if total:
            usage = {"choices": [], "usage": {"total_tokens": int(total)}}
            self.write_chunk(b"data: " + json.dumps(usage).encode() + b"\n\n")
        self.write_chunk(b"data: [DONE]\n\n")
        self.end_chunked()

    def fake_json_usage(self, arg: str, body: bytes) -> None:
        self.send_json(
            200, {"object": "chat.completion", "usage": {"total_tokens": int(arg)}}
        )

    def fake_status(self, arg: str, body: bytes) -> None:
        code = int(arg)
        self.send_json(
            code, error_body("upstream says no", "upstream_test", f"e{code}")
        )

    def fake_sleep(self, arg: str, body: bytes) -> None:
        time.sleep(int(arg) / 1000)
        self.send_json(200, {"object": "late", "usage": {"total_tokens": 1}})

    def fake_malformed(self, arg: str, body: bytes) -> None:
        data = b'{"usage": {"total_tokens": 12'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def fake_malformed_sse(self, arg: str, body: bytes) -> None:
        self.start_chunked(200, "text/event-stream")
        self.write_chunk(b'data: {"usage": {"total_tokens": 9\n\n')
        self.write_chunk(b"data: [DONE]\n\n")
        self.end_chunked()

    def fake_echo(self, arg: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Body-Sha256", hashlib.sha256(body).hexdigest())
        self.send_header("X-Upstream-Custom", "kept")
        self.end_headers()
        self.wfile.write(body)

    def fake_redirect(self, arg: str, body: bytes) -> None:
        self.send_response(302)
        self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def fake_close(self, arg: str, body: bytes) -> None:
        self.close_connection = True
        self.connection.shutdown(2)

    def fake_cut_sse(self, arg: str, body: bytes) -> None:
        count, delay_ms = arg.split(":")
        self.start_chunked(200, "text/event-stream")
        for i in range(int(count)):
            self.write_chunk(b'data: {"n": %d}\n\n' % i)
            time.sleep(int(delay_ms) / 1000)
        self.close_connection = True
        self.connection.shutdown(2)


class FakeUpstream:
    """A running fake upstream on a free loopback port."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        handler = type("BoundFakeHandler", (FakeHandler,), {"recorder": self.recorder})
        self.server = serve("127.0.0.1", 0, handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeUpstream:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
