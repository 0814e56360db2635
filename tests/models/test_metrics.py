"""Metrics, each against an independent computation: brute force on small data, or
another library (sklearn, lifelines) where one computes the same quantity."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import concordance_index as lifelines_cindex
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.metrics import log_loss as sk_log_loss

from models import metrics as m

# ---------------------------------------------------------------- classifier metrics


@pytest.fixture
def scored():
    rng = np.random.default_rng(5)
    n = 60
    y = (rng.random(n) < 0.3).astype(int)
    p = np.clip(0.3 * y + rng.random(n) * 0.7, 0.001, 0.999).round(2)  # ties on purpose
    return y, p


def brute_auc(y, s):
    pos, neg = s[y == 1], s[y == 0]
    wins = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


def brute_average_precision(y, s):
    """Sum over distinct thresholds (high to low) of recall gain x precision."""
    total, prev_recall = 0.0, 0.0
    for thr in sorted(set(s), reverse=True):
        chosen = s >= thr
        recall = y[chosen].sum() / y.sum()
        total += (recall - prev_recall) * y[chosen].mean()
        prev_recall = recall
    return total


def test_roc_and_pr_auc_match_brute_force(scored):
    y, p = scored
    assert m.roc_auc(y, p) == pytest.approx(brute_auc(y, p), abs=1e-12)
    assert m.pr_auc(y, p) == pytest.approx(brute_average_precision(y, p), abs=1e-12)


def test_brier_and_log_loss():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.2, 0.6, 0.5])
    assert m.brier_score(y, p) == pytest.approx((0.01 + 0.04 + 0.16 + 0.25) / 4)
    expected = -(np.log(0.9) + np.log(0.8) + np.log(0.6) + np.log(0.5)) / 4
    assert m.log_loss(y, p) == pytest.approx(expected)
    assert m.log_loss(y, p) == pytest.approx(sk_log_loss(y, p))
    assert m.brier_score(y, p) == pytest.approx(brier_score_loss(y, p))
    assert np.isfinite(m.log_loss([1, 0], [0.0, 1.0]))  # clipped, not inf


def test_lift_and_capture_on_literal_rows():
    # 20 rows, 5 churners; scores descending = row order.
    y = np.array([1, 1, 0, 1, 0] + [0] * 12 + [1, 0, 1])
    s = np.linspace(1, 0, 20)
    assert m.top_count(20, 0.05) == 1 and m.top_count(20, 0.10) == 2
    assert m.top_count(30, 0.10) == 3  # 0.1 * 30 is 3.0000000000000004 in floats
    assert m.lift(y, s, 0.10) == pytest.approx((2 / 2) / (5 / 20))
    assert m.capture_rate(y, s, 0.10) == pytest.approx(2 / 5)
    assert m.lift(y, s, 0.25) == pytest.approx((3 / 5) / (5 / 20))
    assert m.capture_rate(y, s, 0.25) == pytest.approx(3 / 5)


def test_ties_at_the_cut_count_their_expected_share():
    # Top 2 of 5 where rows 1-3 tie: row 0 is in, then one of the three tied rows.
    y = np.array([0, 1, 1, 0, 1])
    s = np.array([0.9, 0.5, 0.5, 0.5, 0.1])
    results = []
    for order in itertools.permutations([1, 2, 3]):
        top = [0, order[0]]
        results.append(y[top].sum())
    expected_hits = np.mean(results)  # 2/3
    assert m.capture_rate(y, s, 0.4) == pytest.approx(expected_hits / 3)
    assert m.lift(y, s, 0.4) == pytest.approx((expected_hits / 2) / (3 / 5))
    # Row order does not matter.
    perm = np.array([4, 2, 0, 3, 1])
    assert m.lift(y[perm], s[perm], 0.4) == pytest.approx(m.lift(y, s, 0.4))


def test_calibration_table_matches_sklearn():
    rng = np.random.default_rng(1)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(int)
    table = m.calibration_table(y, p, n_bins=10)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10)
    kept = table[table["n_rows"] > 0]
    np.testing.assert_allclose(kept["observed_rate"], prob_true)
    np.testing.assert_allclose(kept["mean_predicted"], prob_pred)
    assert table["n_rows"].sum() == 500


def test_calibration_table_on_literal_rows():
    y = [0, 1, 1, 0, 1]
    p = [0.0, 0.5, 0.49, 0.2, 1.0]
    table = m.calibration_table(y, p, n_bins=2)
    assert table["n_rows"].tolist() == [3, 2]  # 0.5 opens the upper bin; 1.0 closes it
    assert table["observed_rate"].tolist() == pytest.approx([1 / 3, 1.0])
    assert table["mean_predicted"].tolist() == pytest.approx([0.23, 0.75])
    empty = m.calibration_table(y, p, n_bins=4)
    assert empty["n_rows"].tolist() == [2, 1, 1, 1]
    quantile = m.calibration_table(y, p, n_bins=5, strategy="quantile")
    assert quantile["n_rows"].tolist() == [1, 1, 1, 1, 1]
    with pytest.raises(ValueError, match="Valid: quantile, uniform"):
        m.calibration_table(y, p, strategy="equal")


PROFIT = dict(value_saved=200.0, offer_cost=20.0, contact_cost=2.0, acceptance_rate=0.3)


def brute_profit(y, s, k, nonchurner_offer_rate=1.0):
    top = np.argsort(-s, kind="stable")[:k]
    total = 0.0
    for i in top:
        if y[i]:
            accept = PROFIT["acceptance_rate"]
            total += accept * (
                PROFIT["value_saved"] - PROFIT["offer_cost"] - PROFIT["contact_cost"]
            )
            total += (1 - accept) * -PROFIT["contact_cost"]
        else:
            total -= nonchurner_offer_rate * PROFIT["offer_cost"] + PROFIT["contact_cost"]
    return total


def test_profit_matches_a_row_by_row_sum():
    rng = np.random.default_rng(2)
    y = (rng.random(40) < 0.25).astype(int)
    s = rng.random(40)
    curve = m.profit_curve(y, s, **PROFIT)
    assert curve.shape == (41, 3)
    for k in range(41):
        assert curve["expected_profit"][k] == pytest.approx(brute_profit(y, s, k))
        assert m.contact_profit(y, s, k, **PROFIT) == pytest.approx(brute_profit(y, s, k))
    assert m.contact_profit(y, s, 10, **PROFIT, nonchurner_offer_rate=0.5) == pytest.approx(
        brute_profit(y, s, 10, nonchurner_offer_rate=0.5)
    )
    assert curve["share_contacted"].iloc[-1] == 1.0


def test_profit_on_literal_rows_and_probabilities():
    # Contact the top 2: one churner (0.3 * 180 - 2 = 52) and one non-churner (-22).
    y, s = [1, 0, 1], [0.9, 0.8, 0.1]
    assert m.contact_profit(y, s, 2, **PROFIT) == pytest.approx(30.0)
    # With probabilities in place of outcomes the same formula gives the expectation.
    probs = [0.5, 0.25, 0.1]
    expected = 0.5 * 52 + 0.5 * -22 + 0.25 * 52 + 0.75 * -22
    assert m.contact_profit(probs, s, 2, **PROFIT) == pytest.approx(expected)


def test_churn_classifier_metrics_keys(scored):
    y, p = scored
    out = m.churn_classifier_metrics(y, p)
    assert list(out) == [
        "roc_auc",
        "pr_auc",
        "brier",
        "log_loss",
        "churn_rate",
        "lift_top5pct",
        "capture_top5pct",
        "lift_top10pct",
        "capture_top10pct",
    ]
    assert out["capture_top10pct"] == pytest.approx(m.capture_rate(y, p, 0.1))


def test_classifier_metric_errors():
    with pytest.raises(ValueError, match="0/1 or bool"):
        m.roc_auc([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="y_score has 1 values but y_true has 2"):
        m.lift([0, 1], [0.1], 0.1)
    with pytest.raises(ValueError, match="no churner"):
        m.lift([0, 0], [0.1, 0.2], 0.5)
    with pytest.raises(ValueError, match=r"top_fraction must be in \(0, 1\]"):
        m.lift([0, 1], [0.1, 0.2], 0)


# ---------------------------------------------------------------- survival metrics


@pytest.fixture
def observed():
    """40 rows, whole-day durations with ties, ~35% censored, a noisy risk."""
    rng = np.random.default_rng(9)
    n = 40
    risk = rng.normal(size=n)
    t = np.ceil(rng.exponential(60 * np.exp(-risk))).clip(1, 120)
    c = rng.integers(20, 150, n)
    event = t <= c
    duration = np.minimum(t, c).astype(float)
    return duration, event, risk + rng.normal(scale=0.7, size=n)


def brute_cindex(t, e, r):
    num = den = 0.0
    for i in range(len(t)):
        for j in range(len(t)):
            comparable = e[i] and (t[i] < t[j] or (t[i] == t[j] and not e[j]))
            if comparable:
                den += 1
                num += 1.0 if r[i] > r[j] else 0.5 if r[i] == r[j] else 0.0
    return num / den


def test_concordance_against_brute_force_and_both_lifelines_conventions(observed):
    t, e, risk = observed
    risk = risk.round(1)  # ties in risk
    c = m.concordance_index(t, e, risk)
    assert c == pytest.approx(brute_cindex(t, e, risk), abs=1e-12)
    # lifelines expects predicted times (higher = survives longer): pass it -risk ...
    assert c == pytest.approx(lifelines_cindex(t, -risk, e))
    # ... and a predicted time such as a median is a risk once negated.
    predicted_days = np.exp(-risk) * 30
    assert m.concordance_index(t, e, -predicted_days) == pytest.approx(
        lifelines_cindex(t, predicted_days, e)
    )
    # The trap: a risk handed to lifelines as if it were a time scores 1 - C.
    unique_risk = observed[2]
    assert lifelines_cindex(t, unique_risk, e) == pytest.approx(
        1 - m.concordance_index(t, e, unique_risk)
    )


def test_concordance_rejects_infinite_risk():
    with pytest.raises(ValueError, match="rank by probability"):
        m.concordance_index([1, 2], [1, 1], [0.1, -np.inf])


def test_censoring_survival_matches_lifelines_kaplan_meier(observed):
    t, e, _ = observed
    times, g = m.censoring_survival(t, e)
    kmf = KaplanMeierFitter().fit(t, event_observed=~e)
    np.testing.assert_allclose(g, kmf.survival_function_at_times(times).to_numpy())


def km_censoring(t, e):
    kmf = KaplanMeierFitter().fit(t, event_observed=~e)
    return lambda x: float(kmf.survival_function_at_times(x).iloc[0])


def brute_brier(t, e, surv, grid):
    G = km_censoring(t, e)
    out = []
    for j, s in enumerate(grid):
        total = 0.0
        for i in range(len(t)):
            if t[i] <= s and e[i]:
                total += surv[i, j] ** 2 / G(t[i] - 0.5)  # G(T_i-) on whole days
            elif t[i] > s:
                total += (1 - surv[i, j]) ** 2 / G(s)
        out.append(total / len(t))
    return np.array(out)


def test_brier_scores_match_graf_by_brute_force(observed):
    t, e, risk = observed
    grid = np.array([10.0, 30.0, 60.0, 90.0])
    surv = np.exp(-np.outer(np.exp(risk), grid) / 80)
    np.testing.assert_allclose(m.brier_scores(t, e, surv, grid), brute_brier(t, e, surv, grid))
    ibs = m.integrated_brier_score(t, e, surv, grid)
    bs = brute_brier(t, e, surv, grid)
    trapezoid = sum((bs[i] + bs[i + 1]) / 2 * (grid[i + 1] - grid[i]) for i in range(3))
    assert ibs == pytest.approx(trapezoid / 80)


def test_brier_without_censoring_is_the_plain_brier():
    t = np.array([5.0, 10, 20, 40])
    e = np.ones(4, dtype=bool)
    surv = np.array([[0.2], [0.9], [0.6], [0.7]])
    # At day 15: rows 0 and 1 churned (outcome "not surviving"), rows 2 and 3 survive.
    expected = brier_score_loss([0, 0, 1, 1], surv[:, 0])
    assert m.brier_scores(t, e, surv, [15.0])[0] == pytest.approx(expected)
    half = np.full((4, 2), 0.5)
    assert m.integrated_brier_score(t, e, half, [1.0, 30.0]) == pytest.approx(0.25)


def test_brier_refuses_times_past_the_follow_up():
    t, e = np.array([5.0, 10.0]), np.array([True, False])
    with pytest.raises(ValueError, match=r"no row remains uncensored at times \[10.0\]"):
        m.brier_scores(t, e, np.full((2, 1), 0.5), [10.0])


def brute_auc_t(t, e, r, when):
    G = km_censoring(t, e)
    num = den = 0.0
    for i in range(len(t)):
        if not (e[i] and t[i] <= when):
            continue
        w = 1 / G(t[i] - 0.5)
        for j in range(len(t)):
            if t[j] > when:
                den += w
                num += w * (1.0 if r[i] > r[j] else 0.5 if r[i] == r[j] else 0.0)
    return num / den


def test_cumulative_dynamic_auc_matches_brute_force(observed):
    t, e, risk = observed
    grid = np.array([30.0, 60.0, 90.0])
    r = risk.round(1)
    expected = [brute_auc_t(t, e, r, when) for when in grid]
    np.testing.assert_allclose(m.cumulative_dynamic_auc(t, e, r, grid), expected)
    # A risk per time column gives each time its own column.
    per_time = np.column_stack([r, -r, r])
    auc = m.cumulative_dynamic_auc(t, e, per_time, grid)
    assert auc[1] == pytest.approx(1 - expected[1])


def test_cumulative_dynamic_auc_without_censoring_is_roc_auc():
    rng = np.random.default_rng(4)
    t = rng.integers(1, 100, 50).astype(float)
    r = -t + rng.normal(scale=20, size=50)
    auc = m.cumulative_dynamic_auc(t, np.ones(50, bool), r, [30.0])
    assert auc[0] == pytest.approx(roc_auc_score(t <= 30, r))


def test_censoring_sample_can_be_the_training_rows(observed):
    t, e, risk = observed
    train_t, train_e = t[::-1] + 1, e[::-1]
    a = m.cumulative_dynamic_auc(
        t, e, risk, [60.0], censoring_duration_days=train_t, censoring_event=train_e
    )
    times, g = m.censoring_survival(train_t, train_e)
    weight = 1 / np.r_[1.0, g][np.searchsorted(times, t, side="left")]
    cases, controls = e & (t <= 60), t > 60
    pairs = (risk[cases][:, None] > risk[controls][None, :]).astype(float)
    expected = (weight[cases][:, None] * pairs).sum() / (weight[cases].sum() * controls.sum())
    assert a[0] == pytest.approx(expected)
    with pytest.raises(ValueError, match="pass both"):
        m.brier_scores(t, e, np.full((40, 1), 0.5), [10.0], censoring_event=e)


def test_survival_metrics_on_a_fitted_model(weibull_sample):
    from models.churn_weibull import ChurnWeibullModel

    X, y = weibull_sample.X, weibull_sample.y
    model = ChurnWeibullModel(penalizer=0.0).fit(X.iloc[:1500], y[:1500])
    t, e = y["duration_days"][1500:], y["event"][1500:]
    grid = np.arange(1.0, 91.0)
    ibs = m.integrated_brier_score(t, e, model.predict_survival_function(X.iloc[1500:], grid), grid)
    auc = m.cumulative_dynamic_auc(
        t, e, model.predict_churn_probability(X.iloc[1500:]), [30.0, 60.0, 90.0]
    )
    c = m.concordance_index(t, e, model.predict_churn_probability(X.iloc[1500:], [90])[:, 0])
    assert 0.0 < ibs < 0.25
    assert (auc > 0.7).all() and 0.7 < c < 1.0
    frame = pd.DataFrame({"auc": auc})
    assert frame.notna().all().all()
