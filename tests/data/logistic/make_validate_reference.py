"""Reference metrics of `mlops validate` on classifiers (validate.json here).

Run with a Python that has numpy, pandas, statsmodels and scikit-learn:
    python make_validate_reference.py
The models are the maximum-likelihood fits of statsmodels (Logit on
breast.csv, MNLogit on wine.csv, Newton, as make_reference.py); their
probabilities on every row of the same file are scored by scikit-learn's
metric functions (positive class "malignant"; threshold 0.5, positive when
p > 0.5; for K > 2 the first most probable class, one-vs-rest AUC macro and
prevalence-weighted, average precision macro over classes, Brier summed
over classes). ECE: the 10 uniform bins of calibration_curve, weighted by
count (as make_metrics.py). mlops's fit agrees with statsmodels to about
1e-9, so the metrics agree to about 1e-8.
"""
import json

import numpy as np
import pandas as pd
import sklearn
import statsmodels.api as sm
from sklearn import metrics as M
from sklearn.preprocessing import label_binarize



def ece(y, p, bins=10):
    """As make_metrics.py (which writes metrics.json when imported)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    ids = np.searchsorted(edges[1:-1], p)
    total = 0.0
    for b in range(bins):
        m = ids == b
        if m.any():
            total += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    return total


def binary():
    df = pd.read_csv("breast.csv")
    feats = [c for c in df.columns if c != "diagnosis"]
    y = (df["diagnosis"] == "malignant").astype(int).to_numpy()
    X = sm.add_constant(df[feats])
    r = sm.Logit(y, X).fit(method="newton", tol=1e-14, maxiter=100, disp=0)
    p = r.predict(X).to_numpy()
    pred = (p > 0.5).astype(int)
    return {"accuracy": M.accuracy_score(y, pred), "log_loss": M.log_loss(y, p),
            "auc": M.roc_auc_score(y, p), "average_precision": M.average_precision_score(y, p),
            "brier": M.brier_score_loss(y, p), "precision": M.precision_score(y, pred),
            "recall": M.recall_score(y, pred), "f1": M.f1_score(y, pred), "ece": ece(y, p),
            "confusion": M.confusion_matrix(y, pred).tolist(), "rows": int(len(y))}


def multiclass():
    df = pd.read_csv("wine.csv")
    feats = [c for c in df.columns if c != "cultivar"]
    classes = sorted(df["cultivar"].unique())
    y = df["cultivar"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    X = sm.add_constant(df[feats])
    r = sm.MNLogit(y, X).fit(method="newton", tol=1e-10, maxiter=100, disp=0)
    p = np.asarray(r.predict(X))
    k = len(classes)
    pred = p.argmax(axis=1)
    onehot = label_binarize(y, classes=list(range(k)))
    return {"accuracy": M.accuracy_score(y, pred), "log_loss": M.log_loss(y, p, labels=list(range(k))),
            "auc": M.roc_auc_score(y, p, multi_class="ovr", average="macro"),
            "auc_weighted": M.roc_auc_score(y, p, multi_class="ovr", average="weighted"),
            "average_precision": M.average_precision_score(onehot, p, average="macro"),
            "brier": M.brier_score_loss(y, p, labels=list(range(k))),
            "ece": ece((pred == y).astype(float), p.max(axis=1)),
            "confusion": M.confusion_matrix(y, pred).tolist(), "rows": int(len(y))}


out = {"provenance": f"make_validate_reference.py: statsmodels {sm.__version__} fits, scikit-learn {sklearn.__version__} metrics",
       "breast": binary(), "wine": multiclass()}
with open("validate.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
