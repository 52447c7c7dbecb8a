#!/usr/bin/env bash
# Benchmark `mlops models` / `mlops history` against GTO (`gto show` /
# `gto history`, ../shared/bench/registry_baseline.sh) on the same git-tag
# registry, side by side on this machine.
#
#   scripts/bench/registry.sh                 # 3,000 tags, mlops and gto
#   TAGS=1000 scripts/bench/registry.sh       # another size
#   GTO=0 scripts/bench/registry.sh           # mlops only (gto takes minutes at 3,000 tags)
#
# Environment:
#   TAGS=3000        registry tags of model `m`: one registration and two
#                    stage assignments (dev, prod) per commit, 1 s apart
#   RUNS=5           runs of each mlops command (the median is reported)
#   BENCH_DIR=/tmp/mlops-bench   work dir; the repo is BENCH_DIR/registry-TAGS
#   MLOPS_BIN=...    use this mlops binary instead of building target/release/mlops
#   GTO=1            also run the gto baseline (once; it is slow)
#
# Both a repository with loose refs and a copy with packed refs are timed.
# The repository is written with `git fast-import` (the bench script may run
# git; the product never does). Prints one JSON line per measurement.
set -euo pipefail

root=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
cd "$root"
TAGS=${TAGS:-3000}
RUNS=${RUNS:-5}
GTO=${GTO:-1}
dir=${BENCH_DIR:-/tmp/mlops-bench}
repo="$dir/registry-$TAGS"
log() { printf '==> %s\n' "$*" >&2; }

if [ -z "${MLOPS_BIN:-}" ]; then
  log "cargo build --release"
  cargo build --release --quiet
  MLOPS_BIN=$root/target/release/mlops
fi

if [ ! -d "$repo/.git" ]; then
  log "creating $repo with $TAGS registry tags"
  rm -rf "$repo" && mkdir -p "$repo"
  git -C "$repo" init -q
  python3 - "$TAGS" <<'PY' | git -C "$repo" fast-import --quiet
import sys
tags = int(sys.argv[1])
t0 = 1_700_000_000
out = sys.stdout
def data(s):
    b = s.encode()
    out.write(f"data {len(b)}\n{s}\n")
n = 0
counter = 0
i = 0
t = t0
while n < tags:
    i += 1
    out.write(f"commit refs/heads/main\nmark :{i}\ncommitter B <b@example.com> {t} +0000\n")
    data(f"commit {i}")
    if i > 1:
        out.write(f"from :{i-1}\n")
    out.write("M 644 inline model.txt\n")
    data(f"model {i}")
    version = f"v{i // 100}.{i % 100}.0"
    events = [(f"m@{version}", f"Registering artifact m version {version}")]
    for stage in ("dev", "prod"):
        counter += 1
        events.append((f"m#{stage}#{counter}", f"Assigning stage {stage} to artifact m version {version}"))
    for name, msg in events:
        if n >= tags:
            break
        t += 1
        out.write(f"tag {name}\nfrom :{i}\ntagger B <b@example.com> {t} +0000\n")
        data(msg)
        n += 1
PY
  git -C "$repo" checkout -q main
fi
count=$(git -C "$repo" tag | wc -l)
log "$repo: $count tags"

# The same registry with its refs packed (`git pack-refs --all`, as after
# `git gc` or a clone), next to the loose refs fast-import left.
packed="$repo-packed"
if [ ! -d "$packed/.git" ]; then
  cp -r "$repo" "$packed"
  git -C "$packed" pack-refs --all
fi

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for refs in loose packed; do
  r=$repo; [ "$refs" = packed ] && r=$packed
  for cmd in "models" "history m" "--json models" "--json history"; do
    times=$(for _ in $(seq "$RUNS"); do
      s=$EPOCHREALTIME; (cd "$r" && "$MLOPS_BIN" $cmd >/dev/null); e=$EPOCHREALTIME
      python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$s" "$e"
    done | median)
    printf '{"tool": "mlops %s", "refs": "%s", "tags": %s, "wall_s": %.4f}\n' "$cmd" "$refs" "$count" "$times"
  done
done
if [ "$GTO" = 1 ]; then
  log "gto baseline (bash ../shared/bench/registry_baseline.sh $repo m): slow"
  bash ../shared/bench/registry_baseline.sh "$repo" m
fi
