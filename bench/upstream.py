"""The demo upstream (scripts/demo_upstream.py) for the benchmark.

One change: the pause between SSE chunks, which the demo sets to 50 ms to look
like a model typing. At a fixed concurrency the benchmark would measure the
pause, so run.py sets it to 0 unless told otherwise.

Run (scripts/ on PYTHONPATH): python bench/upstream.py --port N [--sse-delay S]
"""

from __future__ import annotations

import argparse

import demo_upstream


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sse-delay", type=float, default=0.0)
    args = parser.parse_args()

    class Handler(demo_upstream.DemoHandler):
        chunk_delay_s = args.sse_delay

    server = demo_upstream.serve("127.0.0.1", args.port, Handler)
    print(f"ready http://127.0.0.1:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
