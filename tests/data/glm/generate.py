#!/usr/bin/env python3
"""Reference GLM fits for the mlops GLM test, computed by statsmodels.

Fits Tweedie GLMs with a log link (powers 1 = Poisson, 1.5, 2 = Gamma,
3 = inverse Gaussian) on every row of examples/house-prices/train.csv, with
the features mlops uses there (id excluded; neighborhood one-hot, first level
`downtown` as the reference, columns named `neighborhood=<level>`), by
statsmodels' IRLS (tol 1e-14), and writes statsmodels_house_prices.json.

Run from the repository root with a Python that has pandas and statsmodels,
e.g. the peers' venv: `$(bash ../shared/bench/setup.sh)/bin/python tests/data/glm/generate.py`.
"""
import json
import sys

import pandas as pd
import statsmodels
import statsmodels.api as sm

d = pd.read_csv("examples/house-prices/train.csv")
X = pd.get_dummies(
    d.drop(columns=["id", "price"]), columns=["neighborhood"], drop_first=True, prefix_sep="="
).astype(float)
X = sm.add_constant(X)
log = sm.families.links.Log()
families = {
    "1": sm.families.Poisson(),
    "1.5": sm.families.Tweedie(var_power=1.5, link=log),
    "2": sm.families.Gamma(log),
    "3": sm.families.InverseGaussian(log),
}
out = {
    "provenance": {
        "tool": f"statsmodels {statsmodels.__version__}, pandas {pd.__version__}, Python {sys.version.split()[0]}",
        "method": "sm.GLM(price, const + features, family).fit(tol=1e-14, maxiter=1000) (IRLS)",
        "data": "examples/house-prices/train.csv, all rows",
    },
    "fits": {},
}
for power, fam in families.items():
    r = sm.GLM(d.price, X, family=fam).fit(tol=1e-14, maxiter=1000)
    out["fits"][power] = {
        "intercept": float(r.params["const"]),
        "coefficients": {k: float(r.params[k]) for k in X.columns if k != "const"},
    }
json.dump(out, open("tests/data/glm/statsmodels_house_prices.json", "w"), indent=2)
print("wrote tests/data/glm/statsmodels_house_prices.json")
