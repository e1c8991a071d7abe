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

import numpy as np
from scipy import optimize

__all__ = ["Evaluation", "SuffStats", "evaluate", "optimise", "sufficient_statistics"]

_LOG2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class SuffStats:
    """Per-client cross-products; ``W = [X y]`` (the last column is the outcome)."""

    ztz: np.ndarray  # (n_clients, 2, 2)
    ztw: np.ndarray  # (n_clients, 2, k)
    wtw: np.ndarray  # (k, k)
    prac_of_client: np.ndarray  # (n_clients,) integer codes
    n_prac: int
    n_obs: int
    n_fixed: int
    has_practitioner: bool
    prac_n: np.ndarray  # (n_prac,) rows per practitioner
    prac_w: np.ndarray  # (n_prac, k) column sums of W per practitioner


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
    """Accumulate the cross-products once (one pass over the rows)."""
    W = np.column_stack([X, y])
    k = W.shape[1]
    ones = np.bincount(client, minlength=n_clients).astype(float)
    st = np.bincount(client, weights=t, minlength=n_clients)
    stt = np.bincount(client, weights=t * t, minlength=n_clients)
    ztz = np.empty((n_clients, 2, 2))
    ztz[:, 0, 0] = ones
    ztz[:, 0, 1] = ztz[:, 1, 0] = st
    ztz[:, 1, 1] = stt
    ztw = np.empty((n_clients, 2, k))
    for j in range(k):
        ztw[:, 0, j] = np.bincount(client, weights=W[:, j], minlength=n_clients)
        ztw[:, 1, j] = np.bincount(client, weights=t * W[:, j], minlength=n_clients)
    prac_n = np.bincount(prac_of_client, weights=ones, minlength=n_prac)
    prac_w = np.zeros((n_prac, k))
    np.add.at(prac_w, prac_of_client, ztw[:, 0, :])
    return SuffStats(
        ztz=ztz,
        ztw=ztw,
        wtw=W.T @ W,
        prac_of_client=prac_of_client,
        n_prac=n_prac,
        n_obs=len(y),
        n_fixed=X.shape[1],
        has_practitioner=has_practitioner,
        prac_n=prac_n,
        prac_w=prac_w,
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


def _inv2(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    det = a[:, 0, 0] * a[:, 1, 1] - a[:, 0, 1] * a[:, 1, 0]
    inv = np.empty_like(a)
    inv[:, 0, 0] = a[:, 1, 1] / det
    inv[:, 1, 1] = a[:, 0, 0] / det
    inv[:, 0, 1] = -a[:, 0, 1] / det
    inv[:, 1, 0] = -a[:, 1, 0] / det
    return inv, det


def _lam(theta: np.ndarray) -> np.ndarray:
    return np.array([[theta[0], 0.0], [theta[1], theta[2]]])


def _pieces(s: SuffStats, theta: np.ndarray) -> dict[str, np.ndarray]:
    """Blocks of M = ΛᵀZᵀZΛ + I and of ΛᵀZᵀW, and their Schur complements.

    Written out element by element (2×2 algebra on arrays over clients): with
    ``ZᵀZ = [[n, s], [s, q]]`` and ``Λ = [[a, 0], [b, c]]`` the client block is
    ``A = [[a²n + 2abs + b²q + 1, c(as + bq)], [c(as + bq), c²q + 1]]``.
    """
    a, b, c = float(theta[0]), float(theta[1]), float(theta[2])
    t4 = float(theta[3]) if s.has_practitioner else 0.0
    n, sm, q = s.ztz[:, 0, 0], s.ztz[:, 0, 1], s.ztz[:, 1, 1]
    A00 = a * a * n + 2 * a * b * sm + b * b * q + 1.0
    A01 = c * (a * sm + b * q)
    A11 = c * c * q + 1.0
    det = A00 * A11 - A01 * A01
    i00, i01, i11 = A11 / det, -A01 / det, A00 / det
    B0 = t4 * (a * n + b * sm)
    B1 = t4 * c * sm
    w0, w1 = s.ztw[:, 0, :], s.ztw[:, 1, :]
    W0 = a * w0 + b * w1
    W1 = c * w1
    AiB0 = i00 * B0 + i01 * B1
    AiB1 = i01 * B0 + i11 * B1
    AiW0 = i00[:, None] * W0 + i01[:, None] * W1
    AiW1 = i01[:, None] * W0 + i11[:, None] * W1
    p = s.prac_of_client
    S = (
        t4 * t4 * s.prac_n
        + 1.0
        - np.bincount(p, weights=B0 * AiB0 + B1 * AiB1, minlength=s.n_prac)
    )
    BAW = B0[:, None] * AiW0 + B1[:, None] * AiW1
    g = t4 * s.prac_w
    for j in range(g.shape[1]):
        g[:, j] -= np.bincount(p, weights=BAW[:, j], minlength=s.n_prac)
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


def evaluate(s: SuffStats, theta: np.ndarray, reml: bool) -> Evaluation:
    """Profiled deviance (lme4's REML criterion or −2 log-likelihood) and the estimates at θ."""
    theta = np.asarray(theta, dtype=float)
    pc = _pieces(s, theta)
    if np.any(pc["detA"] <= 0) or np.any(pc["S"] <= 0):
        return _bad(theta, s)
    Q = (
        pc["W0"].T @ pc["AiW0"]
        + pc["W1"].T @ pc["AiW1"]
        + (pc["g"].T / pc["S"]) @ pc["g"]
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
    vcov = sigma2 * np.linalg.inv(RXX)
    return Evaluation(theta, float(dev), beta, float(sigma2), vcov, pwrss, True)


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
    wb = np.append(-beta, 1.0)  # W @ wb = y − Xβ
    _r0, _r1 = pc["W0"] @ wb, pc["W1"] @ wb
    r_p = pc["t4"] * (s.prac_w @ wb)
    a0, a1 = pc["AiW0"] @ wb, pc["AiW1"] @ wb  # A⁻¹ r
    p = s.prac_of_client
    rhs_p = r_p - np.bincount(
        p, weights=pc["B0"] * a0 + pc["B1"] * a1, minlength=s.n_prac
    )
    u_p = rhs_p / pc["S"]
    u0 = a0 - pc["AiB0"] * u_p[p]
    u1 = a1 - pc["AiB1"] * u_p[p]
    # (M⁻¹)_cc = A⁻¹ + A⁻¹B S⁻¹ BᵀA⁻¹ ; (M⁻¹)_pp = S⁻¹
    Sp = pc["S"][p]
    m00 = pc["i00"] + pc["AiB0"] ** 2 / Sp
    m01 = pc["i01"] + pc["AiB0"] * pc["AiB1"] / Sp
    m11 = pc["i11"] + pc["AiB1"] ** 2 / Sp
    Minv = np.stack([np.stack([m00, m01], -1), np.stack([m01, m11], -1)], -2)
    L = pc["L"]
    b_c = np.column_stack([u0, u1]) @ L.T
    v_c = sigma2 * np.einsum("ij,njk,lk->nil", L, Minv, L)
    t4 = float(pc["t4"])
    b_p = t4 * u_p
    v_p = sigma2 * t4 * t4 / pc["S"]
    return b_c, v_c, b_p, v_p


def optimise(
    s: SuffStats,
    reml: bool,
    *,
    free: tuple[int, ...] | None = None,
    max_iter: int = 1000,
) -> tuple[Evaluation, bool, str]:
    """Minimise the profiled deviance over θ (θ1, θ3, θ4 ≥ 0, as lme4 bounds them).

    L-BFGS-B from lme4's start (1, 0, 1, 1) with central-difference gradients, then
    projected Newton steps with a central-difference Hessian, which polish the optimum
    far below 1e-6 relative.  ``free`` selects the optimised θ components (the others
    stay 0: ``(0, 3)`` is the random-intercept-only model).  Converged means lme4's own
    criterion, the scaled gradient ``max |H⁻¹g|`` on the free, not-at-bound components,
    is below 1e-6 (lme4 accepts 2e-3).  Returns the evaluation, whether it converged,
    and a message.
    """
    if free is None:
        free = (0, 1, 2, 3) if s.has_practitioner else (0, 1, 2)
    idx_free = list(free)
    lower_all = np.array([0.0, -np.inf, 0.0, 0.0])
    lo = lower_all[idx_free]

    def full(x: np.ndarray) -> np.ndarray:
        th = np.zeros(4)
        th[idx_free] = x
        return th

    def f(x: np.ndarray) -> float:
        return evaluate(s, full(x), reml).deviance

    x0 = np.array([1.0, 0.0, 1.0, 1.0])[idx_free]
    bounds = [(v, None) if np.isfinite(v) else (None, None) for v in lo]
    res = optimize.minimize(
        f,
        x0,
        jac=lambda x: _grad(f, x, lo, 1e-4),
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iter, "ftol": 1e-13, "gtol": 1e-9},
    )
    x = np.asarray(res.x, float)
    fx = f(x)
    # The deviance is even in θ1, θ3 and θ4, so 0 is always a stationary point of those
    # coordinates, and a descent can stop there although the optimum is inside.  Restart
    # away from each bound the search ended on; keep the better end point.
    for i in np.flatnonzero(np.isfinite(lo) & (x <= lo + 1e-3)):
        xs = x.copy()
        xs[i] = 0.5
        alt = optimize.minimize(
            f,
            xs,
            jac=lambda z: _grad(f, z, lo, 1e-4),
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter, "ftol": 1e-13, "gtol": 1e-9},
        )
        if alt.fun < fx - 1e-9 * max(1.0, abs(fx)):
            x, fx, res = np.asarray(alt.x, float), float(alt.fun), alt
    if not np.isfinite(fx):
        return (
            evaluate(s, full(x), reml),
            False,
            "no convergence: the deviance is not finite at the optimiser's end point",
        )
    x, fx, scaled = _polish(f, x, fx, lo)
    converged = scaled < 1e-6
    msg = (
        "converged"
        if converged
        else f"no convergence: scaled gradient {scaled:.3g} after {res.nit} iterations "
        f"({res.message})"
    )
    ev = evaluate(s, full(x), reml)
    return ev, converged and ev.ok, msg


def _steps(x: np.ndarray, rel: float) -> np.ndarray:
    return rel * np.maximum(np.abs(x), 1e-2)


def _grad(f, x: np.ndarray, lo: np.ndarray, rel: float = 1e-3) -> np.ndarray:
    """Finite-difference gradient: 4-point central (error O(h⁴)), one-sided at a bound.

    The step is large (1e-3 relative) so that the deviance's rounding noise (~1e-14
    relative) barely reaches the gradient; that is what lets Newton locate the optimum
    to ~1e-9 in θ, where a search on deviance values alone stalls near 1e-6.
    """
    h = _steps(x, rel)
    g = np.empty_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h[i]
        if x[i] - 2 * h[i] < lo[i]:
            g[i] = (-3 * f(x) + 4 * f(x + e) - f(x + 2 * e)) / (2 * h[i])
        else:
            g[i] = (-f(x + 2 * e) + 8 * f(x + e) - 8 * f(x - e) + f(x - 2 * e)) / (
                12 * h[i]
            )
    return g


def _hess(f, x: np.ndarray, idx: np.ndarray, f0: float) -> np.ndarray:
    h = _steps(x, 1e-3)
    k = len(idx)
    H = np.empty((k, k))
    for a, i in enumerate(idx):
        ei = np.zeros_like(x)
        ei[i] = h[i]
        H[a, a] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
        for b in range(a + 1, k):
            j = idx[b]
            ej = np.zeros_like(x)
            ej[j] = h[j]
            H[a, b] = H[b, a] = (
                f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            ) / (4 * h[i] * h[j])
    return H


def _polish(
    f, x: np.ndarray, fx: float, lo: np.ndarray
) -> tuple[np.ndarray, float, float]:
    """Projected Newton on the coordinates not held at a bound; returns the scaled gradient."""
    scaled = np.inf
    for _ in range(30):
        g = _grad(f, x, lo)
        at_bound = (x - lo <= _steps(x, 1e-3)) & (g > 0)
        if np.any(at_bound & (x > lo)):
            xb = np.where(at_bound, lo, x)
            fb = f(xb)
            if fb <= fx:
                x, fx = xb, fb
                continue
        idx = np.flatnonzero(~at_bound)
        if len(idx) == 0:
            return x, fx, 0.0
        H = _hess(f, x, idx, fx)
        try:
            step_free = -np.linalg.solve(H, g[idx])
            ok = bool(np.all(np.linalg.eigvalsh(H) > 0))
        except np.linalg.LinAlgError:
            ok = False
        if not ok:
            return x, fx, float(np.max(np.abs(g[idx])))
        scaled = float(np.max(np.abs(step_free)))
        if scaled < 1e-10:
            return x, fx, scaled
        step = np.zeros_like(x)
        step[idx] = step_free
        t = 1.0
        while t > 1e-8:
            xn = np.maximum(x + t * step, lo)
            fn = f(xn)
            if fn <= fx:
                break
            t /= 2
        else:
            return x, fx, scaled
        moved = np.max(np.abs(xn - x))
        x, fx = xn, fn
        if moved < 1e-12:
            return x, fx, scaled
    return x, fx, scaled
