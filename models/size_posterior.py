"""One fitted size system of ``SizeRecommender``: predictions from the size posteriors.

A known customer's fit probabilities at size ``s`` of item ``i`` mix the ordinal link over
her posterior on true sizes, ``sum_g r(g) P(y | s - g - delta_i)``, with the offset's
uncertainty integrated out; a customer the system has not seen uses the population prior
instead of ``r``. Requests are deduplicated first, so a batch of new customers costs one
mixture per (item, size).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models.ordinal_link import link_proba
from models.size_em import LOG_FLOOR, SystemFit, class_proba_at, grid_index, position_lookup


def grid_positions(kind: str, grid: np.ndarray) -> np.ndarray:
    """Integer grid positions: the steps themselves, or the rank of a numeric size."""
    if kind == "numeric":
        return np.arange(len(grid))[:, None]
    return np.rint(grid).astype(int)


def size_positions(kind: str, grid: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """Grid positions of sizes; a numeric size between grid values takes the nearest."""
    if kind != "numeric":
        return np.rint(coords).astype(int)
    values = grid[:, 0]
    pos = np.clip(np.searchsorted(values, coords[:, 0]), 1, max(len(values) - 1, 1))
    left = np.abs(coords[:, 0] - values[pos - 1]) <= np.abs(
        values[np.minimum(pos, len(values) - 1)] - coords[:, 0]
    )
    return np.where(left, pos - 1, pos).clip(0, len(values) - 1)[:, None]


_MIN_CANDIDATE_MASS = 1e-3


def _unique_requests(rows: np.ndarray, item: np.ndarray, coords: np.ndarray):
    """Distinct (posterior row, item, size) requests and each request's position among them."""
    key = np.zeros(len(rows), dtype=np.int64)
    for column in (rows, item + 1, *coords.T):
        codes, uniques = pd.factorize(column)
        key = key * len(uniques) + codes
    inverse, _ = pd.factorize(key)
    first = np.unique(inverse, return_index=True)[1]
    return rows[first], item[first], coords[first], inverse


@dataclass
class SizeSystemModel:
    """Fitted state of one size system (customers' posteriors, item offsets, link)."""

    name: str
    kind: str
    grid: np.ndarray  # (G, dims) sizes in steps
    grid_pos: np.ndarray  # (G, dims) int grid positions
    labels: np.ndarray  # (G,) size labels
    customers: pd.Index
    items: pd.Index
    fit: SystemFit
    item_prior_sd: float
    choice_window: int
    n_purchases: np.ndarray  # per customer
    _ext: sp.csr_matrix = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # The population prior is the posterior of a customer without history: last row.
        prior = sp.csr_matrix(np.where(self.fit.prior >= 1e-9, self.fit.prior, 0.0)[None, :])
        self._ext = sp.vstack([self.fit.posterior, prior], format="csr")

    @property
    def dims(self) -> int:
        return self.grid.shape[1]

    def locate(self, customer_ids, item_ids) -> tuple[np.ndarray, np.ndarray]:
        """Positions of customers and items; -1 when the system has not seen them."""
        cust = self.customers.get_indexer(pd.Index(customer_ids).astype(str))
        return cust, self.items.get_indexer(pd.Index(item_ids).astype(str))

    def _offsets(self, item: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        off = np.zeros((len(item), self.dims))
        var = np.full((len(item), self.dims), self.item_prior_sd**2)
        seen = item >= 0
        off[seen], var[seen] = self.fit.offset[item[seen]], self.fit.offset_var[item[seen]]
        return off, var

    def _expand(self, rows: np.ndarray):
        """For each request row of the posterior: (request, true size, posterior mass)."""
        ext = self._ext
        counts = np.diff(ext.indptr)[rows]
        req = np.repeat(np.arange(len(rows)), counts)
        start = np.repeat(ext.indptr[rows] - np.r_[0, np.cumsum(counts)[:-1]], counts)
        pos = start + np.arange(counts.sum())
        return req, ext.indices[pos], ext.data[pos]

    def _posterior_rows(self, cust: np.ndarray) -> np.ndarray:
        return np.where(cust >= 0, cust, self._ext.shape[0] - 1)

    def proba(
        self, cust: np.ndarray, item: np.ndarray, coords: np.ndarray, condition_on_choice=False
    ) -> np.ndarray:
        """``(n, 3)`` P(too small, fit, too large) of buying size ``coords`` of ``item``.

        With ``condition_on_choice`` the posterior is first updated with the choice model:
        picking ``coords`` is evidence of her size.
        """
        rows, items, at, inverse = _unique_requests(self._posterior_rows(cust), item, coords)
        req, g, r = self._expand(rows)
        if condition_on_choice:
            gap = size_positions(self.kind, self.grid, at)[req] - self.grid_pos[g]
            w = self.choice_window
            inside = (np.abs(gap) <= w).all(axis=1)
            log_h = np.full(len(g), LOG_FLOOR)
            log_h[inside] = self.fit.log_choice[tuple((gap[inside] + w).T)]
            r = r * np.exp(log_h - self.fit.log_z[g])
            r = r / np.bincount(req, r, len(rows))[req]
        off, var = self._offsets(items)
        p = class_proba_at(
            at[req] - self.grid[g] - off[req], self.fit.slope, self.fit.half_width, var[req]
        )
        out = np.stack([np.bincount(req, r * p[:, k], len(rows)) for k in range(3)], axis=1)
        return out[inverse]

    def votes(self, cust: np.ndarray, item: np.ndarray) -> sp.csr_matrix:
        """``(n, G)``: posterior mass of true sizes whose best size in the item is each size."""
        rows = self._posterior_rows(cust)
        req, g, r = self._expand(rows)
        off, _ = self._offsets(item)
        best = self.nearest(self.grid[g] + off[req])
        return sp.csr_matrix((r, (req, best)), shape=(len(rows), len(self.grid)))

    def recommend(self, cust: np.ndarray, item: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Grid index of the size to buy and the posterior probability that it is right.

        A known customer gets the candidate with the highest P(fit); a new customer the
        size most of the population takes in this item.
        """
        votes = self.votes(cust, item).tocoo()
        # Sizes with a sliver of posterior mass are never the best bet; skip scoring them.
        top = np.zeros(len(cust))
        np.maximum.at(top, votes.row, votes.data)
        keep = (votes.data >= _MIN_CANDIDATE_MASS) | (votes.data == top[votes.row])
        req, cand, mass = votes.row[keep], votes.col[keep], votes.data[keep]
        score = mass.copy()
        known = cust[req] >= 0
        if known.any():
            p = self.proba(cust[req[known]], item[req[known]], self.grid[cand[known]])
            score[known] = p[:, 1] + 1e-9 * mass[known]  # ties go to the likelier size
        order = np.lexsort((-score, req))
        first = order[np.r_[True, req[order][1:] != req[order][:-1]]]
        best = np.zeros(len(cust), int)
        confidence = np.zeros(len(cust))
        best[req[first]], confidence[req[first]] = cand[first], mass[first]
        return best, confidence

    def true_size(self, cust: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Grid index of each customer's most probable true size and its probability."""
        post = self._ext[self._posterior_rows(cust)]
        best = np.asarray(post.argmax(axis=1)).ravel()
        return best, post[np.arange(len(cust)), best].A.ravel()

    def nearest(self, m: np.ndarray) -> np.ndarray:
        """Grid index of the size that fits best at location ``m`` (``(n, dims)`` steps)."""
        grid = self.grid
        if self.kind == "numeric":
            values = grid[:, 0]
            if len(values) == 1:
                return np.zeros(len(m), int)
            pos = np.clip(np.searchsorted(values, m[:, 0]), 1, len(values) - 1)
            left = np.abs(m[:, 0] - values[pos - 1]) <= np.abs(values[pos] - m[:, 0])
            return np.where(left, pos - 1, pos)
        # P(fit) is a product of symmetric unimodal factors, so the rounded location is best
        # whenever it is a valid size; otherwise search the grid.
        dense, low = position_lookup(self.grid_pos)
        out = grid_index(np.rint(m).astype(int), dense, low)
        bad = np.flatnonzero(out < 0)
        if bad.size:
            z = grid[None, :, :] - m[bad][:, None, :]
            a, h = self.fit.slope, self.fit.half_width
            p_fit = np.prod(
                [link_proba(z[..., d], a[d], h[d])[..., 1] for d in range(self.dims)], 0
            )
            out[bad] = p_fit.argmax(axis=1)
        return out
