#!/usr/bin/env python3
"""Fits the rational approximation in VectorMath's GELU (run: python3 fit_coefficients.py).

GELU: upper normal tail Q(a) = 0.5 * erfc(a / sqrt 2) = exp(-a^2/2) * R(a) for a >= 0, with
      R(a) = 0.5 * erfcx(a / sqrt 2) ~ P4(a) / Q5(a), P4(0) = 0.5 exactly, fitted on [0, 15]: beyond 14.5
      x * Q(x) is below the smallest float, so R only has to stay positive and finite there (all
      coefficients are positive).
Needs numpy and scipy.
"""
import numpy as np
from scipy.special import erfcx


def lawson(design, target, weight, rel_err, iters=40):
    w = np.ones_like(target)
    best = None
    for _ in range(iters):
        coef, *_ = np.linalg.lstsq(design * (w * weight)[:, None], target * w * weight, rcond=None)
        err = rel_err(coef)
        e = np.abs(err).max()
        if best is None or e < best[0]:
            best = (e, coef)
        w = w * np.abs(err) ** 0.5
        w /= w.max()
    return best


def fit_gelu_tail(n=4, m=5, top=15.0):
    a = np.concatenate([np.linspace(0, top, 20000), (np.cos(np.linspace(0, np.pi, 4000)) + 1) * top / 2])
    y = 0.5 * erfcx(a / np.sqrt(2))
    # P(a) - y Q(a) = 0 with P(0) = 0.5 and Q(0) = 1 fixed: unknowns p1..pn, q1..qm.
    V = np.hstack([a[:, None] ** np.arange(1, n + 1), -(y[:, None]) * a[:, None] ** np.arange(1, m + 1)])
    rhs = y - 0.5
    best, qprev = None, np.ones_like(a)
    for _ in range(8):  # Sanathanan-Koerner: reweight by the previous denominator
        e, c = lawson(V, rhs, 1 / (qprev * y),
                      lambda c: ((0.5 + np.polyval(np.r_[c[:n][::-1], 0], a))
                                 / (1 + np.polyval(np.r_[c[n:][::-1], 0], a)) - y) / y)
        qprev = 1 + np.polyval(np.r_[c[n:][::-1], 0], a)
        if best is None or e < best[0]:
            best = (e, c)
    e, c = best
    return e, np.r_[0.5, c[:n]], np.r_[1.0, c[n:]]


if __name__ == "__main__":
    e, p, q = fit_gelu_tail()
    print(f"GELU tail R = P4/Q5: max relative error {e:.3g}")
    print("  P =", ", ".join(repr(float(v)) for v in p))
    print("  Q =", ", ".join(repr(float(v)) for v in q))
