"""The note's experiment (its update, its formulas, its order), timed next to nmf-lab.

Only the plotting is left out. Both sides run the same number of iterations on a 15x8 matrix of
rank 5; nmf-lab additionally writes trace.csv, trace.json, summary.json and figures.html.
"""
import subprocess
import sys
import tempfile
import time

import numpy as np


def note_run(iters, seed=0):
    rng = np.random.default_rng(seed)
    U = rng.random((15, 5))
    V = rng.random((5, 8)) + 1.0
    M = rng.random((15, 8))
    Uk, Vk = U, V
    f = lambda U, V: 0.5 * np.sum(np.square(M - U @ V))
    for _ in range(iters):
        Vk1 = Vk * (Uk.T @ M) / (Uk.T @ (Uk @ Vk))
        Uk1 = Uk * (M @ Vk1.T) / (Uk @ (Vk1 @ Vk1.T))
        np.linalg.svd(Uk.T @ Uk)
        np.linalg.svd(Vk.T @ Vk)
        d = Vk - Vk1
        np.sum(np.square(Uk @ d)) / max(np.sum(np.square(d)), 1e-300)
        e = (Uk - Uk1).T
        np.sum(np.square(Vk1.T @ e)) / max(np.sum(np.square(e)), 1e-300)
        f(Uk, Vk)
        0.5 * np.sum(np.square(Uk @ d))
        f(Uk, Vk) - f(Uk, Vk1)
        np.sum((Vk1 - Vk).T * (M.T @ Uk - Vk1.T @ (Uk.T @ Uk)))
        X = Uk.T @ Uk
        s = 0.0
        with np.errstate(all="ignore"):
            for i in range(Vk.shape[1]):
                vk, vk1 = Vk[:, i], Vk1[:, i]
                for z in range(Vk.shape[0]):
                    for j in range(Vk.shape[0]):
                        if j != z:
                            s += X[z, j] * np.square(
                                np.sqrt(vk[z] / vk[j]) * (vk1[j] - vk[j]) - np.sqrt(vk[j] / vk[z]) * (vk1[z] - vk[z])
                            )
        Uk, Vk = Uk1, Vk1


def main():
    iters = int(sys.argv[1])
    t0 = time.perf_counter()
    note_run(iters)
    t_note = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        subprocess.run(
            ["target/release/nmf-lab", "reproduce", "--iters", str(iters), "--out", d, "--quiet"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        t_rust = time.perf_counter() - t0
    print(f"note's NumPy script, {iters} iterations: {t_note:.3f} s")
    print(f"nmf-lab reproduce,   {iters} iterations: {t_rust:.3f} s (whole process, files written)")
    print(f"ratio: {t_note / t_rust:.1f}x")


if __name__ == "__main__":
    main()
