"""The sweep of scripts/bench-sweep.sh as a straightforward NumPy loop over the instances.

Each instance: M 15×8 uniform, rank 5, the note's start (U ~ U[0,1), V ~ U[1,2)), MU for ITERS
iterations. Per half-step it computes what nmf-lab's sweep computes and judges per row: the
Gram matrix and its extreme eigenvalues, MU's step, Lemma 1's terms (the step's quadratic term,
the inner product, the stable decrease), Lemma 2's ratio form (the pair sum), the K-norm and
K-ratio, θ, the diagonal bound, the round-off scale σ, the KKT part, the new factor's zeros
and subnormals; per iteration the objective by the Gram trick; and every claim as a comparison
against a tolerance (the worst usage kept per claim). Vectorised with NumPy per iteration, one
instance after another, as a researcher would write it. It draws its own random numbers (NumPy's
generator), so only the work, not the values, matches nmf-lab's.

Usage: python3 scripts/bench_sweep_numpy.py INSTANCES ITERS   (prints seconds and iterations)
"""
import sys
import time

import numpy as np

U_ROUND = 2.0 ** -53


def gamma(n):
    return n * U_ROUND / (1 - n * U_ROUND)


def half(fixed, cross, old, worst, tag):
    """One MU half-step in column layout (fixed: k×P rows of the fixed factor)."""
    x = fixed @ fixed.T
    eig = np.linalg.eigvalsh(x)
    d = x @ old
    r = cross / d
    new = old * r
    delta = new - old
    xd = x @ delta
    xn = x @ new
    step = 0.5 * np.sum(xd * delta)
    inner = np.sum((cross - xn) * delta)
    decrease = np.sum((cross - d) * delta) - 0.5 * np.sum(xd * delta)
    # Lemma 2's ratio form: Σ_i Σ_{z<j} X_zj v_z v_j (r_z − r_j)², over every column at once.
    rd = r[:, None, :] - r[None, :, :]
    closed = 0.5 * np.sum(x[:, :, None] * old[:, None, :] * old[None, :, :] * rd * rd)
    k_norm = np.sum(d / old * delta * delta)
    delta_sq = np.sum(delta * delta)
    theta = 2 * step / delta_sq if delta_sq > 0 else 0.0
    diag = 0.5 * np.min(np.diag(x)) * delta_sq
    sigma = np.sum(np.abs(delta) * (cross + d + xn))
    kkt = np.linalg.norm(np.minimum(old, d - cross))
    zeros = np.count_nonzero(new == 0)
    subnormal = np.count_nonzero((new != 0) & (np.abs(new) < np.finfo(float).tiny))
    if sigma > 0:
        k, n = old.shape
        g = gamma(2 * k + 4)
        for name, value in [
            ("lemma1", abs(decrease - step - inner) / sigma),
            ("lemma2", abs(inner - closed) / sigma),
            ("inner_nonneg", -inner / sigma),
            ("sufficient_decrease", (step - decrease) / sigma),
            ("theta_bounds", max(eig[0] - theta, theta - eig[-1]) / max(eig[-1], 1e-300)),
            ("k_ratio", max(0.5 * k_norm - decrease, decrease - k_norm) / sigma),
            ("k_identity", abs(decrease - (k_norm - step)) / sigma),
            ("diag_decrease", (diag - decrease) / sigma),
            ("k_half_decrease", (0.5 * k_norm - decrease) / sigma),
        ]:
            key = name + tag
            worst[key] = max(worst.get(key, -np.inf), value / g)
    return new, x, cross, kkt, zeros, subnormal


def instance(seed, iters):
    rng = np.random.default_rng(seed)
    u = rng.random((15, 5))
    v = rng.random((5, 8)) + 1.0
    m = rng.random((15, 8))
    m_sq = np.sum(m * m)
    worst = {}
    prev = None
    for _ in range(iters):
        v_new, x, a, kkt_v, _, _ = half(u.T, u.T @ m, v, worst, "_v")
        # Objective at (U_k, V_k) by the Gram trick, and its round-off scale.
        f = 0.5 * (m_sq - 2 * np.sum(a * v) + np.sum(x * (v @ v.T)))
        scale = 0.5 * (m_sq + 2 * np.sum(np.abs(a * v)) + np.sum(np.abs(x * (v @ v.T))))
        if prev is not None:
            worst["objective"] = max(worst.get("objective", -np.inf), (f - prev[0]) / (scale + prev[1]))
        prev = (f, scale)
        ut_new, _, _, kkt_u, _, _ = half(v_new, v_new @ m.T, np.ascontiguousarray(u.T), worst, "_u")
        u, v = ut_new.T, v_new
    return worst


def main():
    instances, iters = int(sys.argv[1]), int(sys.argv[2])
    t0 = time.perf_counter()
    for seed in range(instances):
        instance(seed, iters)
    secs = time.perf_counter() - t0
    print(f"{secs:.3f} {instances * iters}")


if __name__ == "__main__":
    main()
