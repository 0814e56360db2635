"""What a customer does after a misfit is evidence of her size.

A customer whose size is wrong moves toward her true size after a misfit with some
probability (``move_rate``) and otherwise buys the same size again; a customer in her
true size who had a misfit (a product running small, a bad day) rarely moves
(``stray_rate``). So staying in a size after misfits says the size is hers, and a move
says her size lies in that direction. For each purchase recorded as a misfit and her
next purchase (strictly later), the factor as a function of her true size ``g`` is:

============  ==================  ==============================================
next size     ``g`` is the size   ``g`` is another size
============  ==================  ==============================================
the same      ``1 - stray_rate``  ``1 - move_rate``
another one   ``stray_rate``      ``move_rate`` if the move got closer to ``g``,
                                  else ``move_rate * AWAY``
============  ==================  ==============================================

Closeness is the number of steps (band and cup letter for bras). Both rates are fitted in
the M-step from expected counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

AWAY = 0.05  # a move away from her size, relative to a move toward it


@dataclass(frozen=True)
class Transitions:
    """Purchases recorded as misfits, each with the size of her next purchase."""

    cust: np.ndarray  # (T,)
    src: np.ndarray  # (T,) grid index of the misfit's size
    dst: np.ndarray  # (T,) grid index of her next size

    @classmethod
    def from_purchases(cls, cust, size, misfit, time) -> Transitions:
        """Pair each misfit with the customer's first purchase strictly after it."""
        rank = np.unique(time, return_inverse=True)[1].reshape(-1).astype(np.int64)
        key = cust.astype(np.int64) * (rank.max() + 2) + rank
        order = np.argsort(key, kind="stable")
        key_sorted = key[order]
        nxt = np.searchsorted(key_sorted, key, side="right")
        ok = misfit & (nxt < len(key))
        ok[ok] &= cust[order[nxt[ok]]] == cust[ok]
        rows = np.flatnonzero(ok)
        return cls(cust[rows], size[rows], size[order[nxt[rows]]])

    @property
    def moved(self) -> np.ndarray:
        return self.src != self.dst


def step_coordinates(kind: str, grid_pos: np.ndarray) -> np.ndarray:
    """Positions in which one step is one move: bras count band and cup letter."""
    if kind == "bra":
        return np.column_stack([grid_pos[:, 0], grid_pos[:, 1] - grid_pos[:, 0]])
    return grid_pos


def toward(steps: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """``(T, G)``: whether moving from ``src`` to ``dst`` got closer to each size."""
    before = np.abs(steps[src][:, None, :] - steps[None]).sum(axis=2)
    after = np.abs(steps[dst][:, None, :] - steps[None]).sum(axis=2)
    return after < before


def log_factors(tr: Transitions, steps, n_cust: int, move_rate: float, stray_rate: float):
    """``(n_cust, G)`` log-likelihood of every customer's moves and stays, per true size."""
    n_grid = len(steps)
    out = np.zeros((n_cust, n_grid))
    stay = ~tr.moved
    # staying: 1 - move_rate everywhere, 1 - stray_rate at the size she stayed in
    np.add.at(out, tr.cust[stay], np.log1p(-move_rate))
    np.add.at(out, (tr.cust[stay], tr.src[stay]), np.log1p(-stray_rate) - np.log1p(-move_rate))
    move = np.flatnonzero(tr.moved)
    if move.size:
        closer = toward(steps, tr.src[move], tr.dst[move])
        rows = np.full(closer.shape, np.log(move_rate * AWAY))
        rows[closer] = np.log(move_rate)
        rows[np.arange(move.size), tr.src[move]] = np.log(stray_rate)
        np.add.at(out, tr.cust[move], rows)
    return out


def fitted_rates(tr: Transitions, posterior: sp.csr_matrix, pseudocount: float = 1.0):
    """``(move_rate, stray_rate)`` from expected counts under the posterior."""
    at_src = np.asarray(posterior[tr.cust, tr.src]).ravel()  # P(her size is the misfit's)
    moved = tr.moved.astype(float)
    move_rate = (moved @ (1 - at_src) + pseudocount) / ((1 - at_src).sum() + 2 * pseudocount)
    stray_rate = (moved @ at_src + pseudocount) / (at_src.sum() + 2 * pseudocount)
    return float(move_rate), float(stray_rate)
