#!/usr/bin/env bash
# Benchmark `mlops train` against the peer (pandas.read_csv + sklearn LinearRegression)
# on the same seeded regression CSV, side by side on this machine.
#
#   scripts/bench/train.sh            # 1,000,000 rows, from anywhere inside the repo
#   scripts/bench/train.sh 10000000   # 10,000,000 rows (1.1 GB): mlops takes the
#                                     # streaming path by itself (inputs > 512 MiB)
#
# Environment:
#   ROWS=1000000        rows of the generated CSV (10 features); or the first argument
#   RUNS=3              runs of each tool, alternating
#   BENCH_DIR=/tmp/mlops-bench   work dir: CSV, mlops.toml, model.json, results
#   MLOPS_BIN=...       use this mlops binary instead of building target/release/mlops
#   KIND=logistic       a binary classifier instead: 8 features, y in {0, 1}
#                       (make_classification_csv.py), mlops kind = "logistic"
#                       against pandas + sklearn LogisticRegression(C=inf)
#                       (train_logistic_baseline.py); CSV only. At 10,000,000
#                       rows the CSV is about 1 GB: mlops takes the streaming
#                       path (the table prints which path it took)
#   EXACT=1             with KIND=logistic: also fit the converged reference
#                       (logistic_reference.py: sklearn newton-cholesky to
#                       tol=1e-12, not timed) and print how far mlops's and
#                       the peer's coefficients are from it (the peer's lbfgs
#                       stops at its default tol=1e-4)
#   FORMAT=parquet      the same data as Parquet (snappy, made once with pyarrow):
#                       mlops train on it against pandas.read_parquet (pyarrow) +
#                       sklearn, with mlops on the CSV as a third line
#
# Prints: median wall seconds and median peak RSS of each tool, the ratios
# peer/mlops, and the max relative difference between the fitted coefficients.
set -euo pipefail

root=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
cd "$root"
shared=../shared

ROWS=${1:-${ROWS:-1000000}}
RUNS=${RUNS:-3}
KIND=${KIND:-linear}
FEATURES=10
[ "$KIND" = logistic ] && FEATURES=8
dir=${BENCH_DIR:-/tmp/mlops-bench}
mkdir -p "$dir"

log() { printf '==> %s\n' "$*" >&2; }

# 1. the peers' venv (created once, reused after)
log "peer venv (bash $shared/bench/setup.sh)"
venv=$(bash "$shared/bench/setup.sh")
py="$venv/bin/python"

# 2. the data, generated once per row count
if [ "$ROWS" = 1000000 ]; then csv_name=reg_1m.csv; else csv_name="reg_${ROWS}.csv"; fi
make=make_regression_csv.py
if [ "$KIND" = logistic ]; then csv_name="cls_${ROWS}x${FEATURES}.csv"; make=make_classification_csv.py; fi
csv="$dir/$csv_name"
if [ ! -s "$csv" ]; then
  log "generating $csv ($ROWS rows x $FEATURES features)"
  "$py" "$shared/bench/$make" "$ROWS" "$FEATURES" "$csv.tmp"
  mv "$csv.tmp" "$csv"
else
  log "reusing $csv"
fi

FORMAT=${FORMAT:-csv}
data_name=$csv_name
if [ "$FORMAT" = parquet ]; then
  data_name="${csv_name%.csv}.parquet"
  if ! "$py" -c 'import pyarrow' 2>/dev/null; then
    log "installing pyarrow into the peer venv"
    "$venv/bin/pip" install -q --disable-pip-version-check pyarrow
  fi
  if [ ! -s "$dir/$data_name" ]; then
    log "converting to $dir/$data_name (snappy)"
    "$py" scripts/bench/train_parquet_peer.py convert "$csv" "$dir/$data_name.tmp"
    mv "$dir/$data_name.tmp" "$dir/$data_name"
  fi
fi

# 3. the mlops binary and its project file
if [ -n "${MLOPS_BIN:-}" ]; then
  mlops=$MLOPS_BIN
  log "using MLOPS_BIN=$mlops (not building)"
else
  log "cargo build --release"
  cargo build --release --quiet
  mlops="$root/target/release/mlops"
fi
[ -x "$mlops" ] || { echo "error: mlops binary not found or not executable: $mlops" >&2; exit 2; }

cat > "$dir/mlops.toml" <<TOML
[project]
name = "bench"
[data]
path = "$data_name"
target = "y"
[split]
validation_fraction = 0.0
[model]
name = "bench"
kind = "$KIND"
artifact = "model.json"
TOML
sed "s|^path = .*|path = \"$csv_name\"|" "$dir/mlops.toml" > "$dir/mlops-csv.toml"

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

results="$dir/results.tsv"
: > "$results"

run_tool() { # run_tool TOOL RUN
  local tool=$1 i=$2 times="$dir/$1.$2.time" out="$dir/$1.$2.json" err="$dir/$1.$2.err"
  local cmd
  if [ "$tool" = mlops ]; then
    cmd=("$mlops" -C "$dir/mlops.toml" --json train)
  elif [ "$tool" = mlops-csv ]; then
    cmd=("$mlops" -C "$dir/mlops-csv.toml" --json train --out "$dir/model-csv.json")
  elif [ "$FORMAT" = parquet ]; then
    cmd=("$py" scripts/bench/train_parquet_peer.py fit "$dir/$data_name" y)
  elif [ "$KIND" = logistic ]; then
    cmd=("$py" "$shared/bench/train_logistic_baseline.py" "$csv" y)
  else
    cmd=("$py" "$shared/bench/train_baseline.py" "$csv" y)
  fi
  if ! measure "$times" "$out" "${cmd[@]}" 2> "$err"; then
    echo "error: $tool run $i failed: ${cmd[*]}" >&2
    tail -n 20 "$err" >&2
    exit 1
  fi
  # /usr/bin/time appends its line to -o; the last line is ours
  printf '%s\t%s\t%s\n' "$tool" "$i" "$(tail -n 1 "$times")" >> "$results"
  log "$tool run $i: $(tail -n 1 "$times" | awk '{printf "%s s, %.0f MB", $1, $2/1024}')"
}

log "load average (1, 5, 15 min) before the runs: $(cut -d' ' -f1-3 /proc/loadavg) (shared machine)"
for i in $(seq 1 "$RUNS"); do
  # alternate which tool goes first, so neither always gets the warmer cache
  if [ $((i % 2)) -eq 1 ]; then order=(mlops peer); else order=(peer mlops); fi
  for tool in "${order[@]}"; do run_tool "$tool" "$i"; done
  if [ "$FORMAT" = parquet ]; then run_tool mlops-csv "$i"; fi
done

# 5. the table and the coefficient check
"$py" - "$results" "$dir/mlops.$RUNS.json" "$dir/peer.$RUNS.json" "$ROWS" "$FEATURES" "$KIND" <<'PY'
import json, os, statistics, sys

results, mlops_out, peer_out, rows, features, kind = sys.argv[1:7]
by = {"mlops": [], "peer": [], "mlops-csv": []}
for line in open(results):
    tool, _run, times = line.rstrip("\n").split("\t")
    wall, rss_kib = times.split()
    by[tool].append((float(wall), float(rss_kib) / 1024))

med = {t: (statistics.median(w for w, _ in v), statistics.median(m for _, m in v))
       for t, v in by.items() if v}
names = {"mlops": "mlops train", "peer": "pandas+sklearn" + (" LR" if kind == "logistic" else ""), "mlops-csv": "mlops train (CSV)"}
print(f"\ntrain ({kind}): {int(rows):,} rows x {features} features, {len(by['mlops'])} runs each (medians)")
print(f"load average before the table: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (shared machine)\n")
print(f"{'tool':<22}{'wall s':>10}{'peak RSS MB':>14}")
for t in ("mlops", "peer", "mlops-csv"):
    if t in med:
        print(f"{names[t]:<22}{med[t][0]:>10.2f}{med[t][1]:>14.1f}")
ratio = lambda a, b: f"{a / b:.2f}x" if b > 0 else "n/a"
print(f"{'ratio peer/mlops':<22}{ratio(med['peer'][0], med['mlops'][0]):>10}"
      f"{ratio(med['peer'][1], med['mlops'][1]):>14}")

def load(path, whole):
    text = open(path).read()
    if whole:
        return json.loads(text)
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError(f"no JSON line in {path}")

try:
    m, p = load(mlops_out, True), load(peer_out, False)
    a = dict(m["coefficients"], **{"(intercept)": m["intercept"]})
    b = dict(p["coefficients"], **{"(intercept)": p["intercept"]})
except (OSError, ValueError, KeyError, TypeError) as e:
    print(f"\ncoefficients: could not compare ({type(e).__name__}: {e})")
    sys.exit(1)
print(f"\nmlops fit path: {m.get('fit_path', '?')} (streaming above 512 MiB of input)")
missing = sorted(set(a) ^ set(b))
if missing:
    print(f"\ncoefficients: keys differ: {', '.join(missing)}")
    sys.exit(1)
rel = {k: abs(a[k] - b[k]) / max(abs(b[k]), 1e-12) for k in b}
worst = max(rel, key=rel.get)
print(f"\ncoefficients: max relative difference {rel[worst]:.3g} ({worst}, {len(rel)} values)")
PY
if [ "$KIND" = logistic ] && [ "${EXACT:-0}" = 1 ]; then
  log "the converged reference fit (not timed)"
  "$py" "$root/scripts/bench/logistic_reference.py" "$csv" y "$dir/mlops.$RUNS.json" "$dir/peer.$RUNS.json"
fi
