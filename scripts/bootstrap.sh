#!/usr/bin/env bash
# Provision what the gateway needs on a Cloudflare account, once per account:
# the GATEWAY_KV namespace and the organized-gateway-db D1 database (found by
# name when they exist, created when not), their ids written into
# wrangler.toml, then the D1 migrations applied. Safe to re-run: a second run
# creates nothing and leaves wrangler.toml as it is.
#
# Usage: bash scripts/bootstrap.sh [--help]
#        bash scripts/bootstrap.sh --local [--persist-to DIR]
#
#   (no option)       use the Cloudflare account wrangler is logged in to
#                     (`npx wrangler login` or CLOUDFLARE_API_TOKEN).
#   --local           prepare the local KV and D1 used by `wrangler dev`;
#                     needs no account and no network.
#   --persist-to DIR  with --local: keep local state in DIR instead of
#                     .wrangler/state.
#
# GATEWAY_ROOT and WRANGLER select another project copy or wrangler binary
# (see scripts/lib/common.bash).
set -euo pipefail

readonly PROG="bootstrap"
# shellcheck source=scripts/lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

# Print the id wrangler lists for a KV namespace title or a D1 database
# name. Status 1: not listed; 3: the list itself failed.
listed_id() {
  local kind="$1" wanted="$2" list
  if [[ "${kind}" == "kv" ]]; then
    list="$(wrangler_run kv namespace list)" || return 3
  else
    list="$(wrangler_run d1 list --json)" || return 3
  fi
  config_tool find "${kind}" "${wanted}" <<<"${list}"
}

# Print the id of a KV namespace or D1 database, running the create command
# (the remaining arguments) only when the account does not list it yet.
find_or_create() {
  local kind="$1" wanted="$2" id status=0
  shift 2
  id="$(listed_id "${kind}" "${wanted}")" || status=$?
  if [[ "${status}" -eq 1 ]]; then
    err "creating ${wanted}"
    wrangler_run "$@" >&2
    status=0
    id="$(listed_id "${kind}" "${wanted}")" || status=$?
    [[ "${status}" -ne 1 ]] || die "${wanted} is not listed after creating it"
  elif [[ "${status}" -eq 0 ]]; then
    err "found ${wanted} (${id})"
  fi
  [[ "${status}" -eq 0 ]] || die "could not list ${kind} resources (see above)"
  echo "${id}"
}

# Print the account id to record in wrangler.toml: none when it already holds
# one or when whoami lists several accounts (wrangler then needs
# CLOUDFLARE_ACCOUNT_ID or an account_id written by hand).
account_id_to_record() {
  local whoami="$1"
  local -a ids
  [[ -z "$(config_tool get account_id)" ]] || return 0
  if [[ -n "${CLOUDFLARE_ACCOUNT_ID:-}" ]]; then
    echo "${CLOUDFLARE_ACCOUNT_ID}"
    return 0
  fi
  mapfile -t ids < <(config_tool accounts <<<"${whoami}")
  if [[ "${#ids[@]}" -eq 1 ]]; then
    echo "${ids[0]}"
  elif [[ "${#ids[@]}" -gt 1 ]]; then
    err "several accounts: set account_id in wrangler.toml to choose one"
  fi
}

apply_migrations() {
  # Without a terminal on stdin wrangler applies pending files without asking.
  wrangler_run d1 migrations apply "${D1_NAME}" "$@" </dev/null >&2
}

bootstrap_account() {
  local whoami title kv_id d1_id account_id
  whoami="$(whoami_or_die)"
  account_id="$(account_id_to_record "${whoami}")"
  # wrangler titles a namespace "<worker name>-<binding>".
  title="$(config_tool get name)-${KV_BINDING}"
  kv_id="$(find_or_create kv "${title}" kv namespace create "${KV_BINDING}")"
  d1_id="$(find_or_create d1 "${D1_NAME}" d1 create "${D1_NAME}")"
  config_tool set-ids --kv-id "${kv_id}" --d1-id "${d1_id}" \
    --account-id "${account_id}"
  apply_migrations --remote
  err "done: set the secrets next (docs/operations.md), then deploy"
}

bootstrap_local() {
  local -a persist=("$@")
  apply_migrations --local "${persist[@]}"
  err "local D1 is ready; local KV needs no preparation"
}

main() {
  local mode="account"
  local -a persist=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      -h | --help) usage "${BASH_SOURCE[0]}"; return 0 ;;
      --local) mode="local"; shift ;;
      --persist-to)
        [[ $# -ge 2 ]] || die "--persist-to needs a directory"
        persist=(--persist-to "$(absolute_path "$2")")
        shift 2
        ;;
      *) err "unknown argument: $1 (see --help)"; return 2 ;;
    esac
  done
  if [[ "${mode}" == "local" ]]; then
    bootstrap_local "${persist[@]}"
  elif [[ "${#persist[@]}" -gt 0 ]]; then
    die "--persist-to only applies with --local"
  else
    bootstrap_account
  fi
}

main "$@"
