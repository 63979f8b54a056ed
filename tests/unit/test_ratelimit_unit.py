"""The isolate counter's arithmetic, against an in-memory KV stand-in."""

from __future__ import annotations

import asyncio

from gateway.ratelimit import RateLimiter, parse_count, seconds_to_next_minute

MINUTE_START = 1_800_000_000 - 1_800_000_000 % 60


class MemoryKV:
    """KV in a dict; `get_delays` holds how many loop turns each get takes."""

    def __init__(
        self,
        fail: bool = False,
        get_delays: tuple[int, ...] = (),
        failing_gets: tuple[int, ...] = (),
    ):
        self.data: dict[str, str] = {}
        self.fail = fail
        self.failing_gets = failing_gets
        self.put_gate: asyncio.Event | None = None
        self.gets = 0
        self.get_delays = list(get_delays)
        self.puts: list[tuple[str, str, int]] = []

    async def get(self, key):
        """Answer with the value as it was when asked, after the delay."""
        self.gets += 1
        value = self.data.get(key)
        turns = self.get_delays.pop(0) if self.get_delays else 1
        for _ in range(turns):
            await asyncio.sleep(0)
        if self.fail or self.gets in self.failing_gets:
            raise RuntimeError("kv down")
        return value

    async def put(self, key, value, expirationTtl):  # noqa: N803
        await asyncio.sleep(0)
        if self.put_gate is not None:
            await self.put_gate.wait()
        if self.fail:
            raise RuntimeError("kv down")
        self.data[key] = value
        self.puts.append((key, value, expirationTtl))


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def run_checks(limiter, kv, n, cap=5, user="u1", flush=True):
    """Make n concurrent checks; then run (or drop) the queued flushes."""
    background = []

    async def scenario():
        decisions = await asyncio.gather(
            *(limiter.check(kv, user, cap, 120, background.append) for _ in range(n))
        )
        queued = len(background)
        for coroutine in background:
            if flush:
                await coroutine
            else:
                coroutine.close()
        return decisions, queued

    return asyncio.run(scenario())


def test_concurrent_checks_allow_exactly_the_cap():
    limiter = RateLimiter(Clock(MINUTE_START + 10))
    kv = MemoryKV()

    decisions, _ = run_checks(limiter, kv, 8)

    assert [d.allowed for d in decisions].count(True) == 5
    assert sorted(d.remaining for d in decisions if d.allowed) == [0, 1, 2, 3, 4]


def test_a_count_in_kv_is_added_to():
    limiter = RateLimiter(Clock(MINUTE_START + 10))
    kv = MemoryKV()
    kv.data[f"rate:u1:{MINUTE_START // 60}"] = "4"

    decisions, _ = run_checks(limiter, kv, 3)

    assert [d.allowed for d in decisions] == [True, False, False]


def test_increments_are_flushed_to_kv_with_the_ttl():
    clock = Clock(MINUTE_START + 10)
    limiter = RateLimiter(clock)
    kv = MemoryKV()

    run_checks(limiter, kv, 3)

    key = f"rate:u1:{MINUTE_START // 60}"
    assert kv.data[key] == "3"
    assert kv.puts[-1][2] == 120


def test_one_flush_is_queued_per_key_at_a_time():
    limiter = RateLimiter(Clock(MINUTE_START + 10))
    kv = MemoryKV()

    _, queued = run_checks(limiter, kv, 4, flush=False)

    assert queued == 1


def test_kv_failures_fail_open():
    limiter = RateLimiter(Clock(MINUTE_START + 10))
    kv = MemoryKV(fail=True)

    decisions, _ = run_checks(limiter, kv, 3)

    assert all(d.allowed for d in decisions)


def test_a_new_minute_starts_a_new_count():
    clock = Clock(MINUTE_START + 59)
    limiter = RateLimiter(clock)
    kv = MemoryKV()

    run_checks(limiter, kv, 5, flush=False)
    clock.now += 2
    decisions, _ = run_checks(limiter, kv, 1, flush=False)

    assert decisions[0].allowed
    assert decisions[0].remaining == 4


def test_reset_and_count_helpers():
    assert seconds_to_next_minute(MINUTE_START + 0.5) == 60
    assert seconds_to_next_minute(MINUTE_START + 59.5) == 1
    assert parse_count("12") == 12
    assert parse_count(None) == 0
    assert parse_count("x") == 0


def test_a_slow_first_read_does_not_undo_a_count_flushed_meanwhile():
    """Two first requests read KV; the first is counted and flushed before the
    second's read returns the older value, which must not lower the count."""
    limiter = RateLimiter(Clock(MINUTE_START + 10))
    kv = MemoryKV(get_delays=(1, 30))

    async def scenario():
        tasks = []

        def start(coroutine):
            tasks.append(asyncio.ensure_future(coroutine))

        first = await asyncio.gather(
            limiter.check(kv, "u1", 2, 120, start),
            limiter.check(kv, "u1", 2, 120, start),
        )
        third = await limiter.check(kv, "u1", 2, 120, start)
        await asyncio.gather(*tasks)
        return [*first, third]

    decisions = asyncio.run(scenario())

    assert [d.allowed for d in decisions] == [True, True, False]


def test_two_isolates_flushing_in_turn_add_up_in_kv():
    kv = MemoryKV()
    first, second = (
        RateLimiter(Clock(MINUTE_START + 1)),
        RateLimiter(Clock(MINUTE_START + 1)),
    )

    run_checks(first, kv, 3, cap=50)
    run_checks(second, kv, 2, cap=50)

    assert kv.data[f"rate:u1:{MINUTE_START // 60}"] == "5"


def test_a_failed_read_in_a_flush_does_not_lower_the_count_in_kv():
    """Other isolates raised the count to 40 after this one read 0; a flush
    whose re-read fails must not write this isolate's 1 over it."""
    limiter = RateLimiter(Clock(MINUTE_START + 10))
    kv = MemoryKV(failing_gets=(2,))
    key = f"rate:u1:{MINUTE_START // 60}"

    async def scenario():
        queued = []
        await limiter.check(kv, "u1", 50, 120, queued.append)
        kv.data[key] = "40"
        await queued[0]

    asyncio.run(scenario())

    assert kv.data[key] == "40"
    assert limiter.windows[key].pending == 1


def test_no_second_flusher_starts_while_a_write_is_in_flight():
    clock = Clock(MINUTE_START + 10)
    limiter = RateLimiter(clock)
    kv = MemoryKV()
    kv.put_gate = asyncio.Event()

    async def scenario():
        started = []

        def start(coroutine):
            started.append(asyncio.ensure_future(coroutine))

        await limiter.check(kv, "u1", 50, 120, start)
        for _ in range(5):
            await asyncio.sleep(0)  # the flush is now waiting on its put
        clock.now += 30
        await limiter.check(kv, "u1", 50, 120, start)
        flushers = len(started)
        kv.put_gate.set()
        await asyncio.gather(*started)
        return flushers

    assert asyncio.run(scenario()) == 1
