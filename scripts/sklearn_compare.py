#!/usr/bin/env python3
"""Compare nmf-lab's MU objective with scikit-learn's MU from the same start.

    python3 scripts/sklearn_compare.py --nmf-lab PATH_TO_BINARY --data data/digits.csv \\
        --rank 10 --iters 2000 --seed 0 [--rtol 1e-10] [--workdir DIR]

Both sides run N Lee-Seung multiplicative updates for 1/2 ||M - UV||_F^2 from one start:

  * the start: numpy's default_rng(seed) draws U = uniform(0,1,(m,k)) and then
    V = uniform(1,2,(k,n)), both scaled by s = sqrt(mean(M)/k) (scikit-learn's scale for
    init='random'); they are written to WORKDIR/U.csv and WORKDIR/V.csv with '%.17g', so
    that nmf-lab reads back exactly the same doubles;
  * nmf-lab: `run --init-u U.csv --init-v V.csv --no-note-columns --quiet --out WORKDIR/out`,
    then `final_objective` of WORKDIR/out/summary.json;
  * scikit-learn: NMF(solver='mu', beta_loss='frobenius', init='custom', tol=0, no
    regularisation). It factors X ~ W H and updates W first, then H; nmf-lab updates V first,
    then U. So it factors the transpose, X = M^T, W = V^T, H = U^T: its W-first is V-first.
    Its objective is computed here as 1/2 ||M - H^T W^T||_F^2 in float64.

Prints both objectives and the relative difference |a - b| / b (b = scikit-learn's), then
one line beginning `sklearn_compare:`. Exit code 0 if the relative difference is <= rtol,
1 if not (or if nmf-lab wrote no summary.json), 2 for a usage error. nmf-lab's own exit
code is reported but does not decide by itself: a run that stopped early (exit 3) writes
the objective at the factors where it stopped, which then differs from scikit-learn's.

Where a denominator is exactly 0 (an all-zero column or row of M zeroes a factor entry,
and the next update of that entry divides 0 by 0) scikit-learn puts float32's epsilon in
the denominator, so the entry stays 0; nmf-lab defines the update there as 0 (the
column's minimiser), the same value, so the two runs agree to rounding (CI checks it on
the digits matrix, which has three all-zero columns).

Installs scikit-learn with pip if it is missing.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

# One BLAS thread for numpy/scikit-learn unless the caller says otherwise: these products
# are small (k = 10), and on a busy 2-core machine OpenBLAS's threads made scikit-learn's
# 2000 iterations on digits take 14 s instead of 0.8 s. Set before numpy is imported;
# nmf-lab itself runs with the caller's environment.
_CALLER_ENV = dict(os.environ)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def ensure_sklearn():
    try:
        import sklearn  # noqa: F401
        return
    except ImportError:
        pass
    print("sklearn_compare: installing scikit-learn (PyPI)", flush=True)
    base = [sys.executable, "-m", "pip", "install", "--quiet", "scikit-learn"]
    if subprocess.call(base) != 0:
        subprocess.check_call(base + ["--break-system-packages"])
    import importlib

    importlib.invalidate_caches()


def positive_int(s):
    v = int(s)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {s}")
    return v


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="sklearn_compare.py",
        description="Compare nmf-lab's MU objective with scikit-learn's MU from the same start.",
    )
    p.add_argument("--nmf-lab", required=True, help="path to the nmf-lab binary")
    p.add_argument("--data", required=True, help="M as CSV (comma-separated, no header)")
    p.add_argument("--rank", required=True, type=positive_int, help="rank k")
    p.add_argument("--iters", required=True, type=positive_int, help="MU iterations N")
    p.add_argument("--seed", required=True, type=int, help="seed of numpy's default_rng")
    p.add_argument("--rtol", type=float, default=1e-10,
                   help="largest accepted |a-b|/b (default 1e-10)")
    p.add_argument("--workdir", help="where U.csv, V.csv and out/ go (default: a new temp dir)")
    a = p.parse_args(argv)  # exits 2 on a usage error
    if not (a.rtol >= 0):
        p.error("--rtol must be >= 0")
    if a.seed < 0:
        p.error("--seed must be >= 0")
    if not os.path.isfile(a.nmf_lab) or not os.access(a.nmf_lab, os.X_OK):
        p.error(f"--nmf-lab {a.nmf_lab}: not an executable file")
    if not os.path.isfile(a.data):
        p.error(f"--data {a.data}: no such file")
    return p, a


def objective(M, U, V):
    """1/2 ||M - UV||_F^2 in float64."""
    import numpy as np

    R = M - U @ V
    return 0.5 * float(np.sum(R * R))


def run_sklearn(M, U0, V0, k, iters):
    """scikit-learn's MU on X = M^T from W = V0^T, H = U0^T; returns (U, V, n_iter)."""
    import numpy as np
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning

    X = np.ascontiguousarray(M.T)
    W0 = np.ascontiguousarray(V0.T)
    H0 = np.ascontiguousarray(U0.T)
    model = NMF(n_components=k, init="custom", solver="mu", beta_loss="frobenius",
                max_iter=iters, tol=0.0, alpha_W=0.0, alpha_H=0.0)
    with warnings.catch_warnings():
        # With tol=0 scikit-learn 1.9 does not warn; older versions warn whenever
        # n_iter == max_iter.
        warnings.simplefilter("ignore", ConvergenceWarning)
        W = model.fit_transform(X, W=W0.copy(), H=H0.copy())
    H = model.components_
    return H.T, W.T, int(model.n_iter_)


def main(argv=None):
    p, a = parse_args(sys.argv[1:] if argv is None else argv)
    ensure_sklearn()
    import numpy as np
    import sklearn

    M = np.loadtxt(a.data, delimiter=",", dtype=np.float64, ndmin=2)
    m, n = M.shape
    k = a.rank
    if k > min(m, n):
        p.error(f"--rank {k} exceeds min(m, n) = {min(m, n)}")
    if not np.all(np.isfinite(M)) or M.min() < 0:
        p.error(f"--data {a.data}: M must be finite and non-negative")
    if M.max() == 0:
        p.error(f"--data {a.data}: M is all zero")

    zero_cols = [j + 1 for j in range(n) if not M[:, j].any()]
    zero_rows = [i + 1 for i in range(m) if not M[i, :].any()]

    rng = np.random.default_rng(a.seed)
    s = float(np.sqrt(M.mean() / k))
    U0 = s * rng.uniform(0.0, 1.0, (m, k))
    V0 = s * rng.uniform(1.0, 2.0, (k, n))
    if not (U0.min() > 0 and V0.min() > 0):
        sys.exit("sklearn_compare: the start is not positive")  # U[0,1) can draw 0.0

    workdir = a.workdir or tempfile.mkdtemp(prefix="sklearn_compare-")
    os.makedirs(workdir, exist_ok=True)
    u_csv = os.path.join(workdir, "U.csv")
    v_csv = os.path.join(workdir, "V.csv")
    out = os.path.join(workdir, "out")
    np.savetxt(u_csv, U0, fmt="%.17g", delimiter=",")
    np.savetxt(v_csv, V0, fmt="%.17g", delimiter=",")
    for path, A in ((u_csv, U0), (v_csv, V0)):
        back = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
        if back.shape != A.shape or not np.array_equal(back, A):
            sys.exit(f"sklearn_compare: {path} does not re-read exactly")

    summary = os.path.join(out, "summary.json")
    if os.path.exists(summary):
        os.remove(summary)  # never read a stale one
    cmd = [a.nmf_lab, "run", "--data", a.data, "--rank", str(k), "--iters", str(a.iters),
           "--init-u", u_csv, "--init-v", v_csv, "--no-note-columns", "--quiet",
           "--out", out]
    print(f"M {m}x{n} from {a.data}, rank {k}, {a.iters} iterations, seed {a.seed}, "
          f"start scale s = sqrt(mean(M)/k) = {s!r}")
    if zero_cols or zero_rows:
        print(f"all-zero columns of M (1-based): {zero_cols or 'none'}; "
              f"all-zero rows: {zero_rows or 'none'}")
    print("nmf-lab: " + " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=_CALLER_ENV)
    t_lab = time.perf_counter() - t0
    with open(os.path.join(workdir, "nmf-lab.stdout"), "w") as f:
        f.write(proc.stdout)
    with open(os.path.join(workdir, "nmf-lab.stderr"), "w") as f:
        f.write(proc.stderr)
    for line in proc.stderr.splitlines():
        print(f"nmf-lab stderr: {line}")

    f_lab = None
    lab_iters = None
    lab_stop = None
    if os.path.exists(summary):
        with open(summary) as f:
            js = json.load(f)
        f_lab = js.get("final_objective")
        lab_iters = js.get("iterations")
        lab_stop = js.get("stop_message")
    print(f"nmf-lab: exit code {proc.returncode}, {t_lab:.2f} s, final_objective {f_lab!r}, "
          f"trace rows {lab_iters}, stop: {lab_stop}")

    t0 = time.perf_counter()
    U, V, sk_iters = run_sklearn(M, U0, V0, k, a.iters)
    t_sk = time.perf_counter() - t0
    f_sk = objective(M, U, V)
    print(f"scikit-learn {sklearn.__version__}: {sk_iters} iterations, {t_sk:.2f} s, "
          f"objective {f_sk!r}")

    if f_lab is None or not isinstance(f_lab, (int, float)):
        rel = float("nan")
        ok = False
    else:
        f_lab = float(f_lab)
        rel = abs(f_lab - f_sk) / f_sk if f_sk != 0 else (0.0 if f_lab == 0 else float("inf"))
        ok = rel <= a.rtol and sk_iters == a.iters
    print(f"relative difference |a-b|/b = {rel:.3e} (rtol {a.rtol:g})")
    verdict = "PASS" if ok else "FAIL"
    print(f"sklearn_compare: {verdict} rel_diff={rel:.3e} rtol={a.rtol:g} "
          f"nmf_lab={f_lab!r} sklearn={f_sk!r} nmf_lab_exit={proc.returncode} "
          f"data={a.data} m={m} n={n} k={k} iters={a.iters} seed={a.seed} "
          f"nmf_lab_s={t_lab:.2f} sklearn_s={t_sk:.2f} workdir={workdir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
