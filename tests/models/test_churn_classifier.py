"""ChurnClassifier: the sklearn contract, the time-held-out calibration fold, and recovery
of a known logistic truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from models.churn_classifier import ChurnClassifier


# Every check runs; none is skipped. Checks feed numeric arrays, which the classifier
# takes as all-numeric frames; categorical input is covered by the tests below. One
# LightGBM thread: on tiny data, threads only wait for each other.
@parametrize_with_checks(
    [
        ChurnClassifier(n_estimators=20, random_state=0, n_jobs=1),
        ChurnClassifier(n_estimators=20, calibration_method="isotonic", random_state=0, n_jobs=1),
    ]
)
def test_sklearn_contract(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def panel_fit(churn_panel):
    """Fit on cutoffs 0-4 (cutoff 4, after the shift, calibrates); score cutoff 5."""
    train = churn_panel.cutoff <= 4
    test = churn_panel.cutoff == 5
    fits = {
        method: ChurnClassifier(
            n_estimators=150,
            learning_rate=0.05,
            num_leaves=8,
            min_child_samples=40,
            calibration_method=method,
            calibration_size=1,
            random_state=7,
            n_jobs=1,
        ).fit(churn_panel.X[train], churn_panel.y[train], time=churn_panel.cutoff[train])
        for method in ("sigmoid", "isotonic")
    }
    return fits, churn_panel.X[test], churn_panel.y[test], churn_panel.p_true[test]


def test_calibration_fold_is_the_latest_cutoff(panel_fit):
    fits, *_ = panel_fit
    model = fits["sigmoid"]
    assert model.calibration_cutoff_ == 4
    assert (model.n_training_rows_, model.n_calibration_rows_) == (6000, 1500)


def test_calibration_split_is_the_fits_split_and_needs_no_fit(churn_panel):
    train = churn_panel.cutoff <= 4
    unfitted = ChurnClassifier(calibration_size=1)
    rows, calib = unfitted.calibration_split(churn_panel.y[train], churn_panel.cutoff[train])
    assert (len(rows), len(calib)) == (6000, 1500)
    assert (churn_panel.cutoff[train][calib] == 4).all()
    assert (churn_panel.cutoff[train][rows] < 4).all()
    assert not any(k.endswith("_") and not k.startswith("_") for k in vars(unfitted))


def test_auc_is_close_to_the_truths_auc(panel_fit):
    # 1,500 test rows with ~30% churners: the AUC's standard error is about 0.013, and the
    # model pays a little for learning the shape (missingness, a square, a categorical).
    fits, X, y, p_true = panel_fit
    truth_auc = roc_auc_score(y, p_true)
    for model in fits.values():
        auc = roc_auc_score(y, model.predict_proba(X)[:, 1])
        assert auc > truth_auc - 0.03, (auc, truth_auc)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibration_on_the_shifted_fold_lowers_the_brier_score(panel_fit, method):
    fits, X, y, _ = panel_fit
    model = fits[method]
    calibrated = model.predict_proba(X)[:, 1]
    raw = model.classifier_.predict_proba(model.schema_.to_lightgbm(X))[:, 1]
    assert brier_score_loss(y, calibrated) < brier_score_loss(y, raw) - 0.005
    # The booster learned the pre-shift base rate; the calibrator moved it up.
    assert abs(calibrated.mean() - y.mean()) < 0.03 < abs(raw.mean() - y.mean())


def test_sigmoid_calibration_keeps_the_ranking(panel_fit):
    fits, X, *_ = panel_fit
    model = fits["sigmoid"]
    margin = model.classifier_.predict(model.schema_.to_lightgbm(X), raw_score=True)
    p = model.predict_proba(X)[:, 1]
    assert (np.diff(p[np.argsort(margin)]) >= 0).all()


def test_contributions_sum_to_the_log_odds(panel_fit):
    fits, X, *_ = panel_fit
    model = fits["sigmoid"]
    contrib = model.predict_contributions(X.head(20))
    assert list(contrib.columns) == ["recency_days", "visits_90d", "spend_90d", "channel", "bias"]
    assert contrib.index.equals(X.head(20).index)
    margin = model.classifier_.predict(model.schema_.to_lightgbm(X.head(20)), raw_score=True)
    np.testing.assert_allclose(contrib.sum(axis=1), margin, rtol=1e-6)


def test_feature_importances_are_shares(panel_fit):
    fits, *_ = panel_fit
    imp = fits["sigmoid"].feature_importances_
    assert imp.shape == (4,)
    assert imp.sum() == pytest.approx(1.0)
    assert (imp > 0).all()


def test_object_strings_and_category_dtype_give_the_same_model(churn_panel):
    X, y = churn_panel.X.head(3000), churn_panel.y[:3000]
    t = churn_panel.cutoff[:3000]
    as_category = X.assign(channel=X["channel"].astype("category"))
    a = ChurnClassifier(n_estimators=30, random_state=0, n_jobs=1).fit(X, y, time=t)
    b = ChurnClassifier(n_estimators=30, random_state=0, n_jobs=1).fit(as_category, y, time=t)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(as_category))


def test_unseen_category_scores_as_missing(panel_fit):
    fits, X, *_ = panel_fit
    model = fits["sigmoid"]
    row = X.head(1)
    unseen = model.predict_proba(row.assign(channel="kiosk"))
    missing = model.predict_proba(row.assign(channel=np.nan))
    np.testing.assert_allclose(unseen, missing)


def _fold(time, size):
    """Rows in the calibration fold for a literal cutoff column."""
    rng = np.random.default_rng(0)
    n = len(time)
    X = pd.DataFrame({"x": rng.normal(size=n)})
    y = np.arange(n) % 2
    model = ChurnClassifier(n_estimators=2, min_child_samples=1, calibration_size=size, n_jobs=1)
    model.fit(X, y, time=time)
    return model.n_calibration_rows_, model.calibration_cutoff_


def test_calibration_size_float_takes_whole_latest_cutoffs():
    days = pd.to_datetime(["2025-01-01"] * 10 + ["2025-02-01"] * 10 + ["2025-03-01"] * 5)
    assert _fold(days, 0.2) == (5, pd.Timestamp("2025-03-01"))  # 5/25 = exactly 20%
    assert _fold(days, 0.25) == (15, pd.Timestamp("2025-02-01"))  # a cutoff is never split
    assert _fold(days, 0.99) == (15, pd.Timestamp("2025-02-01"))  # one cutoff left to train
    assert _fold(days[::-1], 0.2) == (5, pd.Timestamp("2025-03-01"))  # row order is irrelevant


def test_calibration_size_int_counts_cutoffs():
    time = np.array([1, 1, 2, 2, 3, 3, 4, 4])
    assert _fold(time, 1) == (2, 4)
    assert _fold(time, 3) == (6, 2)
    with pytest.raises(ValueError, match="leaves none of the 4 distinct cutoffs"):
        _fold(time, 4)


def test_time_errors_are_named():
    with pytest.raises(ValueError, match="single cutoff"):
        _fold(np.zeros(8), 0.2)
    with pytest.raises(ValueError, match="time is missing at row 2"):
        _fold(pd.to_datetime(["2025-01-01", "2025-01-01", None, "2025-02-01"]), 0.2)
    with pytest.raises(ValueError, match="time has 3 values but X has 4 rows"):
        ChurnClassifier().fit(np.zeros((4, 1)), [0, 1, 0, 1], time=[1, 2, 3])
    with pytest.raises(ValueError, match="only one class"):
        _fold(np.array([1, 1, 1, 2]), 1)  # the latest cutoff's single row is one class


def test_without_time_the_fold_is_random_stratified_and_seeded(churn_panel):
    X, y = churn_panel.X.head(2000), churn_panel.y[:2000]
    a = ChurnClassifier(n_estimators=20, calibration_size=0.25, random_state=3, n_jobs=1).fit(X, y)
    b = ChurnClassifier(n_estimators=20, calibration_size=0.25, random_state=3, n_jobs=1).fit(X, y)
    assert a.calibration_cutoff_ is None
    assert a.n_calibration_rows_ == round(0.25 * (y == 1).sum()) + round(0.25 * (y == 0).sum())
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_bad_parameters_list_valid_values():
    X, y = pd.DataFrame({"x": np.arange(20.0)}), np.arange(20) % 2
    with pytest.raises(ValueError, match="Did you mean 'isotonic'.*Valid: isotonic, sigmoid"):
        ChurnClassifier(calibration_method="isotonc").fit(X, y)
    with pytest.raises(ValueError, match="float in \\(0, 1\\) or an int >= 1; got 1.5"):
        ChurnClassifier(calibration_size=1.5).fit(X, y)
    with pytest.raises(ValueError, match="Only binary classification"):
        ChurnClassifier().fit(X, np.arange(20) % 3)


def _bgnbd_cohort(n: int, cutoffs_days: list[int], horizon_days: int, seed: int) -> pd.DataFrame:
    """One cohort buying by BG/NBD (rate ~ Gamma, dropout after each purchase ~ Beta),
    joining over 90 days; one snapshot row per (customer, cutoff) with the purchase
    history at the cutoff, ``recency_days`` and the label: no purchase in the horizon."""
    rng = np.random.default_rng(seed)
    join = rng.uniform(0, 90, n)
    rate = rng.gamma(0.6, 1 / 12.0, n)  # purchases per day while alive
    dropout = rng.beta(0.8, 3.0, n)
    times = []
    for i in range(n):
        t, bought = join[i], [join[i]]
        while rng.random() >= dropout[i]:
            t += rng.exponential(1 / rate[i])
            if t > max(cutoffs_days) + horizon_days:
                break
            bought.append(t)
        times.append(np.floor(bought))
    rows = []
    for c in cutoffs_days:
        for i in np.flatnonzero(join < c):
            before = times[i][times[i] < c]
            ahead = times[i][(times[i] >= c) & (times[i] < c + horizon_days)]
            days = np.unique(before)
            rows.append(
                {
                    "cutoff": c,
                    "repeat_purchase_days": float(len(days) - 1),
                    "purchase_span_days": days[-1] - days[0],
                    "days_since_first_purchase": c - days[0],
                    "recency_days": c - days[-1],
                    "churned": int(len(ahead) == 0),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def cohort():
    """Trained on young customers (cutoffs at days 120-180), scored a year after joining."""
    frame = _bgnbd_cohort(6000, [120, 150, 180, 400], horizon_days=90, seed=11)
    return frame[frame.cutoff < 400], frame[frame.cutoff == 400]


def test_bgnbd_blend_follows_churn_rising_with_age(cohort):
    train, test = cohort
    features = ["repeat_purchase_days", "purchase_span_days", "days_since_first_purchase"]
    features += ["recency_days"]
    fits = {
        days: ChurnClassifier(
            n_estimators=100,
            num_leaves=8,
            calibration_size=1,
            purchase_model_horizon_days=days,
            random_state=0,
            n_jobs=1,
        ).fit(train[features], train["churned"], time=train["cutoff"])
        for days in (None, 90)
    }
    y = test["churned"].to_numpy()
    plain, blend = (fits[d].predict_proba(test[features])[:, 1] for d in (None, 90))
    # Older customers churn more than any training cutoff showed; the booster stays at
    # the young level, the blend follows.
    assert y.mean() > train.loc[train.cutoff == 180, "churned"].mean() + 0.05
    assert abs(blend.mean() - y.mean()) < abs(plain.mean() - y.mean()) - 0.02
    assert brier_score_loss(y, blend) < brier_score_loss(y, plain) - 0.003
    model = fits[90]
    assert model.calibrator_.coef_.shape == (1, 3)
    assert model.purchase_model_.n_customers_ == int((train.cutoff == 180).sum())
    assert fits[None].purchase_model_ is None


def test_bgnbd_blend_scores_rows_without_a_history_and_row_by_row(cohort):
    train, test = cohort
    features = ["repeat_purchase_days", "purchase_span_days", "days_since_first_purchase"]
    model = ChurnClassifier(
        n_estimators=20, purchase_model_horizon_days=90, random_state=0, n_jobs=1
    ).fit(train[features], train["churned"], time=train["cutoff"])
    rows = test[features].head(5).copy()
    rows.iloc[0] = np.nan  # signed up, never bought
    batch = model.predict_proba(rows)
    assert np.isfinite(batch).all()
    one_by_one = np.vstack([model.predict_proba(rows.iloc[[i]]) for i in range(len(rows))])
    np.testing.assert_allclose(batch, one_by_one)


def test_bgnbd_blend_errors_are_named(cohort):
    train, _ = cohort
    X, y, t = train[["repeat_purchase_days", "recency_days"]], train["churned"], train["cutoff"]
    with pytest.raises(ValueError, match=r"\['purchase_span_days', 'days_since_first_purc"):
        ChurnClassifier(n_estimators=5, purchase_model_horizon_days=90).fit(X, y, time=t)
    with pytest.raises(ValueError, match="needs calibration_method='sigmoid'"):
        ChurnClassifier(calibration_method="isotonic", purchase_model_horizon_days=90).fit(X, y)
    with pytest.raises(ValueError, match="None or a number of days > 0; got 0"):
        ChurnClassifier(purchase_model_horizon_days=0).fit(X, y)
