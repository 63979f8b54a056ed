#!/usr/bin/env bash
# Start the gateway locally in workerd with local KV and D1 (migrations
# applied). When no OPENCLAW_URL is configured (environment or .dev.vars), a
# built-in demo upstream is started too, so the gateway works out of the box.
#
# Usage: bash scripts/dev.sh [--help] [--port N]
#   OPENCLAW_URL / AUTH_MODE in the environment override .dev.vars.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly DEMO_PORT="${DEMO_UPSTREAM_PORT:-8788}"
PORT=8787

err() {
  echo "dev: $*" >&2
}

usage() {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

dev_var() {
  local name="$1"
  [[ -f "${ROOT}/.dev.vars" ]] || return 0
  sed -n "s/^${name}[[:space:]]*=[[:space:]]*\"\{0,1\}\([^\"]*\)\"\{0,1\}[[:space:]]*$/\1/p" \
    "${ROOT}/.dev.vars" | tail -n 1
}

print_tries() {
  cat <<TXT

organized-gateway is starting on http://127.0.0.1:${PORT}. Try:

  curl -s http://127.0.0.1:${PORT}/health

  curl -s http://127.0.0.1:${PORT}/v1/chat/completions \\
    -H 'Content-Type: application/json' -H 'X-User-ID: alice' \\
    -d '{"model":"demo-echo-1","messages":[{"role":"user","content":"hello"}]}'

  curl -sN http://127.0.0.1:${PORT}/v1/chat/completions \\
    -H 'Content-Type: application/json' -H 'X-User-ID: alice' \\
    -d '{"model":"demo-echo-1","stream":true,"stream_options":{"include_usage":true},
         "messages":[{"role":"user","content":"stream please"}]}'

  npx wrangler d1 execute organized-gateway-db --local \\
    --command 'SELECT * FROM user_summary'

TXT
}

main() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      -h | --help) usage; return 0 ;;
      --port) PORT="$2"; shift 2 ;;
      *) err "unknown argument: $1 (see --help)"; return 2 ;;
    esac
  done

  bash "${ROOT}/scripts/setup.sh"
  cd "${ROOT}"
  export WRANGLER_SEND_METRICS=false

  npx wrangler d1 migrations apply organized-gateway-db --local >/dev/null

  local upstream="${OPENCLAW_URL:-$(dev_var OPENCLAW_URL)}"
  local auth_mode="${AUTH_MODE:-$(dev_var AUTH_MODE)}"
  local demo_pid=""
  if [[ -z "${upstream}" ]]; then
    upstream="http://127.0.0.1:${DEMO_PORT}"
    python3 "${ROOT}/scripts/demo_upstream.py" --port "${DEMO_PORT}" &
    demo_pid=$!
    trap 'kill "${demo_pid}" 2>/dev/null || true' EXIT
  fi

  print_tries
  local -a vars=("OPENCLAW_URL:${upstream}" "AUTH_MODE:${auth_mode:-openai}")
  npx wrangler dev --ip 127.0.0.1 --port "${PORT}" \
    --show-interactive-dev-session=false --var "${vars[@]}"
}

main "$@"
