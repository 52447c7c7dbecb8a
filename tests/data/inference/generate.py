"""Reference values for `train`'s least-squares inference (issue 23).

Fits statsmodels `OLS(y, X).fit()` on the NIST StRD linear least-squares
datasets of tests/data/nist/ where statsmodels itself is accurate to 1e-10
(Norris, NoInt1, NoInt2, Longley: its standard errors agree with NIST's
certified ones to 4e-13). Not Pontius (statsmodels' intercept is 4.8e-7 off
NIST's certified value) nor the Filip and Wampler problems (so ill
conditioned that statsmodels' pinv solution is not a reference). It writes
statsmodels_ols.json: per dataset, each parameter's estimate, standard
error, t, p-value and 95 % interval, and R², adjusted R², F and its
p-value, log-likelihood, AIC and BIC.

Run from the repository root with a Python that has statsmodels:
    /tmp/mlops-peers/bin/python tests/data/inference/generate.py
"""

import json
import sys

import numpy as np
import pandas as pd
import scipy
import statsmodels
import statsmodels.api as sm

SETS = ["Norris", "NoInt1", "NoInt2", "Longley"]


def fit(name, intercept):
    df = pd.read_csv(f"tests/data/nist/{name}.csv")
    y = df.pop("y")
    x = sm.add_constant(df, has_constant="add") if intercept else df
    r = sm.OLS(y, x).fit()
    ci = r.conf_int(0.05)
    params = {}
    for k in x.columns:
        key = "intercept" if k == "const" else k
        params[key] = {
            "estimate": r.params[k],
            "std_error": r.bse[k],
            "t": r.tvalues[k],
            "p_value": r.pvalues[k],
            "ci_low": ci.loc[k, 0],
            "ci_high": ci.loc[k, 1],
        }
    return {
        "fit_intercept": intercept,
        "rows": int(r.nobs),
        "df_model": r.df_model,
        "df_resid": r.df_resid,
        "r2": r.rsquared,
        "adj_r2": r.rsquared_adj,
        "f_statistic": r.fvalue,
        "f_p_value": r.f_pvalue,
        "log_likelihood": r.llf,
        "aic": r.aic,
        "bic": r.bic,
        "params": params,
    }


def main():
    cert = json.load(open("tests/data/nist/certified.json"))
    out = {
        "generator": "tests/data/inference/generate.py",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__,
        },
        "datasets": {n: fit(n, cert[n]["fit_intercept"]) for n in SETS},
    }
    with open("tests/data/inference/statsmodels_ols.json", "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
