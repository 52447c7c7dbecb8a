#!/usr/bin/env bash
# The whole life of a model in one command, on the bundled house-price
# example (examples/house-prices/):
#
#   bash examples/quickstart.sh
#
# In a temporary git repository it trains a first version, validates,
# packages and deploys it to two local environments (staging and prod),
# serves staging, trains and packages a second version, runs it as a 50%
# canary under a few hundred requests with feedback, analyses the A/B test,
# promotes the challenger, and rolls prod back. Each step prints the
# command it runs. Nothing outside the temporary folder is touched (except
# target/ when it builds mlops), and the server and the folder are removed
# on every exit path. docs/getting-started.md walks through the same steps.
#
# Environment:
#   MLOPS_BIN       an mlops binary to use instead of building one
#                   (default: cargo build --release, then release/mlops in
#                   the target folder cargo metadata names, which follows
#                   CARGO_TARGET_DIR)
#   QUICKSTART_KEEP 1: keep the temporary folder and print where it is
#   QUICKSTART_HTTP python3 | curl: the HTTP client for the traffic
#                   (default: python3 when present, else curl)
#   QUICKSTART_REQUESTS  requests sent through the canary (default 400, at most 500)
#
# Needs: bash, git, and python3 or curl (plus cargo and a C compiler when
# it builds mlops). Exit 0 when every step worked.
set -euo pipefail

started=$SECONDS
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
requests=${QUICKSTART_REQUESTS:-400}

n=0
step() { n=$((n + 1)); printf '\n==> %d. %s\n' "$n" "$*"; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }
# Print a command as a user would type it, then run it.
mlops() { printf '$ mlops %s\n' "$*"; "$bin" "$@"; }
say() { printf '$ %s\n' "$*"; "$@"; }

case $requests in '' | *[!0-9]*) die "QUICKSTART_REQUESTS=$requests is not a number; set it to 1..500" ;; esac
[ "$requests" -ge 20 ] && [ "$requests" -le 500 ] ||
  die "QUICKSTART_REQUESTS=$requests is out of range; set it between 20 and 500 (recent.csv has 500 rows)"
command -v git >/dev/null || die "git is not installed; install it (apt-get install git) and run again"

client=${QUICKSTART_HTTP:-}
if [ -z "$client" ]; then
  if command -v python3 >/dev/null; then client=python3
  elif command -v curl >/dev/null; then client=curl
  else die "neither python3 nor curl is installed; install one (apt-get install curl) and run again"
  fi
fi
case $client in python3 | curl) command -v "$client" >/dev/null || die "QUICKSTART_HTTP=$client but $client is not installed; install it or unset QUICKSTART_HTTP" ;;
  *) die "QUICKSTART_HTTP=$client is not supported; use python3 or curl" ;; esac

# --- cleanup on every exit path -------------------------------------------
work=""
server_pid=""
cleanup() {
  local code=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$code" -ne 0 ]; then
    printf '\nquickstart: FAILED at step %d (exit %d)\n' "$n" "$code" >&2
    if [ -n "${server_log:-}" ] && [ -s "$server_log" ]; then
      echo "last lines of the server's log:" >&2
      tail -n 20 "$server_log" >&2
    fi
  fi
  if [ -n "$work" ] && [ -d "$work" ]; then
    if [ "${QUICKSTART_KEEP:-}" = 1 ]; then
      echo "kept the project in $work"
    else
      rm -rf "$work"
    fi
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- HTTP helpers ----------------------------------------------------------
# get URL [TOKEN]: print the body; fail on a status other than 2xx.
get() {
  if [ "$client" = curl ]; then
    curl -fsS --max-time 10 ${2:+-H "Authorization: Bearer $2"} "$1"
  else
    python3 - "$1" "${2:-}" <<'PY'
import sys, urllib.request
req = urllib.request.Request(sys.argv[1])
if sys.argv[2]:
    req.add_header("Authorization", "Bearer " + sys.argv[2])
with urllib.request.urlopen(req, timeout=10) as r:
    sys.stdout.write(r.read().decode())
PY
  fi
}
# status URL: print the HTTP status, 000 when nothing answers.
status() {
  if [ "$client" = curl ]; then
    curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true
  else
    python3 - "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
PY
  fi
}
# wait_for DESCRIPTION SECONDS COMMAND...: retry COMMAND every 0.2 s.
wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${secs}s waiting for $what"
    [ -z "$server_pid" ] || kill -0 "$server_pid" 2>/dev/null || die "the server exited while waiting for $what"
    sleep 0.2
  done
}
# slots VERSION CHALLENGER PERCENT: the server reports exactly these slots.
slots() {
  local models
  models=$(get "$url/admin/models" "$token" 2>/dev/null) || return 1
  local want_challenger='"challenger":null'
  [ "$2" = - ] || want_challenger="\"challenger\":{\"version\":\"$2\""
  case $models in *"\"champion\":{\"version\":\"$1\""*) ;; *) return 1 ;; esac
  case $models in *"$want_challenger"*) ;; *) return 1 ;; esac
  case $models in *"\"challenger_percent\":$3"[,\}]*) ;; *) return 1 ;; esac
}
ready() { [ "$(status "$url/readyz")" = 200 ]; }

# --- 1. the binary ---------------------------------------------------------
step "build mlops"
if [ -n "${MLOPS_BIN:-}" ]; then
  bin=$MLOPS_BIN
  [ -x "$bin" ] || die "MLOPS_BIN=$bin is not an executable file; build it or unset MLOPS_BIN"
  bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
  echo "using MLOPS_BIN=$bin"
else
  command -v cargo >/dev/null || die "cargo is not installed; install Rust 1.89 or newer (https://rustup.rs) or set MLOPS_BIN to an mlops binary"
  command -v cc >/dev/null ||
    die "there is no C compiler (cc) to build libgit2 with; install one (apt-get install gcc) or set MLOPS_BIN to an mlops binary"
  say cargo build --release --locked --quiet --manifest-path "$root/Cargo.toml"
  target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
  bin=${target:-$root/target}/release/mlops
fi
"$bin" --version

# --- 2. the project --------------------------------------------------------
step "a temporary git repository made from the bundled example"
work=$(mktemp -d "${TMPDIR:-/tmp}/mlops-quickstart.XXXXXX")
server_log=$work/serve.log
cd "$work"
mkdir -p examples/house-prices
cp "$root/examples/house-prices/train.csv" "$root/examples/house-prices/recent.csv" examples/house-prices/
# The bundled mlops.toml, plus the environments, the server's admin API and
# a rule for comparing with a baseline.
cp "$root/mlops.toml" mlops.toml
cat >>mlops.toml <<'TOML'

[registry]
stages = ["staging", "prod"]

[environments.staging]
target = "local"
path = "deploy/staging"

[environments.prod]
target = "local"
path = "deploy/prod"

[serve]
admin_token_env = "MLOPS_ADMIN_TOKEN"

# validate --baseline STAGE: worse than the version in STAGE by at most 1%
[validate.baseline]
max_relative_degradation = 0.01
TOML
printf 'dist/\ndeploy/\nserve.log\nabtest.csv\n' >.gitignore
git init -q
git config user.name "mlops quickstart"
git config user.email "quickstart@example.invalid"
git config commit.gpgsign false
git config tag.gpgsign false
echo "project in $work (git repository, local identity)"

# --- 3. first version --------------------------------------------------------
step "train the first version and commit it (package registers committed models only)"
mlops train
git add -A && git commit -q -m "house-price: first model" && echo "committed $(git rev-parse --short HEAD)"

step "validate: quality gates, data checks and drift of recent.csv"
mlops validate

step "package: the bundle and the registry tag house-price@v0.0.1"
mlops package

step "deploy v0.0.1 to staging and prod (local folders)"
mlops deploy staging --yes
mlops deploy prod --yes

# --- 4. serve staging -----------------------------------------------------------
step "serve staging in the background"
token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
printf '$ MLOPS_ADMIN_TOKEN=... mlops serve --env staging --bind 127.0.0.1:0 &\n'
MLOPS_ADMIN_TOKEN=$token "$bin" serve --env staging --bind 127.0.0.1:0 >"$server_log" 2>&1 &
server_pid=$!
listening() { grep -qs '^listening on http://' "$server_log"; }
wait_for "the server to listen" 30 listening
url=$(sed -n 's/^listening on \(http:\/\/[^ ]*\).*/\1/p' "$server_log" | head -n 1)
wait_for "the server to load v0.0.1 ($url/readyz)" 30 ready
echo "serving at $url (pid $server_pid), /readyz 200"

# --- 5. second version as a canary ----------------------------------------------
step "train the second version on more rows (validation_fraction 0.1), validate it against staging, commit, package"
sed 's/^validation_fraction = 0.2$/validation_fraction = 0.1/' mlops.toml >mlops.toml.new && mv mlops.toml.new mlops.toml
grep -q '^validation_fraction = 0.1$' mlops.toml || die "could not edit [split].validation_fraction in the copied mlops.toml"
mlops train -q
mlops validate --baseline staging
git add -A && git commit -q -m "house-price: train on 90% of the rows" && echo "committed $(git rev-parse --short HEAD)"
mlops package

step "deploy v0.0.2 to staging as a 50% canary"
mlops deploy staging --canary 50 --yes
wait_for "the server to load the challenger" 30 slots v0.0.1 v0.0.2 50
echo "the server runs champion v0.0.1 and challenger v0.0.2 at 50%"

step "send $requests requests through the canary, with feedback (absolute error of each prediction)"
if [ "$client" = python3 ]; then
  python3 - "$url" examples/house-prices/recent.csv "$requests" <<'PY'
import csv, json, sys, urllib.request
url, path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
def post(route, body):
    req = urllib.request.Request(url + route, data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())
served = {}
with open(path, newline="") as f:
    for row in list(csv.DictReader(f))[:count]:
        price = float(row.pop("price"))
        key = "house-" + row.pop("id")
        features = {k: (v if k == "neighborhood" else float(v)) for k, v in row.items()}
        answer = post("/predict", {"features": features, "key": key})
        served[answer["variant"]] = served.get(answer["variant"], 0) + 1
        post("/feedback", {"key": key, "value": abs(answer["prediction"] - price)})
print("served " + ", ".join(f"{v} {n}" for v, n in sorted(served.items())) + "; feedback for each")
PY
else
  champion=0 challenger=0
  while IFS=, read -r id sqft bedrooms bathrooms year_built lot_size distance_km neighborhood price; do
    body="{\"key\":\"house-$id\",\"features\":{\"sqft\":$sqft,\"bedrooms\":$bedrooms,\"bathrooms\":$bathrooms,\"year_built\":$year_built,\"lot_size\":$lot_size,\"distance_km\":$distance_km,\"neighborhood\":\"$neighborhood\"}}"
    answer=$(curl -fsS --max-time 10 -H 'content-type: application/json' -d "$body" "$url/predict")
    prediction=$(printf '%s' "$answer" | sed -n 's/.*"prediction":\([-0-9.eE+]*\).*/\1/p')
    case $answer in *'"variant":"challenger"'*) challenger=$((challenger + 1)) ;; *) champion=$((champion + 1)) ;; esac
    error=$(awk -v p="$prediction" -v y="$price" 'BEGIN { d = p - y; if (d < 0) d = -d; printf "%.6f", d }')
    curl -fsS --max-time 10 -o /dev/null -H 'content-type: application/json' \
      -d "{\"key\":\"house-$id\",\"value\":$error}" "$url/feedback"
  done < <(tail -n +2 examples/house-prices/recent.csv | head -n "$requests")
  echo "served challenger $challenger, champion $champion; feedback for each"
fi

step "export the observations and analyse the A/B test"
printf '$ GET %s/admin/abtest/export > abtest.csv\n' "$url"
get "$url/admin/abtest/export" "$token" >abtest.csv
echo "$(($(wc -l <abtest.csv) - 1)) observations"
# Lower absolute error is better. A pipeline would add --require ship and
# stop unless the challenger wins; the two versions here differ by a few
# training rows, so a few hundred requests cannot tell them apart, and the
# quick start goes on whatever the decision, to show the rest of the path.
mlops abtest-analyze --input abtest.csv --metric value --control champion \
  --unit key --direction decrease
decision=$("$bin" --json abtest-analyze --input abtest.csv --metric value --control champion \
  --unit key --direction decrease | sed -n 's/.*"decision": *"\([a-z]*\)".*/\1/p' | head -n 1)
[ -n "$decision" ] || die "abtest-analyze --json printed no decision"
echo "decision: $decision (a pipeline gates on it with --require ship; the quick start goes on)"

# --- 6. promote, roll back ------------------------------------------------------
step "promote the challenger in staging"
mlops deploy staging --promote --yes
wait_for "the server to serve v0.0.2 as champion" 30 slots v0.0.2 - 0
echo "the server now serves v0.0.2 as champion"

step "release v0.0.2 to prod: a canary, then promote"
mlops deploy prod --canary 50 --yes
mlops deploy prod --promote --yes

step "roll prod back to the version live before"
mlops rollback prod --yes
[ "$(readlink deploy/prod/current)" = releases/v0.0.1 ] || die "deploy/prod/current does not name v0.0.1 after the rollback"

step "the registry: models and history"
mlops models
mlops history

step "stop the server"
kill -TERM "$server_pid"
wait "$server_pid" || die "the server exited with $? on SIGTERM"
server_pid=""
echo "stopped (exit 0)"

printf '\nquickstart: all %d steps passed in %ds\n' "$n" "$((SECONDS - started))"
