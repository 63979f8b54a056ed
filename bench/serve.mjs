// Serve one worker through the Miniflare 3 JS API, for the benchmark.
//
//   node bench/serve.mjs --mode gateway --port 8800 \
//     --upstream http://127.0.0.1:8788 --persist /tmp/bench-state
//   node bench/serve.mjs --mode bare --port 8801 --upstream http://127.0.0.1:8788
//
// gateway: every .py file under src/ (entry.py first) with KV GATEWAY_KV and
//   D1 DB persisted under --persist (the D1 migrations are applied there first
//   with the pinned wrangler, which keeps its state in DIR/v3/{kv,d1}).
// bare: bench/bare_worker.py, a pass-through with no bindings (the floor).
// --stub-db (diagnosis only): the gateway's DB is a plain object with no
//   methods, so every request-log write fails at once (and logs a warning):
//   the gateway without D1's cost.
//
// Prints "ready <url>" on stdout once listening; the worker's own output
// (console.log of the gateway) goes to stderr. SIGTERM/SIGINT dispose it.

import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { Miniflare } from "miniflare";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SRC = path.join(ROOT, "src");
const BENCH = path.join(ROOT, "bench");
const WRANGLER = path.join(ROOT, "node_modules", ".bin", "wrangler");
const DB_NAME = "organized-gateway-db";
// The ids in wrangler.toml: the same ids name the same local SQLite files.
const KV_ID = "local-gateway-kv";
const D1_ID = "local-organized-gateway-db";
const COMMON = {
  compatibilityDate: "2024-07-25",
  compatibilityFlags: ["python_workers"],
};

function pythonFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "__pycache__") {
      found.push(...pythonFiles(full));
    } else if (entry.isFile() && entry.name.endsWith(".py")) {
      found.push(full);
    }
  }
  return found.sort();
}

function gatewayModules() {
  const entry = path.join(SRC, "entry.py");
  const rest = pythonFiles(SRC).filter((file) => file !== entry);
  return [entry, ...rest].map((file) => ({ type: "PythonModule", path: file }));
}

function applyMigrations(persist) {
  execFileSync(
    WRANGLER,
    ["d1", "migrations", "apply", DB_NAME, "--local", "--persist-to", persist],
    {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
}

function gatewayOptions(upstream, persist, stubDb) {
  applyMigrations(persist);
  return {
    ...COMMON,
    modulesRoot: SRC,
    modules: gatewayModules(),
    kvNamespaces: { GATEWAY_KV: KV_ID },
    d1Databases: stubDb ? {} : { DB: D1_ID },
    kvPersist: path.join(persist, "v3", "kv"),
    d1Persist: path.join(persist, "v3", "d1"),
    bindings: {
      OPENCLAW_URL: upstream,
      AUTH_MODE: "openai",
      // High enough that the benchmark measures the path, not refusals.
      RATE_LIMIT_PER_MINUTE: "1000000",
      RATE_LIMIT_TTL_SECONDS: "120",
      UPSTREAM_TIMEOUT_MS: "120000",
      ...(stubDb ? { DB: {} } : {}),
    },
  };
}

function bareOptions(upstream) {
  return {
    ...COMMON,
    modulesRoot: BENCH,
    modules: [{ type: "PythonModule", path: path.join(BENCH, "bare_worker.py") }],
    bindings: { OPENCLAW_URL: upstream },
  };
}

function workerOptions(args) {
  if (args.mode === "gateway") {
    if (!args.persist) throw new Error("--persist DIR is required for gateway");
    return gatewayOptions(args.upstream, path.resolve(args.persist), args["stub-db"]);
  }
  if (args.mode === "bare") return bareOptions(args.upstream);
  throw new Error(`unknown --mode ${args.mode}`);
}

async function main() {
  const { values: args } = parseArgs({
    options: {
      mode: { type: "string", default: "gateway" },
      port: { type: "string", default: "8800" },
      upstream: { type: "string" },
      persist: { type: "string" },
      "stub-db": { type: "boolean", default: false },
    },
  });
  if (!args.upstream) throw new Error("--upstream URL is required");

  const mf = new Miniflare({
    ...workerOptions(args),
    host: "127.0.0.1",
    port: Number(args.port),
    handleRuntimeStdio(stdout, stderr) {
      stdout.pipe(process.stderr);
      stderr.pipe(process.stderr);
    },
  });
  const url = await mf.ready;

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await mf.dispose();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  console.log(`ready ${url.href}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
