"""Every figure renders on small inputs and carries the lines it promises."""

import numpy as np
import pandas as pd

from training import plots

rng = np.random.default_rng(0)
Y = rng.integers(0, 2, 200)
S = Y * 0.5 + rng.uniform(0, 1, 200) * 0.8


def test_roc_pr_has_one_line_per_scorer_plus_references():
    fig = plots.plot_roc_pr(Y, {"model": S, "baseline": rng.uniform(0, 1, 200)})
    roc, pr = fig.axes
    assert len(roc.lines) == 3 and len(pr.lines) == 3


def test_calibration_skips_empty_bins():
    fig = plots.plot_calibration(Y, {"model": np.clip(S, 0, 1)}, n_bins=5)
    assert len(fig.axes[0].lines[1].get_xdata()) == 5


def test_lift_gain_starts_from_the_top_scores():
    fig = plots.plot_lift_gain(np.array([1, 0, 0, 0]), {"m": np.array([0.9, 0.1, 0.2, 0.3])})
    gain = fig.axes[0].lines[0].get_ydata()
    assert gain.tolist() == [1.0, 1.0, 1.0, 1.0]


def test_importance_shows_the_top_features_largest_last():
    fig = plots.plot_importance(pd.Series({"a": 3.0, "b": 1.0, "c": 2.0}), top=2)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["c", "a"]


def test_shap_summary_orders_features_by_mean_absolute_contribution():
    contrib = pd.DataFrame({"a": [0.1, -0.1], "b": [1.0, -2.0], "bias": [5.0, 5.0]})
    fig = plots.plot_shap_summary(contrib, pd.DataFrame({"a": [1, 2], "b": [3, np.nan]}))
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["a", "b"]


def test_value_plots_render():
    table = pd.DataFrame({"predicted": [1.0, 2.0], "actual": [1.5, 1.8]})
    assert len(plots.plot_deciles(table).axes[0].patches) == 4
    fig = plots.plot_gain_curve(np.array([0.0, 5.0, 1.0]), {"m": np.array([1.0, 2.0, 3.0])})
    assert fig.axes[0].lines[0].get_ydata()[-1] == 1.0
    frame = pd.DataFrame(
        {
            "cutoff": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "predicted": [1.0, 2.0],
            "actual": [1.0, 2.5],
        }
    )
    assert (
        len(
            plots.plot_over_time(
                frame, x="cutoff", columns=["predicted", "actual"], title="t", ylabel="v"
            )
            .axes[0]
            .lines
        )
        == 2
    )
    assert (
        len(plots.plot_survival_by_tier([0, 30], {"high": np.array([1.0, 0.5])}).axes[0].lines) == 1
    )
