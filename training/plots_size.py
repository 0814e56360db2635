"""Figures the size training run logs; each function returns a matplotlib Figure.

Object interface only (no pyplot state), closed by ``training.tracking.log_figure``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from features.contract.schema import FIT_FEEDBACK
from features.sizes import size_coordinates


def fit_calibration_table(y_true, proba: np.ndarray, *, n_bins: int = 10) -> pd.DataFrame:
    """Per fit class and bin of predicted probability: mean predicted, observed share, rows.

    Bins are equal width on [0, 1]; empty bins are left out.
    """
    y = np.asarray(y_true, dtype=object)
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (len(y), len(FIT_FEEDBACK)):
        raise ValueError(f"proba must be ({len(y)}, {len(FIT_FEEDBACK)}); got {proba.shape}")
    parts = []
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    for k, cls in enumerate(FIT_FEEDBACK):
        p = proba[:, k]
        b = np.clip(np.digitize(p, edges[1:-1]), 0, n_bins - 1)
        frame = pd.DataFrame({"bin": b, "predicted": p, "observed": (y == cls).astype(float)})
        agg = frame.groupby("bin").agg(
            predicted=("predicted", "mean"), observed=("observed", "mean"), rows=("bin", "size")
        )
        parts.append(agg.reset_index().assign(outcome=cls))
    return pd.concat(parts, ignore_index=True)[["outcome", "bin", "predicted", "observed", "rows"]]


def plot_fit_calibration(table: pd.DataFrame) -> Figure:
    """Observed against predicted probability of each fit outcome (``fit_calibration_table``)."""
    fig = Figure(figsize=(6, 4.5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ls=":", c="grey", label="perfect")
    for cls, part in table.groupby("outcome", sort=False):
        ax.plot(part["predicted"], part["observed"], marker="o", label=str(cls))
    ax.set(
        xlabel="predicted probability",
        ylabel="observed share",
        title="fit-outcome calibration (test window)",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend()
    return fig


def size_shares(bought: Sequence[str], recommended: Sequence[str], kind: str) -> pd.DataFrame:
    """Share of rows per size label, bought and recommended, smallest size first.

    ``kind`` is the labels' size kind (``features.sizes.SIZE_KINDS``); bras sort by band,
    then cup.
    """
    b = pd.Series(np.asarray(bought, dtype=object).astype(str)).value_counts(normalize=True)
    r = pd.Series(np.asarray(recommended, dtype=object).astype(str)).value_counts(normalize=True)
    out = pd.DataFrame({"bought": b, "recommended": r}).fillna(0.0)
    order = np.lexsort(size_coordinates(out.index.to_numpy(), kind).T[::-1])
    return out.iloc[order]


def plot_size_distribution(shares: dict[str, pd.DataFrame]) -> Figure:
    """Bought against recommended size shares, one panel per size system (``size_shares``)."""
    fig = Figure(figsize=(11, 3.5 * len(shares)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(shares), 1))
    for ax, (system, table) in zip(axes, shares.items(), strict=True):
        x = np.arange(len(table))
        ax.bar(x - 0.2, table["bought"], width=0.4, label="bought")
        ax.bar(x + 0.2, table["recommended"], width=0.4, label="recommended")
        ax.set_xticks(x, table.index, rotation=90 if len(table) > 12 else 0)
        ax.set(ylabel="share of test purchases", title=f"{system} sizes")
        ax.legend()
    return fig
