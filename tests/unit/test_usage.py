"""Token estimation from JSON answers and SSE streams, fed in pieces."""

from __future__ import annotations

import json

import pytest

from gateway.usage import LINE_LIMIT, UsageScanner, scan_kind


def scan(kind: str, body: bytes, piece: int = 7) -> int:
    scanner = UsageScanner(kind)
    for start in range(0, len(body), piece):
        scanner.feed(body[start : start + piece])
    return scanner.finish()


def sse(*events: object) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        ("application/json", "json"),
        ("application/json; charset=utf-8", "json"),
        ("application/problem+json", "json"),
        ("text/event-stream", "sse"),
        ("Text/Event-Stream; charset=utf-8", "sse"),
        ("application/octet-stream", None),
        (None, None),
    ],
)
def test_scan_kind_follows_the_content_type(content_type, kind):
    assert scan_kind(content_type) == kind


def test_json_total_tokens_is_read():
    body = json.dumps({"usage": {"total_tokens": 321}}).encode()

    assert scan("json", body) == 321


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b'{"usage": null}',
        b'{"usage": {"total_tokens": "12"}}',
        b'{"usage": {"total_tokens": -4}}',
        b'{"usage": {"total_tokens": true}}',
        b'{"usage": {"total_tokens": 99999999999999999999}}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_missing_odd_or_hostile_json_usage_counts_zero(body):
    assert scan("json", body) == 0


def test_the_last_sse_usage_chunk_counts():
    body = (
        sse(
            {"choices": [{"delta": {"content": "hi"}}], "usage": None},
            {"choices": [], "usage": {"total_tokens": 55}},
        )
        + b"data: [DONE]\n\n"
    )

    assert scan("sse", body, piece=3) == 55


def test_sse_with_crlf_line_ends_is_read():
    body = b'data: {"usage": {"total_tokens": 8}}\r\n\r\ndata: [DONE]\r\n\r\n'

    assert scan("sse", body) == 8


def test_a_final_sse_line_without_newline_is_read():
    assert scan("sse", b'data: {"usage": {"total_tokens": 3}}') == 3


def test_an_oversized_sse_line_is_skipped_without_losing_later_usage():
    huge = b'data: {"blob": "' + b"x" * (LINE_LIMIT + 10) + b'"}\n\n'
    body = huge + sse({"usage": {"total_tokens": 9}})

    assert scan("sse", body, piece=64 * 1024) == 9


def test_malformed_sse_usage_counts_zero():
    assert scan("sse", b'data: {"usage": {"total_tokens": 9\n\n') == 0


def test_an_oversized_line_arriving_whole_is_skipped_too():
    huge = (
        b'data: {"usage": {"total_tokens": 7}, "pad": "' + b"x" * LINE_LIMIT + b'"}\n'
    )

    assert scan("sse", huge, piece=len(huge)) == 0
