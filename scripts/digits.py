#!/usr/bin/env python3
"""Write data/digits.csv from scikit-learn's bundled digits data set.

    python3 scripts/digits.py

The matrix is `sklearn.datasets.load_digits().data`: 1797 rows (images) by 64 columns
(the 8x8 pixels, row by row), integers 0..16. It is written comma-separated, no header,
one row per line, each value as a plain integer (`0,0,5,13,...`); the class labels are
not written.

Idempotent: installs scikit-learn with pip only if it is missing, and rewrites
data/digits.csv only if its content would change. Either way it re-reads the file and
checks that it equals the array, then prints the shape and the all-zero columns (1-based),
which data/README.md lists.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "data", "digits.csv")
SHAPE = (1797, 64)


def ensure_sklearn():
    try:
        import sklearn  # noqa: F401
        return
    except ImportError:
        pass
    print("digits: installing scikit-learn (PyPI)", flush=True)
    base = [sys.executable, "-m", "pip", "install", "--quiet", "scikit-learn"]
    if subprocess.call(base) != 0:
        subprocess.check_call(base + ["--break-system-packages"])
    import importlib

    importlib.invalidate_caches()


def main():
    if len(sys.argv) > 1:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    ensure_sklearn()
    import numpy as np
    import sklearn
    from sklearn.datasets import load_digits

    data = load_digits().data
    if data.shape != SHAPE:
        sys.exit(f"digits: expected shape {SHAPE}, got {data.shape}")
    a = data.astype(np.int64)
    if not np.array_equal(a, data) or a.min() < 0 or a.max() > 16:
        sys.exit("digits: the data are not integers in 0..16")

    text = "".join(",".join(str(int(x)) for x in row) + "\n" for row in a)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    old = None
    if os.path.exists(OUT):
        with open(OUT, encoding="ascii") as f:
            old = f.read()
    if old == text:
        print(f"digits: {os.path.relpath(OUT, ROOT)} is up to date")
    else:
        tmp = OUT + ".tmp"
        with open(tmp, "w", encoding="ascii", newline="\n") as f:
            f.write(text)
        os.replace(tmp, OUT)
        print(f"digits: wrote {os.path.relpath(OUT, ROOT)}")

    back = np.loadtxt(OUT, delimiter=",", dtype=np.int64, ndmin=2)
    if back.shape != SHAPE or not np.array_equal(back, a):
        sys.exit(f"digits: {OUT} does not re-read equal to the array")

    zero = [j + 1 for j in range(a.shape[1]) if not a[:, j].any()]
    print(f"digits: shape {a.shape[0]}x{a.shape[1]}, values {a.min()}..{a.max()}, "
          f"scikit-learn {sklearn.__version__}")
    print(f"digits: all-zero columns (1-based): {', '.join(map(str, zero))}")


if __name__ == "__main__":
    main()
