#!/usr/bin/env bash
# Regenerate worker-configuration.d.ts (the TypeScript Env interface) from
# wrangler.toml with `wrangler types`, or check that it is up to date.
# wrangler 3.68.0 cannot generate types for a Python entry ("Parse error"), so
# this runs wrangler 4 (the `wrangler4` npm alias). Secret names come from
# scripts/required_secrets.env rather than a developer's .dev.vars, so every
# machine generates the same file.
#
# Usage: bash scripts/types.sh [--check] [--help]
#
#   --check  regenerate into a temporary copy of the project and fail when
#            the committed file differs.
#
# GATEWAY_ROOT and WRANGLER4 select another project copy or wrangler 4
# (see scripts/lib/common.bash).
set -euo pipefail

readonly PROG="types"
# shellcheck source=scripts/lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

readonly TYPES_FILE="worker-configuration.d.ts"
# Paths relative to the project, so the command recorded in the file's
# header is the same on every machine.
readonly -a TYPES_FLAGS=(--include-runtime=false
  --env-file=scripts/required_secrets.env)

# Generate the types file inside a project directory laid out like this one.
generate() {
  local dir="$1"
  local bin="${WRANGLER4}/bin/wrangler.js"
  [[ -f "${bin}" ]] || die "wrangler 4 not found at ${bin}: run setup.sh"
  (
    cd "${dir}"
    unset CLOUDFLARE_INCLUDE_PROCESS_ENV
    CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV=true \
      node "${bin}" types "${TYPES_FLAGS[@]}" >&2
  )
}

# Copy what `wrangler types` reads into a fresh directory.
stage_copy() {
  local dir="$1"
  mkdir -p "${dir}/src" "${dir}/scripts"
  cp "${CONFIG}" "${dir}/wrangler.toml"
  cp "${GATEWAY_ROOT}/src/entry.py" "${dir}/src/entry.py"
  cp "${SCRIPTS_DIR}/required_secrets.env" "${dir}/scripts/"
}

check() {
  local work status=0
  work="$(mktemp -d)"
  # shellcheck disable=SC2064 # expand now: work is local
  trap "rm -rf '${work}'" EXIT
  stage_copy "${work}"
  generate "${work}"
  diff -u "${GATEWAY_ROOT}/${TYPES_FILE}" "${work}/${TYPES_FILE}" >&2 \
    || status=$?
  if [[ "${status}" -ne 0 ]]; then
    die "${TYPES_FILE} is out of date: run bash scripts/types.sh"
  fi
  err "${TYPES_FILE} matches wrangler.toml"
}

main() {
  case "${1:-}" in
    -h | --help) usage "${BASH_SOURCE[0]}" ;;
    --check) check ;;
    "")
      # Generate in a staged copy too, so a local .dev.vars cannot leak in.
      local work
      work="$(mktemp -d)"
      # shellcheck disable=SC2064 # expand now: work is local
      trap "rm -rf '${work}'" EXIT
      stage_copy "${work}"
      generate "${work}"
      cp "${work}/${TYPES_FILE}" "${GATEWAY_ROOT}/${TYPES_FILE}"
      err "wrote ${GATEWAY_ROOT}/${TYPES_FILE}"
      ;;
    *) err "unknown argument: $1 (see --help)"; return 2 ;;
  esac
}

main "$@"
