"""How a customer's picks evolve: the sequence of sizes she buys is evidence of her size.

A customer picks the size she believes is hers. Her first pick is her size plus a belief
error, drawn from the choice histogram ``H`` (``models.size_em``). Afterwards she changes
her belief only for a reason:

- after a misfit she learns with probability ``learn_rate``: her next pick is one step
  (band or cup letter for bras) closer to her true size; otherwise she buys the same size;
- a size-guide visit before the pick (when the data records it) gives her true size with
  probability ``guide_rate``;
- with probability ``fresh_rate`` she picks afresh from ``H`` (a gift, a new brand habit).

So staying in a size after misfits says the size is hers, a one-step move says her size
lies in that direction, and a pick after the size guide leans on her true size. Whether a
purchase misfit is itself uncertain: a recorded fit may be an unreported misfit (the
link's report rate), so the chance that she learned is ``learn_rate * P(some purchase of
the previous step misfit | her size, the records)``. The rates are fitted in the M-step
from posterior responsibilities.

A *step* is one (customer, time, size): the lines of one order in one size are one pick.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class Steps:
    """A customer's picks in time order: one step per (customer, time, size)."""

    cust: np.ndarray  # (S,) customer position
    size: np.ndarray  # (S,) grid index of the size picked
    prev: np.ndarray  # (S,) her previous step (strictly earlier time), -1 for her first
    guide: np.ndarray  # (S,) bool: she viewed the size guide before this pick
    rows: sp.csr_matrix  # (S, n) the purchases of each step
    last: np.ndarray  # (n_cust,) her latest step

    @classmethod
    def from_purchases(cls, cust, size, time, guide=None) -> Steps:
        """Group purchases into steps; ``guide`` (per purchase) marks guided picks."""
        n = len(cust)
        rank = np.unique(time, return_inverse=True)[1].reshape(-1).astype(np.int64)
        keys = np.column_stack([cust, rank, size]).astype(np.int64)
        uniq, step = np.unique(keys, axis=0, return_inverse=True)  # sorted by cust, time, size
        step = step.reshape(-1)
        s_cust, s_time, s_size = uniq.T
        # previous step: the last step of the same customer at an earlier time
        new_time = np.r_[True, (s_cust[1:] != s_cust[:-1]) | (s_time[1:] != s_time[:-1])]
        group_start = np.maximum.accumulate(np.where(new_time, np.arange(len(uniq)), 0))
        prev = group_start - 1
        prev[(prev < 0) | (s_cust[np.maximum(prev, 0)] != s_cust)] = -1
        g = np.zeros(n, bool) if guide is None else np.asarray(guide, bool)
        s_guide = np.bincount(step, g, len(uniq)) > 0
        rows = sp.csr_matrix((np.ones(n), (step, np.arange(n))), shape=(len(uniq), n))
        n_cust = int(s_cust.max()) + 1
        last = np.full(n_cust, -1)
        last[s_cust] = np.arange(len(uniq))  # sorted: the latest step wins
        return cls(s_cust, s_size, prev, s_guide, rows, last)


def step_coordinates(kind: str, grid_pos: np.ndarray) -> np.ndarray:
    """Positions in which one step is one move: bras count band and cup letter."""
    if kind == "bra":
        return np.column_stack([grid_pos[:, 0], grid_pos[:, 1] - grid_pos[:, 0]])
    return grid_pos


@dataclass(frozen=True)
class Moves:
    """``(G, G)`` tables of one-step moves on the grid, built once per fit."""

    steps: np.ndarray  # (G, dims) grid positions in moves
    distance: np.ndarray  # [x, g] steps from size x to size g
    n_closer: np.ndarray  # [x, g] one-step neighbours of x that are closer to g

    @classmethod
    def on_grid(cls, steps: np.ndarray) -> Moves:
        distance = np.abs(steps[:, None, :] - steps[None, :, :]).sum(axis=2).astype(np.int16)
        neighbour = distance == 1
        n_closer = (neighbour[:, :, None] & (distance[None, :, :] < distance[:, None, :])).sum(1)
        return cls(steps, distance, n_closer)


@dataclass(frozen=True)
class Rates:
    """The belief dynamics' probabilities (see the module docstring)."""

    learn: float = 0.5
    guide: float = 0.3
    fresh: float = 0.05


@dataclass(frozen=True)
class PickTerms:
    """Each step's likelihood ``total`` per true size, split into its three sources."""

    guided: np.ndarray  # (S, G) the size guide gave her true size
    fresh: np.ndarray  # (S, G) a fresh pick from the choice histogram
    dynamic: np.ndarray  # (S, G) stayed, or learned one step, from her previous pick
    learn: np.ndarray  # (S, G) P(she learned after her previous pick), 0 for a first pick

    @property
    def total(self) -> np.ndarray:
        return self.guided + self.fresh + self.dynamic


def pick_terms(x, prev_x, learn_chance, guide, log_fresh, moves: Moves, rates: Rates) -> PickTerms:
    """Likelihood of picking grid size ``x`` (``(S,)``) for every true size.

    ``prev_x`` is her previous pick (-1: a first pick), ``learn_chance`` ``(S, G)`` the
    probability that her previous step misfit, ``guide`` whether she viewed the size guide,
    ``log_fresh`` the ``(G, G)`` table ``log P(first pick x | size g)`` of the choice model.
    """
    n, n_grid = len(x), log_fresh.shape[1]
    first = prev_x < 0
    q = np.maximum(prev_x, 0)
    fresh = np.exp(log_fresh)[x]
    learn = rates.learn * learn_chance
    learn[first] = 0.0
    stay = np.flatnonzero(x == prev_x)
    base = np.zeros((n, n_grid))
    base[stay] = 1.0 - learn[stay]
    base[stay, x[stay]] = 1.0  # she stays in her own size
    step = np.flatnonzero(~first & (moves.distance[x, q] == 1))  # moved one step
    if step.size:
        closer = moves.distance[x[step]] < moves.distance[q[step]]
        share = learn[step] / np.maximum(moves.n_closer[q[step]], 1)
        base[step] = np.where(closer, share, 0.0)
    keep_fresh = np.where(first, 1.0, rates.fresh)[:, None]
    not_guided = np.where(guide, 1.0 - rates.guide, 1.0)[:, None]
    guided = np.zeros((n, n_grid))
    guided[np.flatnonzero(guide), x[guide]] = rates.guide
    return PickTerms(
        guided=guided,
        fresh=not_guided * keep_fresh * fresh,
        dynamic=not_guided * (1.0 - keep_fresh) * base,
        learn=learn,
    )


def misfit_chance(proba: np.ndarray, y: np.ndarray, report_rate: float) -> np.ndarray:
    """P(a purchase misfit | its recorded outcome ``y``), from true class probabilities.

    A recorded misfit is one; a recorded fit is an unreported misfit with probability
    ``(1 - rho) P(misfit) / (1 - rho P(misfit))``. ``y`` broadcasts against
    ``proba[..., 0]``.
    """
    misfit = proba[..., 0] + proba[..., 2]
    hidden = (1.0 - report_rate) * misfit / np.maximum(1.0 - report_rate * misfit, 1e-12)
    return np.where(np.asarray(y) != 1, 1.0, hidden)


def rate_counts(
    terms: PickTerms, resp: np.ndarray, size: np.ndarray, prev_size: np.ndarray, guide, rates
) -> np.ndarray:
    """Expected counts behind the rates, for picks ``size`` after ``prev_size`` (-1: first).

    ``resp`` ``(S, G)`` is the posterior of each pick's customer's size. Returns guided
    picks that took the guide's size, guided picks, later picks that were fresh, later
    picks under the dynamics, learning after a misfit (a move under the dynamics), and
    misfits followed by a stay off her size without learning,
    ``P(misfit, not learned | stayed) = m (1 - a) / (1 - a m)``. Counts add over chunks.
    """
    total = np.maximum(terms.total, 1e-300)
    guided, later = np.asarray(guide, bool), prev_size >= 0
    took_guide = (resp[guided] * terms.guided[guided] / total[guided]).sum()
    w_fresh = (resp[later] * terms.fresh[later] / total[later]).sum()
    w_dyn = resp[later] * terms.dynamic[later] / total[later]
    a = rates.learn
    moved = (size != prev_size)[later]
    m = terms.learn[later] / a
    off_size = np.arange(resp.shape[1])[None, :] != prev_size[later][:, None]
    unlearned = np.where(off_size, m * (1 - a) / np.maximum(1 - a * m, 1e-12), 0.0)
    learned = w_dyn[moved].sum()
    missed = (w_dyn[~moved] * unlearned[~moved]).sum()
    return np.array([took_guide, guided.sum(), w_fresh, w_dyn.sum(), learned, missed])


def rates_from_counts(counts: np.ndarray, pseudocount: float = 1.0, min_fresh: float = 0.0):
    """``Rates`` from summed ``rate_counts``, each a share smoothed by ``pseudocount``.

    ``fresh`` is kept at ``min_fresh`` or above: on data where nobody ever changes size
    without a reason, a near-zero rate would explain one odd pick by a far-off size.
    """
    took_guide, n_guided, w_fresh, w_dyn, learned, missed = counts
    return Rates(
        learn=float((learned + pseudocount) / (learned + missed + 2 * pseudocount)),
        guide=float((took_guide + pseudocount) / (n_guided + 2 * pseudocount)),
        fresh=float(max((w_fresh + pseudocount) / (w_fresh + w_dyn + 2 * pseudocount), min_fresh)),
    )
