#!/usr/bin/env bash
# Live activity dashboard: per user, the requests of the last 5 minutes,
# their estimated tokens, how many were rate limited (429), and when the user
# was last seen. Refreshes every few seconds with `watch`.
#
# Usage: bash scripts/watch.sh [--local [--persist-to DIR] | --remote]
#                              [--once] [--json] [--interval SECONDS] [--help]
#
#   --local           read the local D1 used by `wrangler dev` (default).
#   --persist-to DIR  with --local: local state lives in DIR.
#   --remote          read the D1 database on Cloudflare.
#   --once            run the query once and exit (no `watch`).
#   --json            print wrangler's JSON instead of a table.
#   --interval N      seconds between refreshes (default 5).
set -euo pipefail

readonly PROG="watch"
# shellcheck source=scripts/lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

readonly QUERY="SELECT user_id,
  COUNT(*) AS requests_5m,
  SUM(tokens_est) AS tokens_est_5m,
  SUM(CASE WHEN status = 429 THEN 1 ELSE 0 END) AS rate_limited_5m,
  MAX(created_at) AS last_seen
FROM requests
WHERE created_at > datetime('now', '-5 minutes')
GROUP BY user_id
ORDER BY requests_5m DESC, user_id
LIMIT 50"
# Set by --json.
JSON_OUTPUT=false

# Run the query with the given wrangler flags; print a table, or wrangler's
# JSON when JSON_OUTPUT is true. wrangler itself prints JSON whenever stdout
# is not a terminal (as under `watch`), so the table is drawn here.
run_query() {
  local out
  out="$(wrangler_run d1 execute "${D1_NAME}" --command "${QUERY}" --json "$@")"
  if [[ "${JSON_OUTPUT}" == true ]]; then
    printf '%s\n' "${out}"
  else
    date -u '+requests in the last 5 minutes, as of %H:%M:%S UTC'
    config_tool table <<<"${out}"
  fi
}

# Re-run this script with --once under `watch`, or loop when there is no
# `watch`. The arguments are the wrangler flags that pick the database.
refresh_forever() {
  local interval="$1"
  shift
  local -a again=(--once "$@")
  [[ "${JSON_OUTPUT}" == false ]] || again+=(--json)
  if command -v watch >/dev/null; then
    exec watch -n "${interval}" -x bash "${BASH_SOURCE[0]}" "${again[@]}"
  fi
  while true; do
    clear
    run_query "$@" || true
    sleep "${interval}"
  done
}

main() {
  local once=false interval=5 where="--local"
  local -a persist=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      -h | --help) usage "${BASH_SOURCE[0]}"; return 0 ;;
      --local | --remote) where="$1"; shift ;;
      --persist-to)
        [[ $# -ge 2 ]] || die "--persist-to needs a directory"
        persist=(--persist-to "$(absolute_path "$2")")
        shift 2
        ;;
      --once) once=true; shift ;;
      --json) JSON_OUTPUT=true; shift ;;
      --interval)
        [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--interval needs seconds"
        interval="$2"
        shift 2
        ;;
      *) err "unknown argument: $1 (see --help)"; return 2 ;;
    esac
  done
  if [[ "${where}" == "--remote" && "${#persist[@]}" -gt 0 ]]; then
    die "--persist-to only applies with --local"
  fi
  if [[ "${once}" == true ]]; then
    run_query "${where}" "${persist[@]}"
  else
    refresh_forever "${interval}" "${where}" "${persist[@]}"
  fi
}

main "$@"
