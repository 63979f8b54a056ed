"""The demo upstream (scripts/demo_upstream.py) for the benchmark.

Two changes, both about time the demo spends waiting rather than working:

- the pause between SSE chunks, which the demo sets to 50 ms to look like a
  model typing: at a fixed concurrency the benchmark would measure the pause,
  so run.py sets it to 0 unless told otherwise;
- Nagle's algorithm is off (TCP_NODELAY). The demo writes the headers and the
  body of a JSON answer in two sends; with Nagle on, the second waits for the
  client's delayed ACK, about 40 ms on Linux, on every keep-alive request.

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
        disable_nagle_algorithm = True

    server = demo_upstream.serve("127.0.0.1", args.port, Handler)
    print(f"ready http://127.0.0.1:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
