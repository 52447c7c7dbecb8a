#!/usr/bin/env python3
"""Generate the bundled synthetic churn example data (deterministic, stdlib only).

    python3 examples/churn/generate.py [--seed 7] [--rows 3000] [--recent-rows 600] [--out-dir DIR]

Writes train.csv (seed SEED) and recent.csv (seed SEED+1, with mild drift:
more monthly contracts, more support calls) next to this script unless
--out-dir is given. The same seed always gives the same bytes.

The label `churned` ("yes"/"no") is drawn from a logistic model:
logit P(yes) = BASE + sum(coef * feature) + CONTRACT[contract], so
`kind = "logistic"` recovers the coefficients up to sampling noise.
"""
import argparse
import math
import os
import random

HEADER = "customer_id,tenure_months,monthly_charges,support_calls,late_payments,contract,churned"

# contract: (share, log-odds shift); "annual" is the reference level.
CONTRACTS = [("annual", 0.35, 0.0), ("monthly", 0.45, 1.2), ("two-year", 0.20, -0.9)]
BASE = -2.0
COEF = {
    "tenure_months": -0.035,   # loyal customers stay
    "monthly_charges": 0.018,  # per dollar of the monthly bill
    "support_calls": 0.35,     # per call in the last quarter
    "late_payments": 0.45,     # per late payment in the last year
}


def row(rng, i, drift):
    shares = [c[1] for c in CONTRACTS]
    if drift:
        shares = [0.28, 0.55, 0.17]
    contract, _, shift = rng.choices(CONTRACTS, weights=shares)[0]
    tenure = min(72, int(rng.expovariate(1 / 24.0)) + 1)
    charges = round(min(140.0, max(18.0, rng.gauss(68.0, 22.0))), 2)
    calls = min(9, int(rng.expovariate(1 / (1.6 if drift else 1.2))))
    late = min(6, int(rng.expovariate(1 / 0.7)))
    eta = BASE + shift + COEF["tenure_months"] * tenure + COEF["monthly_charges"] * charges
    eta += COEF["support_calls"] * calls + COEF["late_payments"] * late
    churned = "yes" if rng.random() < 1 / (1 + math.exp(-eta)) else "no"
    return f"{i},{tenure},{charges:.2f},{calls},{late},{contract},{churned}"


def write(path, seed, rows, drift):
    rng = random.Random(seed)
    with open(path, "w", newline="\n") as f:
        f.write(HEADER + "\n")
        for i in range(1, rows + 1):
            f.write(row(rng, i, drift) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--recent-rows", type=int, default=600)
    ap.add_argument("--out-dir", default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args()
    write(os.path.join(a.out_dir, "train.csv"), a.seed, a.rows, False)
    write(os.path.join(a.out_dir, "recent.csv"), a.seed + 1, a.recent_rows, True)


if __name__ == "__main__":
    main()
