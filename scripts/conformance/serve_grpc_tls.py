#!/usr/bin/env python3
"""The stock tritonclient.grpc over TLS against `mlops serve` with
[serve.tls] and --grpc-bind.

usage: serve_grpc_tls.py GRPC_ADDR BASE_URL CA_PEM MODEL_JSON ROWS_CSV

A client trusting CA_PEM (`ssl=True, root_certificates=CA_PEM`) sees the
server live and the model ready, and its FP64 predictions equal, bit for
bit, the REST V2 JSON answer over HTTPS; a plaintext client against the
TLS port fails with an error.
"""
import csv
import json
import ssl
import sys
import urllib.request

import numpy as np
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

addr, base, ca, model_path, rows_path = sys.argv[1:6]
model = json.load(open(model_path))
name, features = model["name"], model["features"]
with open(rows_path) as f:
    rows = list(csv.DictReader(f))[:25]
x = np.array([[float(r[f]) for f in features] for r in rows], dtype=np.float64)

g = grpcclient.InferenceServerClient(url=addr, ssl=True, root_certificates=ca)
assert g.is_server_live() and g.is_server_ready() and g.is_model_ready(name)
i = grpcclient.InferInput("input", list(x.shape), "FP64")
i.set_data_from_numpy(x)
got = g.infer(name, [i]).as_numpy("prediction").reshape(-1)

body = json.dumps({"inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP64",
                               "data": x.reshape(-1).tolist()}]}).encode()
req = urllib.request.Request(f"{base}/v2/models/{name}/infer", body,
                             {"content-type": "application/json"})
ctx = ssl.create_default_context(cafile=ca)
with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
    want = np.array(json.load(r)["outputs"][0]["data"], dtype=np.float64)
if got.shape != want.shape or not np.array_equal(got.view(np.uint64), want.view(np.uint64)):
    sys.exit(f"FAIL gRPC over TLS {got[:3]}... != REST V2 over HTTPS {want[:3]}...")
print("ok   tritonclient.grpc over TLS: health, FP64 infer equal to REST V2 over HTTPS")

plain = grpcclient.InferenceServerClient(url=addr)
try:
    plain.is_server_live(client_timeout=5)
except InferenceServerException as e:
    print(f"ok   a plaintext client against the TLS port fails ({str(e).splitlines()[0][:60]})")
else:
    sys.exit("FAIL a plaintext client was answered on the TLS port")
