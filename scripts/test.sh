#!/usr/bin/env bash
# Run the whole test suite: lint, unit tests under CPython, and the real
# worker in workerd with local KV and D1. Installs what it needs first.
#
# Usage: bash scripts/test.sh [--help] [pytest arguments...]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT

usage() {
  sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
    usage
    return 0
  fi
  bash "${ROOT}/scripts/setup.sh"
  cd "${ROOT}"
  export WRANGLER_SEND_METRICS=false
  .venv/bin/ruff check .
  .venv/bin/ruff format --check .
  .venv/bin/python -m pytest "$@"
}

main "$@"
