#!/usr/bin/env bash
# Roll an environment back to the version that was live before, check that
# the service is healthy afterwards, and tell someone.
#
#   examples/scripts/rollback.sh ENV [VERSION]
#
# Environment:
#   HEALTH_URL    URL probed after the rollback (e.g. http://10.0.0.5:8080/v2/health/ready);
#                 unset: no probe (for local folders and kubernetes)
#   HEALTH_TRIES  probes before giving up (default 10, one every 3 s)
#   NOTIFY_CMD    command run with one argument, the message (e.g. a Slack or
#                 pager hook); unset: the message goes to stderr only
#   MLOPS         the mlops binary (default: mlops on PATH)
#
# Exit codes: 0 rolled back and healthy; 1 rollback failed its checks (the
# environment was put back by mlops); 3 rolled back but the health probe
# failed; 4 nothing to roll back to or a registry problem; 5 the target
# could not be reached, refused the token, another deploy is running, or the
# target went away half-way (mlops tried to put it back; the message says
# whether it could); no assignment is recorded on any failure; 2 usage.
set -euo pipefail

usage() { echo "usage: $0 ENV [VERSION]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
env_name=$1
to=${2:-}
mlops=${MLOPS:-mlops}
tries=${HEALTH_TRIES:-10}

notify() {
  local msg="[mlops rollback ${env_name}] $1"
  echo "$msg" >&2
  if [ -n "${NOTIFY_CMD:-}" ]; then
    # A failing hook must not hide the rollback's own outcome.
    "$NOTIFY_CMD" "$msg" || echo "warning: NOTIFY_CMD failed" >&2
  fi
}

args=(--json rollback "$env_name" --yes)
[ -n "$to" ] && args+=(--to "$to")

# mlops prints one JSON document on success and one error line on stderr
# otherwise; capture both and act on the exit code.
errfile=$(mktemp)
trap 'rm -f "$errfile"' EXIT
set +e
out=$("$mlops" "${args[@]}" 2>"$errfile")
code=$?
set -e
err=$(cat "$errfile")

case $code in
  0) ;;
  1) notify "FAILED: the rolled-back version did not pass its checks; mlops put the environment back. ${err}"; exit 1 ;;
  4) notify "NOT DONE: ${err}"; exit 4 ;;
  5) notify "NOT DONE (target unreachable, refused, busy or gone half-way; no assignment recorded): ${err}"; exit 5 ;;
  *) notify "NOT DONE (exit ${code}): ${err}"; exit "$code" ;;
esac

# The version now live, from the JSON document (no jq needed).
version=$(printf '%s\n' "$out" | sed -n 's/^  "version": "\(.*\)",$/\1/p' | head -n 1)
previous=$(printf '%s\n' "$out" | sed -n 's/^  "previous": "\(.*\)",$/\1/p' | head -n 1)
tag=$(printf '%s\n' "$out" | sed -n 's/^  "tag": "\(.*\)",$/\1/p' | head -n 1)

if [ -n "${HEALTH_URL:-}" ]; then
  ok=0
  for _ in $(seq 1 "$tries"); do
    if curl -fsS --max-time 5 -o /dev/null "$HEALTH_URL"; then ok=1; break; fi
    sleep 3
  done
  if [ "$ok" != 1 ]; then
    notify "rolled back to ${version} (was ${previous:-none}, ${tag}) but ${HEALTH_URL} is not healthy after ${tries} tries"
    exit 3
  fi
fi

notify "rolled back to ${version} (was ${previous:-none}, recorded as ${tag})"
