#!/usr/bin/env bash
# Give a user a gateway key: generate a random key, store only its SHA-256
# (lowercase hex) in GATEWAY_KV at gwkey:USER_ID, and print the key once on
# stdout. Everything else goes to stderr. Running it again for the same user
# replaces the key, so the old one stops working.
#
# Usage: bash scripts/provision_key.sh USER_ID [--local [--persist-to DIR]]
#                                      [--oauth-token-stdin] [--help]
#
#   USER_ID              1-128 characters from A-Z a-z 0-9 . _ @ + -
#   --local              write to the local KV used by `wrangler dev`
#                        (default: the KV namespace on Cloudflare).
#   --persist-to DIR     with --local: local state lives in DIR.
#   --oauth-token-stdin  also read the user's upstream OAuth token from stdin
#                        and store it at oauth:USER_ID (codex mode).
#
# Clients then send `Authorization: Bearer <key>` and `X-User-ID: USER_ID`.
# Key and token reach wrangler through mode-600 temporary files, never on a
# command line.
set -euo pipefail

readonly PROG="provision_key"
# shellcheck source=scripts/lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

readonly USER_ID_PATTERN='^[A-Za-z0-9._@+-]{1,128}$'

# Write "<key>\n<sha256 hex of key>" into the given file.
new_key_and_hash() {
  python3 - "$1" <<'PY'
import hashlib, secrets, sys
key = "ogw_" + secrets.token_urlsafe(32)
digest = hashlib.sha256(key.encode()).hexdigest()
with open(sys.argv[1], "w") as out:
    out.write(f"{key}\n{digest}\n")
PY
}

# Store the contents of a file at a GATEWAY_KV key.
kv_put_file() {
  local key="$1" file="$2"
  shift 2
  wrangler_run kv key put --binding "${KV_BINDING}" "${key}" \
    --path "${file}" "$@" >&2
}

main() {
  local user_id="" local_kv=false with_token=false work key digest token
  local -a target=() persist=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      -h | --help) usage "${BASH_SOURCE[0]}"; return 0 ;;
      --local) local_kv=true; shift ;;
      --persist-to)
        [[ $# -ge 2 ]] || die "--persist-to needs a directory"
        persist=(--persist-to "$(absolute_path "$2")")
        shift 2
        ;;
      --oauth-token-stdin) with_token=true; shift ;;
      -*) err "unknown option: $1 (see --help)"; return 2 ;;
      *)
        [[ -z "${user_id}" ]] || { err "one USER_ID only"; return 2; }
        user_id="$1"
        shift
        ;;
    esac
  done
  if [[ ! "${user_id}" =~ ${USER_ID_PATTERN} ]]; then
    err "USER_ID must be 1-128 characters from A-Z a-z 0-9 . _ @ + -"
    return 2
  fi
  if [[ "${local_kv}" == true ]]; then
    target=(--local "${persist[@]}")
  elif [[ "${#persist[@]}" -gt 0 ]]; then
    die "--persist-to only applies with --local"
  else
    config_tool check-ids \
      || die "wrangler.toml has placeholder ids: run bash scripts/bootstrap.sh"
  fi

  umask 077
  work="$(mktemp -d)"
  # shellcheck disable=SC2064 # expand now: work is local
  trap "rm -rf '${work}'" EXIT

  if [[ "${with_token}" == true ]]; then
    token="$(cat)"
    # Trim surrounding white space (a pasted token often ends in CR/LF).
    token="${token#"${token%%[![:space:]]*}"}"
    token="${token%"${token##*[![:space:]]}"}"
    [[ -n "${token}" ]] || die "no OAuth token on stdin"
    printf '%s' "${token}" >"${work}/token"
  fi
  new_key_and_hash "${work}/key"
  { read -r key && read -r digest; } <"${work}/key"
  printf '%s' "${digest}" >"${work}/hash"

  # The token first: if storing it fails, the user's current key still works.
  if [[ "${with_token}" == true ]]; then
    kv_put_file "oauth:${user_id}" "${work}/token" "${target[@]}"
  fi
  kv_put_file "gwkey:${user_id}" "${work}/hash" "${target[@]}"
  err "stored the key's SHA-256 at gwkey:${user_id}; the key is shown once:"
  printf '%s\n' "${key}"
}

main "$@"
