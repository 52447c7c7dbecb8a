#!/usr/bin/env bash
# Conformance of `mlops serve` with the clients people already use:
# the stock Triton client (`tritonclient[http]`, V2 JSON and binary tensors;
# `tritonclient[grpc]` over the gRPC service, equal to REST V2 bit for bit)
# and the MLflow scoring payloads, against the real server.
#
#   scripts/conformance/serve.sh          # from anywhere inside the repo
#
# Environment:
#   CONFORMANCE_VENV=.ci/venv-conformance  venv with tritonclient[http,grpc] (made once)
#   MLOPS_BIN=...                          an mlops binary instead of `cargo build --release`
set -euo pipefail

root=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
cd "$root"
log() { printf '==> %s\n' "$*" >&2; }

venv=${CONFORMANCE_VENV:-$root/.ci/venv-conformance}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import tritonclient.http, tritonclient.grpc' 2>/dev/null; then
  log "venv $venv with tritonclient[http,grpc]"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'tritonclient[http,grpc]==2.*'
fi

if [ -n "${MLOPS_BIN:-}" ]; then
  bin=$MLOPS_BIN
else
  cargo build --locked --release -q
  bin=$root/target/release/mlops
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# Two models of the bundled example: all-numeric (one [N, F] tensor) and
# with the categorical neighbourhood (one input per feature, BYTES).
train() { # name, extra data keys
  mkdir -p "$tmp/$1"
  cat >"$tmp/$1/mlops.toml" <<TOML
[project]
name = "$1"

[data]
path = "$root/examples/house-prices/train.csv"
target = "price"
$2

[split]
validation_fraction = 0.2
seed = 42

[model]
name = "$1"
kind = "linear"
artifact = "model.json"
TOML
  "$bin" -q -C "$tmp/$1/mlops.toml" train >/dev/null
}
train numeric 'exclude = ["id", "neighborhood"]'
train mixed $'exclude = ["id"]\ncategorical = ["neighborhood"]'

# Start a server for model $1 in the background (with the project file $2,
# if given): sets $pid, $url and $grpc.
start() {
  "$bin" ${2:+-C "$2"} serve --model "$tmp/$1/model.json" --bind 127.0.0.1:0 --grpc-bind 127.0.0.1:0 \
    >/dev/null 2>"$tmp/$1.err" &
  pid=$!
  pids+=("$pid")
  url= grpc=
  for _ in $(seq 100); do
    url=$(sed -n 's/^listening on //p' "$tmp/$1.err")
    grpc=$(sed -n 's/^grpc listening on //p' "$tmp/$1.err")
    [ -n "$url" ] && [ -n "$grpc" ] && return
    sleep 0.1
  done
  cat "$tmp/$1.err" >&2
  exit 1
}

for m in numeric mixed; do
  start $m
  log "$m model at $url"
  "$venv/bin/python" "$root/scripts/conformance/serve_clients.py" \
    "$url" "$tmp/$m/model.json" "$root/examples/house-prices/recent.csv"
  log "$m model over gRPC at $grpc"
  "$venv/bin/python" "$root/scripts/conformance/serve_grpc_clients.py" \
    "$grpc" "$url" "$tmp/$m/model.json" "$root/examples/house-prices/recent.csv"
  # SIGTERM: the server drains and must exit 0.
  kill -TERM "$pid"
  if ! wait "$pid"; then
    echo "mlops serve ($m) did not exit 0 after SIGTERM" >&2
    cat "$tmp/$m.err" >&2
    exit 1
  fi
done

# gRPC over TLS: [serve.tls] with the test certificates (tests/data/tls).
tls=$root/tests/data/tls
mkdir -p "$tmp/tls"
printf '[serve.tls]\ncert = "%s"\nkey = "%s"\n' "$tls/server.pem" "$tls/server.key" >"$tmp/tls/mlops.toml"
start numeric "$tmp/tls/mlops.toml"
log "numeric model over gRPC with TLS at $grpc"
"$venv/bin/python" "$root/scripts/conformance/serve_grpc_tls.py" \
  "$grpc" "$url" "$tls/ca.pem" "$tmp/numeric/model.json" "$root/examples/house-prices/recent.csv"
kill -TERM "$pid"
wait "$pid"
echo "serve conformance: ok"
