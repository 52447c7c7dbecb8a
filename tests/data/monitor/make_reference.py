"""Reference Jensen-Shannon distances for src/stats/binned.rs.

Run with the peers' environment (scipy 1.x):
    /tmp/mlops-peers/bin/python tests/data/monitor/make_reference.py > tests/data/monitor/js_reference.json

Each case is a pair of bin counts (training, window), as the drift monitor
holds them, and scipy.spatial.distance.jensenshannon(p, q, base=2), which
normalises the counts itself.
"""
import json
import sys

import numpy as np
import scipy
from scipy.spatial.distance import jensenshannon

rng = np.random.default_rng(20261203)
cases = [
    ([161, 162, 161, 161, 162, 161, 161, 162, 161, 161], [50, 60, 40, 55, 45, 52, 48, 50, 50, 50]),
    ([800, 0, 0, 0, 0, 0, 0, 0, 0, 813], [300, 0, 0, 0, 0, 0, 0, 0, 0, 700]),  # a binary feature
    ([241, 512, 275, 176, 409], [0, 0, 0, 0, 600]),
    ([1, 0], [0, 1]),
    ([5, 5], [50, 50]),
    ([3, 0, 7], [0, 4, 0]),
]
for _ in range(6):
    k = int(rng.integers(2, 11))
    p = rng.integers(0, 1000, size=k).tolist()
    q = rng.integers(0, 1000, size=k).tolist()
    p[0] += 1
    q[-1] += 1
    cases.append((p, q))
out = {
    "provenance": f"scipy {scipy.__version__}, numpy {np.__version__}: scipy.spatial.distance.jensenshannon(p, q, base=2)",
    "cases": [
        {"p": p, "q": q, "js_distance": float(jensenshannon(np.array(p, float), np.array(q, float), base=2))}
        for p, q in cases
    ],
}
json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
