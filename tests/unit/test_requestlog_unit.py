"""Batching of log rows: each record in exactly one batch, failures contained."""

from __future__ import annotations

import asyncio
import json

from gateway.requestlog import BATCH_MAX, INSERT_SQL, Record, RequestLog


def record(n: int, status: int = 200) -> Record:
    """A record whose row is unique to n (n is its latency_ms)."""
    return Record(
        f"r{n}",
        "POST",
        "/v1/chat/completions",
        "abcd1234",
        0.0,
        user_id="u1",
        status=status,
        latency_ms=n,
    )


class Batches:
    def __init__(self, fail: bool = False):
        self.calls: list[list[tuple]] = []
        self.fail = fail

    async def __call__(self, sql: str, rows: list[tuple]) -> None:
        assert sql == INSERT_SQL
        await asyncio.sleep(0.01)
        if self.fail:
            raise RuntimeError("D1_ERROR: no such table: requests")
        self.calls.append(rows)


def run(log: RequestLog, records: list[Record], write, spread_s: float = 0.0):
    async def one(i: int, rec: Record) -> None:
        await asyncio.sleep(spread_s * i)
        await log.add(rec, write)

    async def scenario():
        await asyncio.gather(*(one(i, rec) for i, rec in enumerate(records)))

    asyncio.run(scenario())


def test_records_arriving_together_share_one_batch(capsys):
    write = Batches()

    run(RequestLog(delay_s=0.02), [record(n) for n in range(10)], write)

    assert len(write.calls) == 1
    assert [row[2] for row in write.calls[0]] == [200] * 10
    assert capsys.readouterr().out.count('"event": "request"') == 10


def test_every_record_is_written_exactly_once_across_batches():
    write = Batches()
    records = [record(n) for n in range(40)]

    run(RequestLog(delay_s=0.01), records, write, spread_s=0.002)

    written = sorted(row[3] for call in write.calls for row in call)
    assert written == list(range(40))
    assert len(write.calls) > 1


def test_large_batches_are_split():
    write = Batches()

    run(RequestLog(delay_s=0.01), [record(n) for n in range(BATCH_MAX + 5)], write)

    assert [len(call) for call in write.calls] == [BATCH_MAX, 5]


def test_a_failed_batch_warns_with_the_d1_error_and_does_not_raise(capsys):
    run(RequestLog(delay_s=0.0), [record(1), record(2)], Batches(fail=True))

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [warning] = [line for line in lines if line["event"] == "request_log_failed"]
    assert warning["rows"] == 2
    assert warning["error"].startswith("D1_ERROR: no such table")


def test_a_record_is_written_even_if_the_task_before_it_never_wakes():
    log = RequestLog(delay_s=0.01)
    write = Batches()

    async def scenario():
        stalled = asyncio.ensure_future(log.add(record(1), write))
        await asyncio.sleep(0)  # record 1 is pending; its task now stalls
        stalled.cancel()
        await log.add(record(2), write)

    asyncio.run(scenario())

    assert sorted(row[3] for call in write.calls for row in call) == [1, 2]


def test_d1_error_text_drops_quoted_values():
    from gateway.requestlog import d1_error_text

    error = RuntimeError(
        "Error: D1_TYPE_ERROR: Type 'bigint' not supported for value '99999'"
    )

    assert d1_error_text(error) == "D1_TYPE_ERROR: Type 'bigint' not supported"


def test_rows_and_lines_keep_at_most_512_characters_of_the_path(capsys):
    long = record(1)
    long.route = "/v1/" + "x" * 5000
    write = Batches()

    run(RequestLog(delay_s=0.0), [long], write)

    assert len(write.calls[0][0][1]) == 512
    assert len(json.loads(capsys.readouterr().out)["route"]) == 512
