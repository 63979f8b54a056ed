#!/usr/bin/env python3
"""A tiny OpenAI-compatible upstream for trying the gateway locally.

It answers `GET /v1/models`, `POST /v1/chat/completions` (JSON, or SSE when the
body asks for `"stream": true`) and `POST /v1/embeddings` with canned but
well-formed answers, counting "tokens" as whitespace-separated words. It uses
only the standard library, so `scripts/dev.sh` can start it with any Python 3.

Run: python3 scripts/demo_upstream.py [--host H] [--port N] [--sse-delay S]
(defaults 127.0.0.1, 8788, and 0.05 s between SSE chunks, like a model
typing; the benchmark sets 0).

Limits: it is a demo, not a model. It reads whole request bodies into memory
and keeps no state between requests.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "demo-echo-1"


def count_words(text: str) -> int:
    """Return the demo's token count for a text: its number of words."""
    return len(text.split())


def last_user_text(body: dict) -> str:
    """Return the text of the last user message of a chat request, or ''."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else ""
    return ""


def chat_reply(body: dict) -> tuple[str, dict]:
    """Return the reply text and the usage object for a chat request."""
    prompt = last_user_text(body)
    reply = f"You said: {prompt}" if prompt else "Hello from the demo upstream."
    prompt_tokens = max(1, count_words(prompt))
    completion_tokens = count_words(reply)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    return reply, usage


def chat_completion(body: dict) -> dict:
    """Return a complete `chat.completion` object for a chat request."""
    reply, usage = chat_reply(body)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply},
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
    }


def chat_chunks(body: dict) -> list[dict]:
    """Return the `chat.completion.chunk` objects that stream a reply.

    The usage chunk comes last, and only when the request asked for it with
    `stream_options.include_usage`, as the OpenAI API does.
    """
    reply, usage = chat_reply(body)
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model") or MODEL,
    }
    words = reply.split(" ")
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    for i, word in enumerate(words):
        text = word if i == 0 else " " + word
        chunks.append({**base, "choices": [{"index": 0, "delta": {"content": text}}]})
    chunks.append(
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    )
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        chunks.append({**base, "choices": [], "usage": usage})
    return chunks


def error_body(message: str, error_type: str, code: str) -> dict:
    """Return an OpenAI-shaped error object."""
    return {"error": {"message": message, "type": error_type, "code": code}}


class DemoHandler(BaseHTTPRequestHandler):
    """Serve the demo's routes; subclasses may add behaviours."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on,
    # the second would wait for the client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server_version = "demo-upstream/1"
    chunk_delay_s = 0.05

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Stay quiet; the gateway logs every request already."""

    def read_body(self) -> bytes:
        """Read the request body, whether sized or chunked."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, status: int, payload: object, headers=()) -> None:
        """Send a JSON answer with a Content-Length."""
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def start_chunked(self, status: int, content_type: str) -> None:
        """Start a chunked answer; follow with write_chunk and end_chunked."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def write_chunk(self, data: bytes) -> None:
        """Write one HTTP chunk and flush it to the network."""
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_chunked(self) -> None:
        """Write the last, empty chunk."""
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def send_sse(self, events: list[dict], delay_s: float) -> None:
        """Stream events as SSE `data:` lines, then `data: [DONE]`."""
        self.start_chunked(200, "text/event-stream")
        for event in events:
            self.write_chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
            time.sleep(delay_s)
        self.write_chunk(b"data: [DONE]\n\n")
        self.end_chunked()

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/v1/models":
            model = {"id": MODEL, "object": "model", "owned_by": "demo"}
            self.send_json(200, {"object": "list", "data": [model]})
            return
        self.not_found()

    def do_POST(self) -> None:
        self.answer_post(self.read_body())

    def answer_post(self, raw: bytes) -> None:
        """Answer a POST whose body has been read."""
        path = self.path.split("?")[0]
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            error = error_body(
                "Body is not a JSON object.", "invalid_request_error", "invalid_json"
            )
            self.send_json(400, error)
            return
        if path == "/v1/chat/completions":
            if body.get("stream"):
                self.send_sse(chat_chunks(body), self.chunk_delay_s)
            else:
                self.send_json(200, chat_completion(body))
            return
        if path == "/v1/embeddings":
            self.send_json(200, embeddings(body))
            return
        self.not_found()

    def not_found(self) -> None:
        """Answer 404 in the OpenAI shape."""
        error = error_body(
            f"No route {self.path}.", "invalid_request_error", "not_found"
        )
        self.send_json(404, error)


def embeddings(body: dict) -> dict:
    """Return a small deterministic embedding per input."""
    inputs = body.get("input")
    texts = inputs if isinstance(inputs, list) else [inputs or ""]
    data = []
    for i, text in enumerate(texts):
        words = count_words(str(text))
        data.append(
            {"object": "embedding", "index": i, "embedding": [float(words), 0.5, -0.5]}
        )
    tokens = sum(count_words(str(text)) for text in texts)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return {
        "object": "list",
        "data": data,
        "model": body.get("model") or MODEL,
        "usage": usage,
    }


class DemoServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def serve(host: str, port: int, handler=DemoHandler) -> DemoServer:
    """Return a server bound to host:port, ready for serve_forever()."""
    return DemoServer((host, port), handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8788)
    parser.add_argument("--sse-delay", type=float, default=DemoHandler.chunk_delay_s)
    args = parser.parse_args()
    handler = type("Handler", (DemoHandler,), {"chunk_delay_s": args.sse_delay})
    server = serve(args.host, args.port, handler)
    url = f"http://{args.host}:{server.server_address[1]}"
    print(f"ready {url} (demo upstream)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
