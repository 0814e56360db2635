"""Size figures: the tables behind them are exact, the figures carry the promised lines."""

import numpy as np
import pytest

from training import plots_size

Y = np.array(["fit", "fit", "too_small", "too_large"])
P = np.array([[0.1, 0.8, 0.1], [0.3, 0.6, 0.1], [0.7, 0.2, 0.1], [0.05, 0.15, 0.8]])


def test_calibration_table_bins_each_outcome():
    t = plots_size.fit_calibration_table(Y, P, n_bins=2)
    small = t[t["outcome"] == "too_small"]
    # too_small: predicted 0.1, 0.3, 0.05 in bin 0 (none observed), 0.7 in bin 1 (observed)
    assert small["bin"].tolist() == [0, 1] and small["rows"].tolist() == [3, 1]
    assert small["predicted"].tolist() == pytest.approx([0.15, 0.7])
    assert small["observed"].tolist() == [0.0, 1.0]
    fit = t[t["outcome"] == "fit"]
    assert fit["observed"].tolist() == [0.0, 1.0]  # 0.2, 0.15 below 0.5; 0.8, 0.6 above
    fig = plots_size.plot_fit_calibration(t)
    assert len(fig.axes[0].lines) == 4  # perfect + three outcomes


def test_calibration_table_checks_the_shape():
    with pytest.raises(ValueError, match=r"proba must be \(4, 3\)"):
        plots_size.fit_calibration_table(Y, P[:, :2])


def test_size_shares_sort_smallest_first():
    t = plots_size.size_shares(["M", "XS", "M", "L"], ["M", "M", "M", "S"], "alpha")
    assert t.index.tolist() == ["XS", "S", "M", "L"]
    assert t["bought"].tolist() == [0.25, 0.0, 0.5, 0.25]
    assert t["recommended"].tolist() == [0.0, 0.25, 0.75, 0.0]
    bras = plots_size.size_shares(["36B", "34D", "34C"], ["34C"] * 3, "bra")
    assert bras.index.tolist() == ["34C", "34D", "36B"]
    fig = plots_size.plot_size_distribution({"alpha": t, "bra": bras})
    assert len(fig.axes) == 2 and len(fig.axes[0].patches) == 8
