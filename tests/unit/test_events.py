"""Log lines: one JSON object each, and stacks without exception messages."""

from __future__ import annotations

import json

from gateway.events import emit, stack_of


def test_emit_writes_one_json_object_per_line(capsys):
    emit("info", "request", request_id="r1", status=200)

    line = capsys.readouterr().out
    assert line.count("\n") == 1
    assert json.loads(line) == {
        "event": "request",
        "level": "info",
        "request_id": "r1",
        "status": 200,
    }


def test_errors_go_to_stderr(capsys):
    emit("error", "unexpected_error")

    captured = capsys.readouterr()
    assert captured.out == ""
    assert json.loads(captured.err)["level"] == "error"


def test_stack_of_keeps_frames_but_not_the_message():
    def failing():
        raise ValueError("Bearer sk-secret-in-message")

    try:
        failing()
    except ValueError as exc:
        stack = stack_of(exc)

    assert stack[0] == "ValueError"
    assert any("failing" in frame for frame in stack[1:])
    assert "sk-secret" not in json.dumps(stack)
