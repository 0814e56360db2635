"""Figures every training run logs: each function returns a matplotlib Figure.

They take arrays and tables already computed by ``models.metrics``; nothing here
computes a metric of its own. Figures are made with the object interface (no pyplot
state), so they are safe to build in any order and are closed by
``training.tracking.log_figure``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

from models.metrics import calibration_table


def _figure(width: float = 6.0, height: float = 4.5) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def plot_roc_pr(y_true, scores: Mapping[str, np.ndarray]) -> Figure:
    """ROC and precision-recall curves of several scorers on the same labels."""
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    roc_ax, pr_ax = fig.subplots(1, 2)
    y = np.asarray(y_true)
    for name, s in scores.items():
        fpr, tpr, _ = roc_curve(y, s)
        roc_ax.plot(fpr, tpr, label=name)
        prec, rec, _ = precision_recall_curve(y, s)
        pr_ax.plot(rec, prec, label=name)
    roc_ax.plot([0, 1], [0, 1], ls=":", c="grey")
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    pr_ax.axhline(y.mean(), ls=":", c="grey", label=f"base rate {y.mean():.2f}")
    pr_ax.set(xlabel="recall", ylabel="precision", title="precision-recall")
    for ax in (roc_ax, pr_ax):
        ax.legend(loc="best", fontsize=8)
    return fig


def plot_calibration(
    y_true, probabilities: Mapping[str, np.ndarray], *, n_bins: int = 10
) -> Figure:
    """Mean predicted probability against the observed rate, per probability bin."""
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], ls=":", c="grey", label="perfect")
    for name, p in probabilities.items():
        t = calibration_table(y_true, p, n_bins=n_bins, strategy="quantile")
        t = t[t["n_rows"] > 0]
        ax.plot(t["mean_predicted"], t["observed_rate"], marker="o", label=name)
    ax.set(
        xlabel="mean predicted churn probability",
        ylabel="observed churn rate",
        title="calibration",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(loc="best", fontsize=8)
    return fig


def plot_lift_gain(y_true, scores: Mapping[str, np.ndarray]) -> Figure:
    """Cumulative gain (share of positives captured) and lift by share of rows contacted."""
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    gain_ax, lift_ax = fig.subplots(1, 2)
    y = np.asarray(y_true, dtype=float)
    share = np.arange(1, len(y) + 1) / len(y)
    for name, s in scores.items():
        order = np.argsort(-np.asarray(s), kind="stable")
        gain = np.cumsum(y[order]) / y.sum()
        gain_ax.plot(share, gain, label=name)
        lift_ax.plot(share, gain / share, label=name)
    gain_ax.plot([0, 1], [0, 1], ls=":", c="grey", label="random")
    gain_ax.set(
        xlabel="share of customers contacted",
        ylabel="share of churners captured",
        title="cumulative gain",
    )
    lift_ax.axhline(1, ls=":", c="grey")
    lift_ax.set(xlabel="share of customers contacted", ylabel="lift", title="lift", xlim=(0.01, 1))
    for ax in (gain_ax, lift_ax):
        ax.legend(loc="best", fontsize=8)
    return fig


def plot_importance(
    importance: pd.Series, *, top: int = 25, title: str = "feature importance"
) -> Figure:
    """Horizontal bars of the ``top`` largest values of ``importance`` (index = feature)."""
    s = importance.sort_values(ascending=True).tail(top)
    fig, ax = _figure(7, max(3, 0.28 * len(s) + 1))
    ax.barh(s.index.astype(str), s.to_numpy())
    ax.set(title=title, xlabel=importance.name or "importance")
    return fig


def plot_shap_summary(
    contributions: pd.DataFrame, values: pd.DataFrame, *, top: int = 20
) -> Figure:
    """A SHAP beeswarm: per feature, each row's contribution coloured by its feature value.

    ``contributions`` has one column per feature (plus an optional ``bias``) in log-odds.
    """
    contrib = contributions.drop(columns=["bias"], errors="ignore")
    order = contrib.abs().mean().sort_values(ascending=False).head(top).index[::-1]
    fig, ax = _figure(7.5, max(3, 0.3 * len(order) + 1))
    rng = np.random.default_rng(0)
    for i, feature in enumerate(order):
        x = contrib[feature].to_numpy()
        v = pd.to_numeric(values[feature], errors="coerce").to_numpy(dtype=float)
        finite = np.isfinite(v)
        colour = np.full(len(v), 0.5)
        if finite.any():
            lo, hi = np.nanpercentile(v[finite], [5, 95])
            colour[finite] = np.clip((v[finite] - lo) / (hi - lo or 1), 0, 1)
        ax.scatter(
            x,
            i + rng.uniform(-0.3, 0.3, len(x)),
            c=colour,
            cmap="coolwarm",
            s=4,
            alpha=0.6,
            linewidths=0,
        )
    ax.axvline(0, c="grey", lw=0.8)
    ax.set_yticks(range(len(order)), labels=list(order))
    ax.set(xlabel="contribution to churn log-odds (SHAP)", title="SHAP summary (red = high value)")
    return fig


def plot_survival_by_tier(times_days: Sequence[float], curves: Mapping[str, np.ndarray]) -> Figure:
    """Mean predicted survival (no churn yet) curve per risk tier."""
    fig, ax = _figure()
    for tier, s in curves.items():
        ax.plot(times_days, s, label=tier)
    ax.set(
        xlabel="days from cutoff",
        ylabel="P(not churned)",
        title="survival by risk tier",
        ylim=(0, 1.01),
    )
    ax.legend(loc="best", fontsize=8)
    return fig


def plot_deciles(table: pd.DataFrame) -> Figure:
    """Mean predicted against mean actual per prediction decile (columns: predicted, actual)."""
    fig, ax = _figure()
    x = np.arange(1, len(table) + 1)
    ax.bar(x - 0.2, table["predicted"], width=0.4, label="predicted")
    ax.bar(x + 0.2, table["actual"], width=0.4, label="actual")
    ax.set(xlabel="decile of prediction (1 = lowest)", ylabel="mean value", title="decile chart")
    ax.set_xticks(x)
    ax.legend()
    return fig


def plot_gain_curve(y_true, predictions: Mapping[str, np.ndarray]) -> Figure:
    """Share of total value captured by the top share of customers, ordered by prediction."""
    fig, ax = _figure()
    y = np.asarray(y_true, dtype=float)
    share = np.arange(1, len(y) + 1) / len(y)
    for name, p in {"perfect": y, **predictions}.items():
        order = np.argsort(-np.asarray(p), kind="stable")
        ax.plot(
            share, np.cumsum(y[order]) / y.sum(), label=name, ls="--" if name == "perfect" else "-"
        )
    ax.plot([0, 1], [0, 1], ls=":", c="grey", label="random")
    ax.set(xlabel="share of customers", ylabel="share of value", title="gain curve")
    ax.legend(loc="best", fontsize=8)
    return fig


def plot_over_time(
    frame: pd.DataFrame, *, x: str, columns: Sequence[str], title: str, ylabel: str
) -> Figure:
    """Lines of ``columns`` against ``x`` (e.g. predicted vs actual total per cutoff)."""
    fig, ax = _figure()
    for c in columns:
        ax.plot(frame[x], frame[c], marker="o", label=c)
    ax.set(title=title, xlabel=x, ylabel=ylabel)
    ax.legend()
    fig.autofmt_xdate()
    return fig
