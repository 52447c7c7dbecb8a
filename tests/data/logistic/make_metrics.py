"""Reference values of the classification metrics (tests/data/logistic/metrics.json).

Run with a Python that has numpy and scikit-learn:  python make_metrics.py
Vectors are seeded, with probabilities rounded to one or two decimals so that
scores tie, and with probabilities of exactly 0 and 1 (log loss clipping).
Predictions at the threshold: positive when p > threshold (as
LogisticRegression.predict); for K > 2, the first class of largest
probability (numpy argmax). Expected calibration error: the bins of
sklearn.calibration.calibration_curve (10 uniform bins), weighted by count.
"""
import json
import sys

import numpy as np
import sklearn
from sklearn import metrics as M
from sklearn.preprocessing import label_binarize

rng = np.random.default_rng(20261203)


def ece(y, p, bins=10):
    edges = np.linspace(0.0, 1.0, bins + 1)
    ids = np.searchsorted(edges[1:-1], p)
    total = 0.0
    for b in range(bins):
        m = ids == b
        if m.any():
            total += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    return total


def binary(n, decimals, threshold):
    y = rng.integers(0, 2, n)
    p = np.clip(np.round(0.5 * rng.random(n) + 0.4 * y, decimals), 0, 1)
    p[:3] = [0.0, 1.0, 1.0]
    y[:3] = [1, 0, 1]
    pred = (p > threshold).astype(int)
    return {"y": y.tolist(), "p": p.tolist(), "threshold": threshold,
            "accuracy": M.accuracy_score(y, pred), "log_loss": M.log_loss(y, p),
            "auc": M.roc_auc_score(y, p), "average_precision": M.average_precision_score(y, p),
            "brier": M.brier_score_loss(y, p), "precision": M.precision_score(y, pred, zero_division=0),
            "recall": M.recall_score(y, pred), "f1": M.f1_score(y, pred, zero_division=0),
            "ece": ece(y, p), "confusion": M.confusion_matrix(y, pred).tolist()}


def multiclass(n, k):
    y = rng.integers(0, k, n)
    raw = np.round(rng.random((n, k)) + 0.8 * np.eye(k)[y], 1)
    p = raw / raw.sum(axis=1, keepdims=True)
    pred = p.argmax(axis=1)
    onehot = label_binarize(y, classes=list(range(k)))
    top = p.max(axis=1)
    return {"y": y.tolist(), "p": p.tolist(), "k": k,
            "accuracy": M.accuracy_score(y, pred), "log_loss": M.log_loss(y, p, labels=list(range(k))),
            "auc_macro": M.roc_auc_score(y, p, multi_class="ovr", average="macro"),
            "auc_weighted": M.roc_auc_score(y, p, multi_class="ovr", average="weighted"),
            "average_precision": M.average_precision_score(onehot, p, average="macro"),
            "brier": M.brier_score_loss(y, p, labels=list(range(k))),
            "ece": ece((pred == y).astype(float), top),
            "confusion": M.confusion_matrix(y, pred).tolist()}


out = {"provenance": {"python": sys.version.split()[0], "numpy": np.__version__,
                      "scikit-learn": sklearn.__version__,
                      "script": "tests/data/logistic/make_metrics.py"},
       "binary_ties": binary(300, 1, 0.5), "binary_fine": binary(1000, 3, 0.3),
       "multiclass": multiclass(400, 3)}
with open("metrics.json", "w") as f:
    json.dump(out, f)
    f.write("\n")
