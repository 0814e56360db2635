"""``SizeRecommender``: a latent "true size" model for size and fit recommendation.

Following Sembium et al. (2017) with Misra et al. (2018)'s fit semantics, every customer
has a latent true size per size system and every item (product or style) a size offset;
the outcome of a purchase (too small, fit, too large; from fit returns and from explicit
feedback) is ordinal in the gap between the size bought and the size that fits
(``models.ordinal_link``). Bras are two-dimensional (band and cup volume), so the model
knows sister sizes; alpha and numeric sizes are one-dimensional. A customer's true size
is a size of the system's grid with the population distribution as its prior, fitted by
EM whose M-step runs L-BFGS on a vectorized likelihood (``models.size_em``); her
posterior over the grid gives the recommendation, its fit probabilities and the size
confidence (``models.size_posterior``).

Input frame, one row per purchase with a known fit outcome (``y``):

=================  ====================================================================
``customer_col``   customer key (string)
``item_col``       product or style key; each item has one size offset
``category_col``   category; maps to a size system (``size_systems``, else its label kind)
``size_col``       size label as sold: ``34C``, ``M``, ``10``
=================  ====================================================================

``y`` holds ``too_small``, ``fit`` or ``too_large`` (``features.contract.schema.FIT_FEEDBACK``).
Requests to ``recommend`` need the same columns except ``size_col``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from features.contract.schema import FIT_FEEDBACK
from features.errors import unknown_name_message
from features.sizes import infer_size_kind, size_coordinates, size_grid
from models.size_em import SystemData, fit_system
from models.size_posterior import SizeSystemModel, grid_positions, size_positions

PROBA_COLUMNS = ("p_too_small", "p_fit", "p_too_large")


def require_columns(frame: pd.DataFrame, columns, what: str) -> None:
    """Raise naming the missing columns and those present."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what} lacks column(s) {', '.join(missing)}; it has: {', '.join(map(str, frame.columns))}"
        )


def encode_fit_outcomes(y) -> np.ndarray:
    """``too_small``/``fit``/``too_large`` -> 0/1/2; bad values are listed with their row."""
    values = pd.Series(np.asarray(y, dtype=object))
    codes = pd.Categorical(values, categories=FIT_FEEDBACK).codes
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        shown = ", ".join(f"row {i}: {values.iloc[i]!r}" for i in bad[:5])
        raise ValueError(
            f"{bad.size} fit outcome(s) not in {', '.join(FIT_FEEDBACK)} ({shown}{' ...' if bad.size > 5 else ''})"
        )
    return codes.astype(np.int64)


class SizeRecommender(ClassifierMixin, BaseEstimator):
    """Latent true size per customer, size offset per item, ordinal fit outcome.

    Parameters
    ----------
    customer_col, item_col, category_col, size_col : str
        Column roles of ``X``; ``item_col`` may be a product or a style key.
    time_col : str or None
        Purchase time. What a customer buys after a misfit is evidence of her size
        (``models.size_learning``); ``None`` (e.g. ModCloth, which has no dates) leaves it
        out.
    guide_col : str or None
        Whether the purchase (or request) followed a size-guide visit in its session
        (boolean). A pick made after the size guide leans on her true size
        (``models.size_learning``); ``None`` leaves it out. Needs ``time_col``. A request
        without the column counts as no visit.
    size_systems : dict, optional
        ``{category: system name}``; categories sharing a system share each customer's
        true size. By default a category's system is its label kind (bra, alpha,
        numeric). A system's kind is inferred from its labels.
    item_prior_sd : float
        Prior spread of item offsets, in size steps; smaller pools items harder.
    bra_link : {"sum", "both"}
        How band and cup-volume gaps make a bra's outcome: ``"sum"``, ordinal in a
        weighted sum (a band step weighs a learned share of a cup step); ``"both"``, it
        fits when band and cup both fit (``models.ordinal_link.FitLink``).
    choice_window : int
        Customers are modelled to buy within this many grid steps (per dimension) of their
        own size; further choices get a floor likelihood.
    pseudocount : float
        Added to every count of the population prior and of the choice histogram.
    min_fresh_rate : float
        Floor of the fitted probability that a later pick is made afresh (not from her
        previous pick); see ``models.size_learning``.
    n_em_iter, tol : int, float
        EM stops after ``n_em_iter`` steps or when the log-posterior per unit weight moves
        by less than ``tol``.
    max_iter : int
        L-BFGS iterations per M-step.
    random_state : int, optional
        Unused by the deterministic fit; kept for the estimator contract.
    """

    def __init__(
        self,
        *,
        customer_col: str = "customer_id",
        item_col: str = "product_id",
        category_col: str = "category",
        size_col: str = "size",
        time_col: str | None = "ts",
        guide_col: str | None = None,
        size_systems: dict[str, str] | None = None,
        item_prior_sd: float = 0.5,
        bra_link: str = "sum",
        choice_window: int = 2,
        pseudocount: float = 1.0,
        min_fresh_rate: float = 0.02,
        n_em_iter: int = 50,
        tol: float = 1e-5,
        max_iter: int = 30,
        random_state: int | None = None,
    ):
        self.customer_col = customer_col
        self.item_col = item_col
        self.category_col = category_col
        self.size_col = size_col
        self.time_col = time_col
        self.guide_col = guide_col
        self.size_systems = size_systems
        self.item_prior_sd = item_prior_sd
        self.bra_link = bra_link
        self.choice_window = choice_window
        self.pseudocount = pseudocount
        self.min_fresh_rate = min_fresh_rate
        self.n_em_iter = n_em_iter
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.target_tags.required = True
        tags.non_deterministic = False
        return tags

    # ---------------------------------------------------------------- fit
    def _systems_of(self, categories: pd.Series, sizes: pd.Series) -> dict[str, str]:
        cats = pd.unique(categories)
        if self.size_systems is not None:
            unknown = [c for c in cats if c not in self.size_systems]
            if unknown:
                raise ValueError(
                    f"categories {', '.join(map(repr, unknown))} are not in size_systems "
                    f"(which maps: {', '.join(sorted(self.size_systems))})"
                )
            return {c: self.size_systems[c] for c in cats}
        return {c: infer_size_kind(sizes[categories == c]) for c in cats}

    def fit(self, X: pd.DataFrame, y, sample_weight=None) -> SizeRecommender:
        """Fit every size system by EM. Does not change ``X``."""
        cols = [self.customer_col, self.item_col, self.category_col, self.size_col]
        cols += [] if self.time_col is None else [self.time_col]
        if self.guide_col is not None:
            if self.time_col is None:
                raise ValueError("guide_col needs time_col: a guided pick is a step in time")
            cols.append(self.guide_col)
        require_columns(X, cols, "X")
        if X[cols].isna().any().any():
            bad = X[cols].isna().any()
            hint = " (no purchase times? pass time_col=None)" if bad.get(self.time_col) else ""
            raise ValueError(f"X has missing values in {', '.join(bad[bad].index)}{hint}")
        codes = encode_fit_outcomes(y)
        if len(codes) != len(X) or len(X) == 0:
            raise ValueError(f"X has {len(X)} rows and y {len(codes)}; need the same, > 0")
        weight = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, float)
        cats = X[self.category_col].astype(str)
        sizes = X[self.size_col].astype(str)
        self.category_system_ = self._systems_of(cats, sizes)
        system_of_row = cats.map(self.category_system_).to_numpy()
        self.systems_ = {}
        for name in sorted(set(self.category_system_.values())):
            rows = np.flatnonzero(system_of_row == name)
            self.systems_[name] = self._fit_system(name, X.iloc[rows], sizes.iloc[rows],
                                                   codes[rows], weight[rows])  # fmt: skip
        self._check_items_have_one_system()
        self.n_iter_ = {k: m.fit.n_iter for k, m in self.systems_.items()}
        self.converged_ = all(m.fit.converged for m in self.systems_.values())
        self.classes_ = np.array(FIT_FEEDBACK, dtype=object)
        return self

    def _fit_system(self, name, X, sizes, codes, weight) -> SizeSystemModel:
        kind = infer_size_kind(sizes.unique())
        try:
            coords = size_coordinates(sizes, kind)
        except ValueError as err:
            raise ValueError(f"size system {name!r}: {err}") from None
        grid, labels = size_grid(kind, sizes.unique())
        grid_pos = grid_positions(kind, grid)
        cust, customers = pd.factorize(X[self.customer_col].astype(str))
        item, items = pd.factorize(X[self.item_col].astype(str))
        pos = size_positions(kind, grid, coords)
        time = None if self.time_col is None else X[self.time_col].to_numpy()
        guide = None if self.guide_col is None else X[self.guide_col].to_numpy(dtype=bool)
        data = SystemData.from_purchases(
            codes, weight, coords, pos, cust, item, n_item=len(items), grid=grid,
            grid_pos=grid_pos, window=self.choice_window, kind=kind, time=time, guide=guide,
        )  # fmt: skip
        last = None if data.picks is None else data.picks.size[data.picks.last]
        fitted = fit_system(
            data,
            item_prior_sd=self.item_prior_sd,
            pseudocount=self.pseudocount,
            min_fresh_rate=self.min_fresh_rate,
            link=self.bra_link,
            n_em_iter=self.n_em_iter,
            max_iter=self.max_iter,
            tol=self.tol,
        )
        return SizeSystemModel(
            name, kind, grid, grid_pos, np.array(labels, dtype=object), pd.Index(customers),
            pd.Index(items), fitted, self.item_prior_sd, self.choice_window,
            np.bincount(cust, minlength=len(customers)), data.choices, data.moves, last,
        )  # fmt: skip

    def _check_items_have_one_system(self) -> None:
        seen: dict[str, str] = {}
        for name, model in self.systems_.items():
            for item in model.items.intersection(pd.Index(list(seen))):
                raise ValueError(
                    f"item {item!r} is sold in size systems {seen[item]!r} and {name!r}; "
                    "give it one category or map its categories to one system"
                )
            seen.update(dict.fromkeys(model.items, name))

    # ---------------------------------------------------------------- prediction
    def _by_system(self, X: pd.DataFrame, with_size: bool):
        """Yield (system model, row positions, customer and item positions) per system."""
        check_is_fitted(self, "systems_")
        cols = [self.customer_col, self.item_col, self.category_col]
        require_columns(X, cols + ([self.size_col] if with_size else []), "X")
        cats = X[self.category_col].astype(str)
        unknown = sorted(set(cats.unique()) - set(self.category_system_))
        if unknown:
            raise ValueError(
                unknown_name_message("category", unknown[0], self.category_system_)
                + f" ({len(unknown)} unknown: {', '.join(unknown[:5])})"
            )
        systems = cats.map(self.category_system_).to_numpy()
        for name in pd.unique(systems):
            rows = np.flatnonzero(systems == name)
            model = self.systems_[name]
            cust, item = model.locate(X[self.customer_col].iloc[rows], X[self.item_col].iloc[rows])
            yield model, rows, cust, item

    def _guided(self, X: pd.DataFrame, rows: np.ndarray) -> np.ndarray | None:
        """Size-guide flags of request rows; ``None`` without ``guide_col`` in the model or X."""
        if self.guide_col is None or self.guide_col not in X.columns:
            return None
        return X[self.guide_col].iloc[rows].fillna(False).to_numpy(dtype=bool)

    def predict_fit_proba(self, X: pd.DataFrame) -> np.ndarray:
        """P(too small), P(fit), P(too large) of buying ``X[size_col]``: array ``(n, 3)``.

        The size a customer picks is evidence of her own size (as in the fit), so the
        posterior is updated with that choice before mixing; ``recommend`` does not, as
        there the size is ours to pick.
        """
        out = np.empty((len(X), 3))
        for model, rows, cust, item in self._by_system(X, with_size=True):
            coords = size_coordinates(X[self.size_col].iloc[rows].astype(str), model.kind)
            out[rows] = model.proba(cust, item, coords, coords, self._guided(X, rows))
        return out

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Same as :meth:`predict_fit_proba`; columns follow ``classes_``."""
        return self.predict_fit_proba(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The most likely fit outcome of buying ``X[size_col]``."""
        return self.classes_[self.predict_fit_proba(X).argmax(axis=1)]

    def recommend(self, X: pd.DataFrame, *, given_picked_size: bool = False) -> pd.DataFrame:
        """The size to buy per request row, with its fit probabilities, confidence and reason.

        One row per row of ``X`` (same index): the key columns, ``recommended_size``,
        ``p_too_small``, ``p_fit``, ``p_too_large``, ``confidence`` (the posterior
        probability that the recommended size is her best in this item; for a new
        customer, the share of customers who take it), ``n_purchases`` in the size
        system, ``is_new_customer`` and ``reason``. With ``given_picked_size``,
        ``X[size_col]`` is the size she is about to buy (advice at add-to-cart): her pick
        updates the posterior first, so a new customer gets more than the population's
        most common size.
        """
        noun = self.item_col.removesuffix("_id").replace("_", " ")
        n = len(X)
        size = np.empty(n, dtype=object)
        proba, conf, n_buys = np.zeros((n, 3)), np.zeros(n), np.zeros(n, int)
        reasons = np.empty(n, dtype=object)
        for model, rows, cust, item in self._by_system(X, with_size=given_picked_size):
            picked = None
            if given_picked_size:
                labels = X[self.size_col].iloc[rows].astype(str)
                picked = size_coordinates(labels, model.kind)
            guide = self._guided(X, rows) if given_picked_size else None
            best, conf[rows] = model.recommend(cust, item, picked, guide)
            size[rows] = model.labels[best]
            proba[rows] = model.proba(cust, item, model.grid[best], picked, guide)
            n_buys[rows] = np.where(cust >= 0, model.n_purchases[np.maximum(cust, 0)], 0)
            who = (
                [f"most customers who pick {p} in this {noun} take" for p in labels]
                if given_picked_size
                else ["most customers take"] * len(rows)
            )
            reasons[rows] = [
                f"new customer: {w} {s}" + ("" if given_picked_size else f" in this {noun}")
                if k < 0
                else f"based on {b} earlier purchase{'s' if b != 1 else ''} in {model.name} "
                f"sizes (size confidence {c:.0%})"
                for w, s, k, b, c in zip(
                    who, size[rows], cust, n_buys[rows], conf[rows], strict=True
                )
            ]
        out = X[[self.customer_col, self.item_col, self.category_col]].copy()
        out["recommended_size"] = size
        out[list(PROBA_COLUMNS)] = proba
        out["confidence"], out["n_purchases"] = conf, n_buys
        out["is_new_customer"] = n_buys == 0
        out["reason"] = reasons
        return out

    def predict_fit_proba_by_size(self, X: pd.DataFrame) -> pd.DataFrame:
        """Fit probabilities at the recommended size and its neighbours, one row per size.

        Neighbours are one step either way; bras also get the sister sizes (band one step
        either way at the same cup volume) and the next band at the same cup letter.
        Columns: ``request`` (row position in ``X``), the key columns, ``size``,
        ``relation`` and ``p_too_small``, ``p_fit``, ``p_too_large``.
        """
        parts = []
        for model, rows, cust, item in self._by_system(X, with_size=False):
            best, _ = model.recommend(cust, item)
            lookup = {tuple(c): i for i, c in enumerate(model.grid)}
            for rank, (relation, step) in enumerate(_NEIGHBOURS[model.kind]):
                if model.kind == "numeric":
                    idx = best + step[0]
                    idx = np.where((idx >= 0) & (idx < len(model.grid)), idx, -1)
                else:
                    target = model.grid[best] + np.array(step)
                    idx = np.array([lookup.get(tuple(t), -1) for t in target], dtype=int)
                ok = idx >= 0
                part = X[[self.customer_col, self.item_col, self.category_col]].iloc[rows[ok]]
                part = part.reset_index(drop=True)
                part.insert(0, "request", rows[ok])
                part["size"] = model.labels[idx[ok]]
                part["relation"], part["_rank"] = relation, rank
                part[list(PROBA_COLUMNS)] = model.proba(cust[ok], item[ok], model.grid[idx[ok]])
                parts.append(part)
        out = pd.concat(parts, ignore_index=True).sort_values(["request", "_rank"], kind="stable")
        return out.drop(columns="_rank").reset_index(drop=True)

    def predict_true_size(self, customer_ids, system: str) -> pd.DataFrame:
        """Each customer's most probable own size in ``system`` and its probability.

        A customer the system has not seen gets the population's most common size.
        """
        check_is_fitted(self, "systems_")
        if system not in self.systems_:
            raise ValueError(unknown_name_message("size system", system, self.systems_))
        model = self.systems_[system]
        ids = pd.Index([str(c) for c in customer_ids])
        cust = model.customers.get_indexer(ids)
        best, conf = model.true_size(cust)
        return pd.DataFrame(
            {
                self.customer_col: ids,
                "size": model.labels[best],
                "confidence": conf,
                "is_new_customer": cust < 0,
            }
        )


_NEIGHBOURS: dict[str, list[tuple[str, tuple[int, ...]]]] = {
    "bra": [
        ("recommended", (0, 0)),
        ("cup_down", (0, -1)),
        ("cup_up", (0, 1)),
        ("sister_band_down", (-1, 0)),
        ("sister_band_up", (1, 0)),
        ("band_down", (-1, -1)),
        ("band_up", (1, 1)),
    ],
    "alpha": [("recommended", (0,)), ("smaller", (-1,)), ("larger", (1,))],
}
_NEIGHBOURS["numeric"] = _NEIGHBOURS["alpha"]
