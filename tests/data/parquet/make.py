"""Make the Parquet test files of tests/data/parquet/ from the bundled
house-price example, with three independent writers: pyarrow (through
pandas), polars and DuckDB.

Run from the repository root with a Python that has pandas, pyarrow,
polars and duckdb (the versions used are written to PROVENANCE.txt):

    python tests/data/parquet/make.py

Every file holds exactly the rows and values of
examples/house-prices/train.csv (or recent.csv), so a fit on it must equal
the fit on the CSV bit for bit. The CSV is read with
float_precision="round_trip", so each double is the correctly rounded value
of its CSV text, as mlops reads it.
"""

import os
import sys
import warnings

warnings.simplefilter("ignore", FutureWarning)
warnings.filterwarnings("ignore", message=".*float_precision.*")

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
TRAIN = os.path.join(ROOT, "examples/house-prices/train.csv")
RECENT = os.path.join(ROOT, "examples/house-prices/recent.csv")


def out(name):
    return os.path.join(HERE, name)


train = pd.read_csv(TRAIN, float_precision="round_trip")
recent = pd.read_csv(RECENT, float_precision="round_trip")

# pyarrow through pandas: four codecs, several row groups (2,000 rows in
# groups of 300), neighborhood dictionary-encoded in the Arrow schema too
# (a pandas category) in the snappy file.
cat = train.copy()
cat["neighborhood"] = cat["neighborhood"].astype("category")
pq.write_table(pa.Table.from_pandas(cat, preserve_index=False), out("train.snappy.parquet"),
               compression="snappy", row_group_size=300)
table = pa.Table.from_pandas(train, preserve_index=False)
for codec in ["zstd", "gzip", "none"]:
    pq.write_table(table, out(f"train.{codec}.parquet"), compression=codec, row_group_size=700)

# Another writer: polars (zstd, its own row groups).
pl.read_csv(TRAIN).write_parquet(out("train.polars.parquet"), compression="zstd", row_group_size=512)

# A third: DuckDB.
con = duckdb.connect()
con.execute(
    f"COPY (SELECT * FROM read_csv_auto('{TRAIN}', header=true) ORDER BY id) "
    f"TO '{out('train.duckdb.parquet')}' (FORMAT PARQUET, ROW_GROUP_SIZE 1000)"
)

# Without the .parquet suffix: recognised by its magic bytes.
pq.write_table(table, out("train-no-suffix.bin"), compression="snappy")

# Data to predict on and to check drift with.
pq.write_table(pa.Table.from_pandas(recent, preserve_index=False), out("recent.parquet"),
               compression="snappy", row_group_size=200)

# Nulls: sqft null in rows 5 and 1,500 (0-based 4 and 1,499), neighborhood
# null in row 7; with the same cells empty in a CSV beside it.
holes = train.copy()
holes["sqft"] = holes["sqft"].astype("float64")
holes.loc[4, "sqft"] = None
holes.loc[1499, "sqft"] = None
holes["neighborhood"] = holes["neighborhood"].astype(object)
holes.loc[6, "neighborhood"] = None
pq.write_table(pa.Table.from_pandas(holes, preserve_index=False), out("holes.parquet"),
               compression="snappy", row_group_size=1000)
holes.to_csv(out("holes.csv"), index=False)

# A string column not listed as categorical, and a boolean column.
odd = train.head(20).copy()
odd["garage"] = [i % 2 == 0 for i in range(20)]
pq.write_table(pa.Table.from_pandas(odd, preserve_index=False), out("strings.parquet"),
               compression="snappy", row_group_size=10)

# An experiment log: arm (dictionary-encoded), a float metric, an unused
# column; the same rows as CSV. Deterministic: no random numbers.
arms = ["champion", "challenger"] * 300
revenue = [round(((i * 37) % 101) / 10 + (1.5 if i % 2 else 0.0), 1) for i in range(600)]
exp = pd.DataFrame({"user": range(600), "arm": pd.Categorical(arms), "revenue": revenue})
pq.write_table(pa.Table.from_pandas(exp, preserve_index=False), out("experiment.parquet"),
               compression="zstd", row_group_size=250)
exp.to_csv(out("experiment.csv"), index=False)

with open(out("PROVENANCE.txt"), "w") as f:
    f.write("Made by tests/data/parquet/make.py from examples/house-prices/*.csv with\n")
    f.write(f"python {sys.version.split()[0]}, pandas {pd.__version__}, pyarrow {pa.__version__}, "
            f"polars {pl.__version__}, duckdb {duckdb.__version__}\n")
