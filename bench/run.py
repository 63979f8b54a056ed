"""Benchmark the gateway against a bare pass-through worker and the upstream.

Starts the demo upstream, a bare Python pass-through worker and the gateway
(both through the Miniflare JS API, see bench/serve.mjs), then for each
workload measures requests/s and p50/p99 latency at a fixed concurrency for a
fixed time against each target, side by side in one run:

- direct:          the demo upstream itself;
- bare:            bench/bare_worker.py, a Python Worker that only forwards;
- gateway:         src/, with local KV and D1, users drawn from --users ids;
- gateway, 1 user: the same gateway, every request from one user, so the rate
                   limiter's KV reads and writes almost vanish (the difference
                   to the row above is roughly what KV costs);
- gateway, 1 user, D1 stubbed: a second gateway whose DB binding is a plain
                   object, so each request-log write fails at once (the
                   difference to the row above is roughly what D1 costs).

Requests/s at a fixed concurrency are capped by whichever process saturates
first; workerd runs every service (worker, local KV and D1) on one thread, so
the CPU time workerd spends per request is reported too, and the gateway's
CPU is split into its Python work, the D1 insert and the KV limiter by the
differences between the gateway targets.

It writes a markdown report to bench/results/latest.md (or --out) and prints
it. Load comes from wrk with bench/load.lua when wrk is installed, else from
an asyncio/httpx generator in this process (which then competes with the
servers for the same CPUs). On a shared machine absolute numbers are noise:
compare the ratios of one run.

Run: .venv/bin/python bench/run.py [--seconds 10] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
START_TIMEOUT_S = 90
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CHAT = {
    "model": "demo-echo-1",
    "messages": [{"role": "user", "content": "hello from the benchmark"}],
}
CHAT_SSE = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
DIRECT = "direct"
BARE = "bare"
GATEWAY = "gateway"
ONE_USER = "gateway, 1 user"
NO_D1 = "gateway, 1 user, D1 stubbed"
TARGETS = (DIRECT, BARE, GATEWAY, ONE_USER, NO_D1)


@dataclass(frozen=True)
class Workload:
    name: str
    method: str
    path: str
    body: str | None = None


WORKLOADS = (
    Workload("GET /v1/models", "GET", "/v1/models"),
    Workload("chat, JSON", "POST", "/v1/chat/completions", json.dumps(CHAT)),
    Workload("chat, SSE + usage", "POST", "/v1/chat/completions", json.dumps(CHAT_SSE)),
)


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    pid: int  # the process that does the serving work, for CPU time
    users: int


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float = 0.0
    warmup_requests: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_ms / self.requests if self.requests else 0.0


# Processes ---------------------------------------------------------------


class Processes:
    """Start servers in their own process groups; stop every group on exit."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[tuple[str, subprocess.Popen]] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for _name, process in reversed(self.started):
            stop_group(process)

    def start(self, name: str, args: list[str], env=None) -> subprocess.Popen:
        """Start a server and wait for its "ready" line in its log."""
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                args,
                cwd=ROOT,
                env={**os.environ, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.started.append((name, process))
        wait_ready(name, process, log_path)
        return process

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def wait_ready(name: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        lines = log_path.read_text(errors="replace").splitlines()
        if any(line.startswith("ready ") for line in lines):
            return
        time.sleep(0.2)
    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
    raise RuntimeError(f"{name} did not become ready; end of its log:\n{tail}")


def stop_group(process: subprocess.Popen) -> None:
    """Stop a process group: SIGTERM, then SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(10)
            # The leader is gone; make sure no child outlives it.
            os.killpg(process.pid, signal.SIGKILL)
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            pass
        return


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_named(parent: int, name: str) -> int:
    """Return the pid of parent's child process called `name`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == parent and comm == name:
            return int(entry.name)
    raise RuntimeError(f"no {name} process under pid {parent}")


def cpu_ms(pid: int) -> float:
    """Return the user + system CPU time a process has used, in ms."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / CLOCK_TICKS


def memory_kb(pid: int) -> dict[str, int]:
    """Return VmRSS and VmHWM (peak RSS) of a process, in kB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


# Load generators ---------------------------------------------------------


def run_wrk(url: str, workload: Workload, users: int, conc: int, secs: int):
    args = [
        "wrk", "-t", str(min(2, conc)), "-c", str(conc), "-d", f"{secs}s",
        "--latency", "-s", str(BENCH / "load.lua"), url + workload.path,
        "--", workload.method, str(users),
    ]  # fmt: skip
    if workload.body is not None:
        args.append(workload.body)
    done = subprocess.run(args, capture_output=True, text=True, timeout=secs + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed:\n{done.stdout}\n{done.stderr}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
    data = json.loads(line.removeprefix("BENCH "))
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Result(
        requests=data["requests"],
        errors=errors,
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


def run_python(url: str, workload: Workload, users: int, conc: int, secs: int):
    return asyncio.run(python_load(url, workload, users, conc, secs))


async def python_load(url, workload: Workload, users: int, conc: int, secs: float):
    import httpx  # only needed without wrk

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
    body = workload.body.encode() if workload.body is not None else None

    async def worker(client: httpx.AsyncClient, deadline: float) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            headers = {
                "Content-Type": "application/json",
                "X-User-ID": f"bench-user-{random.randint(1, users)}",
            }
            started = time.perf_counter()
            try:
                response = await client.request(
                    workload.method, url + workload.path, headers=headers, content=body
                )
                await response.aread()
                if response.status_code >= 400:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)

    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.perf_counter()
        deadline = started + secs
        await asyncio.gather(*(worker(client, deadline) for _ in range(conc)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return Result(
        requests=len(latencies),
        errors=errors,
        seconds=elapsed,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
    )


def percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def measure(load, target: Target, workload: Workload, args) -> Result:
    """Warm the target up, then measure it; CPU time is of target.pid."""
    warmup = load(target.url, workload, target.users, args.concurrency, args.warmup)
    before = cpu_ms(target.pid)
    result = load(target.url, workload, target.users, args.concurrency, args.seconds)
    result.cpu_ms = cpu_ms(target.pid) - before
    result.warmup_requests = warmup.requests
    return result


# The run -----------------------------------------------------------------


def start_all(procs: Processes, state_dir: Path, args) -> list[Target]:
    """Start upstream, bare worker and gateways; return the targets to measure."""
    up_port = free_port()
    demo = ROOT / "scripts" / "demo_upstream.py"
    upstream = procs.start(
        "upstream",
        [sys.executable, str(demo), "--port", str(up_port),
         "--sse-delay", str(args.sse_delay)],
    )  # fmt: skip
    up_url = f"http://127.0.0.1:{up_port}"
    bare_url, bare_pid = start_worker(procs, "bare", up_url, ["--mode", "bare"])
    gw_url, gw_pid = start_worker(
        procs, "gateway", up_url, ["--persist", str(state_dir)]
    )
    stub_url, stub_pid = start_worker(
        procs,
        "gateway-stub-db",
        up_url,
        ["--persist", f"{state_dir}-stub", "--stub-db"],
    )
    return [
        Target(DIRECT, up_url, upstream.pid, args.users),
        Target(BARE, bare_url, bare_pid, args.users),
        Target(GATEWAY, gw_url, gw_pid, args.users),
        Target(ONE_USER, gw_url, gw_pid, 1),
        Target(NO_D1, stub_url, stub_pid, 1),
    ]


def start_worker(procs: Processes, name: str, upstream: str, extra: list[str]):
    """Start bench/serve.mjs; return its URL and the pid of its workerd."""
    port = free_port()
    args = ["node", str(BENCH / "serve.mjs"), "--upstream", upstream]
    args += ["--port", str(port), *extra]
    node = procs.start(name, args, env={"WRANGLER_SEND_METRICS": "false", "CI": "true"})
    return f"http://127.0.0.1:{port}", child_named(node.pid, "workerd")


def d1_rows(state_dir: Path) -> int:
    """Count the gateway's request-log rows in its local D1 file."""
    files = list((state_dir / "v3" / "d1").rglob("*.sqlite"))
    if len(files) != 1:
        return -1
    with sqlite3.connect(f"file:{files[0]}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]


def settled_d1_rows(state_dir: Path, timeout_s: float = 15.0) -> int:
    """Wait for background D1 inserts to stop landing; return the row count."""
    deadline = time.monotonic() + timeout_s
    last = d1_rows(state_dir)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = d1_rows(state_dir)
        if now == last:
            break
        last = now
    return last


def run(args) -> str:
    load = run_wrk if args.tool == "wrk" else run_python
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        state_dir = Path(tmp) / "state"
        procs = Processes(Path(tmp))
        with procs:
            try:
                targets = start_all(procs, state_dir, args)
                results = measure_all(load, targets, args)
                by_name = {target.name: target for target in targets}
                memory = {
                    "gateway": memory_kb(by_name[GATEWAY].pid),
                    "bare": memory_kb(by_name[BARE].pid),
                }
                rows = settled_d1_rows(state_dir)
            except Exception:
                print_logs(procs)
                raise
    return report(args, results, memory, rows)


def measure_all(load, targets: list[Target], args) -> dict:
    """Measure every workload against every target, one after the other."""
    results = {}
    for workload in WORKLOADS:
        for target in targets:
            print(f"  {workload.name} -> {target.name}", file=sys.stderr)
            results[workload.name, target.name] = measure(load, target, workload, args)
    return results


def print_logs(procs: Processes) -> None:
    for name in ("upstream", "bare", "gateway", "gateway-stub-db"):
        tail = "\n".join(procs.log(name).splitlines()[-20:])
        print(f"--- end of {name} log ---\n{tail}", file=sys.stderr)


# The report --------------------------------------------------------------


def report(args, results: dict, memory: dict, d1_rows_written: int) -> str:
    return "\n".join(
        [
            *report_header(args),
            *results_table(results),
            *ratios_table(results),
            *cpu_table(results),
            *report_footer(results, memory, d1_rows_written),
        ]
    )


def report_header(args) -> list[str]:
    return [
        "# Gateway benchmark",
        "",
        f"- when: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; {os.cpu_count()} CPUs;"
        f" git {git_describe()}",
        f"- load: {args.tool}, concurrency {args.concurrency}, {args.seconds:g} s"
        f" per cell after {args.warmup:g} s warm-up; X-User-ID from {args.users}"
        f" users; SSE chunk delay {args.sse_delay:g} s",
        "- p50/p99 in ms; CPU = CPU time of the serving process (workerd, or"
        " the Python upstream for direct) per request, in ms",
        "",
    ]


def results_table(results: dict) -> list[str]:
    lines = [
        "| workload | target | req/s | p50 | p99 | CPU ms/req | errors |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for workload in WORKLOADS:
        for target in TARGETS:
            r = results[workload.name, target]
            lines.append(
                f"| {workload.name} | {target} | {r.rps:,.0f} | {r.p50_ms:.2f}"
                f" | {r.p99_ms:.2f} | {r.cpu_ms_per_request:.2f} | {r.errors} |"
            )
    return [*lines, ""]


def ratios_table(results: dict) -> list[str]:
    lines = [
        "| workload | bare/direct req/s | gateway/bare req/s"
        " | gateway/bare CPU per request |",
        "|---|---:|---:|---:|",
    ]
    for workload in WORKLOADS:
        direct, bare, gateway = (
            results[workload.name, t] for t in (DIRECT, BARE, GATEWAY)
        )
        cpu = ratio(gateway.cpu_ms_per_request, bare.cpu_ms_per_request)
        lines.append(
            f"| {workload.name} | {ratio(bare.rps, direct.rps)}"
            f" | {ratio(gateway.rps, bare.rps)} | {cpu} |"
        )
    return [*lines, ""]


def cpu_table(results: dict) -> list[str]:
    """Split the gateway's CPU per request by the differences between targets."""
    lines = [
        "workerd CPU ms per request, split by difference: Python = (1 user, D1"
        " stubbed) - bare; D1 = (1 user) - (1 user, D1 stubbed); KV = gateway"
        " - (1 user).",
        "",
        "| workload | bare | + gateway Python | + D1 insert | + KV limiter"
        " | = gateway |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for workload in WORKLOADS:
        bare, gateway, one_user, no_d1 = (
            results[workload.name, t].cpu_ms_per_request
            for t in (BARE, GATEWAY, ONE_USER, NO_D1)
        )
        lines.append(
            f"| {workload.name} | {bare:.2f} | {no_d1 - bare:.2f}"
            f" | {one_user - no_d1:.2f} | {gateway - one_user:.2f} | {gateway:.2f} |"
        )
    return [*lines, ""]


def report_footer(results: dict, memory: dict, d1_rows_written: int) -> list[str]:
    sent = sum(
        r.requests + r.warmup_requests
        for (_w, t), r in results.items()
        if t in (GATEWAY, ONE_USER)
    )
    return [
        "Memory of the workerd process after the run (RSS now / peak):"
        f" gateway {mib(memory['gateway'])}, bare worker {mib(memory['bare'])}.",
        "",
        f"D1 `requests` rows written: {d1_rows_written:,} for {sent:,} gateway"
        " requests answered (warm-up included; wrk does not count requests still"
        " in flight when it stops, so a few more rows than answers is normal).",
        "",
    ]


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}" if denominator else "n/a"


def mib(found: dict[str, int]) -> str:
    return f"{found['VmRSS'] / 1024:.0f} / {found['VmHWM'] / 1024:.0f} MiB"


def git_describe() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    dirty = " (src/ has uncommitted changes)" if git("status", "--short", "src") else ""
    return git("rev-parse", "--short", "HEAD") + dirty


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="per cell")
    parser.add_argument("--warmup", type=int, default=2, help="per cell")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--users", type=int, default=1000, help="X-User-ID pool")
    parser.add_argument(
        "--sse-delay", type=float, default=0.0, help="upstream pause between chunks"
    )
    parser.add_argument(
        "--tool",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
        help="load generator (default: wrk when installed)",
    )
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "latest.md")
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    # A SIGTERM to this script still stops every server it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    text = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
