"""Model metrics: small pure functions, each tested against an independent computation.

Sections: churn classifier metrics, churn survival metrics, CLV metrics. Inputs are 1-D
array-likes of equal length; nothing is modified.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from lifelines.utils import concordance_index as _lifelines_concordance_index
from sklearn.metrics import average_precision_score, roc_auc_score

# =====================================================================================
# Churn classifier metrics
#
# y_true is 0/1 (1 = churned); y_score is any score where higher means more likely to
# churn (y_prob: a probability in [0, 1]). "Top k" ranks by y_score, highest first; rows
# tied at the cut count by their expected share (as if ties were broken at random), so
# results never depend on row order, even for step-shaped (isotonic) scores.
# =====================================================================================


def roc_auc(y_true, y_score) -> float:
    """Area under the ROC curve: P(a churner scores above a non-churner), ties count 1/2."""
    y, s = _binary(y_true), _scores(y_score, y_true)
    return float(roc_auc_score(y, s))


def pr_auc(y_true, y_score) -> float:
    """Area under the precision-recall curve as average precision (step-wise, no
    interpolation): the mean over churners of the precision at their score threshold."""
    y, s = _binary(y_true), _scores(y_score, y_true)
    return float(average_precision_score(y, s))


def brier_score(y_true, y_prob) -> float:
    """Mean squared difference between the churn probability and the 0/1 outcome."""
    y, p = _binary(y_true), _probabilities(y_prob, y_true)
    return float(np.mean((p - y) ** 2))


def log_loss(y_true, y_prob, *, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood in nats; probabilities clipped to [eps, 1 - eps]."""
    y, p = _binary(y_true), np.clip(_probabilities(y_prob, y_true), eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def top_count(n_rows: int, top_fraction: float) -> int:
    """How many rows "the top ``top_fraction``" means: ceil(fraction * n), at least 1."""
    if not 0 < top_fraction <= 1:
        raise ValueError(f"top_fraction must be in (0, 1]; got {top_fraction!r}")
    return max(1, int(np.ceil(round(top_fraction * n_rows, 9))))


def capture_rate(y_true, y_score, top_fraction: float) -> float:
    """Share of all churners found in the top ``top_fraction`` of rows by score."""
    y, s = _binary(y_true), _scores(y_score, y_true)
    if y.sum() == 0:
        raise ValueError("y_true holds no churner; the capture rate is undefined")
    return float(_expected_hits(y, s)[top_count(len(y), top_fraction)] / y.sum())


def lift(y_true, y_score, top_fraction: float) -> float:
    """Churn rate in the top ``top_fraction`` of rows divided by the overall churn rate."""
    y, s = _binary(y_true), _scores(y_score, y_true)
    if y.sum() == 0:
        raise ValueError("y_true holds no churner; lift is undefined")
    k = top_count(len(y), top_fraction)
    return float((_expected_hits(y, s)[k] / k) / y.mean())


def calibration_table(y_true, y_prob, *, n_bins: int = 10, strategy: str = "uniform"):
    """Reliability table: predicted against observed churn rate per probability bin.

    ``strategy="uniform"`` cuts [0, 1] into equal-width bins, ``"quantile"`` into bins of
    equal row counts. Bins are [lower, upper), the last one closed. Returns a DataFrame with
    one row per bin: ``bin_lower, bin_upper, n_rows, mean_predicted, observed_rate``
    (NaN for an empty bin, which is kept so tables line up across runs).
    """
    y, p = _binary(y_true), _probabilities(y_prob, y_true)
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1; got {n_bins}")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1))
    else:
        raise ValueError(f"unknown strategy {strategy!r}. Valid: quantile, uniform.")
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    n = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(bins, weights=p, minlength=n_bins) / n
        rate = np.bincount(bins, weights=y, minlength=n_bins) / n
    return pd.DataFrame(
        {
            "bin_lower": edges[:-1],
            "bin_upper": edges[1:],
            "n_rows": n,
            "mean_predicted": mean_p,
            "observed_rate": rate,
        }
    )


def profit_curve(
    y_true,
    y_score,
    *,
    value_saved: float,
    offer_cost: float,
    contact_cost: float,
    acceptance_rate: float,
    nonchurner_offer_rate: float = 1.0,
) -> pd.DataFrame:
    """Expected profit of a retention campaign that contacts the top k rows, for every k.

    The campaign model of Verbeke et al. (2012, "New insights into churn prediction in
    the telecommunication sector: a profit driven data mining approach"): every contact
    costs ``contact_cost``; a contacted churner accepts the offer with probability
    ``acceptance_rate`` and is then retained, worth ``value_saved`` minus ``offer_cost``;
    a contacted non-churner takes the offer with probability ``nonchurner_offer_rate``
    (1 in Verbeke et al.), costing ``offer_cost`` for nothing. Per contacted row::

        y * (acceptance_rate * (value_saved - offer_cost) - contact_cost)
        + (1 - y) * -(nonchurner_offer_rate * offer_cost + contact_cost)

    ``y_true`` may be the 0/1 outcomes (evaluation) or calibrated churn probabilities
    (planning a campaign before outcomes are known): the profit is linear in it.

    Returns a DataFrame with one row per k = 0..n: ``k``, ``share_contacted``,
    ``expected_profit``.
    """
    y = _outcome_or_probability(y_true)
    s = _scores(y_score, y_true)
    gain_churner = acceptance_rate * (value_saved - offer_cost) - contact_cost
    loss_other = nonchurner_offer_rate * offer_cost + contact_cost
    hits = _expected_hits(y, s)
    k = np.arange(len(y) + 1)
    profit = hits * gain_churner - (k - hits) * loss_other
    return pd.DataFrame({"k": k, "share_contacted": k / len(y), "expected_profit": profit})


def contact_profit(
    y_true,
    y_score,
    k: int,
    *,
    value_saved: float,
    offer_cost: float,
    contact_cost: float,
    acceptance_rate: float,
    nonchurner_offer_rate: float = 1.0,
) -> float:
    """Expected profit of contacting the top ``k`` rows by score (see :func:`profit_curve`)."""
    n = len(np.asarray(y_true))
    if not 0 <= k <= n:
        raise ValueError(f"k must be between 0 and the number of rows ({n}); got {k}")
    curve = profit_curve(
        y_true,
        y_score,
        value_saved=value_saved,
        offer_cost=offer_cost,
        contact_cost=contact_cost,
        acceptance_rate=acceptance_rate,
        nonchurner_offer_rate=nonchurner_offer_rate,
    )
    return float(curve["expected_profit"].iloc[k])


def churn_classifier_metrics(
    y_true, y_prob, *, top_fractions: Sequence[float] = (0.05, 0.10)
) -> dict[str, float]:
    """Every classifier metric above as one flat dict, ready to log.

    Keys: ``roc_auc, pr_auc, brier, log_loss, churn_rate`` and, per top fraction f (in
    whole percent), ``lift_top{f}pct`` and ``capture_top{f}pct``.
    """
    out = {
        "roc_auc": roc_auc(y_true, y_prob),
        "pr_auc": pr_auc(y_true, y_prob),
        "brier": brier_score(y_true, y_prob),
        "log_loss": log_loss(y_true, y_prob),
        "churn_rate": float(_binary(y_true).mean()),
    }
    for f in top_fractions:
        pct = f"{100 * f:g}"
        out[f"lift_top{pct}pct"] = lift(y_true, y_prob, f)
        out[f"capture_top{pct}pct"] = capture_rate(y_true, y_prob, f)
    return out


def _expected_hits(y: np.ndarray, score: np.ndarray) -> np.ndarray:
    """E[sum of y over the top k rows] for k = 0..n, ties at the cut shared out evenly."""
    order = np.argsort(-score, kind="stable")
    s, v = score[order], y[order]
    # Tie groups in sorted order: [start, end) with one score each.
    start = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    end = np.r_[start[1:], len(s)]
    before = np.r_[0.0, np.cumsum(v)][start]  # sum of y above each group
    group_mean = (np.r_[0.0, np.cumsum(v)][end] - before) / (end - start)
    k = np.arange(len(s) + 1)
    g = np.clip(np.searchsorted(start, k, side="right") - 1, 0, None)  # group holding row k
    hits = before[g] + (k - start[g]) * group_mean[g]
    return hits


def _binary(y_true) -> np.ndarray:
    y = np.asarray(y_true).ravel()
    if y.size == 0:
        raise ValueError("y_true is empty")
    if y.dtype != bool and not np.isin(y, [0, 1]).all():
        bad = y[~np.isin(y, [0, 1])][0]
        raise ValueError(f"y_true must be 0/1 or bool (1 = churned); found {bad!r}")
    return y.astype(np.float64)


def _outcome_or_probability(y_true) -> np.ndarray:
    y = np.asarray(y_true, dtype=np.float64).ravel()
    if y.size == 0:
        raise ValueError("y_true is empty")
    if not np.isfinite(y).all() or (y < 0).any() or (y > 1).any():
        raise ValueError("y_true must be 0/1 outcomes or churn probabilities in [0, 1]")
    return y


def _scores(y_score, y_true) -> np.ndarray:
    s = np.asarray(y_score, dtype=np.float64).ravel()
    if len(s) != len(np.asarray(y_true).ravel()):
        raise ValueError(f"y_score has {len(s)} values but y_true has {len(np.asarray(y_true))}")
    if not np.isfinite(s).all():
        raise ValueError("y_score holds NaN or infinity")
    return s


def _probabilities(y_prob, y_true) -> np.ndarray:
    p = _scores(y_prob, y_true)
    if (p < 0).any() or (p > 1).any():
        raise ValueError("y_prob must lie in [0, 1]")
    return p


# =====================================================================================
# Churn survival metrics
#
# duration_days and event describe what was observed: days from the cutoff to churn
# (event true) or to the end of follow-up (event false, censored). Risk means "churns
# sooner": higher risk = shorter time to churn (e.g. P(churn within h days), a Cox partial
# hazard). A predicted *time* (a median) is the opposite: pass its negative as risk.
# =====================================================================================


def concordance_index(duration_days, event, risk) -> float:
    """Harrell's C: the share of comparable pairs whose order the risk gets right.

    A pair (i, j) is comparable when i churned first: ``T_i < T_j`` with ``event_i``, or
    ``T_i == T_j`` with ``event_i`` and not ``event_j``. It is concordant when
    ``risk_i > risk_j``; equal risks count 1/2. Higher risk must mean earlier churn.

    lifelines' ``concordance_index(times, scores, events)`` expects the opposite
    convention (higher score = longer survival, i.e. a predicted time); this function
    passes it ``-risk``.
    """
    t, e = _survival_outcome(duration_days, event)
    r = np.asarray(risk, dtype=np.float64).ravel()
    if r.shape != t.shape:
        raise ValueError(f"risk has {len(r)} values but duration_days has {len(t)}")
    if not np.isfinite(r).all():
        raise ValueError("risk holds NaN or infinity (an infinite median? rank by probability)")
    return float(_lifelines_concordance_index(t, -r, e))


def censoring_survival(duration_days, event) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate of the censoring distribution G(t) = P(C > t).

    Censorings are the "events"; rows that churned at time s are still at risk of being
    censored at s. Returns ``(times, G)``: G drops at each distinct time in ``times`` and is
    right-continuous (G(t) for t in [times[i], times[i+1]) is G[i]; 1 before times[0]).
    """
    t, e = _survival_outcome(duration_days, event)
    times, inverse = np.unique(t, return_inverse=True)
    censored = np.bincount(inverse, weights=(~e).astype(np.float64), minlength=len(times))
    at_risk = len(t) - np.r_[0, np.cumsum(np.bincount(inverse, minlength=len(times)))[:-1]]
    return times, np.cumprod(1.0 - censored / at_risk)


def brier_scores(
    duration_days,
    event,
    survival,
    times_days,
    *,
    censoring_duration_days=None,
    censoring_event=None,
) -> np.ndarray:
    """Time-dependent Brier score with inverse-probability-of-censoring weights (Graf 1999).

    BS(t) = mean over rows of ``S(t|x_i)^2 / G(T_i-)`` for rows that churned by t
    (``T_i <= t``, event) plus ``(1 - S(t|x_i))^2 / G(t)`` for rows still active after t
    (``T_i > t``); rows censored by t contribute 0 and are stood in for by the weights.

    Parameters
    ----------
    survival : array of shape (n_rows, n_times)
        Predicted S(t | x) at ``times_days``, e.g. ``model.predict_survival_function(X,
        times_days)``.
    censoring_duration_days, censoring_event : optional
        The sample G is estimated on (e.g. the training rows); default the evaluation rows.

    Returns
    -------
    array of shape (n_times,)
    """
    t, e = _survival_outcome(duration_days, event)
    s, grid = _survival_matrix(survival, times_days, len(t))
    g_at = _censoring_lookup(t, e, censoring_duration_days, censoring_event)
    g_t = g_at(grid, left=False)
    if (g_t <= 0).any():
        raise ValueError(
            f"no row remains uncensored at times {grid[g_t <= 0].tolist()} days: the Brier "
            "score is undefined there (choose times within the follow-up)"
        )
    g_ti = g_at(t, left=True)
    churned = (t[:, None] <= grid[None, :]) & e[:, None]
    active = t[:, None] > grid[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(churned, s**2 / g_ti[:, None], 0.0) + np.where(
            active, (1.0 - s) ** 2 / g_t[None, :], 0.0
        )
    return terms.mean(axis=0)


def integrated_brier_score(
    duration_days,
    event,
    survival,
    times_days,
    *,
    censoring_duration_days=None,
    censoring_event=None,
) -> float:
    """IPCW Brier score averaged over ``[times_days[0], times_days[-1]]`` (trapezoid rule).

    ``times_days`` must be increasing with at least two values; use a fine grid (e.g.
    every day up to the horizon) for a close approximation of the integral. 0 is perfect;
    predicting 1/2 for everyone scores 0.25.
    """
    grid = np.asarray(times_days, dtype=np.float64).ravel()
    if len(grid) < 2 or np.any(np.diff(grid) <= 0):
        raise ValueError("times_days must be increasing with at least two values")
    bs = brier_scores(
        duration_days,
        event,
        survival,
        grid,
        censoring_duration_days=censoring_duration_days,
        censoring_event=censoring_event,
    )
    return float(np.trapezoid(bs, grid) / (grid[-1] - grid[0]))


def cumulative_dynamic_auc(
    duration_days,
    event,
    risk,
    times_days,
    *,
    censoring_duration_days=None,
    censoring_event=None,
) -> np.ndarray:
    """Time-dependent cumulative/dynamic AUC with Uno-style IPCW (Uno et al. 2007;
    Hung & Chiang 2010), as in scikit-survival's ``cumulative_dynamic_auc``.

    At each t: cases churned by t (``T_i <= t`` with event), weighted by ``1/G(T_i-)``;
    controls are still active after t (``T_j > t``), unweighted. AUC(t) is the weighted
    share of case-control pairs with ``risk_case > risk_control``, ties 1/2. Rows censored
    by t are neither, and the weights correct for them. (Not the Heagerty-Zheng
    Kaplan-Meier version.)

    Parameters
    ----------
    risk : array of shape (n_rows,) or (n_rows, n_times)
        Higher = churns sooner; one column per time when it depends on t (e.g.
        ``model.predict_churn_probability(X, times_days)``).

    Returns
    -------
    array of shape (n_times,)
    """
    t, e = _survival_outcome(duration_days, event)
    grid = np.asarray(times_days, dtype=np.float64).ravel()
    r = np.asarray(risk, dtype=np.float64)
    if r.ndim == 1:
        r = np.repeat(r[:, None], len(grid), axis=1)
    if r.shape != (len(t), len(grid)):
        raise ValueError(f"risk must have shape ({len(t)},) or ({len(t)}, {len(grid)})")
    if not np.isfinite(r).all():
        raise ValueError("risk holds NaN or infinity")
    weight = 1.0 / _censoring_lookup(t, e, censoring_duration_days, censoring_event)(t, left=True)
    out = np.empty(len(grid))
    for j, when in enumerate(grid):
        cases = e & (t <= when)
        controls = np.sort(r[t > when, j])
        if not cases.any() or len(controls) == 0:
            raise ValueError(
                f"at {when} days there are {int(cases.sum())} churners and {len(controls)} "
                "active rows; the AUC needs both"
            )
        rc = r[cases, j]
        below = np.searchsorted(controls, rc, side="left")
        tied = np.searchsorted(controls, rc, side="right") - below
        w = weight[cases]
        out[j] = np.sum(w * (below + 0.5 * tied)) / (w.sum() * len(controls))
    return out


def _censoring_lookup(t, e, censoring_duration_days, censoring_event):
    """G(x) (right-continuous) or G(x-) (left limit) from the chosen sample."""
    if (censoring_duration_days is None) != (censoring_event is None):
        raise ValueError("pass both censoring_duration_days and censoring_event, or neither")
    if censoring_duration_days is None:
        times, g = censoring_survival(t, e)
    else:
        times, g = censoring_survival(censoring_duration_days, censoring_event)
    values = np.r_[1.0, g]

    def at(x: np.ndarray, *, left: bool) -> np.ndarray:
        return values[np.searchsorted(times, x, side="left" if left else "right")]

    return at


def _survival_outcome(duration_days, event) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(duration_days, dtype=np.float64).ravel()
    e = np.asarray(event).ravel()
    if t.shape != e.shape:
        raise ValueError(f"duration_days has {len(t)} values but event has {len(e)}")
    if t.size == 0:
        raise ValueError("duration_days is empty")
    if not np.isfinite(t).all() or (t < 0).any():
        raise ValueError("duration_days must be finite and >= 0")
    if e.dtype != bool and not np.isin(e, [0, 1]).all():
        raise ValueError("event must be bool or 0/1")
    return t, e.astype(bool)


def _survival_matrix(survival, times_days, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    grid = np.asarray(times_days, dtype=np.float64).ravel()
    s = np.asarray(survival, dtype=np.float64)
    if s.ndim == 1 and len(grid) == 1:
        s = s[:, None]
    if s.shape != (n_rows, len(grid)):
        raise ValueError(
            f"survival must have shape (n_rows, n_times) = ({n_rows}, {len(grid)}); got {s.shape}"
        )
    if not np.isfinite(s).all() or (s < 0).any() or (s > 1).any():
        raise ValueError("survival probabilities must lie in [0, 1]")
    return s, grid


# =====================================================================================
# CLV metrics
#
# y_true is the realized value of each customer over the horizon (e.g. revenue in
# [cutoff, cutoff + horizon_days)); y_pred is the predicted value in the same units.
# Rankings sort by y_pred; rows tied in y_pred share out evenly across any cut (as if ties
# were broken at random), so no result depends on row order.
# =====================================================================================


def total_error(y_true, y_pred) -> float:
    """(sum of predictions - sum of actuals) / sum of actuals: the relative error of the
    total, e.g. -0.045 for a prediction 4.5% short."""
    y, p = _values(y_true, y_pred)
    total = y.sum()
    if total <= 0:
        raise ValueError(f"the actual total is {total}; the relative total error needs it > 0")
    return float(p.sum() / total - 1.0)


def mean_absolute_error(y_true, y_pred) -> float:
    """Mean of |prediction - actual|."""
    y, p = _values(y_true, y_pred)
    return float(np.mean(np.abs(p - y)))


def root_mean_squared_error(y_true, y_pred) -> float:
    """Square root of the mean of (prediction - actual) squared."""
    y, p = _values(y_true, y_pred)
    return float(np.sqrt(np.mean((p - y) ** 2)))


def gain_curve(y_true, y_pred) -> np.ndarray:
    """Cumulative share of the actual total captured by the top k rows by prediction.

    Returns an array of n + 1 values for k = 0..n (0 at k = 0, 1 at k = n).
    """
    y, p = _values(y_true, y_pred)
    total = y.sum()
    if total <= 0:
        raise ValueError(f"the actual total is {total}; the gain curve needs it > 0")
    return _expected_hits(y, p) / total


def normalized_gini(y_true, y_pred) -> float:
    """Gini of the gain curve ordered by prediction over the Gini of the perfect ordering.

    The Gini of a gain curve g (k = 1..n) is ``mean(g) - (n + 1) / (2 n)``: the area
    between the curve and the diagonal of a random ordering. 1 is the perfect ranking,
    0 a random one (as in google/lifetime_value).
    """
    y, p = _values(y_true, y_pred)
    model = gain_curve(y, p)[1:]
    perfect = gain_curve(y, y)[1:]
    n = len(y)
    offset = (n + 1) / (2 * n)
    denominator = perfect.mean() - offset
    if denominator <= 0:
        raise ValueError("every actual value is equal; the normalized Gini is undefined")
    return float((model.mean() - offset) / denominator)


def spearman(y_true, y_pred) -> float:
    """Spearman rank correlation (average ranks for ties)."""
    y, p = _values(y_true, y_pred)
    if np.ptp(y) == 0 or np.ptp(p) == 0:
        raise ValueError("Spearman's correlation is undefined when either input is constant")
    return float(np.corrcoef(_average_ranks(y), _average_ranks(p))[0, 1])


def decile_table(y_true, y_pred, *, n_groups: int = 10) -> pd.DataFrame:
    """Mean prediction and mean actual per group of equal size, by prediction.

    Rows are sorted by prediction, lowest first, and cut into ``n_groups`` groups of
    ``n / n_groups`` rows each (a row on a fractional boundary is split between its two
    groups; tied predictions are shared out evenly). Returns one row per group:
    ``group`` (1 = lowest predictions), ``n_rows``, ``mean_predicted``, ``mean_actual``.
    """
    y, p = _values(y_true, y_pred)
    if not 1 <= n_groups <= len(y):
        raise ValueError(f"n_groups must be between 1 and the number of rows ({len(y)})")
    bounds = np.linspace(0.0, len(y), n_groups + 1)
    # expected cumulative sums over the lowest b rows, at fractional boundaries b
    actual = _cumulative_at(y, -p, bounds)
    predicted = _cumulative_at(p, -p, bounds)
    size = np.diff(bounds)
    return pd.DataFrame(
        {
            "group": np.arange(1, n_groups + 1),
            "n_rows": size,
            "mean_predicted": np.diff(predicted) / size,
            "mean_actual": np.diff(actual) / size,
        }
    )


def decile_mape(y_true, y_pred, *, n_groups: int = 10) -> float:
    """Mean over :func:`decile_table` groups of |mean prediction - mean actual| / mean actual."""
    table = decile_table(y_true, y_pred, n_groups=n_groups)
    actual = table["mean_actual"].to_numpy()
    if (actual <= 0).any():
        group = int(table["group"].to_numpy()[np.argmax(actual <= 0)])
        raise ValueError(
            f"group {group} of {n_groups} has a mean actual value of {actual[group - 1]:g}; "
            "decile MAPE needs every group's mean actual > 0 (use fewer groups)"
        )
    return float(np.mean(np.abs(table["mean_predicted"].to_numpy() - actual) / actual))


def interval_coverage(y_true, lower, upper) -> float:
    """Share of actuals inside their predicted interval ``[lower, upper]`` (bounds included)."""
    y = _finite(y_true, "y_true")
    lo, hi = _finite(lower, "lower"), _finite(upper, "upper")
    if not len(y) == len(lo) == len(hi):
        raise ValueError(f"y_true, lower and upper have {len(y)}, {len(lo)} and {len(hi)} values")
    if (lo > hi).any():
        row = int(np.argmax(lo > hi))
        raise ValueError(f"lower > upper at row {row}: {lo[row]} > {hi[row]}")
    return float(np.mean((y >= lo) & (y <= hi)))


def clv_metrics(y_true, y_pred, *, lower=None, upper=None, n_groups: int = 10) -> dict[str, float]:
    """Every CLV metric above as one flat dict, ready to log.

    Keys: ``total_error_pct`` (100 x :func:`total_error`), ``total_predicted``,
    ``total_actual``, ``mae``, ``rmse``, ``normalized_gini``, ``spearman``,
    ``decile_mape`` and, when both bounds are given, ``interval_coverage``.
    """
    if (lower is None) != (upper is None):
        raise ValueError("pass both lower and upper, or neither")
    y, p = _values(y_true, y_pred)
    out = {
        "total_error_pct": 100.0 * total_error(y, p),
        "total_predicted": float(p.sum()),
        "total_actual": float(y.sum()),
        "mae": mean_absolute_error(y, p),
        "rmse": root_mean_squared_error(y, p),
        "normalized_gini": normalized_gini(y, p),
        "spearman": spearman(y, p),
        "decile_mape": decile_mape(y, p, n_groups=n_groups),
    }
    if lower is not None:
        out["interval_coverage"] = interval_coverage(y, lower, upper)
    return out


def _cumulative_at(values: np.ndarray, score: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Expected sum of ``values`` over the top b rows by ``score``, for fractional b:
    linear between whole rows, ties shared out evenly (see :func:`_expected_hits`)."""
    hits = _expected_hits(values, score)
    whole = np.clip(np.floor(bounds).astype(int), 0, len(values) - 1)
    frac = bounds - whole
    return hits[whole] + frac * (hits[np.minimum(whole + 1, len(values))] - hits[whole])


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing the mean of their ranks."""
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    first = np.r_[0, np.cumsum(counts)[:-1]]
    return (first + (counts + 1) / 2.0)[inverse]


def _finite(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64).ravel()
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(a).all():
        row = int(np.argmax(~np.isfinite(a)))
        raise ValueError(f"{name} holds NaN or infinity at row {row}")
    return a


def _values(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y, p = _finite(y_true, "y_true"), _finite(y_pred, "y_pred")
    if len(y) != len(p):
        raise ValueError(f"y_pred has {len(p)} values but y_true has {len(y)}")
    return y, p
