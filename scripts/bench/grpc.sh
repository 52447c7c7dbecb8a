#!/usr/bin/env bash
# gRPC (raw tensors) against REST V2 JSON, REST V2 binary tensors and the
# simple REST /predict on the same model, same machine, same concurrency:
# single-row and 4,096-row FP64 batches, rows per second and p99 from
# examples/grpc_load.rs, the server's CPU time per call (from
# /proc/PID/stat) and the load client's own (it runs on the same cores, so
# a costly client slows the server it measures), then the ratios the
# targets name.
#
#   scripts/bench/grpc.sh            # CONCURRENCY=8 SECONDS_EACH=10 by default
#   TONIC=1 scripts/bench/grpc.sh    # also gRPC through tonic's client (grpc-tonic)
#   PIN=1 scripts/bench/grpc.sh      # server on CPU 0, load client on CPU 1 (taskset):
#                                    # as on two machines, the server's own cost per
#                                    # call sets the rate, not the client's beside it
set -euo pipefail
root=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
cd "$root"
conc=${CONCURRENCY:-8}
secs=${SECONDS_EACH:-10}
cargo build --locked --release -q --bin mlops --example grpc_load
bin=${MLOPS_BIN:-$root/target/release/mlops}
load=$root/target/release/examples/grpc_load
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
# PIN=1: the server and the load client each on a CPU of its own.
server_cpu=() client_cpu=()
if [ "${PIN:-0}" = 1 ]; then
  if ! command -v taskset >/dev/null || [ "$(nproc)" -lt 2 ]; then
    echo "PIN=1 needs taskset and at least 2 CPUs" >&2
    exit 2
  fi
  server_cpu=(taskset -c 0) client_cpu=(taskset -c 1)
fi
cat >"$tmp/mlops.toml" <<TOML
[project]
name = "bench"

[data]
path = "$root/examples/house-prices/train.csv"
target = "price"
exclude = ["id", "neighborhood"]

[model]
name = "bench"
kind = "linear"
artifact = "model.json"

[serve]
max_body_bytes = 67108864
TOML
"$bin" -q -C "$tmp/mlops.toml" train >/dev/null
# The feature names in order (/predict's single row names them).
features=$(python3 -c 'import json,sys; print(",".join(json.load(open(sys.argv[1]))["features"]))' "$tmp/model.json")
(cd "$tmp" && exec "${server_cpu[@]}" "$bin" serve --model model.json --bind 127.0.0.1:0 --grpc-bind 127.0.0.1:0 2>"$tmp/err") &
pid=$!
for _ in $(seq 100); do
  http=$(sed -n 's|^listening on http://||p' "$tmp/err")
  grpc=$(sed -n 's/^grpc listening on //p' "$tmp/err")
  [ -n "$http" ] && [ -n "$grpc" ] && break
  sleep 0.1
done
# The server's CPU time (user + system, clock ticks) so far.
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
# One run of the load generator, with the server's CPU microseconds per
# call added to its JSON line (the fair comparison on a busy machine).
run() { # mode addr rows
  local before after line calls
  before=$(ticks)
  line=$("${client_cpu[@]}" "$load" "$1" "$2" bench "$features" "$3" "$conc" "$secs")
  after=$(ticks)
  calls=$(sed -n 's/.*"calls":\([0-9]*\).*/\1/p' <<<"$line")
  echo "${line%\}},\"server_cpu_us_per_call\":$(( (after - before) * 1000000 / hz / (calls > 0 ? calls : 1) ))}"
}
# Warm up each protocol's path (first connections, allocator) unmeasured.
"${client_cpu[@]}" "$load" grpc "$grpc" bench "$features" 16 "$conc" 1 >/dev/null
"${client_cpu[@]}" "$load" rest-json "$http" bench "$features" 16 "$conc" 1 >/dev/null
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)${PIN:+; PIN=$PIN}"
modes="grpc rest-json rest-binary rest-predict"
[ "${TONIC:-0}" = 1 ] && modes="$modes grpc-tonic"
for rows in 1 4096; do
  for m in $modes; do
    case $m in grpc*) addr=$grpc ;; *) addr=$http ;; esac
    run "$m" "$addr" "$rows"
  done
done | tee "$tmp/lines"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
# The targets: gRPC at one row at least as fast as /predict and REST V2
# JSON; gRPC at 4,096 rows at least 3x REST V2 JSON.
python3 - "$tmp/lines" <<'PY'
import json, sys
r = {(d["mode"], d["rows"]): d["rows_per_s"] for d in map(json.loads, open(sys.argv[1]))}
for rows, other, want in [(1, "rest-predict", 1), (1, "rest-json", 1), (4096, "rest-json", 3)]:
    g, o = r.get(("grpc", rows)), r.get((other, rows))
    if g and o:
        x = g / o
        print(f"{rows} row(s): grpc / {other} = {x:.2f}x (target {want}x: {'met' if x >= want else 'not met'})")
PY
