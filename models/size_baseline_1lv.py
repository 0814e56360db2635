"""``OneLatentSizeBaseline``: the fit literature's "1-LV" true-size baseline.

One latent variable per customer ``t_c`` and one per product *size* ``t_p`` (an item in
one size label: the model knows nothing about how sizes are ordered or related), with
an ordinal logistic outcome in their difference (Sembium et al. 2017; the 1-LV baseline
of Misra et al. 2018). Fitted by MAP with L2 priors and L-BFGS on the vectorized
likelihood of ``models.ordinal_link`` (gap ``t_p - t_c + bias``, with learned slope and
half-width). Unseen customers and product sizes sit at the prior mean, 0.

Same input frame and outcome coding as ``SizeRecommender``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from features.contract.schema import FIT_FEEDBACK
from models.ordinal_link import class_likelihood, link_proba
from models.size_recommender import PROBA_COLUMNS, encode_fit_outcomes, require_columns


class OneLatentSizeBaseline(ClassifierMixin, BaseEstimator):
    """1-LV: a latent size per customer and per (item, size label), ordinal outcome.

    Parameters
    ----------
    l2 : float
        Prior precision of every latent variable, in units of one purchase's likelihood.
    max_iter, tol : L-BFGS limits.
    """

    def __init__(
        self,
        *,
        customer_col: str = "customer_id",
        item_col: str = "product_id",
        category_col: str = "category",
        size_col: str = "size",
        l2: float = 1.0,
        max_iter: int = 1000,
        tol: float = 1e-9,
        random_state: int | None = None,
    ):
        self.customer_col = customer_col
        self.item_col = item_col
        self.category_col = category_col
        self.size_col = size_col
        self.l2 = l2
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = True
        return tags

    def _product_keys(self, X: pd.DataFrame) -> pd.Index:
        return pd.Index(X[self.item_col].astype(str) + "\x1f" + X[self.size_col].astype(str))

    def fit(self, X: pd.DataFrame, y, sample_weight=None) -> OneLatentSizeBaseline:
        """MAP of every latent variable and of the link. Does not change ``X``."""
        require_columns(X, [self.customer_col, self.item_col, self.size_col], "X")
        codes = encode_fit_outcomes(y)
        if len(codes) != len(X) or len(X) == 0:
            raise ValueError(f"X has {len(X)} rows and y {len(codes)}; need the same, > 0")
        w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, float)
        cust, self.customers_ = pd.factorize(X[self.customer_col].astype(str))
        prod, self.products_ = pd.factorize(self._product_keys(X))
        n_c, n_p, total = len(self.customers_), len(self.products_), w.sum()

        def objective(theta):
            t_c, t_p = theta[:n_c], theta[n_c : n_c + n_p]
            bias, log_a, log_h = theta[n_c + n_p :]
            a, h = np.exp(log_a), np.exp(log_h)
            p, (dz, da, dh), _ = class_likelihood(codes, t_p[prod] - t_c[cust] + bias, a, h)
            c = w / p / total
            prior = 0.5 * self.l2 * (t_c @ t_c + t_p @ t_p)
            value = (-(w * np.log(p)).sum() + prior) / total
            grad = np.concatenate(
                [
                    np.bincount(cust, c * dz, n_c) + self.l2 * t_c / total,
                    -np.bincount(prod, c * dz, n_p) + self.l2 * t_p / total,
                    [-(c * dz).sum(), -(c * da).sum(), -(c * dh).sum()],
                ]
            )
            return value, grad

        theta0 = np.concatenate([np.zeros(n_c + n_p), [0.0, np.log(2.0), np.log(0.5)]])
        res = minimize(
            objective, theta0, jac=True, method="L-BFGS-B",
            bounds=[(None, None)] * (n_c + n_p + 1) + [(-4.0, 4.0)] * 2,
            options={"maxiter": self.max_iter, "ftol": self.tol, "gtol": 1e-10},
        )  # fmt: skip
        self.customer_latent_ = res.x[:n_c]
        self.product_latent_ = res.x[n_c : n_c + n_p]
        self.bias_, log_a, log_h = res.x[n_c + n_p :]
        self.slope_, self.half_width_ = float(np.exp(log_a)), float(np.exp(log_h))
        self.n_iter_, self.converged_ = res.nit, bool(res.success)
        self.sizes_by_item_ = (
            pd.DataFrame({"item": X[self.item_col].astype(str), "size": X[self.size_col]})
            .drop_duplicates()
            .groupby("item")["size"]
            .agg(list)
            .to_dict()
        )
        self.classes_ = np.array(FIT_FEEDBACK, dtype=object)
        return self

    def predict_fit_proba(self, X: pd.DataFrame) -> np.ndarray:
        """P(too small), P(fit), P(too large) of buying ``X[size_col]``: array ``(n, 3)``."""
        check_is_fitted(self, "customer_latent_")
        require_columns(X, [self.customer_col, self.item_col, self.size_col], "X")
        c = self.customers_.get_indexer(X[self.customer_col].astype(str))
        p = self.products_.get_indexer(self._product_keys(X))
        t_c = np.where(c >= 0, self.customer_latent_[np.maximum(c, 0)], 0.0)
        t_p = np.where(p >= 0, self.product_latent_[np.maximum(p, 0)], 0.0)
        return link_proba(t_p - t_c + self.bias_, self.slope_, self.half_width_)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.predict_fit_proba(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.predict_fit_proba(X).argmax(axis=1)]

    def recommend(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per request, the item's size (among those sold in training) with the highest P(fit).

        An item not seen in training gets no recommendation (``recommended_size`` null).
        """
        check_is_fitted(self, "customer_latent_")
        require_columns(X, [self.customer_col, self.item_col], "X")
        items = X[self.item_col].astype(str).to_numpy()
        request = np.repeat(np.arange(len(X)), [len(self.sizes_by_item_.get(i, [])) for i in items])
        cand = pd.DataFrame(
            {
                self.customer_col: X[self.customer_col].to_numpy()[request],
                self.item_col: items[request],
                self.size_col: [s for i in items for s in self.sizes_by_item_.get(i, [])],
            }
        )
        proba = self.predict_fit_proba(cand)
        cand["request"] = request
        cand[list(PROBA_COLUMNS)] = proba
        best = cand.sort_values(["request", "p_fit"], ascending=[True, False], kind="stable")
        best = best.drop_duplicates("request").set_index("request")
        out = X[[self.customer_col, self.item_col]].copy()
        out["recommended_size"] = best[self.size_col].reindex(range(len(X))).to_numpy()
        for col in PROBA_COLUMNS:
            out[col] = best[col].reindex(range(len(X))).to_numpy()
        return out
