"""train_churn end to end on simulated data: what the registry serves, and quality bars."""

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from features.io.warehouse import canonical_tables
from features.reference import REFERENCE_ARTIFACT
from features.simulate import churn_oracle
from features.simulate.oracles import oracle_state
from models.metrics import roc_auc
from training.churn_data import LABEL, NOT_FEATURES, as_served, snapshot_frame
from training.promote import promote_model
from training.registry import alias_version
from training.splits import out_of_time_split
from training.tracking import configure


@pytest.fixture(scope="module")
def world(churn_world):
    con, params, result = churn_world
    configure(params)
    tables = canonical_tables(con)
    split = out_of_time_split(tables, params)
    test = snapshot_frame(
        tables, [split.test_cutoff], params=params, observed_until=split.observed_until
    )
    rows = as_served(test[[c for c in test.columns if c not in NOT_FEATURES or c == "customer_id"]])
    return con, params, result, split, test, rows


def test_both_models_registered_as_challengers(world):
    _, _, result, *_ = world
    assert result.versions == {"churn": "1", "churn_survival": "1"}
    assert alias_version("churn", "challenger") == "1"
    run = mlflow.get_run(result.run_id)
    assert run.data.tags["registration.decision"] == "registered"
    assert run.data.metrics["roc_auc_vs_baseline"] > 0
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(result.run_id, "plots")}
    assert {
        "plots/roc_pr.png",
        "plots/calibration.png",
        "plots/lift_gain.png",
        "plots/feature_importance.png",
        "plots/shap_summary.png",
        "plots/survival_by_tier.png",
    } <= artifacts
    assert {i.dataset.name for i in run.inputs.dataset_inputs} == {
        "churn_training",
        "churn_testing",
    }
    # The drift reference the nightly scorer reads: every feature and the score.
    reference = mlflow.artifacts.load_dict(f"runs:/{result.run_id}/{REFERENCE_ARTIFACT}")
    assert {"recency_days", "days_since_last_visit"} <= set(reference["numeric"])
    assert "p_churn" in reference["scores"]
    assert reference["rows"] > 0


def test_registered_churn_returns_probabilities_and_reasons(world):
    _, _, _, _, test, rows = world
    model = mlflow.pyfunc.load_model("models:/churn@challenger")
    served = rows.iloc[::-1].assign(as_of=pd.Timestamp("2025-10-03"))  # extra column ignored
    out = model.predict(served)
    assert list(out.columns) == [
        "customer_id",
        "p_churn",
        "reason_1",
        "reason_2",
        "reason_3",
        "reason_1_feature",
        "reason_2_feature",
        "reason_3_feature",
    ]
    assert out["customer_id"].tolist() == served["customer_id"].tolist()
    assert out["p_churn"].dtype == np.float64
    assert out["p_churn"].between(0, 1).all() and out["p_churn"].nunique() > 100
    features = set(model.metadata.get_input_schema().input_names())
    assert out["reason_1_feature"].notna().mean() > 0.9
    assert set(out["reason_1_feature"].dropna()) <= features
    assert out["reason_1"].notna().equals(out["reason_1_feature"].notna())
    quick = model.predict(served.head(10), params={"reasons": False})
    assert quick["reason_1"].isna().all()
    np.testing.assert_allclose(quick["p_churn"], out["p_churn"].head(10))


def test_registered_churn_refuses_rows_missing_a_feature(world):
    *_, rows = world
    model = mlflow.pyfunc.load_model("models:/churn@challenger")
    with pytest.raises(mlflow.exceptions.MlflowException, match="recency_days"):
        model.predict(rows.drop(columns=["recency_days"]).head(5))


def test_registered_survival_returns_horizons_median_and_curve(world):
    *_, rows = world
    model = mlflow.pyfunc.load_model("models:/churn_survival@challenger")
    assert model.metadata.signature is not None
    out = model.predict(rows)
    assert list(out.columns) == [
        "customer_id",
        "p_churn_30d",
        "p_churn_60d",
        "p_churn_90d",
        "median_days_to_churn",
        "survival_curve",
    ]
    p = out[["p_churn_30d", "p_churn_60d", "p_churn_90d"]].to_numpy()
    assert ((p >= 0) & (p <= 1)).all()
    # inactivity churn: no order within 30 days is at least as likely as within 90
    assert (np.diff(p, axis=1) <= 1e-12).all()
    curve = np.array([json.loads(c) for c in out["survival_curve"]])
    assert curve.shape == (len(rows), 13) and (curve[:, 0] == 1).all()
    np.testing.assert_allclose(curve[:, 2], p[:, 0], atol=1e-4)  # S(30) = P(churn in 30d)
    assert (out["median_days_to_churn"] > 0).all()


def test_classifier_is_within_003_of_the_oracle(world):
    con, params, result, split, test, _ = world
    truth = {t: con.table(t) for t in ("customers", "events", "subscriptions", "truth_segments")}
    best = churn_oracle(
        truth, split.test_cutoff, horizon_days=split.horizon_days, params=params.simulate
    )
    scored = test[["customer_id", LABEL]].merge(best, on="customer_id", validate="one_to_one")
    assert len(scored) == len(test)
    oracle_auc = roc_auc(scored[LABEL], scored["p_no_order"])
    assert result.metrics["oracle_roc_auc"] == pytest.approx(oracle_auc)
    ours = result.metrics["roc_auc"]
    print(f"oracle ROC-AUC {oracle_auc:.4f}, ours {ours:.4f}")
    assert ours >= oracle_auc - 0.03


def test_survival_median_follows_the_truth(world):
    """Under inactivity churn the survival event is the next order, so the median is the
    inactive spell ahead. It must rank customers like the oracle's P(no order in the
    horizon) (Spearman >= 0.5) and follow the latent churn hazard at least as well as the
    oracle does: that hazard is weakly identified from behaviour (the oracle itself reaches
    a Spearman of about 0.23 with it), so an absolute 0.5 is out of anyone's reach here."""
    con, params, _, split, _, rows = world
    truth = {t: con.table(t) for t in ("customers", "events", "subscriptions", "truth_segments")}
    state = oracle_state(truth, split.test_cutoff)[["customer_id", "hazard_per_day"]]
    best = churn_oracle(
        truth, split.test_cutoff, horizon_days=split.horizon_days, params=params.simulate
    )
    out = mlflow.pyfunc.load_model("models:/churn_survival@challenger").predict(rows)
    both = out.merge(state, on="customer_id", validate="one_to_one").merge(
        best, on="customer_id", validate="one_to_one"
    )
    assert len(both) == len(rows) and np.isfinite(both["median_days_to_churn"]).all()
    vs_oracle = spearmanr(both["median_days_to_churn"], both["p_no_order"]).statistic
    vs_hazard = spearmanr(both["median_days_to_churn"], both["hazard_per_day"]).statistic
    oracle_vs_hazard = spearmanr(both["p_no_order"], both["hazard_per_day"]).statistic
    print(
        f"Spearman: median vs oracle P(no order) {vs_oracle:.3f}; median vs true hazard "
        f"{vs_hazard:.3f} (oracle vs true hazard {oracle_vs_hazard:.3f})"
    )
    assert vs_oracle >= 0.5
    assert vs_hazard >= oracle_vs_hazard - 0.05 and vs_hazard > 0


def test_promotion_scores_both_aliases_on_the_test_window(world):
    con, params, *_ = world
    first = promote_model("churn", con, params)
    assert first.promoted and alias_version("churn", "champion") == "1"
    again = promote_model("churn", con, params)
    assert not again.promoted and again.champion_score == again.challenger_score
    surv = promote_model("churn_survival", con, params)
    assert surv.promoted and surv.metric == "concordance" and surv.challenger_score > 0.6
