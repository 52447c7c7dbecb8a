#!/usr/bin/env python3
"""Reference vectors for `mlops abtest-analyze`'s statistics.

Run with the peers' venv (numpy, scipy, statsmodels; /work/shared/bench/setup.sh):

    /tmp/mlops-peers/bin/python tests/data/abtest/generate.py > tests/data/abtest/reference.json

Large samples are not stored: they come from a documented generator that the
Rust test (tests/integration/abtest.rs) reimplements bit for bit:

    splitmix64(state): state += 0x9E3779B97F4A7C15; z = state;
                       z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
                       z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
                       return z ^ (z >> 31)          (all mod 2^64)
    sample(seed, n, lo, width, scale)[i] = lo + (splitmix64 output % width) / scale

Every value is then an exact quotient of two integers, correctly rounded on
both sides, so both languages see the same doubles.
"""
import json
import sys

import numpy as np
import scipy
import statsmodels
from scipy import integrate, stats
from scipy.special import betaln
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

M64 = (1 << 64) - 1


def sample(seed, n, lo, width, scale):
    state = seed & M64
    out = []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        z = z ^ (z >> 31)
        out.append(lo + (z % width) / scale)
    return out


def f(x):
    x = float(x)
    return x if np.isfinite(x) else None


def lift(a, b, q):
    ma, mb = np.mean(a), np.mean(b)
    va, vb = np.var(a, ddof=1), np.var(b, ddof=1)
    if ma == 0:
        return None
    r = mb / ma - 1
    v = vb / (len(b) * ma**2) + va * mb**2 / (len(a) * ma**4)
    h = q * np.sqrt(v)
    return [f(r), f(r - h), f(r + h)]


def continuous(name, a, b, gen=None):
    a, b = np.asarray(a, float), np.asarray(b, float)
    case = {"name": name}
    if gen:
        case["generate"] = gen
    else:
        case["a"], case["b"] = a.tolist(), b.tolist()
    for key, eq in (("welch", False), ("student", True)):
        with np.errstate(all="ignore"):
            r = stats.ttest_ind(b, a, equal_var=eq)
            try:
                ci = r.confidence_interval(0.95)
                lo, hi = f(ci.low), f(ci.high)
            except Exception:
                lo = hi = None
        q = f(stats.t.ppf(0.975, r.df)) if np.isfinite(r.df) else None
        case[key] = {
            "statistic": f(r.statistic),
            "df": f(r.df),
            "p_value": f(r.pvalue),
            "ci": [lo, hi],
            "lift": lift(a, b, q) if q is not None else None,
        }
    with np.errstate(all="ignore"):
        try:
            r = stats.mannwhitneyu(b, a)
            case["mann_whitney"] = {"statistic": f(r.statistic), "p_value": f(r.pvalue)}
        except ValueError:
            case["mann_whitney"] = None
    return case


def proportions(name, xa, na, xb, nb):
    z, p = proportions_ztest([xb, xa], [nb, na])
    lo, hi = confint_proportions_2indep(xb, nb, xa, na, method="wald", compare="diff")
    table = [[xb, nb - xb], [xa, na - xa]]
    c = stats.chi2_contingency(table)
    fe = stats.fisher_exact(table)
    aa, ba, ab, bb = xa + 1, na - xa + 1, xb + 1, nb - xb + 1
    closed = sum(
        np.exp(betaln(aa + i, ba + bb) - np.log(bb + i) - betaln(1 + i, bb) - betaln(aa, ba))
        for i in range(ab)
    )
    case = {
        "name": name,
        "a": {"n": na, "x": xa},
        "b": {"n": nb, "x": xb},
        "z": {"statistic": f(z), "p_value": f(p), "ci": [f(lo), f(hi)]},
        "chi2": {"statistic": f(c.statistic), "df": int(c.dof), "p_value": f(c.pvalue)},
        "fisher": {"statistic": f(fe.statistic), "p_value": f(fe.pvalue)},
        "beta_binomial_closed_form": f(closed),
    }
    if na + nb <= 5000:
        val, err = integrate.quad(
            lambda t: stats.beta.pdf(t, ab, bb) * stats.beta.cdf(t, aa, ba),
            0, 1, epsabs=1e-14, epsrel=1e-13, limit=500,
        )
        case["beta_binomial_quadrature"] = f(val)
    return case


def main():
    big_a = {"seed": 7, "n": 200000, "lo": 10.0, "width": 200001, "scale": 10000.0}
    big_b = {"seed": 8, "n": 200000, "lo": 10.01, "width": 200001, "scale": 10000.0}
    cont = [
        continuous("equal", sample(1, 30, 0.0, 10001, 1000.0), sample(2, 30, 0.5, 10001, 1000.0)),
        continuous("unequal", sample(3, 50, 5.0, 2001, 100.0), sample(4, 20, 4.0, 9001, 100.0)),
        continuous("tiny", [1.2, 3.4, 2.2], [2.5, 4.1, 5.0, 3.3]),
        continuous("tiny-ties", [1, 2, 2, 3], [2, 3, 3, 4, 5]),
        continuous("identical", [1, 2, 3, 4, 5], [1, 2, 3, 4, 5]),
        continuous("zero-variance-one-arm", [5, 5, 5, 5], [4, 6, 5.5, 7]),
        continuous("zero-variance-both", [5, 5, 5], [6, 6, 6]),
        continuous(
            "200k",
            sample(**big_a),
            sample(**big_b),
            gen={"a": big_a, "b": big_b},
        ),
    ]
    props = [
        proportions("ordinary", 100, 1000, 130, 1000),
        proportions("tiny", 1, 10, 6, 12),
        proportions("large-population", 1000, 20000, 1100, 20000),
        proportions("zero-conversions-control", 0, 40, 5, 40),
    ]
    srm = []
    for name, obs, plan in (
        ("equal", [5030, 4970], [0.5, 0.5]),
        ("80-20", [8050, 1950], [0.8, 0.2]),
        ("80-20-mismatch", [8000, 2200], [0.8, 0.2]),
        ("three-arms", [3400, 3300, 3200], [1, 1, 1]),
    ):
        tot = sum(obs)
        w = np.asarray(plan, float) / sum(plan)
        r = stats.chisquare(obs, f_exp=w * tot)
        srm.append({"name": name, "observed": obs, "planned": plan,
                    "chi2": f(r.statistic), "p_value": f(r.pvalue)})
    pv = [0.01, 0.04, 0.03]
    corr = {"p_values": pv}
    for key, m in (("holm", "holm"), ("bonferroni", "bonferroni"), ("bh", "fdr_bh")):
        corr[key] = [f(x) for x in multipletests(pv, method=m)[1]]
    quantiles = {
        "t_ppf_0.975": {str(df): f(stats.t.ppf(0.975, df)) for df in (1, 2, 5, 10, 30, 1000, 200000, 2000000)},
        "norm_ppf_0.975": f(stats.norm.ppf(0.975)),
        "norm_two_sided": {str(z): f(2 * stats.norm.sf(z)) for z in (0.5, 1.96, 5.0, 10.0, 30.0)},
    }
    doc = {
        "generator": "tests/data/abtest/generate.py",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__,
        },
        "continuous": cont,
        "proportions": props,
        "srm": srm,
        "corrections": corr,
        "quantiles": quantiles,
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
