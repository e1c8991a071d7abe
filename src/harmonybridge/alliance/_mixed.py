"""Exact profiled (RE)ML for a random intercept + slope per client and a random intercept per practitioner.

The model is lme4's ``y ~ X + (1 + t | client) + (1 | practitioner)`` with clients nested in
practitioners.  We use lme4's parametrisation (Bates, Mächler, Bolker & Walker 2015, *Fitting
linear mixed-effects models using lme4*, J. Stat. Softw. 67(1), §3): random effects
``b = Λθ u`` with ``u ~ N(0, σ² I)``; the client block of ``Λθ`` is the lower-triangular
``[[θ1, 0], [θ2, θ3]]`` and the practitioner block is ``θ4``.  The penalised system
``M = Λᵀ Zᵀ Z Λ + I`` is an *arrowhead* per practitioner (a 2×2 block per client plus one
practitioner row that couples to all its clients), so its Cholesky factor, log-determinant and
every solve reduce to closed-form 2×2 algebra per client and one scalar Schur complement per
practitioner.  Everything needed comes from per-client sufficient statistics
(``ZᵀZ``, ``Zᵀ[X y]``) and the global ``[X y]ᵀ[X y]``; a deviance evaluation never touches the
rows.  Fixed effects and σ² are profiled out exactly as in lme4 (eqs. 34 and 41 there).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from scipy import optimize
from threadpoolctl import ThreadpoolController

__all__ = ["Evaluation", "SuffStats", "evaluate", "optimise", "sufficient_statistics"]

_LOG2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class SuffStats:
    """Per-client cross-products; ``W = [X y]`` (the last row of ``w0``/``w1`` is the outcome).

    Clients are stored sorted by practitioner (``order[i]`` is the caller's client code of
    stored client ``i``) so that per-practitioner sums are one ``np.add.reduceat``; the
    ``(k, n_clients)`` layout keeps every per-client operation on contiguous rows.
    """

    n: np.ndarray  # (n_clients,) rows: ZᵀZ = [[n, sm], [sm, q]]
    sm: np.ndarray
    q: np.ndarray
    w0: np.ndarray  # (k, n_clients) Σ w over the client's rows
    w1: np.ndarray  # (k, n_clients) Σ t·w
    wtw: np.ndarray  # (k, k)
    order: np.ndarray  # (n_clients,)
    prac_of_client: np.ndarray  # (n_clients,) practitioner code, sorted
    starts: np.ndarray  # (n_prac,) first stored client of each practitioner
    n_prac: int
    n_obs: int
    n_fixed: int
    has_practitioner: bool
    prac_n: np.ndarray  # (n_prac,) rows per practitioner
    prac_w: np.ndarray  # (k, n_prac) column sums of W per practitioner


def sufficient_statistics(
    X: np.ndarray,
    y: np.ndarray,
    t: np.ndarray,
    client: np.ndarray,
    n_clients: int,
    prac_of_client: np.ndarray,
    n_prac: int,
    has_practitioner: bool,
) -> SuffStats:
    """Accumulate the cross-products once (one pass over the rows).

    Every practitioner code in ``0 .. n_prac-1`` must have at least one client.
    """
    W = np.column_stack([X, y])
    k = W.shape[1]
    order = np.argsort(prac_of_client, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(n_clients)
    cl = rank[client]  # stored position of each row's client
    n = np.bincount(cl, minlength=n_clients).astype(float)
    sm = np.bincount(cl, weights=t, minlength=n_clients)
    q = np.bincount(cl, weights=t * t, minlength=n_clients)
    w0 = np.empty((k, n_clients))
    w1 = np.empty((k, n_clients))
    for j in range(k):
        w0[j] = np.bincount(cl, weights=W[:, j], minlength=n_clients)
        w1[j] = np.bincount(cl, weights=t * W[:, j], minlength=n_clients)
    pocs = prac_of_client[order]
    starts = np.searchsorted(pocs, np.arange(n_prac))
    if np.any(np.diff(np.append(starts, n_clients)) == 0):
        raise ValueError("every practitioner code needs at least one client")
    return SuffStats(
        n=n,
        sm=sm,
        q=q,
        w0=w0,
        w1=w1,
        wtw=W.T @ W,
        order=order,
        prac_of_client=pocs,
        starts=starts,
        n_prac=n_prac,
        n_obs=len(y),
        n_fixed=X.shape[1],
        has_practitioner=has_practitioner,
        prac_n=np.add.reduceat(n, starts),
        prac_w=np.add.reduceat(w0, starts, axis=1),
    )


@dataclass(frozen=True)
class Evaluation:
    """Everything lme4 reports at one θ."""

    theta: np.ndarray
    deviance: float
    beta: np.ndarray
    sigma2: float
    vcov_beta: np.ndarray
    pwrss: float
    ok: bool
    gradient: np.ndarray | None = None


def _lam(theta: np.ndarray) -> np.ndarray:
    return np.array([[theta[0], 0.0], [theta[1], theta[2]]])


def _pieces(s: SuffStats, theta: np.ndarray) -> dict[str, np.ndarray]:
    """Blocks of M = ΛᵀZᵀZΛ + I and of ΛᵀZᵀW, and their Schur complements.

    Written out element by element (2×2 algebra on arrays over clients): with
    ``ZᵀZ = [[n, s], [s, q]]`` and ``Λ = [[a, 0], [b, c]]`` the client block is
    ``A = [[a²n + 2abs + b²q + 1, c(as + bq)], [c(as + bq), c²q + 1]]``, the coupling
    to the practitioner is ``B = θ4 Λᵀ[n, s]ᵀ`` and the practitioner's pivot is
    ``S = θ4² n_p + 1 − Σ BᵀA⁻¹B`` over its clients.
    """
    a, b, c = float(theta[0]), float(theta[1]), float(theta[2])
    t4 = float(theta[3]) if s.has_practitioner else 0.0
    n, sm, q = s.n, s.sm, s.q
    A00 = a * a * n + 2 * a * b * sm + b * b * q + 1.0
    A01 = c * (a * sm + b * q)
    A11 = c * c * q + 1.0
    det = A00 * A11 - A01 * A01
    i00, i01, i11 = A11 / det, -A01 / det, A00 / det
    B0 = t4 * (a * n + b * sm)
    B1 = t4 * c * sm
    W0 = a * s.w0 + b * s.w1
    W1 = c * s.w1
    AiB0 = i00 * B0 + i01 * B1
    AiB1 = i01 * B0 + i11 * B1
    AiW0 = i00 * W0 + i01 * W1
    AiW1 = i01 * W0 + i11 * W1
    S = t4 * t4 * s.prac_n + 1.0 - np.add.reduceat(B0 * AiB0 + B1 * AiB1, s.starts)
    g = t4 * s.prac_w - np.add.reduceat(B0 * AiW0 + B1 * AiW1, s.starts, axis=1)
    return {
        "detA": det,
        "i00": i00,
        "i01": i01,
        "i11": i11,
        "AiB0": AiB0,
        "AiB1": AiB1,
        "B0": B0,
        "B1": B1,
        "W0": W0,
        "W1": W1,
        "AiW0": AiW0,
        "AiW1": AiW1,
        "S": S,
        "g": g,
        "L": _lam(np.asarray(theta, float)),
        "t4": np.asarray(t4),
    }


def evaluate(
    s: SuffStats, theta: np.ndarray, reml: bool, gradient: bool = False
) -> Evaluation:
    """Profiled deviance (lme4's REML criterion or −2 log-likelihood) and the estimates at θ.

    With ``gradient`` also the exact gradient with respect to θ (see :func:`_gradient`).
    """
    theta = np.asarray(theta, dtype=float)
    pc = _pieces(s, theta)
    if np.any(pc["detA"] <= 0) or np.any(pc["S"] <= 0):
        return _bad(theta, s)
    Q = (
        pc["W0"] @ pc["AiW0"].T
        + pc["W1"] @ pc["AiW1"].T
        + (pc["g"] / pc["S"]) @ pc["g"].T
    )
    R = s.wtw - Q
    p = s.n_fixed
    RXX, RXy, Ryy = R[:p, :p], R[:p, p], R[p, p]
    try:
        C = np.linalg.cholesky(RXX)
    except np.linalg.LinAlgError:
        return _bad(theta, s)
    beta = np.linalg.solve(RXX, RXy)
    pwrss = float(Ryy - RXy @ beta)
    n = s.n_obs
    if not pwrss > 0:
        return _bad(theta, s)
    logdet_l = float(np.sum(np.log(pc["detA"])) + np.sum(np.log(pc["S"])))
    if reml:
        logdet_x = 2.0 * float(np.sum(np.log(np.diag(C))))
        dof = n - p
        dev = logdet_l + logdet_x + dof * (1.0 + _LOG2PI + np.log(pwrss / dof))
        sigma2 = pwrss / dof
    else:
        dev = logdet_l + n * (1.0 + _LOG2PI + np.log(pwrss / n))
        sigma2 = pwrss / n
    RXXinv = np.linalg.inv(RXX)
    vcov = sigma2 * RXXinv
    grad = None
    if gradient:
        grad = _gradient(s, theta, pc, beta, pwrss, RXXinv, reml)
    return Evaluation(theta, float(dev), beta, float(sigma2), vcov, pwrss, True, grad)


def _gradient(
    s: SuffStats,
    theta: np.ndarray,
    pc: dict[str, np.ndarray],
    beta: np.ndarray,
    pwrss: float,
    RXXinv: np.ndarray,
    reml: bool,
) -> np.ndarray:
    """Exact ∂deviance/∂θ.

    With ``V̄ = I + ZΛΛᵀZᵀ``, ``R = WᵀV̄⁻¹W``, ``U = M⁻¹ΛᵀZᵀW`` (conditional modes of
    every column of W), ``P = ZᵀV̄⁻¹W = ZᵀW − ZᵀZΛU`` and ``Eₖ = ∂Λ/∂θₖ``:
    ``∂log|V̄| = 2 tr(Eₖᵀ ZᵀZΛM⁻¹)``, ``∂R = −(PᵀEₖU + UᵀEₖᵀP)``; the profiled
    ``r² = vᵀRv`` with ``v = (−β̂, 1)`` then has ``∂r² = vᵀ∂R v`` (β̂ is optimal) and the
    REML term ``∂log|R_XX| = tr(R_XX⁻¹ ∂R_XX)``.  Only the diagonal blocks of each
    grouping factor enter, and the arrowhead structure gives them per client.
    """
    a, b, c = float(theta[0]), float(theta[1]), float(theta[2])
    t4 = float(pc["t4"])
    n, sm, q = s.n, s.sm, s.q
    pidx = s.prac_of_client
    S = pc["S"]
    # conditional modes of each W column: practitioner (kW, m), client parts (kW, n)
    up = pc["g"] / S
    upc = up[:, pidx]
    u0 = pc["AiW0"] - pc["AiB0"] * upc
    u1 = pc["AiW1"] - pc["AiB1"] * upc
    lam0 = a * u0
    lam1 = b * u0 + c * u1
    x0 = lam0 + t4 * upc
    P0 = s.w0 - (n * x0 + sm * lam1)
    P1 = s.w1 - (sm * x0 + q * lam1)
    Pp = (
        s.prac_w
        - np.add.reduceat(n * lam0 + sm * lam1, s.starts, axis=1)
        - (s.prac_n * t4) * up
    )
    G = [P0 @ u0.T, P1 @ u0.T, P1 @ u1.T, Pp @ up.T]
    # diagonal blocks of Y = ZᵀZΛM⁻¹
    Sp = S[pidx]
    AiB0, AiB1 = pc["AiB0"], pc["AiB1"]
    m00 = pc["i00"] + AiB0 * AiB0 / Sp
    m01 = pc["i01"] + AiB0 * AiB1 / Sp
    m11 = pc["i11"] + AiB1 * AiB1 / Sp
    mp0, mp1 = -AiB0 / Sp, -AiB1 / Sp
    K00, K01 = n * a + sm * b, sm * c
    K10, K11 = sm * a + q * b, q * c
    y00 = np.sum(K00 * m00 + K01 * m01 + t4 * n * mp0)
    y10 = np.sum(K10 * m00 + K11 * m01 + t4 * sm * mp0)
    y11 = np.sum(K10 * m01 + K11 * m11 + t4 * sm * mp1)
    ypp = np.sum(
        (s.prac_n * t4 - np.add.reduceat(K00 * AiB0 + K01 * AiB1, s.starts)) / S
    )
    dlogdet = 2.0 * np.array([y00, y10, y11, ypp])
    v = np.append(-beta, 1.0)
    p = s.n_fixed
    dr2 = np.array([-2.0 * (v @ Gk @ v) for Gk in G])
    if reml:
        dRX = np.array([-2.0 * np.sum(RXXinv * Gk[:p, :p].T) for Gk in G])
        grad = dlogdet + dRX + (s.n_obs - p) * dr2 / pwrss
    else:
        grad = dlogdet + s.n_obs * dr2 / pwrss
    if not s.has_practitioner:
        grad[3] = 0.0
    result: np.ndarray = grad
    return result


def _bad(theta: np.ndarray, s: SuffStats) -> Evaluation:
    p = s.n_fixed
    nan = np.full(p, np.nan)
    return Evaluation(
        theta, np.inf, nan, np.nan, np.full((p, p), np.nan), np.nan, False
    )


def conditional_modes(
    s: SuffStats, theta: np.ndarray, beta: np.ndarray, sigma2: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """BLUPs b = Λu and their conditional covariances σ² Λ M⁻¹ Λᵀ (diagonal blocks).

    Returns client modes (n, 2), client covariances (n, 2, 2), practitioner modes (m,)
    and practitioner variances (m,), like lme4's ``ranef(fit, condVar = TRUE)``.
    """
    pc = _pieces(s, np.asarray(theta, float))
    wb = np.append(-beta, 1.0)  # wbᵀW = (y − Xβ)ᵀ
    r_p = pc["t4"] * (wb @ s.prac_w)
    a0, a1 = wb @ pc["AiW0"], wb @ pc["AiW1"]  # A⁻¹ r per client
    rhs_p = r_p - np.add.reduceat(pc["B0"] * a0 + pc["B1"] * a1, s.starts)
    u_p = rhs_p / pc["S"]
    p = s.prac_of_client
    u0 = a0 - pc["AiB0"] * u_p[p]
    u1 = a1 - pc["AiB1"] * u_p[p]
    # (M⁻¹)_cc = A⁻¹ + A⁻¹B S⁻¹ BᵀA⁻¹ ; (M⁻¹)_pp = S⁻¹
    Sp = pc["S"][p]
    m00 = pc["i00"] + pc["AiB0"] ** 2 / Sp
    m01 = pc["i01"] + pc["AiB0"] * pc["AiB1"] / Sp
    m11 = pc["i11"] + pc["AiB1"] ** 2 / Sp
    Minv = np.stack([np.stack([m00, m01], -1), np.stack([m01, m11], -1)], -2)
    L = pc["L"]
    b_c = np.empty((len(p), 2))
    v_c = np.empty((len(p), 2, 2))
    b_c[s.order] = np.column_stack([u0, u1]) @ L.T
    v_c[s.order] = sigma2 * np.einsum("ij,njk,lk->nil", L, Minv, L)
    t4 = float(pc["t4"])
    b_p = t4 * u_p
    v_p = sigma2 * t4 * t4 / pc["S"]
    return b_c, v_c, b_p, v_p


@cache
def _blas() -> ThreadpoolController:
    """The process's BLAS libraries, found once.

    ``threadpool_limits()`` searches the loaded libraries on every call (it reads
    ``/proc/self/maps`` and opens each library): for the 1,400 refits of a practitioner-ICC
    bootstrap that search cost about a fifth of the whole fit.
    """
    return ThreadpoolController()


def optimise(
    s: SuffStats,
    reml: bool,
    *,
    free: tuple[int, ...] | None = None,
    start: np.ndarray | None = None,
    max_iter: int = 1000,
) -> tuple[Evaluation, bool, str]:
    """Minimise the profiled deviance over θ (θ1, θ3, θ4 ≥ 0, as lme4 bounds them).

    L-BFGS-B from lme4's start (1, 0, 1, 1) with the exact gradient, then projected
    Newton steps (Hessian from forward differences of the exact gradient) that locate the
    optimum to ~1e-10 in θ.  ``free`` selects the optimised θ components (the others
    stay 0: ``(0, 3)`` is the random-intercept-only model); ``start`` replaces lme4's
    starting θ (a warm start for bootstrap refits).  Converged means lme4's own
    criterion, the scaled gradient ``max |H⁻¹g|`` on the free, not-at-bound components,
    is below 1e-6 (lme4 accepts 2e-3).  Returns the evaluation, whether it converged,
    and a message.
    """
    # Every BLAS call here is tiny (4×4 matrices, or k×n products with k ≤ ~10): with
    # several BLAS threads the thread start-up costs ~8× the work on a busy machine.
    with _blas().limit(limits=1, user_api="blas"):
        return _optimise(s, reml, free, start, max_iter)


def _optimise(
    s: SuffStats,
    reml: bool,
    free: tuple[int, ...] | None,
    start: np.ndarray | None,
    max_iter: int,
) -> tuple[Evaluation, bool, str]:
    if free is None:
        free = (0, 1, 2, 3) if s.has_practitioner else (0, 1, 2)
    idx_free = list(free)
    lo = np.array([0.0, -np.inf, 0.0, 0.0])[idx_free]

    def full(x: np.ndarray) -> np.ndarray:
        th = np.zeros(4)
        th[idx_free] = x
        return th

    def fg(x: np.ndarray) -> tuple[float, np.ndarray]:
        ev = evaluate(s, full(x), reml, gradient=True)
        if not ev.ok or ev.gradient is None:
            return np.inf, np.zeros(len(x))
        return ev.deviance, ev.gradient[idx_free]

    bounds = [(v, None) if np.isfinite(v) else (None, None) for v in lo]
    opts = {"maxiter": max_iter, "ftol": 1e-10, "gtol": 1e-6}

    def search(x0: np.ndarray) -> optimize.OptimizeResult:
        return optimize.minimize(
            fg, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=opts
        )

    x0 = np.array([1.0, 0.0, 1.0, 1.0]) if start is None else np.asarray(start, float)
    res = search(x0[idx_free])
    x, fx = np.asarray(res.x, float), float(res.fun)
    # The deviance is even in θ1, θ3 and θ4, so 0 is always a stationary point of those
    # coordinates, and a descent can stop there although the optimum is inside.  Restart
    # away from each bound the search ended on; keep the better end point.
    for i in np.flatnonzero(np.isfinite(lo) & (x <= lo + 1e-3)):
        xs = x.copy()
        xs[i] = 0.5
        alt = search(xs)
        if alt.fun < fx - 1e-9 * max(1.0, abs(fx)):
            x, fx, res = np.asarray(alt.x, float), float(alt.fun), alt
    if not np.isfinite(fx):
        return (
            evaluate(s, full(x), reml),
            False,
            "no convergence: the deviance is not finite at the optimiser's end point",
        )
    x, fx, scaled = _polish(fg, x, fx, lo)
    converged = scaled < 1e-6
    msg = (
        "converged"
        if converged
        else f"no convergence: scaled gradient {scaled:.3g} after {res.nit} iterations "
        f"({res.message})"
    )
    ev = evaluate(s, full(x), reml)
    return ev, converged and ev.ok, msg


def _hess(fg: Any, x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Forward differences of the exact gradient, symmetrised (the chord iteration
    only needs a good approximation; the gradient itself is exact)."""
    h = 1e-5 * np.maximum(np.abs(x), 1e-2)
    g0 = fg(x)[1][idx]
    H = np.empty((len(idx), len(idx)))
    for a, i in enumerate(idx):
        e = np.zeros_like(x)
        e[i] = h[i]
        H[:, a] = (fg(x + e)[1][idx] - g0) / h[i]
    return (H + H.T) / 2


def _polish(
    fg: Any, x: np.ndarray, fx: float, lo: np.ndarray
) -> tuple[np.ndarray, float, float]:
    """Projected Newton on the coordinates not held at a bound; returns the scaled gradient.

    The Hessian is computed once per set of free coordinates and reused (a chord
    iteration), recomputed when a step has to be shortened.
    """
    scaled = np.inf
    H = None
    H_idx = None
    g = fg(x)[1]
    for _ in range(30):
        h = 1e-5 * np.maximum(np.abs(x), 1e-2)
        at_bound = (x - lo <= h) & (g > 0)
        if np.any(at_bound & (x > lo)):
            xb = np.where(at_bound, lo, x)
            fb, gb = fg(xb)
            if fb <= fx:
                x, fx, g = xb, fb, gb
                continue
        idx = np.flatnonzero(~at_bound)
        if len(idx) == 0:
            return x, fx, 0.0
        if H is None or H_idx is None or not np.array_equal(idx, H_idx):
            H, H_idx = _hess(fg, x, idx), idx
            try:
                ok = bool(np.all(np.linalg.eigvalsh(H) > 0))
            except np.linalg.LinAlgError:
                ok = False
            if not ok:
                return x, fx, float(np.max(np.abs(g[idx])))
        step_free = -np.linalg.solve(H, g[idx])
        scaled = float(np.max(np.abs(step_free)))
        if scaled < 1e-10:
            return x, fx, scaled
        step = np.zeros_like(x)
        step[idx] = step_free
        t = 1.0
        while t > 1e-8:
            xn = np.maximum(x + t * step, lo)
            fn, gn = fg(xn)
            if fn <= fx + 1e-12 * abs(fx):
                break
            t /= 2
        else:
            return x, fx, scaled
        if t < 1.0:
            H = None
        moved = np.max(np.abs(xn - x))
        x, fx, g = xn, fn, gn
        if moved < 1e-13:
            return x, fx, scaled
    return x, fx, scaled
