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

from models.size_em import LOG_FLOOR, SystemFit, fresh_table, grid_index, position_lookup
from models.size_learning import Moves, pick_terms


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


_MIN_CANDIDATE_MASS = 1e-3  # sizes with less posterior mass of being best are not scored


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
    choices: sp.csr_matrix  # (n_cust, G) the distinct sizes each customer bought
    moves: Moves  # one-step moves on the grid
    last_size: np.ndarray | None  # (n_cust,) grid index of her latest pick (with times)
    _ext: sp.csr_matrix = field(init=False, repr=False)
    _sold: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Only sizes that sold in training are recommended.
        self._sold = np.flatnonzero(np.asarray(self.choices.sum(axis=0)).ravel() > 0)
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
        var = np.full((len(item), self.dims), self.item_prior_sd**2) * self.fit.link.offset_free
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

    def _request_posterior(self, rows: np.ndarray, picked: np.ndarray | None, guide=None):
        """(request, true size, mass) per request; updated with the size ``picked``, if any.

        Picking a size is evidence of her size: with purchase times, a step of her belief
        dynamics from her latest pick (``guide``: she viewed the size guide first);
        without, a choice, unless she has bought that size before (then it tells nothing
        new).
        """
        req, g, r = self._expand(rows)
        if picked is None:
            return req, g, r
        pos = size_positions(self.kind, self.grid, picked)
        dense, low = position_lookup(self.grid_pos)
        size = grid_index(pos, dense, low)
        known = rows < len(self.customers)
        if self.last_size is None:
            seen = np.zeros(len(rows), bool)
            ok = known & (size >= 0)
            seen[ok] = self.choices[rows[ok], size[ok]].toarray().ravel() > 0
            factor = np.where(seen[req], 0.0, self._log_choice(pos[req], g) - self.fit.log_z[g])
        else:
            on_grid = size >= 0
            x = np.maximum(size, 0)
            prev = np.where(known, self.last_size[np.where(known, rows, 0)], -1)
            chance = np.zeros((len(rows), len(self.grid)))
            if self.fit.misfit_at_last is not None:
                chance[known] = self.fit.misfit_at_last[rows[known]]
            table = fresh_table(
                self.grid_pos, self.choice_window, self.fit.log_choice, self.fit.log_z
            )
            flags = np.zeros(len(rows), bool) if guide is None else np.asarray(guide, bool)
            terms = pick_terms(x, prev, chance, flags, table, self.moves, self.fit.rates)
            factor = np.where(on_grid[req], np.log(np.maximum(terms.total[req, g], 1e-300)), 0.0)
        log_r = np.log(r) + factor
        top = np.full(len(rows), -np.inf)
        np.maximum.at(top, req, log_r)
        r = np.exp(log_r - top[req])
        return req, g, r / np.bincount(req, r, len(rows))[req]

    def _log_choice(self, pos: np.ndarray, g: np.ndarray) -> np.ndarray:
        """``log H(pos - g)``: the choice model's log-likelihood of picking ``pos``."""
        gap = pos - self.grid_pos[g]
        w = self.choice_window
        inside = (np.abs(gap) <= w).all(axis=1)
        out = np.full(len(g), LOG_FLOOR)
        out[inside] = self.fit.log_choice[tuple((gap[inside] + w).T)]
        return out

    def proba(self, cust, item, coords, picked=None, guide=None) -> np.ndarray:
        """``(n, 3)`` P(too small, fit, too large) of buying size ``coords`` of ``item``.

        With ``picked`` (``(n, dims)``, the sizes she chose) the posterior is first
        updated with her choice; ``picked=coords`` is her buying what she picked;
        ``guide`` marks picks made after a size-guide visit.
        """
        key_pick = np.zeros_like(coords) if picked is None else picked
        flags = np.zeros(len(cust)) if guide is None else np.asarray(guide, float)
        rows, items, both, inverse = _unique_requests(
            self._posterior_rows(cust), item, np.column_stack([coords, key_pick, flags])
        )
        at, pick = both[:, : self.dims], both[:, self.dims : 2 * self.dims]
        req, g, r = self._request_posterior(rows, None if picked is None else pick, both[:, -1])
        off, var = self._offsets(items)
        p = self.fit.link.proba(at[req] - self.grid[g] - off[req], var[req])
        out = np.stack([np.bincount(req, r * p[:, k], len(rows)) for k in range(3)], axis=1)
        return out[inverse]

    def votes(self, cust: np.ndarray, item: np.ndarray, picked=None, guide=None) -> sp.csr_matrix:
        """``(n, G)``: posterior mass of true sizes whose best size in the item is each size."""
        coords = np.zeros((len(cust), self.dims)) if picked is None else picked
        flags = np.zeros(len(cust)) if guide is None else np.asarray(guide, float)
        rows, items, both, inverse = _unique_requests(
            self._posterior_rows(cust), item, np.column_stack([coords, flags])
        )
        at = both[:, : self.dims]
        req, g, r = self._request_posterior(rows, None if picked is None else at, both[:, -1])
        off, _ = self._offsets(items)
        best = self.nearest(self.grid[g] + off[req])
        votes = sp.csr_matrix((r, (req, best)), shape=(len(rows), len(self.grid)))
        return votes[inverse]

    def recommend(self, cust, item, picked=None, guide=None) -> tuple[np.ndarray, np.ndarray]:
        """Grid index of the size to buy and the posterior probability that it is her best.

        Candidates are the sizes that would be best for some true size she may have (and,
        given a pick, the sizes within a step of it); the one with the highest expected
        P(fit) wins (a known customer). A new customer
        without a pick gets the size most of the population takes in this item. With
        ``picked`` (the sizes she is about to buy) the posterior is updated with her pick
        (``guide``: made after a size-guide visit).
        """
        votes = self.votes(cust, item, picked, guide).tocoo()
        top = np.zeros(len(cust))
        np.maximum.at(top, votes.row, votes.data)
        keep = (votes.data >= _MIN_CANDIDATE_MASS) | (votes.data == top[votes.row])
        req, cand, mass = votes.row[keep], votes.col[keep], votes.data[keep]
        if picked is not None:  # and the sizes next to her pick: fine-tuning the gap
            near_req, near_cand = self._near_pick(picked)
            both = pd.DataFrame({"r": np.r_[req, near_req], "c": np.r_[cand, near_cand]})
            new = ~both.duplicated().to_numpy()[len(req) :]
            req, cand = np.r_[req, near_req[new]], np.r_[cand, near_cand[new]]
            mass = np.r_[mass, np.zeros(int(new.sum()))]
        score = mass.copy()
        scored = (cust[req] >= 0) | (picked is not None)
        if scored.any():
            r = req[scored]
            pick = None if picked is None else picked[r]
            flags = None if guide is None else np.asarray(guide)[r]
            p = self.proba(cust[r], item[r], self.grid[cand[scored]], pick, flags)
            score[scored] = p[:, 1] + 1e-9 * mass[scored]  # ties go to the likelier size
        order = np.lexsort((-score, req))
        first = order[np.r_[True, req[order][1:] != req[order][:-1]]]
        best = np.zeros(len(cust), int)
        confidence = np.zeros(len(cust))
        best[req[first]], confidence[req[first]] = cand[first], mass[first]
        return best, confidence

    def _near_pick(self, picked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(request, sold size) pairs within one step of each pick; bras also their sisters.

        In move coordinates (band and cup letter for bras): at most one band and one cup
        letter away, so sister sizes (a band up, a cup down) are in.
        """
        pos = size_positions(self.kind, self.grid, picked)
        dense, low = position_lookup(self.grid_pos)
        at = grid_index(pos, dense, low)
        steps = self.moves.steps
        diff = np.abs(steps[self._sold][None, :, :] - steps[np.maximum(at, 0)][:, None, :])
        r, k = np.nonzero((diff <= 1).all(axis=2) & (at >= 0)[:, None])
        return r, self._sold[k]

    def true_size(self, cust: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Grid index of each customer's most probable true size and its probability."""
        post = self._ext[self._posterior_rows(cust)]
        best = np.asarray(post.argmax(axis=1)).ravel()
        return best, post[np.arange(len(cust)), best].A.ravel()

    def nearest(self, m: np.ndarray) -> np.ndarray:
        """Grid index of the sold size that fits best at location ``m`` (``(n, dims)`` steps)."""
        sold = self._sold
        grid = self.grid[sold]
        if self.kind == "numeric":
            values = grid[:, 0]
            if len(values) == 1:
                return np.full(len(m), sold[0])
            pos = np.clip(np.searchsorted(values, m[:, 0]), 1, len(values) - 1)
            left = np.abs(m[:, 0] - values[pos - 1]) <= np.abs(values[pos] - m[:, 0])
            return sold[np.where(left, pos - 1, pos)]
        link = self.fit.link
        if link.summed:
            # P(fit) depends on w * z_band + z_volume only: keep the nearest band and take
            # the cup volume that best evens out the gap ("this style runs small: a cup up").
            band = np.rint(m[:, 0])
            target = np.column_stack([band, np.rint(m[:, 1] - link.band_weight * (band - m[:, 0]))])
        else:
            # P(fit) is a product of symmetric unimodal factors: the rounded location is best.
            target = np.rint(m)
        dense, low = position_lookup(self.grid_pos[sold])
        out = grid_index(target.astype(int), dense, low)
        bad = np.flatnonzero(out < 0)
        if bad.size:  # not a sold size: search the sold sizes
            p_fit = link.proba(grid[None, :, :] - m[bad][:, None, :])[..., 1]
            out[bad] = p_fit.argmax(axis=1)
        return sold[out]
