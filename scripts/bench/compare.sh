#!/usr/bin/env bash
# Compare two builds of mlops side by side (a refactor must not be slower):
# `train` on the same CSV and single-row `/predict` under wrk, alternating
# the two binaries run by run so neither always gets the quieter machine.
#
#   scripts/bench/compare.sh OLD_BIN NEW_BIN
#
# Environment:
#   ROWS=10000000   rows of the regression CSV for train (10 features; made once
#                   with ../shared/bench/make_regression_csv.py)
#   RUNS=5          train runs of each binary; serve runs are RUNS/2 rounded up
#   DURATION=10s    wrk duration per serve run (wrk -t2 -c32)
#   BENCH_DIR=/tmp/mlops-bench-compare
#
# Prints, for each binary: median wall seconds, median CPU seconds (user +
# sys, less sensitive to other load on a shared machine) and median peak RSS
# of train; median req/s and p99 of serve; and the ratios new/old. The two
# train reports are also compared with their time fields removed.
set -euo pipefail
[ $# -eq 2 ] || { sed -n 2,9p "$0" >&2; exit 2; }
old=$(realpath "$1"); new=$(realpath "$2")
root=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
shared=$(cd "$root/../shared" && pwd)
ROWS=${ROWS:-10000000}; RUNS=${RUNS:-5}; DURATION=${DURATION:-10s}
dir=${BENCH_DIR:-/tmp/mlops-bench-compare}
mkdir -p "$dir"
log() { printf '==> %s\n' "$*" >&2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing: apt-get install -y time" >&2; exit 2; }
venv=$(bash "$shared/bench/setup.sh")
py="$venv/bin/python"

csv="$dir/reg_$ROWS.csv"
if [ ! -s "$csv" ]; then
  log "generating $csv"
  "$py" "$shared/bench/make_regression_csv.py" "$ROWS" 10 "$csv.tmp" && mv "$csv.tmp" "$csv"
fi
cat > "$dir/mlops.toml" <<TOML
[project]
name = "bench"
[data]
path = "$(basename "$csv")"
target = "y"
[split]
validation_fraction = 0.0
[model]
name = "bench"
kind = "linear"
artifact = "model.json"
TOML

times="$dir/train-times.txt"; : > "$times"
for i in $(seq "$RUNS"); do
  if [ $((i % 2)) -eq 1 ]; then order=(old new); else order=(new old); fi
  for which in "${order[@]}"; do
    bin=$old; [ "$which" = new ] && bin=$new
    /usr/bin/time -f "$which %e %U %S %M" -a -o "$times" \
      "$bin" -C "$dir/mlops.toml" --json train > "$dir/train-$which.json"
    log "train $which run $i: $(tail -n 1 "$times")"
  done
done
same=$("$py" - "$dir/train-old.json" "$dir/train-new.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for d in (a, b):
    d.pop("seconds", None); d.pop("created_at", None)
print("identical" if a == b else "DIFFERENT")
PY
)

# serve: the bench model of serve.sh (8 features), wrk on single-row /predict
sdir="$dir/serve"; mkdir -p "$sdir"
if [ ! -s "$sdir/model.json" ]; then
  "$py" "$shared/bench/make_regression_csv.py" 1000 8 "$sdir/train.csv"
  printf '[data]\npath = "train.csv"\ntarget = "y"\n[model]\nname = "bench"\nartifact = "model.json"\n' > "$sdir/mlops.toml"
  "$new" -q -C "$sdir/mlops.toml" train > /dev/null
fi
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true' EXIT
serve_times="$dir/serve-times.txt"; : > "$serve_times"
for i in $(seq $(((RUNS + 1) / 2))); do
  if [ $((i % 2)) -eq 1 ]; then order=(old new); else order=(new old); fi
  for which in "${order[@]}"; do
    bin=$old; [ "$which" = new ] && bin=$new
    port=$(free_port)
    (cd "$sdir" && exec "$bin" -q serve --model model.json --bind "127.0.0.1:$port" 2>/dev/null) &
    pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    wrk -t2 -c32 -d"$DURATION" --latency -s "$shared/bench/predict.lua" "http://127.0.0.1:$port/predict" > "$sdir/wrk.txt"
    kill -TERM "$pid"; wait "$pid" || true; pid=""
    awk -v w="$which" '/Requests\/sec/ {rps=$2}
       / 99%/ {v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
               ms = (u=="us") ? v/1000 : (u=="s") ? v*1000 : v}
       END {printf "%s %s %.3f\n", w, rps, ms}' "$sdir/wrk.txt" >> "$serve_times"
    log "serve $which run $i: $(tail -n 1 "$serve_times")"
  done
done

"$py" - "$times" "$serve_times" "$same" "$ROWS" <<'PY'
import statistics as st, sys
train = [l.split() for l in open(sys.argv[1])]
serve = [l.split() for l in open(sys.argv[2])]
med = {}
for w in ("old", "new"):
    t = [r for r in train if r[0] == w]; s = [r for r in serve if r[0] == w]
    wall = st.median(float(r[1]) for r in t); cpu = st.median(float(r[2]) + float(r[3]) for r in t)
    rss = st.median(int(r[4]) for r in t) / 1024
    rps = st.median(float(r[1]) for r in s); p99 = st.median(float(r[2]) for r in s)
    med[w] = (wall, cpu, rps)
    print(f"{w}: train {sys.argv[4]} rows wall {wall:.2f} s, cpu {cpu:.2f} s, {rss:.0f} MB; "
          f"serve {rps:,.0f} req/s, p99 {p99:.2f} ms")
o, n = med["old"], med["new"]
print(f"new/old: train wall {n[0]/o[0]:.3f}, train cpu {n[1]/o[1]:.3f}, serve req/s {n[2]/o[2]:.3f}; "
      f"train reports {sys.argv[3]}")
PY
