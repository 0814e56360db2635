"""CLV metrics, each against an independent computation: brute force over tie orders,
scipy and sklearn, or hand-worked literal rows."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import mean_absolute_error, root_mean_squared_error

from models import metrics as m


@pytest.fixture
def values():
    rng = np.random.default_rng(3)
    n = 200
    y = np.where(rng.random(n) < 0.7, 0.0, rng.gamma(2.0, 30.0, n)).round(2)
    p = (y + rng.gamma(1.0, 60.0, n)).round(-1)  # rounding makes ties on purpose
    return y, p


def textbook_gini(y, p):
    """The Kaggle/google-lifetime-value normalized Gini, for rows with no tied prediction."""

    def gini(actual, pred):
        order = np.argsort(-pred, kind="stable")
        cum = np.cumsum(actual[order]) / actual.sum()
        return cum.sum() / len(actual) - (len(actual) + 1) / (2 * len(actual))

    return gini(y, p) / gini(y, y)


def test_normalized_gini_matches_the_textbook_formula_without_ties():
    rng = np.random.default_rng(0)
    y = rng.gamma(1.0, 10.0, 300)
    p = y + rng.normal(0, 10, 300)
    assert m.normalized_gini(y, p) == pytest.approx(textbook_gini(y, p), abs=1e-12)
    assert m.normalized_gini(y, y) == pytest.approx(1.0)
    assert m.normalized_gini(y, -y) < -0.9


def test_normalized_gini_with_ties_is_the_mean_over_tie_orders():
    y = np.array([5.0, 0.0, 3.0, 0.0, 10.0, 1.0, 0.0])
    p = np.array([2.0, 2.0, 2.0, 1.0, 3.0, 1.0, 0.5])
    tied = [np.flatnonzero(p == v) for v in (2.0, 1.0)]
    results = []
    for a in itertools.permutations(tied[0]):
        for b in itertools.permutations(tied[1]):
            order = np.r_[4, list(a), list(b), 6]  # by prediction, highest first
            rank = np.empty(7)
            rank[order] = np.arange(7, 0, -1)  # distinct scores in this tie order
            results.append(textbook_gini(y, rank))
    assert m.normalized_gini(y, p) == pytest.approx(np.mean(results), abs=1e-12)
    perm = np.array([3, 6, 0, 2, 5, 1, 4])
    assert m.normalized_gini(y[perm], p[perm]) == pytest.approx(m.normalized_gini(y, p))


def test_gain_curve_on_literal_rows():
    y = np.array([0.0, 6.0, 2.0, 2.0])
    p = np.array([4.0, 3.0, 2.0, 1.0])
    np.testing.assert_allclose(m.gain_curve(y, p), [0, 0, 0.6, 0.8, 1.0])


def test_spearman_matches_scipy(values):
    y, p = values
    assert m.spearman(y, p) == pytest.approx(spearmanr(y, p).statistic, abs=1e-12)


def test_errors_match_sklearn(values):
    y, p = values
    assert m.mean_absolute_error(y, p) == pytest.approx(mean_absolute_error(y, p))
    assert m.root_mean_squared_error(y, p) == pytest.approx(root_mean_squared_error(y, p))
    assert m.total_error(y, p) == pytest.approx(p.sum() / y.sum() - 1)
    assert m.total_error([10.0, 0.0], [4.0, 5.5]) == pytest.approx(-0.05)


def test_decile_table_matches_a_groupby_without_ties():
    rng = np.random.default_rng(2)
    y = rng.gamma(1.0, 10.0, 100)
    p = rng.random(100)
    table = m.decile_table(y, p)
    group = pd.Series(p).rank(method="first").sub(1).floordiv(10).astype(int) + 1
    means = pd.DataFrame({"y": y, "p": p, "g": group}).groupby("g").mean()
    np.testing.assert_allclose(table["mean_actual"], means["y"])
    np.testing.assert_allclose(table["mean_predicted"], means["p"])
    assert (table["n_rows"] == 10).all()
    expected = np.mean(np.abs(means["p"] - means["y"]) / means["y"])
    assert m.decile_mape(y, p) == pytest.approx(expected)


def test_decile_table_splits_ties_and_fractional_boundaries():
    # 5 rows in 2 groups of 2.5 rows. Rows 1-3 tie at 2.0, so the lowest group is row 0,
    # one of the tied rows and half of another, in expectation 1.5 tied rows.
    y = np.array([1.0, 4.0, 0.0, 8.0, 10.0])
    p = np.array([1.0, 2.0, 2.0, 2.0, 3.0])
    table = m.decile_table(y, p, n_groups=2)
    # Group 1 = row 0 + 1.5 of the tied rows (mean 4 each) = 1 + 6 = 7 over 2.5 rows.
    np.testing.assert_allclose(table["mean_actual"], [7 / 2.5, 16 / 2.5])
    np.testing.assert_allclose(table["mean_predicted"], [(1 + 3) / 2.5, (3 + 3) / 2.5])
    # brute force over the tie orders, splitting the middle row in half
    lows = []
    for order in itertools.permutations([1, 2, 3]):
        lows.append(y[0] + y[order[0]] + 0.5 * y[order[1]])
    assert table["mean_actual"].iloc[0] == pytest.approx(np.mean(lows) / 2.5)


def test_decile_mape_refuses_a_group_without_value():
    y = np.array([0.0] * 10 + [1.0] * 10)
    p = np.arange(20.0)
    with pytest.raises(ValueError, match="group 1 of 10 has a mean actual value of 0"):
        m.decile_mape(y, p)
    assert m.decile_mape(y, p, n_groups=1) == pytest.approx(abs(np.mean(p) - 0.5) / 0.5)


def test_interval_coverage_on_literal_rows():
    y = [0.0, 5.0, 10.0, 20.0]
    assert m.interval_coverage(y, [0, 0, 11, 0], [0, 5, 12, 19.9]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="lower > upper at row 1"):
        m.interval_coverage(y, [0, 6, 0, 0], [1, 5, 1, 1])


def test_clv_metrics_keys_and_errors(values):
    y, p = values
    out = m.clv_metrics(y, p, lower=np.zeros_like(y), upper=p * 3, n_groups=3)
    assert set(out) == {
        "total_error_pct",
        "total_predicted",
        "total_actual",
        "mae",
        "rmse",
        "normalized_gini",
        "spearman",
        "decile_mape",
        "interval_coverage",
    }
    assert out["total_error_pct"] == pytest.approx(100 * m.total_error(y, p))
    with pytest.raises(ValueError, match="pass both lower and upper"):
        m.clv_metrics(y, p, lower=p)
    with pytest.raises(ValueError, match="y_pred has 2 values but y_true has 3"):
        m.mean_absolute_error([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="y_pred holds NaN or infinity at row 1"):
        m.total_error([1, 2], [1, np.nan])
    with pytest.raises(ValueError, match="actual total is 0"):
        m.normalized_gini([0, 0], [1, 2])
    with pytest.raises(ValueError, match="undefined when either input is constant"):
        m.spearman([1, 2, 3], [1, 1, 1])
