# shellcheck shell=bash disable=SC2034
# (SC2034: the constants below are used by the scripts that source this.)
# Helpers shared by the operations scripts (bootstrap, deploy, provision_key,
# types, watch). Sourced, never run. The caller sets PROG before sourcing.
#
# Environment:
#   GATEWAY_ROOT  the project directory holding wrangler.toml, migrations/
#                 and src/ (default: this repository). Tests point it at a
#                 temporary copy so the real wrangler.toml is never touched.
#   WRANGLER      the wrangler executable (default: the pinned
#                 node_modules/.bin/wrangler, 3.68.0).
#   WRANGLER4     the wrangler 4 package directory, whose bin/wrangler.js is
#                 run with node; only `wrangler types` needs it (default:
#                 node_modules/wrangler4, the npm alias of wrangler@4.86.0).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT
readonly SCRIPTS_DIR="${REPO_ROOT}/scripts"
GATEWAY_ROOT="$(cd "${GATEWAY_ROOT:-${REPO_ROOT}}" && pwd)"
readonly GATEWAY_ROOT
readonly CONFIG="${GATEWAY_ROOT}/wrangler.toml"
readonly WRANGLER="${WRANGLER:-${REPO_ROOT}/node_modules/.bin/wrangler}"
readonly WRANGLER4="${WRANGLER4:-${REPO_ROOT}/node_modules/wrangler4}"
readonly WORKER_NAME="organized-gateway"
readonly KV_BINDING="GATEWAY_KV"
readonly D1_NAME="organized-gateway-db"
readonly LOGIN_HINT="log in with 'npx wrangler login' (or export \
CLOUDFLARE_API_TOKEN), then run this again"

export WRANGLER_SEND_METRICS=false
# Let `set -e` stop command substitutions too.
shopt -s inherit_errexit

err() {
  echo "${PROG}: $*" >&2
}

die() {
  err "$@"
  exit 1
}

# Print the calling script's header comment (everything after the shebang up
# to the first line that is not a comment).
usage() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' \
    "$1"
}

# Run the pinned wrangler in the project directory against its wrangler.toml.
wrangler_run() {
  command -v "${WRANGLER}" >/dev/null \
    || die "wrangler not found at ${WRANGLER}: run bash scripts/setup.sh"
  (cd "${GATEWAY_ROOT}" && "${WRANGLER}" "$@" --config "${CONFIG}")
}

# Read or edit wrangler.toml, or parse wrangler's JSON (wrangler_config.py).
config_tool() {
  python3 "${SCRIPTS_DIR}/wrangler_config.py" --config "${CONFIG}" \
    --binding "${KV_BINDING}" --database "${D1_NAME}" "$@"
}

# Make an absolute path of a user-supplied one before any `cd`.
absolute_path() {
  if [[ "$1" == /* ]]; then
    echo "$1"
  else
    echo "${PWD}/$1"
  fi
}

# Print `wrangler whoami` output when logged in; die with a hint otherwise.
# wrangler 3.68.0 exits 0 even when nobody is logged in, so read the text.
whoami_or_die() {
  local out
  if ! out="$(wrangler_run whoami 2>&1)"; then
    printf '%s\n' "${out}" >&2
    die "'wrangler whoami' failed (offline, or bad credentials?): ${LOGIN_HINT}"
  fi
  if [[ "${out}" == *"You are not authenticated"* ]]; then
    die "not logged in to Cloudflare: ${LOGIN_HINT}"
  fi
  printf '%s\n' "${out}"
}
