#!/usr/bin/env bash
# Benchmark `mlops abtest-analyze` against the peer (pandas.read_csv + scipy
# Welch t-test, ../shared/bench/abtest_baseline.py) on the same seeded
# two-variant CSV, side by side on this machine.
#
#   scripts/bench/abtest.sh            # from anywhere inside the repo
#
# Environment:
#   ROWS=10000000       rows of the generated CSV (variant,value)
#   RUNS=3              runs of each tool, alternating
#   BENCH_DIR=/tmp/mlops-bench-abtest   work dir: CSV and per-run results
#   MLOPS_BIN=...       use this mlops binary instead of building target/release/mlops
#
# Prints: median wall seconds and median peak RSS of each tool, the ratios
# peer/mlops, and the relative differences of the t statistic and p-value.
set -euo pipefail

root=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
cd "$root"
shared=$(cd ../shared && pwd)

ROWS=${ROWS:-10000000}
RUNS=${RUNS:-3}
dir=${BENCH_DIR:-/tmp/mlops-bench-abtest}
mkdir -p "$dir"

log() { printf '==> %s\n' "$*" >&2; }

# 1. the peers' venv (created once by ../shared/bench/setup.sh, reused after)
venv=${MLOPS_PEERS_VENV:-/tmp/mlops-peers}
if [ ! -x "$venv/bin/python" ]; then
  log "peer venv (bash $shared/bench/setup.sh)"
  venv=$(bash "$shared/bench/setup.sh")
fi
py="$venv/bin/python"

# 2. the data, generated once per row count: variant A or B (50/50), value
# normal(10, 2) (+0.01 for B), 4 decimals; seed 42
csv="$dir/abtest_${ROWS}.csv"
if [ ! -s "$csv" ]; then
  log "generating $csv ($ROWS rows)"
  "$py" - "$ROWS" "$csv.tmp" <<'PY'
import sys
import numpy as np
import pandas as pd
rows, out = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(42)
first = True
with open(out, "w") as f:
    for start in range(0, rows, 1_000_000):
        n = min(1_000_000, rows - start)
        b = rng.random(n) < 0.5
        v = rng.normal(10.0, 2.0, n) + 0.01 * b
        pd.DataFrame({"variant": np.where(b, "B", "A"), "value": v}).to_csv(
            f, header=first, index=False, float_format="%.4f")
        first = False
PY
  mv "$csv.tmp" "$csv"
else
  log "reusing $csv"
fi

# 3. the mlops binary
if [ -n "${MLOPS_BIN:-}" ]; then
  mlops=$MLOPS_BIN
  log "using MLOPS_BIN=$mlops (not building)"
else
  log "cargo build --release"
  cargo build --release --quiet
  mlops="$root/target/release/mlops"
fi
[ -x "$mlops" ] || { echo "error: mlops binary not found or not executable: $mlops" >&2; exit 2; }

# 4. measure: wall seconds and peak RSS (KiB) of one command
if [ -x /usr/bin/time ]; then
  measure() { # measure OUT_TIMES OUT_STDOUT CMD...
    local times=$1 out=$2; shift 2
    /usr/bin/time -f '%e %M' -o "$times" "$@" > "$out"
  }
else
  log "/usr/bin/time not found: measuring with python resource.getrusage(RUSAGE_CHILDREN)"
  measure() {
    local times=$1 out=$2; shift 2
    python3 - "$times" "$@" > "$out" <<'PY'
import resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - t0
with open(sys.argv[1], "w") as f:
    f.write(f"{wall:.2f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\n")
sys.exit(rc)
PY
  }
fi

results="$dir/abtest_results.tsv"
: > "$results"

run_tool() { # run_tool TOOL RUN
  local tool=$1 i=$2 times="$dir/ab_$1.$2.time" out="$dir/ab_$1.$2.json" err="$dir/ab_$1.$2.err"
  local cmd
  if [ "$tool" = mlops ]; then
    # run from the work dir, where there is no mlops.toml for [abtest]
    cmd=("$mlops" --json abtest-analyze --input "$csv" --metric value --kind continuous --control A)
  else
    cmd=("$py" "$shared/bench/abtest_baseline.py" "$csv" variant value A)
  fi
  if ! (cd "$dir" && measure "$times" "$out" "${cmd[@]}" 2> "$err"); then
    echo "error: $tool run $i failed: ${cmd[*]}" >&2
    tail -n 20 "$err" >&2
    exit 1
  fi
  printf '%s\t%s\t%s\n' "$tool" "$i" "$(tail -n 1 "$times")" >> "$results"
  log "$tool run $i: $(tail -n 1 "$times" | awk '{printf "%s s, %.0f MB", $1, $2/1024}')"
}

for i in $(seq 1 "$RUNS"); do
  # alternate which tool goes first, so neither always gets the warmer cache
  if [ $((i % 2)) -eq 1 ]; then order=(mlops peer); else order=(peer mlops); fi
  for tool in "${order[@]}"; do run_tool "$tool" "$i"; done
done

# 5. the table and the agreement check
"$py" - "$results" "$dir/ab_mlops.$RUNS.json" "$dir/ab_peer.$RUNS.json" "$ROWS" <<'PY'
import json, statistics, sys

results, mlops_out, peer_out, rows = sys.argv[1:5]
by = {"mlops": [], "peer": []}
for line in open(results):
    tool, _run, times = line.rstrip("\n").split("\t")
    wall, rss_kib = times.split()
    by[tool].append((float(wall), float(rss_kib) / 1024))
med = {t: (statistics.median(w for w, _ in v), statistics.median(m for _, m in v))
       for t, v in by.items()}
names = {"mlops": "mlops abtest-analyze", "peer": "pandas+scipy"}
print(f"\nabtest-analyze: {int(rows):,} rows, 2 variants, Welch, {len(by['mlops'])} runs each (medians)\n")
print(f"{'tool':<22}{'wall s':>10}{'peak RSS MB':>14}")
for t in ("mlops", "peer"):
    print(f"{names[t]:<22}{med[t][0]:>10.2f}{med[t][1]:>14.1f}")
ratio = lambda a, b: f"{a / b:.2f}x" if b > 0 else "n/a"
print(f"{'ratio peer/mlops':<22}{ratio(med['peer'][0], med['mlops'][0]):>10}"
      f"{ratio(med['peer'][1], med['mlops'][1]):>14}")
m = json.load(open(mlops_out))["comparisons"][0]
p = [json.loads(l) for l in open(peer_out) if l.startswith("{")][-1]["comparisons"][0]
rel = lambda a, b: abs(a - b) / max(abs(b), 1e-300)
print(f"\nagreement: t {m['statistic']:.12g} vs {p['statistic']:.12g} (rel {rel(m['statistic'], p['statistic']):.2g}), "
      f"p {m['p_value']:.12g} vs {p['p_value']:.12g} (rel {rel(m['p_value'], p['p_value']):.2g})")
PY
