#!/usr/bin/env bash
# Benchmark `mlops serve` against the peer (FastAPI + uvicorn + sklearn,
# ../shared/bench/serve_baseline.py) on single-row `/predict` with wrk,
# side by side on this machine, with mlops' prediction log on.
#
#   scripts/bench/serve.sh             # from anywhere inside the repo
#
# Environment:
#   DURATION=10s  CONNECTIONS=32  THREADS=2   wrk -tTHREADS -cCONNECTIONS -dDURATION
#   RUNS=1                          rounds (mlops then the peer in each)
#   BENCH_DIR=/tmp/mlops-bench-serve  work dir: model, log, wrk outputs
#   MLOPS_BIN=...                   an mlops binary instead of building target/release/mlops
#   AUTH=1                          also: mlops with [serve.auth] jwt (RS256) and a rate
#                                   limit the load never reaches, against both off
#   AUTH_ONLY=1                     only that comparison (no peer)
#   ES=1                            also: mlops with monitoring on and the prediction
#                                   log shipped to Elasticsearch (a local _bulk
#                                   endpoint in Rust, examples/es_bulk_sink.rs,
#                                   built here) against both off, RUNS rounds
#                                   alternating off/on: each ratio and the median,
#                                   server CPU per request, indexed + dead-lettered
#   ES_ONLY=1                       only that comparison (no peer)
#   ES_SINK=...                     a built es_bulk_sink instead of building it
#
# Both servers get the same body (../shared/bench/predict.lua: one row of 8
# features as {"instances": [[...]]}). Prints req/s and p99 latency of each
# and the ratios; the load average is printed too, since the cores are shared.
set -euo pipefail

root=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
cd "$root"
shared=$(cd ../shared && pwd)
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
RUNS=${RUNS:-1}
dir=${BENCH_DIR:-/tmp/mlops-bench-serve}
mkdir -p "$dir"
log() { printf '==> %s\n' "$*" >&2; }

command -v wrk >/dev/null || { echo "wrk is missing: sudo apt-get install -y wrk" >&2; exit 2; }
venv=${MLOPS_PEERS_VENV:-/tmp/mlops-peers}
if [ ! -x "$venv/bin/python" ]; then
  log "peer venv (bash $shared/bench/setup.sh)"
  venv=$(bash "$shared/bench/setup.sh")
fi
py="$venv/bin/python"

if [ -n "${MLOPS_BIN:-}" ]; then
  bin=$MLOPS_BIN
else
  log "building target/release/mlops"
  cargo build --locked --release -q
  bin=$root/target/release/mlops
fi

# An 8-feature linear model, like the peer's.
if [ ! -s "$dir/model.json" ]; then
  "$py" "$shared/bench/make_regression_csv.py" 1000 8 "$dir/train.csv"
  cat >"$dir/mlops.toml" <<TOML
[project]
name = "bench"

[data]
path = "train.csv"
target = "y"

[split]
validation_fraction = 0.2
seed = 1

[model]
name = "bench"
kind = "linear"
artifact = "model.json"

[serve]
prediction_log = "predictions.jsonl"
TOML
  "$bin" -q -C "$dir/mlops.toml" train >/dev/null
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { # port
  for _ in $(seq 200); do
    curl -s -o /dev/null "http://127.0.0.1:$1/" && return
    sleep 0.1
  done
  echo "server on port $1 did not come up" >&2; exit 1
}
bench() { # name port → "req/s p99_ms"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "${script:-$shared/bench/predict.lua}" \
    "http://127.0.0.1:$2/predict" >"$dir/wrk-$1.txt"
  awk '/Requests\/sec/ {rps=$2}
       / 99%/ {v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
               ms = (u=="us") ? v/1000 : (u=="s") ? v*1000 : v}
       /Non-2xx/ {bad=$NF}
       END {printf "%s %.3f %s\n", rps, ms, (bad=="" ? 0 : bad)}' "$dir/wrk-$1.txt"
}

# JWT (RS256, a realistic token signed with the committed test key) and a
# rate limit far above the load, against the same server with both off.
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
auth_case() {
  local now key hdr body tok port mpid
  key=$root/tests/data/jwt/rs256.key.pem
  cp "$root/tests/data/jwt/jwks.json" "$dir/jwks.json"
  now=$(date +%s)
  hdr=$(printf '{"alg":"RS256","typ":"JWT","kid":"rs1"}' | b64url)
  body=$(printf '{"iss":"https://sso.example.com/realms/ml","aud":"mlops","sub":"7f3c2a9e-5d1b-4c8e-9a0f-3b6d2e1c4f5a","scope":"openid profile email predict","exp":%d,"iat":%d,"nbf":%d,"jti":"b2c4e6f8-1a3c-4e5f-8a9b-0c1d2e3f4a5b","azp":"bench-client","email":"bench@example.com","name":"Bench Client","preferred_username":"bench"}' $((now + 3600)) "$now" "$now" | b64url)
  tok="$hdr.$body.$(printf '%s.%s' "$hdr" "$body" | openssl dgst -sha256 -sign "$key" -binary | b64url)"
  sed '/^\[serve/,$d' "$dir/mlops.toml" >"$dir/auth.toml"
  cat >>"$dir/auth.toml" <<TOML
[serve]
prediction_log = "predictions.jsonl"

[serve.auth]
mode = "jwt"
issuer = "https://sso.example.com/realms/ml"
audience = "mlops"
jwks_file = "jwks.json"
algorithms = ["RS256"]

[serve.rate_limit]
rate = "1000000/s"
burst = 1000000
key = "sub"
TOML
  { cat "$shared/bench/predict.lua"; printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$tok"; } >"$dir/predict-auth.lua"
  for mode in off on; do
    rm -f "$dir"/predictions.jsonl*
    port=$(free_port)
    if [ "$mode" = on ]; then
      (cd "$dir" && exec "$bin" -q -C auth.toml serve --model model.json --bind "127.0.0.1:$port" 2>"$dir/mlops-auth.err") &
    else
      (cd "$dir" && exec "$bin" -q serve --model model.json --bind "127.0.0.1:$port" 2>"$dir/mlops.err") &
    fi
    mpid=$!; pids+=("$mpid")
    wait_up "$port"
    if [ "$mode" = on ]; then
      read -r a_rps a_p99 a_bad < <(script="$dir/predict-auth.lua" bench auth-on "$port")
    else
      read -r o_rps o_p99 o_bad < <(bench auth-off "$port")
    fi
    kill -TERM "$mpid"; wait "$mpid" || true
  done
  echo "auth (load average: $(cut -d' ' -f1-3 /proc/loadavg)), wrk -t$THREADS -c$CONNECTIONS -d$DURATION, single-row /predict"
  printf '  auth and rate limit off  %10.0f req/s  p99 %7.3f ms  non-2xx %s\n' "$o_rps" "$o_p99" "$o_bad"
  printf '  JWT RS256 + rate limit   %10.0f req/s  p99 %7.3f ms  non-2xx %s\n' "$a_rps" "$a_p99" "$a_bad"
  awk -v a="$a_rps" -v b="$o_rps" 'BEGIN {printf "  throughput with auth: %.1f %% of without (target: at least 85 %%, p99 under 10 ms)\n", 100*a/b}'
}

# Monitoring on and the prediction log shipped to Elasticsearch (a local
# _bulk endpoint, examples/es_bulk_sink.rs) against both off (no prediction
# log, [serve.monitor] enabled = false), same server otherwise. RUNS rounds,
# each "off" then "on" back to back; each round's ratio, then the median.
# Server CPU per request is (utime + stime) / requests of the server process
# (/proc/PID/stat, read before it stops); every prediction served must be
# indexed or dead-lettered.
cpu_s() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
served() { # port → 200 answers of /predict, from the server's own counter
  curl -s "http://127.0.0.1:$1/metrics" |
    awk '/^mlops_requests_total\{endpoint="predict"/ && /status="200"/ {s += $NF} END {print s + 0}'
}
es_count() { curl -s "http://127.0.0.1:$1/mlops-bench/_count" | tr -dc '0-9'; }
es_case() {
  local port esport mpid epid round mode rps p99 bad cpu reqs before after dead ratios=() lost=0 on_rps off_rps
  local us cpu_off=() cpu_on=() lines=0
  local sink=${ES_SINK:-$root/target/release/examples/es_bulk_sink}
  if [ -z "${ES_SINK:-}" ]; then
    log "building examples/es_bulk_sink.rs (the benchmark's _bulk endpoint)"
    cargo build --locked --release -q --example es_bulk_sink
  fi
  esport=$(free_port)
  "$sink" "$esport" 2>"$dir/es-sink.err" &
  epid=$!; pids+=("$epid")
  wait_up "$esport"
  sed '/^\[serve/,$d' "$dir/mlops.toml" >"$dir/es.toml"
  cat >>"$dir/es.toml" <<TOML
[serve.prediction_log]
sink = "elasticsearch"
url = "http://127.0.0.1:$esport"
index = "mlops-bench"
dead_letter = "predictions.dead.jsonl"
TOML
  sed '/^\[serve/,$d' "$dir/mlops.toml" >"$dir/nolog.toml"
  # Both off: no prediction log and no live drift monitoring.
  printf '[serve.monitor]\nenabled = false\n' >>"$dir/nolog.toml"
  echo "elasticsearch sink: wrk -t$THREADS -c$CONNECTIONS -d$DURATION, single-row /predict, $RUNS round(s) of off and on, alternating which goes first;"
  echo "  sink: examples/es_bulk_sink.rs (Rust, loopback, faithful _bulk items, same cores)"
  for round in $(seq "$RUNS"); do
    # Odd rounds run off then on, even ones on then off: neither always
    # gets the machine first.
    local order="off on"
    [ $((round % 2)) = 0 ] && order="on off"
    for mode in $order; do
      rm -f "$dir"/predictions.dead.jsonl*
      port=$(free_port)
      (cd "$dir" && exec "$bin" -q -C "$([ "$mode" = on ] && echo es || echo nolog).toml" serve --model model.json \
        --bind "127.0.0.1:$port" 2>"$dir/mlops-es-$mode.err") &
      mpid=$!; pids+=("$mpid")
      wait_up "$port"
      before=$(es_count "$esport")
      read -r rps p99 bad < <(bench "es-$mode" "$port")
      sleep 0.2 # answers wrk stopped waiting for are counted too
      reqs=$(served "$port")
      cpu=$(cpu_s "$mpid")
      kill -TERM "$mpid"; wait "$mpid" || true
      after=$(es_count "$esport")
      dead=$({ cat "$dir"/predictions.dead.jsonl* 2>/dev/null || true; } | wc -l)
      us=$(awk -v c="$cpu" -v r="$reqs" 'BEGIN {print (r > 0 ? 1e6 * c / r : 0)}')
      printf '  round %d %-3s %10.0f req/s  p99 %7.3f ms  non-2xx %s  server CPU %6.1f us/request (%s s, %s requests)' \
        "$round" "$mode" "$rps" "$p99" "$bad" "$us" "$cpu" "$reqs"
      if [ "$mode" = on ]; then
        cpu_on+=("$us")
        lines=$((lines + after - before))
        printf '  indexed %s, dead-lettered %s\n' "$((after - before))" "$dead"
        [ "$((after - before + dead))" = "$reqs" ] || lost=1
        on_rps=$rps
      else
        cpu_off+=("$us")
        off_rps=$rps
        printf '\n'
      fi
    done
    ratios+=("$(awk -v a="$on_rps" -v b="$off_rps" 'BEGIN {printf "%.1f", 100 * a / b}')")
    printf '  round %d: on is %s %% of off\n' "$round" "${ratios[-1]}"
  done
  echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg); sink CPU: $(cpu_s "$epid") s in all"
  # The steadier figure on a shared machine: CPU per request, whatever the
  # throughput of the moment.
  median() { printf '%s\n' "$@" | sort -n | awk '{r[NR] = $1} END {print (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2}'; }
  awk -v off="$(median "${cpu_off[@]}")" -v on="$(median "${cpu_on[@]}")" -v s="$(cpu_s "$epid")" -v n="$lines" \
    'BEGIN {printf "  server CPU per request, medians: off %.1f us, on %.1f us (+%.1f); the sink (same cores) %.2f us per line indexed\n", off, on, on - off, (n > 0 ? 1e6 * s / n : 0)}'
  kill -TERM "$epid"; wait "$epid" 2>/dev/null || true
  [ "$lost" = 0 ] || echo "  WARNING: in some round, indexed + dead-lettered is not the predictions served"
  printf '%s\n' "${ratios[@]}" | sort -n | awk '{r[NR] = $1} END {
    m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
    printf "  throughput with monitoring + the Elasticsearch log: median %.1f %% of without over %d round(s), min %.1f, max %.1f (target: at least 90 %%, p99 under 10 ms)\n", m, NR, r[1], r[NR]}'
}

if [ "${AUTH_ONLY:-0}" = 1 ]; then auth_case; exit 0; fi
if [ "${ES_ONLY:-0}" = 1 ]; then es_case; exit 0; fi

for run in $(seq "$RUNS"); do
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  rm -f "$dir"/predictions.jsonl*
  port=$(free_port)
  (cd "$dir" && exec "$bin" -q serve --model model.json --bind "127.0.0.1:$port" 2>"$dir/mlops.err") &
  mpid=$!; pids+=("$mpid")
  wait_up "$port"
  read -r m_rps m_p99 m_bad < <(bench mlops "$port")
  kill -TERM "$mpid"; wait "$mpid" || true
  logged=$(cat "$dir"/predictions.jsonl* | wc -l)

  port=$(free_port)
  "$py" "$shared/bench/serve_baseline.py" "$port" 8 >"$dir/peer.out" 2>&1 &
  ppid=$!; pids+=("$ppid")
  wait_up "$port"
  read -r p_rps p_p99 p_bad < <(bench peer "$port")
  kill "$ppid"; wait "$ppid" 2>/dev/null || true

  echo "run $run (load average before: $load), wrk -t$THREADS -c$CONNECTIONS -d$DURATION, single-row /predict"
  printf '  mlops serve      %10.0f req/s  p99 %7.3f ms  non-2xx %s  (prediction log: %s lines)\n' "$m_rps" "$m_p99" "$m_bad" "$logged"
  printf '  FastAPI+sklearn  %10.0f req/s  p99 %7.3f ms  non-2xx %s\n' "$p_rps" "$p_p99" "$p_bad"
  awk -v a="$m_rps" -v b="$p_rps" -v c="$m_p99" -v d="$p_p99" \
    'BEGIN {printf "  throughput %.1fx the peer, p99 %.1fx lower\n", a/b, d/c}'
done

if [ "${AUTH:-0}" = 1 ]; then auth_case; fi
if [ "${ES:-0}" = 1 ]; then es_case; fi
