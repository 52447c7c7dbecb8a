#!/usr/bin/env python3
"""Regenerate <Name>.csv and certified.json from original/<Name>.dat.

Run from the repository root:  python3 tests/data/nist/generate.py

* Original x and y values are copied with their exact decimal text.
* Polynomial design columns x^k (k >= 2) are computed EXACTLY with
  fractions.Fraction from the decimal text and written as
  repr(float(value)), i.e. the correctly rounded IEEE-754 double in
  shortest round-trip form.
* certified.json copies the certified numbers with the exact decimal text of
  the .dat file (NIST's Fortran-style E notation is valid JSON).
"""

import os
import sys
from fractions import Fraction

sys.dont_write_bytecode = True  # keep __pycache__ out of the fixture dir
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verify_certified import (DATASETS, HERE, ORIG, design_names,  # noqa: E402
                              parse_dat)


def main():
    entries = []
    for name, fit_intercept, kind, degree, n_expected in DATASETS:
        d = parse_dat(os.path.join(ORIG, name + ".dat"))
        assert len(d["rows"]) == n_expected == d["n_stated"], name
        names = design_names(kind, degree, d["columns"])

        lines = [",".join(names + ["y"])]
        for row in d["rows"]:
            y = row[0]
            if kind == "poly":
                x = Fraction(row[1])
                xs = [row[1]] + [repr(float(x ** k))
                                 for k in range(2, degree + 1)]
            else:
                xs = row[1:]
            lines.append(",".join(xs + [y]))
        with open(os.path.join(HERE, name + ".csv"), "w", newline="") as f:
            f.write("\n".join(lines) + "\n")

        pmap = {i: (e, s) for i, e, s in d["params"]}
        coef = ", ".join('"%s": %s' % (k, pmap[j][0])
                         for j, k in enumerate(names, start=1))
        sds = []
        if fit_intercept:
            sds.append('"intercept": %s' % pmap[0][1])
        sds += ['"%s": %s' % (k, pmap[j][1])
                for j, k in enumerate(names, start=1)]
        entries.append(
            '  "%s": {\n'
            '    "fit_intercept": %s,\n'
            '    "difficulty": "%s",\n'
            '    "intercept": %s,\n'
            '    "coefficients": {%s},\n'
            '    "coefficient_sd": {%s},\n'
            '    "residual_sd": %s,\n'
            '    "r_squared": %s\n'
            '  }' % (name, "true" if fit_intercept else "false",
                     d["difficulty"], pmap[0][0] if fit_intercept else "0",
                     coef, ", ".join(sds), d["residual_sd"], d["r_squared"]))
    with open(os.path.join(HERE, "certified.json"), "w") as f:
        f.write("{\n" + ",\n".join(entries) + "\n}\n")


if __name__ == "__main__":
    main()
