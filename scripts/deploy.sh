#!/usr/bin/env bash
# Deploy the gateway to Cloudflare, then check that /health answers.
# Refuses to deploy while wrangler.toml holds placeholder binding ids (run
# scripts/bootstrap.sh first) or while a required secret is unset (see
# scripts/required_secrets.env).
#
# Usage: bash scripts/deploy.sh [--url URL] [--help]
#        bash scripts/deploy.sh --dry-run [--outdir DIR]
#
#   --url URL     the deployed gateway's base URL for the health check
#                 (default: $GATEWAY_URL, else the workers.dev URL wrangler
#                 prints).
#   --dry-run     build the upload bundle into DIR without deploying; needs
#                 no ids, login, secrets or network.
#   --outdir DIR  where --dry-run writes the bundle (default: dist/).
#
# GATEWAY_ROOT and WRANGLER select another project copy or wrangler binary
# (see scripts/lib/common.bash). HEALTH_RETRIES (default 5) bounds the
# health check.
set -euo pipefail

readonly PROG="deploy"
# shellcheck source=scripts/lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

readonly HEALTH_RETRIES="${HEALTH_RETRIES:-5}"
readonly HEALTH_DELAY_SECONDS=3
# The Worker name is passed explicitly, and wrangler_run adds
# `--config <project>/wrangler.toml`. `--commit-dirty=true` is left out on
# purpose: wrangler 3.68.0 and 4.86.0 both reject it on `deploy` ("Unknown
# arguments"); it only exists on other subcommands.
readonly -a DEPLOY_FLAGS=(--name "${WORKER_NAME}")

required_secrets() {
  sed -n 's/^\([A-Z][A-Z0-9_]*\)=.*$/\1/p' \
    "${SCRIPTS_DIR}/required_secrets.env"
}

check_ids() {
  config_tool check-ids \
    || die "wrangler.toml has placeholder ids: run bash scripts/bootstrap.sh"
}

check_secrets() {
  local listed
  local -a names missing
  mapfile -t names < <(required_secrets)
  listed="$(wrangler_run secret list --name "${WORKER_NAME}")" \
    || die "could not list the secrets of ${WORKER_NAME} (see above)"
  mapfile -t missing < <(config_tool missing-secrets "${names[@]}" \
    <<<"${listed}")
  if [[ "${#missing[@]}" -gt 0 ]]; then
    err "secrets not set: ${missing[*]}; set each with"
    err "  echo VALUE | npx wrangler secret put NAME --name ${WORKER_NAME}"
    exit 1
  fi
}

# Ask /health until it answers {"status": "ok", ...}.
check_health() {
  local url="${1%/}/health" body attempt
  for ((attempt = 1; attempt <= HEALTH_RETRIES; attempt++)); do
    if body="$(curl -fsS --max-time 10 "${url}")" \
      && grep -Eq '"status" *: *"ok"' <<<"${body}"; then
      err "healthy: ${url} answered ${body}"
      return 0
    fi
    if [[ "${attempt}" -lt "${HEALTH_RETRIES}" ]]; then
      sleep "${HEALTH_DELAY_SECONDS}"
    fi
  done
  die "${url} did not answer {\"status\": \"ok\"}; see: npx wrangler tail"
}

deploy() {
  local url="$1" log
  check_ids
  whoami_or_die >/dev/null
  check_secrets
  log="$(mktemp)"
  # shellcheck disable=SC2064 # expand now: log is local
  trap "rm -f '${log}'" EXIT
  wrangler_run deploy "${DEPLOY_FLAGS[@]}" | tee "${log}" >&2
  if [[ -z "${url}" ]]; then
    url="$(grep -Eo 'https://[^[:space:]]+\.workers\.dev' "${log}" \
      | head -n 1 || true)"
  fi
  if [[ -z "${url}" ]]; then
    err "deployed; check it with: curl https://${WORKER_NAME}.<subdomain>\
.workers.dev/health (or re-run with --url)"
    return 0
  fi
  check_health "${url}"
}

dry_run() {
  local outdir="$1"
  wrangler_run deploy "${DEPLOY_FLAGS[@]}" --dry-run --outdir "${outdir}" >&2
  [[ -f "${outdir}/entry.py" ]] || die "no entry.py in ${outdir}"
  err "bundle built in ${outdir} (nothing deployed)"
}

main() {
  local mode="deploy" url="${GATEWAY_URL:-}" outdir="${GATEWAY_ROOT}/dist"
  while [[ $# -gt 0 ]]; do
    case "$1" in
      -h | --help) usage "${BASH_SOURCE[0]}"; return 0 ;;
      --dry-run) mode="dry-run"; shift ;;
      --url)
        [[ $# -ge 2 ]] || die "--url needs a value"
        url="$2"
        shift 2
        ;;
      --outdir)
        [[ $# -ge 2 ]] || die "--outdir needs a directory"
        outdir="$(absolute_path "$2")"
        shift 2
        ;;
      *) err "unknown argument: $1 (see --help)"; return 2 ;;
    esac
  done
  if [[ "${mode}" == "dry-run" ]]; then
    dry_run "${outdir}"
  else
    deploy "${url}"
  fi
}

main "$@"
