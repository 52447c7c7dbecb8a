#!/usr/bin/env python3
"""Drive a running `mlops serve --grpc-bind` with the stock tritonclient.grpc.

usage: serve_grpc_clients.py GRPC_ADDR BASE_URL MODEL_JSON ROWS_CSV

The same checks as serve_clients.py's tritonclient.http part, over gRPC:
health (live, ready, model ready), server and model metadata, FP64 and FP32
inference on a batch (one [N, F] tensor, or one input per feature with
BYTES), an unknown model (NOT_FOUND); and every prediction equal, bit for
bit, to the REST V2 answer to the same tensors (tritonclient.http, binary
outputs).
"""
import csv
import json
import sys

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

addr, base, model_path, rows_path = sys.argv[1:5]
model = json.load(open(model_path))
name, features = model["name"], model["features"]
categorical = set(model["categorical"])
with open(rows_path) as f:
    rows = list(csv.DictReader(f))[:25]
records = [{f: (r[f] if f in categorical else float(r[f])) for f in features} for r in rows]

g = grpcclient.InferenceServerClient(url=addr)
h = httpclient.InferenceServerClient(url=base.split("://", 1)[1])
checks = 0


def same(got, want, what):
    global checks
    got, want = np.asarray(got).reshape(-1), np.asarray(want).reshape(-1)
    if got.dtype != np.float64 or got.shape != want.shape or not np.array_equal(
        got.view(np.uint64), want.view(np.uint64)
    ):
        sys.exit(f"FAIL {what}: gRPC {got[:3]}... != REST V2 {want[:3]}...")
    checks += 1
    print(f"ok   {what}")


assert g.is_server_live() and g.is_server_ready() and g.is_model_ready(name)
assert not g.is_model_ready("no-such-model")
meta = g.get_server_metadata()
assert meta.name == "mlops" and "binary_tensor_data" in meta.extensions, meta
mm = g.get_model_metadata(name)
assert mm.name == name and mm.outputs[0].name == "prediction", mm
rest_mm = h.get_model_metadata(name)
assert [i.name for i in mm.inputs] == [i["name"] for i in rest_mm["inputs"]], (mm, rest_mm)
assert [list(i.shape) for i in mm.inputs] == [i["shape"] for i in rest_mm["inputs"]], (mm, rest_mm)
print("ok   tritonclient.grpc health and metadata")


def both(make):
    """The gRPC and REST V2 predictions for the inputs `make(module)` builds."""
    r = g.infer(name, make(grpcclient))
    out = [httpclient.InferRequestedOutput("prediction", binary_data=True)]
    return r.as_numpy("prediction"), h.infer(name, make(httpclient), outputs=out).as_numpy("prediction")


if not categorical:
    x = np.array([[r[f] for f in features] for r in records], dtype=np.float64)
    for dtype, np_t in [("FP64", np.float64), ("FP32", np.float32)]:
        def make(mod, dtype=dtype, np_t=np_t):
            i = mod.InferInput("input", list(x.shape), dtype)
            i.set_data_from_numpy(x.astype(np_t))
            return [i]
        same(*both(make), f"tritonclient.grpc [N,F] {dtype} batch of {len(x)}")
else:
    def make(mod):
        inputs = []
        for f in features:
            if f in categorical:
                a = np.array([r[f].encode() for r in records], dtype=np.object_)
                t = mod.InferInput(f, [len(records)], "BYTES")
            else:
                a = np.array([r[f] for r in records], dtype=np.float64)
                t = mod.InferInput(f, [len(records)], "FP64")
            t.set_data_from_numpy(a)
            inputs.append(t)
        return inputs
    same(*both(make), f"tritonclient.grpc one input per feature (BYTES), batch of {len(records)}")

try:
    i = grpcclient.InferInput("input", [1, len(features)], "FP64")
    i.set_data_from_numpy(np.zeros((1, len(features))))
    g.infer("no-such-model", [i])
    sys.exit("FAIL tritonclient.grpc: an unknown model was accepted")
except InferenceServerException as e:
    assert "NOT_FOUND" in str(e.status()), (e.status(), e.message())
    print(f"ok   tritonclient.grpc unknown model: {e.status()} {e.message()[:50]}...")
print(f"{checks} gRPC prediction checks equal REST V2 bit for bit at {addr}")
