"""Reference values for `train`'s GLM inference (issue 23).

Fits statsmodels `GLM(y, X, family).fit(tol=1e-14, maxiter=1000)` (IRLS,
non-robust covariance: scale times the inverse of X'WX, with statsmodels'
scale: 1 for Poisson, Pearson chi2 / df_resid for the other families) on
every row of examples/house-prices/train.csv, with the design mlops builds
there (id excluded; neighborhood one-hot with the first level `downtown`
as the reference, columns named `neighborhood=<level>`), for the Tweedie
powers and links mlops maps to statsmodels families:

    power 0 (Gaussian, identity and log link), 1 (Poisson, log),
    1.5 (Tweedie(var_power=1.5), log), 2 (Gamma, log),
    3 (InverseGaussian, log)

It writes statsmodels_glm.json: per fit, each parameter's estimate,
standard error, z, p-value and 95 % interval (normal), and the deviance,
Pearson chi2, scale, log-likelihood, AIC and BIC (statsmodels' `bic`, which
is `bic_llf` in 0.15: -2 llf + k ln n).

Run from the repository root with a Python that has statsmodels:
    /tmp/mlops-peers/bin/python tests/data/inference/generate_glm.py
"""

import json
import sys

import numpy as np
import pandas as pd
import scipy
import statsmodels
import statsmodels.api as sm

LOG = sm.families.links.Log()
FITS = {
    "0/identity": sm.families.Gaussian(),
    "0/log": sm.families.Gaussian(LOG),
    "1/log": sm.families.Poisson(),
    "1.5/log": sm.families.Tweedie(var_power=1.5, link=LOG),
    "2/log": sm.families.Gamma(LOG),
    "3/log": sm.families.InverseGaussian(LOG),
}


def design():
    d = pd.read_csv("examples/house-prices/train.csv")
    x = pd.get_dummies(
        d.drop(columns=["id", "price"]),
        columns=["neighborhood"],
        drop_first=True,
        prefix_sep="=",
    ).astype(float)
    return d.price, sm.add_constant(x)


def fit(y, x, family):
    r = sm.GLM(y, x, family=family).fit(tol=1e-14, maxiter=1000)
    ci = r.conf_int(0.05)
    params = {}
    for k in x.columns:
        key = "intercept" if k == "const" else k
        params[key] = {
            "estimate": r.params[k],
            "std_error": r.bse[k],
            "z": r.tvalues[k],
            "p_value": r.pvalues[k],
            "ci_low": ci.loc[k, 0],
            "ci_high": ci.loc[k, 1],
        }
    return {
        "rows": int(r.nobs),
        "df_model": float(r.df_model),
        "df_resid": float(r.df_resid),
        "scale": float(r.scale),
        "deviance": r.deviance,
        "pearson_chi2": r.pearson_chi2,
        "log_likelihood": r.llf,
        "aic": r.aic,
        "bic": r.bic,
        "params": params,
    }


def main():
    y, x = design()
    out = {
        "generator": "tests/data/inference/generate_glm.py",
        "method": "sm.GLM(price, const + features, family).fit(tol=1e-14, maxiter=1000) (IRLS)",
        "data": "examples/house-prices/train.csv, all rows",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__,
        },
        "fits": {k: fit(y, x, f) for k, f in FITS.items()},
    }
    with open("tests/data/inference/statsmodels_glm.json", "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
