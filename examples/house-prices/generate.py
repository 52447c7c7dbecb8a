#!/usr/bin/env python3
"""Generate the bundled synthetic house-price example data (deterministic, stdlib only).

    python3 examples/house-prices/generate.py [--seed 42] [--out-dir DIR]

Writes train.csv (2,000 rows, seed SEED) and recent.csv (500 rows, seed SEED+1,
with mild covariate drift: larger homes, closer to the centre) next to this
script unless --out-dir is given. The same seed always gives the same bytes.
"""
import argparse
import math
import os
import random

HEADER = "id,sqft,bedrooms,bathrooms,year_built,lot_size,distance_km,neighborhood,price"

# name: (share of homes, price premium in $, typical distance to centre in km)
NEIGHBORHOODS = [
    ("downtown", 0.14, 40_000, 2.5),
    ("eastside", 0.31, 0, 9.0),
    ("hillcrest", 0.17, 28_000, 14.0),
    ("lakeview", 0.12, 52_000, 18.0),
    ("riverside", 0.26, 12_000, 7.0),
]

# price = BASE + sum(coef * feature) + premium[neighborhood] + N(0, NOISE_SD)
BASE = 150_000
COEF = {
    "sqft": 42.0,          # $ per square foot of living area
    "bedrooms": 6_500.0,   # $ per bedroom
    "bathrooms": 9_000.0,  # $ per bathroom
    "age": -300.0,         # $ per year of age (2024 - year_built)
    "lot_size": 0.9,       # $ per square foot of lot
    "distance_km": -1_400.0,  # $ per km from the city centre
}
NOISE_SD = 15_000.0


def clamp(x, lo, hi):
    return lo if x < lo else hi if x > hi else x


def pick(rng, items, weights):
    u = rng.random() * sum(weights)
    acc = 0.0
    for item, w in zip(items, weights):
        acc += w
        if u < acc:
            return item
    return items[-1]


def row(rng, sqft_scale=1.0, distance_scale=1.0):
    name, _share, premium, typical_km = pick(
        rng, NEIGHBORHOODS, [n[1] for n in NEIGHBORHOODS])
    # living area: log-normal around ~1,800 sqft
    sqft = int(round(clamp(math.exp(rng.gauss(math.log(1_800), 0.35)) * sqft_scale, 600, 4_500)))
    bedrooms = int(clamp(round(sqft / 650 + rng.gauss(0, 0.6)), 1, 6))
    bathrooms = clamp(round((bedrooms * 0.55 + rng.gauss(0.3, 0.45)) * 2) / 2, 1.0, 4.0)
    # older stock downtown, newer further out
    mode = 1955 if name == "downtown" else 1985
    year_built = int(round(clamp(rng.triangular(1920, 2024, mode), 1920, 2024)))
    distance = clamp(typical_km * math.exp(rng.gauss(0, 0.5)) * distance_scale, 0.5, 40.0)
    distance = round(distance, 1)
    # lots are bigger further from the centre
    lot = 2_500 + distance * 280 + sqft * 1.2 + rng.gauss(0, 1_800)
    if name == "downtown":
        lot *= 0.6
    lot_size = int(round(clamp(lot, 1_500, 30_000)))
    price = (BASE
             + COEF["sqft"] * sqft
             + COEF["bedrooms"] * bedrooms
             + COEF["bathrooms"] * bathrooms
             + COEF["age"] * (2024 - year_built)
             + COEF["lot_size"] * lot_size
             + COEF["distance_km"] * distance
             + premium
             + rng.gauss(0, NOISE_SD))
    price = int(round(max(price, 25_000)))
    return [sqft, bedrooms, f"{bathrooms:.1f}".rstrip("0").rstrip("."), year_built,
            lot_size, f"{distance:.1f}", name, price]


def write(path, n, seed, **drift):
    rng = random.Random(seed)
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write(HEADER + "\n")
        for i in range(1, n + 1):
            f.write(",".join(str(v) for v in [i] + row(rng, **drift)) + "\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--rows", type=int, default=2_000)
    p.add_argument("--recent-rows", type=int, default=500)
    p.add_argument("--out-dir", default=here)
    a = p.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    write(os.path.join(a.out_dir, "train.csv"), a.rows, a.seed)
    write(os.path.join(a.out_dir, "recent.csv"), a.recent_rows, a.seed + 1,
          sqft_scale=1.08, distance_scale=0.9)


if __name__ == "__main__":
    main()
