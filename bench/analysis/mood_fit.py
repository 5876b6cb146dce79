"""Values and covariates per process → slopes, and the bootstrap of the adjusted median.

The arithmetic of bench.analysis.mood, vectorised over the bootstrap's draws: a
least-squares fit of log(value) on log(covariates), with one intercept per process or
one for all (pooled), and the medians of the values moved by it.

(Huber-weighted slopes, robust to the odd slow value, were tried: over simulated runs
with two values of 30 made 10-25% slow, they narrowed the adjusted CI by a thirtieth
and cost the fit nine times the time, so the plain fit stays.)
"""

from __future__ import annotations

import itertools

import numpy as np

from bench.analysis.stats import BOOTSTRAP_RESAMPLES


def table(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each process's points as one row padded to the largest, in the canonical order
    stats.bootstrap_medians puts them in (values sorted within a process, processes by
    their size and values), so that both draw the same resamples from one seed; and the
    valid mask. x has a column per covariate."""
    rows = []
    for key in np.unique(groups):
        mine = groups == key
        order = np.lexsort((*x[mine].T[::-1], y[mine]))
        rows.append((x[mine][order], y[mine][order]))
    rows.sort(key=lambda r: (len(r[1]), r[1].tolist(), r[0].tolist()))
    width = max(len(r[1]) for r in rows)
    tx, ty = np.zeros((len(rows), width, x.shape[1])), np.zeros((len(rows), width))
    valid = np.zeros((len(rows), width), dtype=bool)
    for i, (rx, ry) in enumerate(rows):
        tx[i, : len(ry)], ty[i, : len(ry)], valid[i, : len(ry)] = rx, ry, True
    return tx, ty, valid


def fit(
    x: np.ndarray, y: np.ndarray, valid: np.ndarray, pooled: bool, signs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares slopes of y on the covariates x over the axes (groups, points,
    covariate), each held to its side of 0 (`signs`: +1 at least 0, -1 at most 0), with
    one intercept per group (process), or one for all (pooled: the groups' rows joined
    into one first); and x and y less their intercept's mean (0 where not valid).
    Vectorised over leading axes (the bootstrap's draws). A draw whose covariates did
    not vary at all gets NaN slopes.

    Held to a side because a covariate can only slow a switch one way: a busier memory
    hierarchy, less of the CPU. A slope of the other sign is the fit chasing noise, and
    would move the values by it. Sign-constrained least squares over so few covariates
    is the best of the unconstrained fits on each subset of them (0 elsewhere) whose
    slopes keep their sides."""
    if pooled:
        lead = y.shape[:-2]
        joined = (*lead, 1, y.shape[-2] * y.shape[-1])
        x, y, valid = x.reshape(*joined, x.shape[-1]), y.reshape(joined), valid.reshape(joined)
    n = valid.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_x = np.where(valid[..., None], x, 0).sum(-2, keepdims=True) / n[..., None]
        mean_y = np.where(valid, y, 0).sum(-1, keepdims=True) / n
    dx = np.where(valid[..., None], x - np.nan_to_num(mean_x), 0)
    dy = np.where(valid, y - np.nan_to_num(mean_y), 0)
    xtx = np.einsum("...gpi,...gpj->...ij", dx, dx)
    xty = np.einsum("...gpi,...gp->...i", dx, dy)
    k = x.shape[-1]
    best = np.zeros((*xty.shape[:-1], k))
    gain = np.zeros(xty.shape[:-1])  # what the fit takes off the residual sum of squares
    solvable = np.zeros(xty.shape[:-1], dtype=bool)
    for subset in itertools.chain.from_iterable(
        itertools.combinations(range(k), size) for size in range(1, k + 1)
    ):
        cols = list(subset)
        beta, ok = _solve(xtx[..., cols, :][..., :, cols], xty[..., cols])
        solvable |= ok
        keeps_side = (beta * signs[cols] >= 0).all(axis=-1)
        subset_gain = np.einsum("...i,...i->...", beta, xty[..., cols])
        better = ok & keeps_side & (subset_gain > gain)
        full = np.zeros_like(best)
        full[..., cols] = beta
        best = np.where(better[..., None], full, best)
        gain = np.where(better, subset_gain, gain)
    return np.where(solvable[..., None], best, np.nan), dx, dy


def _solve(xtx: np.ndarray, xty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The normal equations' solution where they are well posed (judged on the
    correlation scale, so that "too little variation to fit" does not depend on the
    covariates' units), 0 and False elsewhere."""
    scale = np.sqrt(np.einsum("...ii->...i", xtx))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = xtx / (scale[..., :, None] * scale[..., None, :])
    ok = np.isfinite(corr).all(axis=(-2, -1)) & (scale > 0).all(axis=-1)
    ok &= np.linalg.det(np.where(ok[..., None, None], corr, 1.0)) > 1e-9
    safe = np.where(ok[..., None, None], xtx, np.eye(xtx.shape[-1]))
    beta = np.linalg.solve(safe, np.where(ok[..., None], xty, 0)[..., None])[..., 0]
    return np.where(ok[..., None], beta, 0.0), ok


def r_squared(beta: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> float:
    """The share of the variance of y (about the fit's intercepts) the covariates
    account for."""
    total = float((dy**2).sum())
    residual = dy - np.einsum("gpi,i->gp", dx, beta)
    return 1 - float((residual**2).sum()) / total if total > 0 else float("nan")


def medians(adjusted: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Median of the valid entries of each draw (leading axis); invalid ones sort last."""
    flat = np.sort(np.where(valid, adjusted, np.inf).reshape(len(adjusted), -1), axis=1)
    counts = valid.reshape(len(valid), -1).sum(axis=1)
    rows = np.arange(len(flat))
    return (flat[rows, (counts - 1) // 2] + flat[rows, counts // 2]) / 2


def bootstrap(
    tx: np.ndarray,
    ty: np.ndarray,
    valid: np.ndarray,
    beta: np.ndarray,
    log_ref: np.ndarray,
    pooled: bool,
    seed: int,
    signs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BOOTSTRAP_RESAMPLES two-stage draws (processes, then values within them: the
    same draws stats.bootstrap_medians makes from the same seed and table), with the
    slopes re-fitted in each: the adjusted log medians, the slopes, and which draws
    could be fitted (the others are moved by the fit's own slopes)."""
    rng = np.random.default_rng(seed)
    processes, width = ty.shape
    sizes = valid.sum(axis=1)
    picked = rng.integers(0, processes, size=(BOOTSTRAP_RESAMPLES, processes))
    within = rng.random((BOOTSTRAP_RESAMPLES, processes, width)) * sizes[picked][..., None]
    within = within.astype(int)
    drawn_valid = np.arange(width)[None, None, :] < sizes[picked][..., None]
    dx, dy = tx[picked[..., None], within], ty[picked[..., None], within]
    betas = fit(dx, dy, drawn_valid, pooled, signs)[0].reshape(BOOTSTRAP_RESAMPLES, -1)
    fitted = np.isfinite(betas).all(axis=1)
    betas = np.where(fitted[:, None], betas, beta)
    moved = np.einsum("bgpi,bi->bgp", dx - log_ref, betas)
    return medians(dy - moved, drawn_valid), betas, fitted
