#!/usr/bin/env python3
"""Reference values of the drift statistics of `mlops validate`.

Writes reference.json next to this script: for each case, the generator of
two samples and what scipy/numpy compute for them:

- `ks`: scipy.stats.ks_2samp(a, b) with its defaults (two-sided,
  method="auto": exact when max(n1, n2) <= 10000, else asymptotic);
- `psi`: the population stability index of b against the type-7 deciles of
  a (numpy.quantile's default), bins right-closed, shares clipped below at
  1e-4 (the epsilon of docs/statistics.md);
- `chi2`: scipy.stats.chi2_contingency on the 2 x k table of level counts
  (levels with a count in either sample), correction=False.

Samples are generated, not stored: value i of a sample is
u = (splitmix64(seed * 0x9E3779B97F4A7C15 + i + 0x9E3779B97F4A7C15) >> 11) / 2**53,
then floor(u * levels) / levels when levels > 0 (to make ties), then
u * scale + shift. Every step is one IEEE operation, so Rust reproduces the
samples bit for bit (tests/integration/validate.rs).

Run with the venv of /work/shared/bench/setup.sh:
    /tmp/mlops-peers/bin/python tests/data/validate/generate.py
"""

import json
import math
import platform
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

MASK = (1 << 64) - 1
EPS = 1e-4


def splitmix(z):
    z = (z + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def sample(g):
    out = []
    for i in range(g["n"]):
        z = splitmix((g["seed"] * 0x9E3779B97F4A7C15 + i) & MASK)
        u = (z >> 11) / float(1 << 53)
        if g["levels"] > 0:
            u = math.floor(u * g["levels"]) / g["levels"]
        out.append(u * g["scale"] + g["shift"])
    return np.array(out)


def gen(seed, n, scale=1.0, shift=0.0, levels=0):
    return {"seed": seed, "n": n, "scale": scale, "shift": shift, "levels": levels}


def psi(train, recent):
    edges = np.quantile(train, np.arange(1, 10) / 10)
    e = np.bincount(np.searchsorted(edges, train, side="left"), minlength=10) / len(train)
    a = np.bincount(np.searchsorted(edges, recent, side="left"), minlength=10) / len(recent)
    e = np.maximum(e, EPS)
    a = np.maximum(a, EPS)
    return edges.tolist(), float(np.sum((a - e) * np.log(a / e)))


KS_CASES = [
    # exact, unequal sizes
    (gen(1, 30), gen(2, 20, shift=0.1)),
    (gen(3, 200), gen(4, 150, scale=1.2)),
    (gen(5, 1000), gen(6, 400, shift=0.05)),
    (gen(7, 500, levels=7), gen(8, 300, levels=7, shift=1 / 7)),
    (gen(9, 2000), gen(10, 500, shift=0.3)),
    (gen(11, 9999), gen(12, 10000, shift=0.01)),
    (gen(13, 37), gen(14, 3)),
    (gen(15, 5000), gen(16, 1250)),
    # exact, equal sizes
    (gen(17, 100), gen(18, 100, shift=0.1)),
    (gen(19, 3000, levels=40), gen(20, 3000, levels=40)),
    (gen(21, 10000), gen(22, 10000, shift=0.02)),
    # identical samples
    (gen(23, 50), gen(23, 50)),
    # asymptotic: max(n1, n2) > 10000
    (gen(24, 12000), gen(25, 40, shift=0.05)),
    (gen(26, 12000), gen(27, 130, shift=0.1)),
    (gen(28, 12000), gen(29, 60, shift=0.3)),
    (gen(30, 20000), gen(31, 3000, shift=0.01)),
    (gen(32, 20000), gen(33, 3000, shift=0.05)),
    (gen(34, 15000), gen(35, 15000, shift=0.004)),
    (gen(36, 50000), gen(37, 40000, shift=0.001)),
    (gen(38, 11000, levels=20), gen(39, 2000, levels=20, scale=1.1)),
    (gen(116, 12000, levels=10), gen(117, 1000, levels=10)),
    (gen(50, 12000), gen(51, 60, shift=0.6)),
    (gen(52, 12000), gen(53, 20, shift=2.0)),
    (gen(54, 12001), gen(55, 300, shift=0.02)),
    (gen(56, 20000), gen(57, 3000, shift=0.4)),
    (gen(58, 12000), gen(59, 20, shift=0.9)),
    (gen(200, 12000, levels=3), gen(201, 30, levels=3)),
]

PSI_CASES = [
    (gen(40, 2000), gen(41, 500, shift=0.05)),
    (gen(42, 2000), gen(43, 500)),
    (gen(44, 1000, levels=4), gen(45, 300, levels=4, shift=0.25)),
    (gen(46, 1000), gen(47, 200, shift=2.0)),
    (gen(48, 5000, scale=1000.0), gen(49, 800, scale=1100.0)),
]

CHI2_CASES = [
    ([120, 80, 40, 10], [30, 25, 8, 5]),
    ([500, 500], [260, 240]),
    ([300, 200, 100, 0], [50, 60, 20, 7]),
    ([1000, 10, 990], [100, 9, 80]),
]


def main():
    out = {
        "generator": "tests/data/validate/generate.py",
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        "psi_epsilon": EPS,
        "ks": [],
        "psi": [],
        "chi2": [],
    }
    for ga, gb in KS_CASES:
        a, b = sample(ga), sample(gb)
        r = stats.ks_2samp(a, b)
        out["ks"].append(
            {"a": ga, "b": gb, "statistic": float(r.statistic), "p_value": float(r.pvalue)}
        )
    for ga, gb in PSI_CASES:
        edges, value = psi(sample(ga), sample(gb))
        out["psi"].append({"train": ga, "recent": gb, "edges": edges, "psi": value})
    for train, recent in CHI2_CASES:
        keep = [i for i in range(len(train)) if train[i] + recent[i] > 0]
        table = np.array([[train[i] for i in keep], [recent[i] for i in keep]])
        chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
        out["chi2"].append(
            {"train": train, "recent": recent, "statistic": float(chi2), "p_value": float(p), "df": int(dof)}
        )
    path = Path(__file__).with_name("reference.json")
    path.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
