#!/usr/bin/env python3
"""The Parquet peer for `mlops train`: pandas.read_parquet (pyarrow) + scikit-learn
LinearRegression.fit; also converts the benchmark CSV to Parquet (snappy).

    train_parquet_peer.py convert IN.csv OUT.parquet
    train_parquet_peer.py fit FILE.parquet TARGET
"""
import json, resource, sys, time

if sys.argv[1] == "convert":
    import pyarrow.csv as pv
    import pyarrow.parquet as pq
    src, dst = sys.argv[2], sys.argv[3]
    pq.write_table(pv.read_csv(src), dst, compression="snappy", row_group_size=1 << 20)
    sys.exit(0)

t0 = time.perf_counter()
import pandas as pd
from sklearn.linear_model import LinearRegression
path, target = sys.argv[2], sys.argv[3]
df = pd.read_parquet(path, engine="pyarrow")
y = df.pop(target).to_numpy()
m = LinearRegression().fit(df.to_numpy(), y)
wall = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"peer": "pandas.read_parquet+sklearn", "rows": len(y), "wall_s": round(wall, 3),
                  "peak_rss_bytes": rss, "intercept": float(m.intercept_),
                  "coefficients": dict(zip(df.columns, map(float, m.coef_)))}))
