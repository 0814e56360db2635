"""train_clv on a small simulated shop: logged run, registered pyfunc, and the quality bar
against the simulator's true expected spend (Spearman >= 0.6, total within 5%)."""

from __future__ import annotations

import datetime as dt

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from features.builders import build_features
from features.config import SimulateParams, load_params
from features.errors import ConfigError
from features.io.warehouse import canonical_tables, connect
from features.simulate import simulate, value_oracle
from features.simulate.load import load_simulation
from models import metrics
from training.splits import out_of_time_split
from training.train_clv import train_clv


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("clv")
    (root / "params.yaml").write_text(
        "mlflow: {experiment: test}\n"
        "clv: {n_estimators: 150, n_draws: 100}\n"
        "registry:\n  gates:\n    clv:\n      abs_total_error_pct: {max: 15.0}\n"
    )
    params = load_params(root / "params.yaml", env={})
    sim = simulate(SimulateParams(), customers=6000, seed=3)
    con = connect(f"duckdb:///{root / 'warehouse.duckdb'}")
    load_simulation(con, sim, now=dt.datetime(2026, 6, 1), max_quarantine_share=0.5)
    result = train_clv(con, params)
    tables = canonical_tables(con)
    truth = {**tables, **{name: con.table(name) for name in sim.truth}}
    return result, params, tables, truth


def test_run_is_logged_and_registered(trained):
    result, *_ = trained
    assert result.name == "clv" and result.versions["clv"] is not None
    run = MlflowClient().get_run(result.run_id)
    for key in ("normalized_gini", "baseline_normalized_gini", "interval_coverage", "mae"):
        assert key in run.data.metrics
    assert run.data.tags["registration.decision"] == "registered"
    artifacts = {a.path for a in MlflowClient().list_artifacts(result.run_id, "plots")}
    assert artifacts == {
        "plots/deciles.png",
        "plots/gain_curve.png",
        "plots/predicted_vs_actual_over_time.png",
    }
    assert "clv v" in result.summary()


def test_served_model_ranks_like_the_true_expected_spend(trained):
    result, params, tables, truth = trained
    split = out_of_time_split(tables, params)
    rows = build_features(tables, split.test_cutoff, params=params).to_pandas()
    model = mlflow.pyfunc.load_model(f"models:/clv/{result.versions['clv']}")
    assert model.metadata.signature is not None
    out = model.predict(rows)
    assert list(out.customer_id) == list(rows.customer_id.astype(str))
    oracle = value_oracle(
        truth, split.test_cutoff, horizon_days=params.labels.horizon_days, params=SimulateParams()
    ).set_index("customer_id")["expected_revenue"]
    true = oracle.reindex(out.customer_id).to_numpy()
    assert not np.isnan(true).any()
    rho = metrics.spearman(true, out["clv"])
    total = metrics.total_error(true, out["clv"])
    print(f"simulated: Spearman {rho:.3f}, total error {total:+.3%}, n={len(out)}")
    assert rho >= 0.6
    assert abs(total) <= 0.05
    assert (out["clv_p10"] <= out["clv_p90"]).all()


@pytest.mark.parametrize(
    ("dynamics", "expected"), [("bgnbd", "BetaGeoModel"), ("pareto_nbd", "ParetoNBDModel")]
)
def test_clv_dynamics_selects_the_purchase_model(tmp_path, dynamics, expected):
    from training.train_clv import build_model

    (tmp_path / "params.yaml").write_text(f"clv: {{dynamics: {dynamics}, dynamics_weight: 0.5}}\n")
    model = build_model(load_params(tmp_path / "params.yaml", env={}))
    assert model.dynamics_weight == 0.5
    assert model.dynamics._purchase_model().__class__.__name__ == expected
    (tmp_path / "params.yaml").write_text("clv: {dynamics: pareto}\n")
    with pytest.raises(ConfigError, match="clv.dynamics: Input should be .bgnbd. or .pareto_nbd."):
        load_params(tmp_path / "params.yaml", env={})
