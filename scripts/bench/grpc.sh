#!/usr/bin/env bash
# gRPC (raw tensors) against REST V2 JSON and REST V2 binary tensors on the
# same model, same machine, same concurrency: single-row and 4,096-row FP64
# batches, rows per second and p99 from examples/grpc_load.rs, and the
# server's CPU time per call (from /proc/PID/stat).
#
#   scripts/bench/grpc.sh            # CONCURRENCY=8 SECONDS=10 by default
set -euo pipefail
root=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
cd "$root"
conc=${CONCURRENCY:-8}
secs=${SECONDS_EACH:-10}
cargo build --locked --release -q --bin mlops --example grpc_load
bin=$root/target/release/mlops
load=$root/target/release/examples/grpc_load
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
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
features=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["features"]))' "$tmp/model.json")
(cd "$tmp" && exec "$bin" serve --model model.json --bind 127.0.0.1:0 --grpc-bind 127.0.0.1:0 2>"$tmp/err") &
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
  line=$("$load" "$1" "$2" bench "$features" "$3" "$conc" "$secs")
  after=$(ticks)
  calls=$(sed -n 's/.*"calls":\([0-9]*\).*/\1/p' <<<"$line")
  echo "${line%\}},\"server_cpu_us_per_call\":$(( (after - before) * 1000000 / hz / (calls > 0 ? calls : 1) ))}"
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)"
for rows in 1 4096; do
  run grpc "$grpc" "$rows"
  run rest-json "$http" "$rows"
  run rest-binary "$http" "$rows"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
