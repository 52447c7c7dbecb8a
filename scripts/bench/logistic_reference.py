#!/usr/bin/env python3
"""The converged maximum-likelihood fit of a binary logistic model on CSV, as
the reference both `mlops train` and the timed peer are held to (not timed):
scikit-learn's LogisticRegression(C=inf) with its exact Newton solver
(`newton-cholesky`) run to tol=1e-12. The timed peer uses lbfgs with its
default tol=1e-4, which stops a few iterations short of the optimum; this
shows how far each tool's coefficients are from the converged ones.

    logistic_reference.py CSV TARGET MLOPS_JSON PEER_JSON

MLOPS_JSON: `mlops train --json` output or the model artifact (both have
`intercept` and `coefficients`); PEER_JSON: train_logistic_baseline.py's
output (its last JSON line). Prints one JSON line.
"""
import json, sys, time

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression


def load(path):
    text = open(path).read()
    try:
        return json.loads(text)
    except ValueError:
        return json.loads([l for l in text.splitlines() if l.strip().startswith("{")][-1])


def coefs(doc):
    return dict(doc["coefficients"], **{"(intercept)": doc["intercept"]})


path, target, mlops_json, peer_json = sys.argv[1:5]
t0 = time.perf_counter()
df = pd.read_csv(path)
y = df.pop(target).to_numpy()
m = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12, max_iter=100).fit(df.to_numpy(), y)
ref = dict(zip(df.columns, map(float, m.coef_[0])), **{"(intercept)": float(m.intercept_[0])})


def worst(other):
    rel = {k: abs(other[k] - ref[k]) / max(abs(ref[k]), 1e-12) for k in ref}
    k = max(rel, key=rel.get)
    return {"max_relative_difference": rel[k], "at": k}


print(json.dumps({
    "reference": "sklearn LogisticRegression(C=inf, solver=newton-cholesky, tol=1e-12)",
    "n_iter": int(m.n_iter_[0]),
    "seconds": round(time.perf_counter() - t0, 1),
    "mlops_vs_reference": worst(coefs(load(mlops_json))),
    "peer_vs_reference": worst(coefs(load(peer_json))),
}))
