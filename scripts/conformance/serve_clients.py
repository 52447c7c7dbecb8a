#!/usr/bin/env python3
"""Drive a running `mlops serve` with the stock clients' payloads.

usage: serve_clients.py BASE_URL MODEL_JSON ROWS_CSV

Checks, against predictions computed here from the artifact's coefficients:
- tritonclient.http (the Triton client): health, server and model metadata,
  infer with JSON tensors and with binary tensors (the client's default),
  FP64 and FP32, requested outputs binary and not;
- the MLflow scoring payloads on /invocations: dataframe_split,
  dataframe_records, instances, inputs, and text/csv; 415 and 400 errors.
"""
import csv
import json
import sys
import urllib.error
import urllib.request

import numpy as np
import tritonclient.http as httpclient

base, model_path, rows_path = sys.argv[1], sys.argv[2], sys.argv[3]
model = json.load(open(model_path))
name, features = model["name"], model["features"]
categorical = set(model["categorical"])
with open(rows_path) as f:
    rows = list(csv.DictReader(f))[:25]


def value(f, s):
    return s if f in categorical else float(s)


records = [{f: value(f, r[f]) for f in features} for r in rows]


def expected(rec):
    y = model["intercept"]
    for f in features:
        if f in categorical:
            y += model["coefficients"].get(f"{f}={rec[f]}", 0.0)
        else:
            y += model["coefficients"][f] * rec[f]
    return y


want = np.array([expected(r) for r in records])
checks = 0


def close(got, what, rtol=1e-9):
    global checks
    got = np.asarray(got, dtype=np.float64).reshape(-1)
    if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=0):
        sys.exit(f"FAIL {what}: got {got[:3]}..., want {want[:3]}...")
    checks += 1
    print(f"ok   {what}")


# --- Triton client -------------------------------------------------------
host = base.split("://", 1)[1]
c = httpclient.InferenceServerClient(url=host)
assert c.is_server_live() and c.is_server_ready() and c.is_model_ready(name)
meta = c.get_server_metadata()
assert "binary_tensor_data" in meta["extensions"], meta
mm = c.get_model_metadata(name)
assert mm["outputs"][0]["name"] == "prediction", mm
print("ok   tritonclient health and metadata")

if not categorical:
    x = np.array([[r[f] for f in features] for r in records], dtype=np.float64)
    for dtype, np_t, rtol in [("FP64", np.float64, 1e-9), ("FP32", np.float32, 1e-5)]:
        for binary_in in (False, True):
            for binary_out in (False, True, None):
                i = httpclient.InferInput("input", list(x.shape), dtype)
                i.set_data_from_numpy(x.astype(np_t), binary_data=binary_in)
                outs = None if binary_out is None else [
                    httpclient.InferRequestedOutput("prediction", binary_data=binary_out)]
                r = c.infer(name, [i], outputs=outs)
                close(r.as_numpy("prediction"),
                      f"tritonclient [N,F] {dtype} binary_in={binary_in} binary_out={binary_out}", rtol)
else:
    for binary in (False, True):
        inputs = []
        for f in features:
            if f in categorical:
                a = np.array([r[f].encode() for r in records], dtype=np.object_)
                t = httpclient.InferInput(f, [len(records)], "BYTES")
            else:
                a = np.array([r[f] for r in records], dtype=np.float64)
                t = httpclient.InferInput(f, [len(records)], "FP64")
            t.set_data_from_numpy(a, binary_data=binary)
            inputs.append(t)
        r = c.infer(name, inputs)
        close(r.as_numpy("prediction"), f"tritonclient one input per feature (BYTES) binary={binary}")

try:
    i = httpclient.InferInput("input", [1, 1], "FP64")
    i.set_data_from_numpy(np.zeros((1, 1)))
    c.infer(name, [i])
    sys.exit("FAIL tritonclient: a wrong shape was accepted")
except httpclient.InferenceServerException as e:
    assert e.status() in ("400", 400, None), e
    print(f"ok   tritonclient error surfaces: {e.message()[:60]}...")


# --- MLflow scoring ------------------------------------------------------
def post(path, body, ctype):
    req = urllib.request.Request(base + path, data=body, headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


split = {"columns": features, "data": [[r[f] for f in features] for r in records]}
for shape, body in [
    ("dataframe_split", {"dataframe_split": split}),
    ("dataframe_split with index", {"dataframe_split": {**split, "index": list(range(len(records)))}}),
    ("dataframe_records", {"dataframe_records": records}),
    ("instances (records)", {"instances": records}),
    ("inputs (columns)", {"inputs": {f: [r[f] for r in records] for f in features}}),
    ("inputs (rows)", {"inputs": split["data"]}),
]:
    status, doc = post("/invocations", json.dumps(body).encode(), "application/json")
    assert status == 200, (shape, status, doc)
    close(doc["predictions"], f"mlflow {shape}")

lines = [",".join(features)] + [",".join(str(r[f]) for f in features) for r in records]
status, doc = post("/invocations", ("\n".join(lines) + "\n").encode(), "text/csv")
assert status == 200, (status, doc)
close(doc["predictions"], "mlflow text/csv")

status, doc = post("/invocations", b"x", "text/plain")
assert status == 415 and doc["error_code"] == "BAD_REQUEST", (status, doc)
status, doc = post("/invocations", b'{"instances": [{"nope": 1}]}', "application/json")
assert status == 400 and doc["error_code"] == "BAD_REQUEST" and "sqft" in doc["message"], (status, doc)
print("ok   mlflow 415 and 400 errors")
print(f"{checks} prediction checks passed against {base}")
