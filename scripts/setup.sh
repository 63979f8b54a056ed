#!/usr/bin/env bash
# Install what the gateway needs to run and be tested, from the lock files:
# npm packages (wrangler 3.68.0 and its workerd) and a Python venv in .venv.
# Re-running it only reinstalls what changed.
#
# Usage: bash scripts/setup.sh [--help]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly VENV="${ROOT}/.venv"

err() {
  echo "setup: $*" >&2
}

usage() {
  sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

install_npm() {
  local stamp="${ROOT}/node_modules/.setup-stamp"
  if [[ -f "${stamp}" && "${stamp}" -nt "${ROOT}/package-lock.json" ]]; then
    return 0
  fi
  command -v npm >/dev/null || { err "npm is required (Node.js 18 or newer)"; exit 1; }
  (cd "${ROOT}" && npm ci --no-audit --no-fund --loglevel=error)
  touch "${stamp}"
}

install_venv() {
  local stamp="${VENV}/.setup-stamp"
  if [[ -f "${stamp}" && "${stamp}" -nt "${ROOT}/pyproject.toml" ]]; then
    return 0
  fi
  command -v python3 >/dev/null || { err "python3 (3.11 or newer) is required"; exit 1; }
  python3 -m venv "${VENV}"
  # Only the test extras are installed, not the project itself: the Worker
  # runs from src/ and an installed copy would leave build files there.
  local requirements
  requirements="$(mktemp)"
  "${VENV}/bin/python" - "${ROOT}/pyproject.toml" >"${requirements}" <<'PY'
import sys
import tomllib

with open(sys.argv[1], "rb") as f:
    project = tomllib.load(f)["project"]
print("\n".join(project["optional-dependencies"]["test"]))
PY
  "${VENV}/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "${requirements}"
  rm -f "${requirements}"
  touch "${stamp}"
}

main() {
  if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
    usage
    return 0
  fi
  install_npm
  install_venv
}

main "$@"
