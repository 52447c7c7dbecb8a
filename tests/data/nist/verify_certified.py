#!/usr/bin/env python3
"""Verify the NIST StRD linear least-squares fixtures in tests/data/nist/.

Run from the repository root with plain python3 (standard library only):

    python3 tests/data/nist/verify_certified.py

For every dataset this script

1. checks the sha256 of the original NIST file in original/<Name>.dat,
2. parses the data block and the certified values from that file and checks
   the row count against the number NIST states,
3. solves the least-squares problem EXACTLY in rational arithmetic
   (fractions.Fraction, normal equations + Gauss-Jordan; exact because no
   rounding ever happens) from the original decimal text, and compares the
   exact coefficients, coefficient standard deviations, residual standard
   deviation and R-squared with the certified values (relative difference),
4. checks <Name>.csv (header, row count, x/y text identical to the .dat file,
   power columns equal to the correctly rounded double of the exact power),
5. checks certified.json against the certified text of the .dat file
   (exact decimal equality).

It prints one line per dataset with the maximum relative difference between
the exact solution and the certified values, and exits non-zero on any
failure.
"""

import csv
import hashlib
import json
import os
import re
import sys
from decimal import Decimal, getcontext
from fractions import Fraction

getcontext().prec = 60

HERE = os.path.dirname(os.path.abspath(__file__))
ORIG = os.path.join(HERE, "original")

# name -> (fit_intercept, model kind, polynomial degree or None, expected rows)
DATASETS = [
    ("Norris", True, "linear", None, 36),
    ("Pontius", True, "poly", 2, 40),
    ("NoInt1", False, "linear", None, 11),
    ("NoInt2", False, "linear", None, 3),
    ("Filip", True, "poly", 10, 82),
    ("Longley", True, "multi", None, 16),
    ("Wampler1", True, "poly", 5, 21),
    ("Wampler2", True, "poly", 5, 21),
    ("Wampler3", True, "poly", 5, 21),
    ("Wampler4", True, "poly", 5, 21),
    ("Wampler5", True, "poly", 5, 21),
]

# sha256 of the original files as obtained (Debian gretl-data 2022c-1,
# /usr/share/gretl/data/nist/, CRLF line endings as distributed by NIST).
SHA256 = {
    "Filip": "403b34689e401d915cb28bd69311d3ca5c3007d88d3b670b00e3203042315072",
    "Longley": "fc4b0c824f8f0b834eb8e7d1c4c7e0b3cebdd7987bcb085e8f5e1007582480ea",
    "NoInt1": "d8234c428dedaa9de23b67df7d04aeee83befae73ceb6b38321b224955a9b667",
    "NoInt2": "a71c2810b1edcef8fec6b864c20c5f9d9908e530282a174772ce610999ca7c69",
    "Norris": "5ab6906c68a9c4b2eb1661c0cd7d2a09f5a469a6d4e05b6b691f190f5f7b944f",
    "Pontius": "de60baa5dc66fd804f9316f895bc5aa2b8f791c09d1ecc1ec39f8b199b8c15c7",
    "Wampler1": "8bcd6f00dbe8c307ebc5c971e12b950eb3cdb75afbc2b38573082b5fcb0d7fbc",
    "Wampler2": "01ba5f08b5b9f84431f3754216e006939a80264a1caa69fe08b3cbc543f9ee3e",
    "Wampler3": "c5b025f6ebf0365de92d80e478ad826b01a6dfdafb71964ea8bae7eec993ce53",
    "Wampler4": "dcff32075a52ecf31af70dad340776237544b1a29b5034a40f8b3e6b607cf9c1",
    "Wampler5": "c4e260a6638db61287bfea75a2dd3b324c86c5d40931ddc6d8fab0c0305ffa39",
}

REL_TOL = Decimal("1e-13")


# --------------------------------------------------------------------------
# Parsing of the NIST .dat format
# --------------------------------------------------------------------------

def parse_dat(path):
    """Parse a NIST StRD linear-regression .dat file.

    Returns a dict with: columns (names from the 'Data:' header, y first),
    rows (list of lists of decimal TEXT tokens, in file order), n_stated,
    difficulty, model_line, params (list of (index, estimate_text, sd_text)),
    residual_sd (text), r_squared (text).
    """
    with open(path, "rb") as f:
        raw = f.read()
    lines = raw.decode("ascii").splitlines()

    head = "\n".join(lines[:60])
    m = re.search(r"Certified Values\s*\(lines\s+(\d+)\s+to\s+(\d+)\)", head)
    c0, c1 = int(m.group(1)), int(m.group(2))
    m = re.search(r"Data\s*\(lines\s+(\d+)\s+to\s+(\d+)\)", head)
    d0, d1 = int(m.group(1)), int(m.group(2))
    n_stated = int(re.search(r"(\d+)\s+Observations", head).group(1))
    difficulty = re.search(r"(Lower|Average|Higher)\s+Level of Difficulty",
                           head).group(1).lower()
    model_line = next(l.strip() for l in lines[:c0] if re.match(r"\s*y = ", l))

    header = lines[d0 - 2].split()
    if header[0] != "Data:":
        raise ValueError("%s: no 'Data:' header on line %d" % (path, d0 - 1))
    columns = header[1:]

    rows = []
    for l in lines[d0 - 1:d1]:
        toks = l.split()
        if len(toks) != len(columns):
            raise ValueError("%s: bad data line %r" % (path, l))
        rows.append(toks)
    for l in lines[d1:]:
        if l.strip():
            raise ValueError("%s: unexpected text after data: %r" % (path, l))

    params, residual_sd, r_squared = [], None, None
    cert = lines[c0 - 1:c1]
    for i, l in enumerate(cert):
        mb = re.match(r"\s*B(\d+)\s+(\S+)\s+(\S+)\s*$", l)
        if mb:
            params.append((int(mb.group(1)), mb.group(2), mb.group(3)))
            continue
        ms = re.match(r"\s*Standard Deviation\s+(\S+)\s*$", l)
        if ms and i > 0 and cert[i - 1].strip() == "Residual":
            residual_sd = ms.group(1)
            continue
        mr = re.match(r"\s*R-Squared\s+(\S+)\s*$", l)
        if mr:
            r_squared = mr.group(1)
    if residual_sd is None or r_squared is None or not params:
        raise ValueError("%s: could not parse certified values" % path)

    return {
        "columns": columns,
        "rows": rows,
        "n_stated": n_stated,
        "difficulty": difficulty,
        "model_line": model_line,
        "params": params,
        "residual_sd": residual_sd,
        "r_squared": r_squared,
    }


def design_names(kind, degree, columns):
    """Names of the design columns (without intercept), as used in the CSV."""
    if kind == "linear":
        return ["x"]
    if kind == "poly":
        return ["x%d" % k for k in range(1, degree + 1)]
    return list(columns[1:])  # Longley: x1..x6 as in the file header


def exact_rows(kind, degree, row):
    """Exact Fraction design row (without intercept) and y from text tokens."""
    y = Fraction(row[0])
    if kind == "poly":
        x = Fraction(row[1])
        xs = [x ** k for k in range(1, degree + 1)]
    else:
        xs = [Fraction(t) for t in row[1:]]
    return xs, y


# --------------------------------------------------------------------------
# Exact least squares
# --------------------------------------------------------------------------

def exact_ls(X, y):
    """Exact LS via normal equations. Returns (beta, diag((X'X)^-1), rss)."""
    n, p = len(X), len(X[0])
    A = [[sum(X[r][i] * X[r][j] for r in range(n)) for j in range(p)]
         for i in range(p)]
    b = [sum(X[r][i] * y[r] for r in range(n)) for i in range(p)]
    # Gauss-Jordan on [A | I | b]
    M = [A[i] + [Fraction(int(i == j)) for j in range(p)] + [b[i]]
         for i in range(p)]
    for col in range(p):
        piv = next(r for r in range(col, p) if M[r][col] != 0)
        M[col], M[piv] = M[piv], M[col]
        pv = M[col][col]
        M[col] = [v / pv for v in M[col]]
        for r in range(p):
            if r != col and M[r][col] != 0:
                f = M[r][col]
                M[r] = [a - f * c for a, c in zip(M[r], M[col])]
    beta = [M[i][2 * p] for i in range(p)]
    inv_diag = [M[i][p + i] for i in range(p)]
    rss = sum((y[r] - sum(X[r][j] * beta[j] for j in range(p))) ** 2
              for r in range(n))
    return beta, inv_diag, rss


def to_dec(q):
    return Decimal(q.numerator) / Decimal(q.denominator)


def rel_diff(exact, cert_text):
    """Relative difference |exact - cert| / |cert| (Decimal, prec 60).

    exact is a Fraction or Decimal. If the certified value is exactly zero,
    the absolute difference is returned instead (it must then be 0).
    """
    cert = Decimal(cert_text)
    ex = to_dec(exact) if isinstance(exact, Fraction) else exact
    if cert == 0:
        return abs(ex)
    return abs(ex - cert) / abs(cert)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def check_dataset(name, fit_intercept, kind, degree, n_expected, certified_json):
    problems = []
    path = os.path.join(ORIG, name + ".dat")
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != SHA256[name]:
        problems.append("sha256 mismatch %s" % digest)

    d = parse_dat(path)
    rows = d["rows"]
    n = len(rows)
    if n != n_expected or n != d["n_stated"]:
        problems.append("row count %d (stated %d, expected %d)"
                        % (n, d["n_stated"], n_expected))

    names = design_names(kind, degree, d["columns"])
    X, Y = [], []
    for row in rows:
        xs, yv = exact_rows(kind, degree, row)
        X.append(([Fraction(1)] if fit_intercept else []) + xs)
        Y.append(yv)
    p = len(X[0])

    # Certified parameter list must match the model.
    idx = [i for i, _, _ in d["params"]]
    want = list(range(0 if fit_intercept else 1, len(names) + 1))
    if idx != want:
        problems.append("certified parameters B%s do not match model" % idx)

    beta, inv_diag, rss = exact_ls(X, Y)
    dof = n - p
    s2 = rss / dof
    sd = [(to_dec(s2 * v)).sqrt() for v in inv_diag]
    rsd = to_dec(s2).sqrt()
    if fit_intercept:
        ybar = sum(Y) / n
        tss = sum((v - ybar) ** 2 for v in Y)
    else:
        tss = sum(v * v for v in Y)  # uncentred R^2 for a line through 0
    r2 = 1 - rss / tss

    coef_d = max(rel_diff(beta[j], d["params"][j][1]) for j in range(p))
    sd_d = max(rel_diff(sd[j], d["params"][j][2]) for j in range(p))
    rsd_d = rel_diff(rsd, d["residual_sd"])
    r2_d = rel_diff(r2, d["r_squared"])
    for label, v in (("coef", coef_d), ("sd", sd_d), ("rsd", rsd_d),
                     ("r2", r2_d)):
        if v > REL_TOL:
            problems.append("%s rel diff %.3e > %s" % (label, v, REL_TOL))

    # ---- CSV -------------------------------------------------------------
    csv_path = os.path.join(HERE, name + ".csv")
    with open(csv_path, newline="") as f:
        table = list(csv.reader(f))
    if table[0] != names + ["y"]:
        problems.append("csv header %r" % table[0])
    body = table[1:]
    if len(body) != n:
        problems.append("csv has %d rows" % len(body))
    for row, crow in zip(rows, body):
        if crow[-1] != row[0]:
            problems.append("csv y %r != dat %r" % (crow[-1], row[0]))
            break
        if kind == "poly":
            if crow[0] != row[1]:
                problems.append("csv x1 %r != dat %r" % (crow[0], row[1]))
                break
            x = Fraction(row[1])
            bad = [k for k in range(2, degree + 1)
                   if crow[k - 1] != repr(float(x ** k))
                   or Fraction(float(crow[k - 1])) != Fraction(float(x ** k))]
            if bad:
                problems.append("csv power columns %s wrong" % bad)
                break
        elif crow[:-1] != row[1:]:
            problems.append("csv x %r != dat %r" % (crow[:-1], row[1:]))
            break

    # ---- certified.json --------------------------------------------------
    cj = certified_json.get(name)
    if cj is None:
        problems.append("missing from certified.json")
    else:
        if cj["fit_intercept"] is not fit_intercept:
            problems.append("json fit_intercept")
        if cj["difficulty"] != d["difficulty"]:
            problems.append("json difficulty")
        pmap = {i: (e, s) for i, e, s in d["params"]}
        if fit_intercept:
            if cj["intercept"] != Decimal(pmap[0][0]):
                problems.append("json intercept")
            if cj["coefficient_sd"].get("intercept") != Decimal(pmap[0][1]):
                problems.append("json intercept sd")
        elif cj["intercept"] != 0 or "intercept" in cj["coefficient_sd"]:
            problems.append("json intercept for no-intercept model")
        if list(cj["coefficients"]) != names:
            problems.append("json coefficient keys %r" % list(cj["coefficients"]))
        for j, key in enumerate(names, start=1):
            if cj["coefficients"].get(key) != Decimal(pmap[j][0]):
                problems.append("json coefficient %s" % key)
            if cj["coefficient_sd"].get(key) != Decimal(pmap[j][1]):
                problems.append("json coefficient_sd %s" % key)
        if cj["residual_sd"] != Decimal(d["residual_sd"]):
            problems.append("json residual_sd")
        if cj["r_squared"] != Decimal(d["r_squared"]):
            problems.append("json r_squared")

    overall = max(coef_d, sd_d, rsd_d, r2_d)
    line = ("%-9s rows=%3d/%-3d p=%-2d max_rel_diff: coef=%.2e sd=%.2e "
            "resid_sd=%.2e r2=%.2e | max=%.2e  csv+json %s  %s"
            % (name, n, n_expected, p, coef_d, sd_d, rsd_d, r2_d, overall,
               "ok" if not any(s.startswith(("csv", "json", "missing"))
                               for s in problems) else "MISMATCH",
               "OK" if not problems else "FAIL: " + "; ".join(problems)))
    return line, not problems


def main():
    with open(os.path.join(HERE, "certified.json")) as f:
        certified_json = json.load(f, parse_float=Decimal, parse_int=Decimal)
    if list(certified_json) != [d[0] for d in DATASETS]:
        print("certified.json keys: %r" % list(certified_json))
        return 1
    all_ok = True
    for spec in DATASETS:
        line, ok = check_dataset(*spec, certified_json=certified_json)
        print(line)
        all_ok &= ok
    print("ALL OK" if all_ok else "FAILURES")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
