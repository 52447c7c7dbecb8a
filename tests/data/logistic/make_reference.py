"""Reference data for the logistic and multinomial fits (tests/data/logistic/).

Run with a Python that has numpy, pandas, scikit-learn and statsmodels:
    python make_reference.py
It writes, from datasets that ship inside scikit-learn (no download):
  breast.csv   five features of the breast-cancer data, standardised and
               rounded to 6 decimals, target "malignant"/"benign" (strings);
  wine.csv     three features of the wine data (three cultivars), standardised
               and rounded to 6 decimals, target "class_0".."class_2";
  iris.csv     the iris sepal measurements (cm, as published), target the species:
               quasi-completely separated (setosa against the rest), so
               statsmodels' MNLogit does not converge; the fit must refuse it;
  reference.json  coefficients of
    - statsmodels Logit / MNLogit (alpha = 0, Newton, tol 1e-14), and
    - scikit-learn LogisticRegression(C = 1/alpha, tol=1e-12, max_iter=10000)
      for alpha = 1 and alpha = 10,
  on exactly the numbers written in the CSV files.
Class order is the sorted labels; MNLogit's reference class is the first.
"""
import json
import sys

import numpy as np
import pandas as pd
import sklearn
import statsmodels
import statsmodels.api as sm
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.linear_model import LogisticRegression

OUT = {"provenance": {
    "python": sys.version.split()[0], "numpy": np.__version__,
    "scikit-learn": sklearn.__version__, "statsmodels": statsmodels.__version__,
    "script": "tests/data/logistic/make_reference.py"}}


def write(df, name):
    df.to_csv(name, index=False)
    return pd.read_csv(name)  # fit on exactly what the file holds


def sk(X, y, alpha, multi):
    kw = dict(C=1.0 / alpha, tol=1e-12, max_iter=10000, solver="lbfgs")
    m = LogisticRegression(**kw).fit(X, y)
    return {"classes": [str(c) for c in m.classes_],
            "intercept": m.intercept_.tolist(), "coef": m.coef_.tolist()}


# Binary: breast cancer, five features.
bc = load_breast_cancer()
cols = ["mean radius", "mean texture", "mean smoothness", "mean compactness", "mean symmetry"]
X = pd.DataFrame(bc.data, columns=bc.feature_names)[cols]
X = ((X - X.mean()) / X.std()).round(6)
X.columns = [c.replace(" ", "_") for c in cols]
X["diagnosis"] = np.where(bc.target == 1, "benign", "malignant")
df = write(X, "breast.csv")
feats = [c for c in df.columns if c != "diagnosis"]
y = (df["diagnosis"] == "malignant").astype(float)  # sorted: benign < malignant
r = sm.Logit(y, sm.add_constant(df[feats])).fit(method="newton", tol=1e-14, maxiter=100, disp=0)
OUT["breast"] = {"features": feats, "classes": ["benign", "malignant"],
                 "statsmodels": {"intercept": r.params.iloc[0], "coef": r.params.iloc[1:].tolist(),
                                 "llf": r.llf, "iterations": int(r.mle_retvals["iterations"])},
                 "sklearn": {str(a): sk(df[feats].values, df["diagnosis"].values, a, False) for a in (1.0, 10.0)}}

# Three classes: wine, three features.
wn = load_wine()
cols = ["alcohol", "malic_acid", "ash"]
X = pd.DataFrame(wn.data, columns=wn.feature_names)[cols]
X = ((X - X.mean()) / X.std()).round(6)
X["cultivar"] = np.array(["class_0", "class_1", "class_2"])[wn.target]
df = write(X, "wine.csv")
codes = pd.Categorical(df["cultivar"], categories=sorted(df["cultivar"].unique())).codes
r = sm.MNLogit(codes, sm.add_constant(df[cols])).fit(method="newton", tol=1e-10, maxiter=100, disp=0)
assert r.mle_retvals["converged"]
P = np.asarray(r.params)  # (1 + p) x (K - 1)
OUT["wine"] = {"features": cols, "classes": sorted(df["cultivar"].unique().tolist()),
               "statsmodels": {"intercept": P[0].tolist(), "coef": P[1:].T.tolist(),
                               "llf": r.llf, "iterations": int(r.mle_retvals["iterations"])},
               "sklearn": {str(a): sk(df[cols].values, df["cultivar"].values, a, True) for a in (1.0, 10.0)}}

# Separated: iris sepals (statsmodels runs to its iteration limit).
ir = load_iris()
X = pd.DataFrame(ir.data[:, :2], columns=["sepal_length", "sepal_width"])
X["species"] = np.array(ir.target_names)[ir.target]
write(X, "iris.csv")

with open("reference.json", "w") as f:
    json.dump(OUT, f, indent=1)
    f.write("\n")
