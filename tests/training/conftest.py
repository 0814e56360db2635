import pytest

from features.config import load_params


@pytest.fixture
def mlflow_params(tmp_path):
    """Params pointing MLflow at a temporary SQLite store and artifact folder."""
    (tmp_path / "params.yaml").write_text("mlflow: {experiment: test}\n")
    return load_params(tmp_path / "params.yaml", env={})


@pytest.fixture(scope="session")
def churn_world(tmp_path_factory):
    """3,000 simulated customers in an in-memory warehouse, churn models trained once.

    Params are the repo's, with MLflow in a temporary folder. Returns
    ``(con, params, result)``; tests call ``configure(params)`` before using the store,
    since other tests point MLflow elsewhere.
    """
    import datetime as dt
    from pathlib import Path

    from features.io.warehouse import connect
    from features.simulate import simulate
    from features.simulate.load import load_simulation
    from training.train_churn import train_churn

    root = tmp_path_factory.mktemp("churn")
    repo = Path(__file__).resolve().parents[2]
    (root / "params.yaml").write_text((repo / "params.yaml").read_text())
    params = load_params(root / "params.yaml", env={})
    con = connect("duckdb:///:memory:")
    data = simulate(params.simulate, customers=3_000, seed=3)
    load_simulation(con, data, now=dt.datetime(2026, 1, 1), max_quarantine_share=0.5)
    return con, params, train_churn(con, params)
