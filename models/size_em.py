"""EM for one size system of the latent-size model.

Each customer's true size ``g`` is one size of the system's grid (a bra size is a point
in band x cup-volume steps) with a population prior ``pi``; each item has a continuous
offset ``delta`` (prior ``N(0, item_prior_sd^2)``). A purchase of size ``x`` has two
likelihood terms:

- the outcome, ordinal in the gap ``x - g - delta_item`` (``models.ordinal_link``);
- the choice: customers buy near their own size, ``P(x | g) = H(x - g) / Z(g)`` with
  ``H`` a histogram over gap vectors of up to ``window`` grid steps per dimension (sister
  sizes, one cup up...). Without it the model would assume that a customer who buys 34C
  is a priori any size, which flattens the estimated link. With purchase times, ``H`` is
  her first pick and later picks follow the belief dynamics of ``models.size_learning``
  (she stays in her size unless a misfit teaches her a step, the size guide tells her, or
  she picks afresh), so five orders of 34D without a misfit are one belief, and a move
  after a misfit points at her size. Without times each distinct size she bought is one
  choice.

E-step: each customer's posterior over the grid, exactly, from ``pi`` and her purchases;
it pools customers with little history toward the population, and its mass at the mode
is her size confidence. M-step: ``pi`` and ``H`` are posterior means plus a pseudo-count;
the item offsets and the link minimize the expected negative log-posterior with L-BFGS
over (purchase, candidate size) pairs weighted by the posterior.

Customers are integrated out, so the link is a marginal-likelihood estimate; a joint MAP
over continuous customer sizes instead overfits (the slope runs off with a few purchases
per customer) and rounds to the wrong size at the edge of a wide fit zone.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import logsumexp

from models.ordinal_link import FitLink
from models.size_learning import (
    Moves,
    Rates,
    Steps,
    misfit_chance,
    pick_terms,
    rate_counts,
    rates_from_counts,
    step_coordinates,
)

_MIN_POSTERIOR = 1e-4  # posterior mass below this is dropped (and the rest renormalized)
_DENSE_PAIRS = 50_000_000  # (cell x size) pairs summed with bincount below this, else sorted
_M_STEP_MIN_MASS = 1e-3  # smaller posterior masses are left out of the M-step's pairs
_STEP_CHUNK = 20_000  # picks per block of the dense (block, G) belief terms
LOG_FLOOR = np.log(1e-6)  # choice likelihood of a gap outside the window
LOG_FAR = np.log(1e-6)  # P(no misfit) of a size outside a purchase's window


@dataclass(frozen=True)
class SystemData:
    """Purchases of one size system, sorted by customer.

    Purchases with the same item, size and outcome share a *cell*: the likelihood is
    computed per cell, so the work of a step grows with the catalogue, not the rows.
    """

    weight: np.ndarray  # (n,)
    cust: np.ndarray  # (n,) customer position, non-decreasing
    cell: np.ndarray  # (n,) cell position
    cell_y: np.ndarray  # (C,) 0 too small, 1 fit, 2 too large
    cell_x: np.ndarray  # (C, dims) size bought, in steps
    cell_pos: np.ndarray  # (C, dims) int: size bought in grid positions
    cell_item: np.ndarray  # (C,) item position
    n_cust: int
    n_item: int
    grid: np.ndarray  # (G, dims) candidate true sizes, in steps
    grid_pos: np.ndarray  # (G, dims) int
    window: int
    choices: sp.csr_matrix  # (n_cust, G) 1 for every distinct size a customer bought
    picks: Steps | None  # her picks in time order (with purchase times), else None
    step_cells: sp.csr_matrix | None  # (S, C) purchases of each pick by cell
    moves: Moves  # one-step moves on the grid (band and cup letter for bras)

    @classmethod
    def from_purchases(
        cls, y, weight, x, pos, cust, item, *, n_item, grid, grid_pos, window, kind, time=None,
        guide=None,
    ):  # fmt: skip
        """Sort by customer and group identical (item, size, outcome) into cells.

        With purchase ``time``, the sequence of her picks is evidence too, and ``guide``
        (per purchase) marks picks made after a size-guide visit (``models.size_learning``).
        """
        order = np.argsort(cust, kind="stable")
        dense, low = position_lookup(grid_pos)
        size = grid_index(pos[order], dense, low)
        key = (item[order] * len(grid) + size) * 3 + y[order]
        uniq, first, cell = np.unique(key, return_index=True, return_inverse=True)
        rows = order[first]
        n_cust = int(cust.max()) + 1
        shape = (n_cust, len(grid))
        choices = sp.csr_matrix((np.ones(len(size)), (cust[order], size)), shape=shape)
        choices.data[:] = 1.0  # distinct sizes: repeats of a size are one choice
        picks = step_cells = None
        cell = cell.reshape(-1)
        if time is not None:
            picks = Steps.from_purchases(
                cust[order], size, np.asarray(time)[order],
                None if guide is None else np.asarray(guide, bool)[order],
            )  # fmt: skip
            step_cells = (picks.rows @ sp.csr_matrix(
                (np.ones(len(cell)), (np.arange(len(cell)), cell)), shape=(len(cell), len(uniq))
            )).tocsr()  # fmt: skip
        return cls(
            weight[order], cust[order], cell, y[rows], x[rows], pos[rows],
            item[rows], n_cust, n_item, grid, grid_pos, window, choices, picks, step_cells,
            Moves.on_grid(step_coordinates(kind, grid_pos)),
        )  # fmt: skip


@dataclass
class SystemFit:
    """The fitted parameters of one size system."""

    posterior: sp.csr_matrix  # (n_cust, G) each customer's distribution over true sizes
    prior: np.ndarray  # (G,) population distribution of true sizes
    log_choice: np.ndarray  # (2w+1,)*dims: log H over gap vectors
    log_z: np.ndarray  # (G,) log normalizer of the choice model
    offset: np.ndarray  # (n_item, dims)
    offset_var: np.ndarray  # (n_item, dims) Laplace variance of the offsets
    link: FitLink
    rates: Rates  # belief dynamics (``models.size_learning``)
    misfit_at_last: np.ndarray | None  # (n_cust, G) P(her latest pick misfit | size g)
    n_iter: int
    converged: bool
    log_likelihood: float  # marginal per unit weight, up to a constant


def position_lookup(grid_pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A dense array from grid position (minus ``low``) to grid index, -1 off the grid."""
    low = grid_pos.min(axis=0)
    dense = np.full(tuple(grid_pos.max(axis=0) - low + 1), -1)
    dense[tuple((grid_pos - low).T)] = np.arange(len(grid_pos))
    return dense, low


def grid_index(positions: np.ndarray, dense: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Grid index at integer ``positions`` ``(..., dims)``; -1 off the grid."""
    r = positions - low
    ok = ((r >= 0) & (r < np.array(dense.shape))).all(axis=-1)
    out = np.full(positions.shape[:-1], -1)
    out[ok] = dense[tuple(np.moveaxis(r[ok], -1, 0))]
    return out


def choice_log_z(log_choice: np.ndarray, grid_pos: np.ndarray, window: int) -> np.ndarray:
    """``log Z(g) = log sum_x H(x - g)`` over the sizes ``x`` of the grid."""
    dense, low = position_lookup(grid_pos)
    offsets = np.array(
        list(itertools.product(range(-window, window + 1), repeat=grid_pos.shape[1]))
    )
    at = grid_index(grid_pos[:, None, :] + offsets[None], dense, low)  # (G, M)
    h = np.exp(log_choice[tuple((offsets + window).T)])
    inside = (h[None, :] * (at >= 0)).sum(axis=1)
    outside = (len(grid_pos) - (at >= 0).sum(axis=1)) * np.exp(LOG_FLOOR)
    return np.log(inside + outside)


def _window_offsets(dims: int, window: int) -> np.ndarray:
    return np.array(list(itertools.product(range(-window, window + 1), repeat=dims)))


def _cell_candidates(data: SystemData) -> np.ndarray:
    """``(C, M)``: candidate true size of each cell and window offset, -1 off the grid."""
    dense, low = position_lookup(data.grid_pos)
    offsets = _window_offsets(data.grid.shape[1], data.window)
    return grid_index(data.cell_pos[:, None, :] - offsets[None], dense, low)


def _customer_cells(data: SystemData) -> sp.csr_matrix:
    """``(n_cust, C)`` summed purchase weights: fixed for a fit, so built once."""
    shape = (data.n_cust, len(data.cell_y))
    return sp.csr_matrix((data.weight, (data.cust, data.cell)), shape=shape)


def fresh_table(grid_pos: np.ndarray, window: int, log_choice, log_z) -> np.ndarray:
    """``(G, G)``: ``log P(pick x | size g) = log H(x - g) - log Z(g)``, floor off the window."""
    dense, low = position_lookup(grid_pos)
    offsets = _window_offsets(grid_pos.shape[1], window)
    g = grid_index(grid_pos[:, None, :] - offsets[None], dense, low)  # (G, M) x -> g
    x, k = np.nonzero(g >= 0)
    out = np.full((len(grid_pos), len(grid_pos)), LOG_FLOOR)
    out[x, g[x, k]] = log_choice.reshape(-1)[k]
    return out - log_z[None, :]


def _cell_tables(data: SystemData, fit: SystemFit, g_cell) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Sparse ``(C, G)`` tables over each cell's window of candidate sizes ``g``.

    The log-likelihood of the recorded outcome, and ``log P(no misfit) - LOG_FAR`` (the
    belief dynamics' misfit chance; a size outside the window misfits but for
    ``exp(LOG_FAR)``), from one evaluation of the link.
    """
    c, k = np.nonzero(g_cell >= 0)
    g = g_cell[c, k]
    z = data.cell_x[c] - data.grid[g] - fit.offset[data.cell_item[c]]
    p, rho, y = fit.link.proba(z), fit.link.report_rate, data.cell_y[c]
    recorded = np.where(y == 1, 1.0 - rho * (p[:, 0] + p[:, 2]), rho * p[np.arange(len(c)), y])
    shape = (len(data.cell_y), len(data.grid))
    table = sp.csr_matrix((np.log(np.maximum(recorded, 1e-300)), (c, g)), shape=shape)
    kept = np.log(np.maximum(1.0 - misfit_chance(p, y, rho), 1e-300)) - LOG_FAR
    return table, sp.csr_matrix((kept, (c, g)), shape=shape)


def _chunks(n: int, size: int):
    return (slice(a, min(a + size, n)) for a in range(0, n, size))


def misfit_of_steps(data: SystemData, log_kept: sp.csr_matrix, steps: np.ndarray) -> np.ndarray:
    """``(len(steps), G)``: P(some purchase of each pick misfit | her size g, the records)."""
    if data.step_cells is None:
        raise ValueError("the belief dynamics need purchase times")
    rows = data.step_cells[steps]
    n_bought = np.asarray(rows.sum(axis=1))
    return -np.expm1((rows @ log_kept).toarray() + n_bought * LOG_FAR)


def _pick_terms(data: SystemData, fit: SystemFit, log_kept, table, sl: slice):
    """Belief-dynamics terms of the picks ``sl`` and their previous sizes."""
    picks = data.picks
    if picks is None:
        raise ValueError("the belief dynamics need purchase times")
    prev = picks.prev[sl]
    first = prev < 0
    chance = misfit_of_steps(data, log_kept, np.maximum(prev, 0))
    chance[first] = 0.0
    prev_x = np.where(first, -1, picks.size[np.maximum(prev, 0)])
    terms = pick_terms(picks.size[sl], prev_x, chance, picks.guide[sl], table, data.moves, fit.rates)  # fmt: skip
    return terms, prev_x


def _log_likelihood_by_size(data, fit: SystemFit, g_cell, customer_cells):
    """``(n_cust, G)`` log-likelihood of each customer's purchases if her size were g.

    Up to a per-customer constant: sizes outside a purchase's window get the floor. The
    per-cell table is a sparse ``(C, G)`` matrix, so the sum over purchases is one sparse
    product. Her picks add the belief dynamics (with times; chunk by chunk, so memory
    stays bounded) or, without, one choice per distinct size. Also returns the cells'
    log P(no misfit) for the M-step (``None`` without times).
    """
    table, log_kept = _cell_tables(data, fit, g_cell)
    out = (customer_cells @ table).toarray()
    choice = fresh_table(data.grid_pos, data.window, fit.log_choice, fit.log_z)
    if data.picks is None:
        return out + data.choices @ choice, None
    cust = data.picks.cust
    for sl in _chunks(len(cust), _STEP_CHUNK):
        terms, _ = _pick_terms(data, fit, log_kept, choice, sl)
        c = cust[sl]  # sorted: sum each customer's run of picks
        starts = np.r_[0, np.flatnonzero(c[1:] != c[:-1]) + 1]
        out[c[starts]] += np.add.reduceat(np.log(np.maximum(terms.total, 1e-300)), starts)
    return out, log_kept


def _posterior(log_lik: np.ndarray, prior: np.ndarray) -> tuple[sp.csr_matrix, float]:
    post = log_lik + np.log(prior)[None, :]
    top = post.max(axis=1, keepdims=True)
    np.subtract(post, top, out=post)
    np.exp(post, out=post)
    total = post.sum(axis=1, keepdims=True)
    post /= total
    marginal = float((top + np.log(total)).sum())
    post[post < _MIN_POSTERIOR] = 0.0
    post /= post.sum(axis=1, keepdims=True)
    return sp.csr_matrix(post), marginal


def _cell_pairs(data: SystemData, posterior: sp.csr_matrix, min_mass: float = 0.0):
    """(cell, candidate size, weight x posterior mass), summed over purchases.

    Posterior entries below ``min_mass`` are left out (the M-step's speed-up).
    """
    if min_mass > 0:
        posterior = posterior.copy()
        posterior.data[posterior.data < min_mass] = 0.0
        posterior.eliminate_zeros()
    counts = np.diff(posterior.indptr)[data.cust]
    obs = np.repeat(np.arange(len(data.cell)), counts)
    starts = np.repeat(posterior.indptr[data.cust] - np.r_[0, np.cumsum(counts)[:-1]], counts)
    pos = starts + np.arange(counts.sum())
    n_grid, n_cells = len(data.grid), len(data.cell_y)
    key = data.cell[obs].astype(np.int64) * n_grid + posterior.indices[pos]
    mass = data.weight[obs] * posterior.data[pos]
    if n_cells * n_grid <= _DENSE_PAIRS:
        summed = np.bincount(key, mass, n_cells * n_grid)
        key = np.flatnonzero(summed)
        mass = summed[key]
    else:
        key, inverse = np.unique(key, return_inverse=True)
        mass = np.bincount(inverse.reshape(-1), mass, len(key))
    return key // n_grid, key % n_grid, mass


def _m_step(data, posterior, fit: SystemFit, log_kept, item_prior_sd, pseudocount, min_fresh,
            max_iter, tol):  # fmt: skip
    """New prior, choice histogram, rates, item offsets and link from the posterior."""
    cell, g, w = _cell_pairs(data, posterior, _M_STEP_MIN_MASS)
    counts = np.asarray(posterior.sum(axis=0)).ravel() + pseudocount
    prior = counts / counts.sum()
    rates = fit.rates
    if log_kept is None:  # (size chosen, true size): posterior mass of each distinct size
        pairs = (data.choices.T @ posterior).toarray()
    else:  # the picks drawn from H (first picks and fresh ones), and the rates' counts
        picks, n_grid = data.picks, len(data.grid)
        table = fresh_table(data.grid_pos, data.window, fit.log_choice, fit.log_z)
        pairs, tally = np.zeros((n_grid, n_grid)), np.zeros(6)
        for sl in _chunks(len(picks.cust), _STEP_CHUNK):
            terms, prev_x = _pick_terms(data, fit, log_kept, table, sl)
            resp = posterior[picks.cust[sl]].toarray()
            drawn = resp * terms.fresh / np.maximum(terms.total, 1e-300)
            n = sl.stop - sl.start
            pairs += sp.csr_matrix((np.ones(n), (picks.size[sl], np.arange(n))), shape=(n_grid, n)) @ drawn  # fmt: skip
            tally += rate_counts(terms, resp, picks.size[sl], prev_x, picks.guide[sl], fit.rates)
        rates = rates_from_counts(tally, pseudocount, min_fresh)
    x, g_true = np.nonzero(pairs)
    gap = data.grid_pos[x] - data.grid_pos[g_true] + data.window
    inside = ((gap >= 0) & (gap <= 2 * data.window)).all(axis=1)
    cells = np.ravel_multi_index(tuple(gap[inside].T), fit.log_choice.shape)
    h = np.bincount(cells, pairs[x, g_true][inside], fit.log_choice.size) + pseudocount
    log_choice = np.log(h / h.sum()).reshape(fit.log_choice.shape)
    offset, link = _fit_offsets_and_link(data, cell, g, w, fit, item_prior_sd, max_iter, tol)
    return SystemFit(
        posterior, prior, log_choice, choice_log_z(log_choice, data.grid_pos, data.window),
        offset, fit.offset_var, link, rates, None, fit.n_iter, fit.converged, fit.log_likelihood,
    )  # fmt: skip


def _fit_offsets_and_link(data, cell, g, w, fit, item_prior_sd, max_iter, tol):
    """L-BFGS on the expected negative log-posterior, warm-started at the current values."""
    y, item = data.cell_y[cell], data.cell_item[cell]
    gap = data.cell_x[cell] - data.grid[g]  # z = gap - offset[item]
    n_off, n_link = fit.offset.size, fit.link.params.size
    total, lam = data.weight.sum(), item_prior_sd**-2.0

    def objective(theta):
        off = theta[:n_off].reshape(fit.offset.shape)
        link = fit.link.with_params(theta[n_off:])
        p, dz, dparams = link.likelihood(y, gap - off[item])
        c = w / p
        grad_off = np.column_stack(
            [np.bincount(item, c * dz[:, d], len(off)) for d in range(off.shape[1])]
        )
        value = -(w * np.log(p)).sum() + 0.5 * lam * (off**2).sum()
        grad = np.concatenate([(grad_off + lam * off).ravel(), -(c[:, None] * dparams).sum(0)])
        return value / total, grad / total

    free = np.broadcast_to(fit.link.offset_free, fit.offset.shape).ravel()
    bounds = [(None, None) if f else (0.0, 0.0) for f in free] + [(-4.0, 6.0)] * n_link
    res = minimize(
        objective, np.concatenate([np.where(free, fit.offset.ravel(), 0.0), fit.link.params]),
        jac=True, method="L-BFGS-B", bounds=bounds,
        options={"maxiter": max_iter, "ftol": tol, "gtol": 1e-10},
    )  # fmt: skip
    return res.x[:n_off].reshape(fit.offset.shape), fit.link.with_params(res.x[n_off:])


def _offset_variance(data, fit: SystemFit, item_prior_sd: float) -> np.ndarray:
    """Laplace variance of each offset: prior precision plus expected information."""
    cell, g, w = _cell_pairs(data, fit.posterior)
    item = data.cell_item[cell]
    info = fit.link.information(data.cell_x[cell] - data.grid[g] - fit.offset[item])
    lam = item_prior_sd**-2.0
    var = np.column_stack(
        [
            1.0 / (lam + np.bincount(item, w * info[:, d], len(fit.offset)))
            for d in range(info.shape[1])
        ]
    )
    return var * fit.link.offset_free


def fit_system(
    data: SystemData,
    *,
    item_prior_sd: float,
    pseudocount: float,
    min_fresh_rate: float = 0.0,
    link: str,
    n_em_iter: int,
    max_iter: int,
    tol: float,
) -> SystemFit:
    """EM from a flat population prior, zero offsets, a moderate link and a peaked choice.

    Stops when the marginal log-posterior per unit weight moves by less than ``tol``.
    """
    dims, n_grid, w = data.grid.shape[1], len(data.grid), data.window
    cells = np.indices((2 * w + 1,) * dims) - w
    log_choice = -0.5 * (cells**2).sum(axis=0)  # peaked at "buys her own size"
    log_choice -= logsumexp(log_choice)
    fit = SystemFit(
        sp.csr_matrix((data.n_cust, n_grid)), np.full(n_grid, 1.0 / n_grid), log_choice,
        choice_log_z(log_choice, data.grid_pos, w), np.zeros((data.n_item, dims)),
        np.zeros((data.n_item, dims)), FitLink(link, dims), Rates(), None, 0, False, -np.inf,
    )  # fmt: skip
    total = data.weight.sum()
    g_cell, customer_cells = _cell_candidates(data), _customer_cells(data)
    while True:
        log_lik, log_kept = _log_likelihood_by_size(data, fit, g_cell, customer_cells)
        posterior, marginal = _posterior(log_lik, fit.prior)
        objective = (marginal - 0.5 * (fit.offset**2).sum() / item_prior_sd**2) / total
        fit.converged = abs(objective - fit.log_likelihood) < tol
        fit.posterior, fit.log_likelihood = posterior, objective
        if fit.converged or fit.n_iter == n_em_iter:
            break
        fit = _m_step(data, posterior, fit, log_kept, item_prior_sd, pseudocount, min_fresh_rate,
                      max_iter, tol)  # fmt: skip
        fit.n_iter += 1
    fit.offset_var = _offset_variance(data, fit, item_prior_sd)
    if data.picks is not None:  # what her next pick is weighed against
        latest = data.picks.last
        fit.misfit_at_last = np.zeros((data.n_cust, n_grid))
        known = np.flatnonzero(latest >= 0)
        log_kept = _cell_tables(data, fit, g_cell)[1]
        fit.misfit_at_last[known] = misfit_of_steps(data, log_kept, latest[known])
    return fit
