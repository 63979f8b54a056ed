-- wrk script for bench/run.py: one request shape, a pool of X-User-IDs.
--
--   wrk -t2 -c8 -d10s -s bench/load.lua URL -- METHOD USERS [BODY]
--
-- Each request carries X-User-ID "bench-user-N", N drawn at random from
-- 1..USERS. At the end it prints one line "BENCH {json}" with the counts and
-- the latency percentiles (microseconds) for run.py to read.

local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("seed", thread_count)
end

function init(args)
  method = args[1] or "GET"
  users = tonumber(args[2] or "1000")
  body = args[3]
  math.randomseed(os.time() * 1000 + (seed or 0))
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  headers["X-User-ID"] = "bench-user-" .. math.random(users)
  return wrk.format(method, nil, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, '
      .. '"write": %d, "status": %d, "timeout": %d, '
      .. '"p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99),
    latency.max))
end
