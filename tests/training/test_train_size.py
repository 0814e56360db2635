"""``train_size`` end to end on a small simulated warehouse and a temporary MLflow store."""

import datetime as dt

import mlflow
import pytest

from features.config import load_params
from features.io.warehouse import connect
from features.simulate import simulate
from features.simulate.load import load_simulation
from models.pyfunc_size import OUTPUT_COLUMNS
from training.train_size import train_size

PARAMS = """
warehouse: {{url: "duckdb:///{root}/w.duckdb"}}
mlflow: {{experiment: test}}
size: {{refit_on_all_data: {refit}, n_em_iter: 15}}
registry:
  gates:
    size:
      avg_auc: {{min: {auc_min}}}
      avg_auc_vs_baseline: {{min: 0.0}}
"""


def write_params(root, *, auc_min: float, refit: bool = True):
    (root / "params.yaml").write_text(PARAMS.format(root=root, auc_min=auc_min, refit=refit))
    return load_params(root / "params.yaml", env={})


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("size")
    p = write_params(root, auc_min=0.5)
    data = simulate(p.simulate, customers=500, seed=5)
    con = connect(p.warehouse.url)
    load_simulation(con, data, now=dt.datetime(2026, 1, 2), max_quarantine_share=0.01)
    return root, con


def test_trains_logs_and_registers_a_challenger(warehouse):
    root, con = warehouse
    result = train_size(con, write_params(root, auc_min=0.5))
    assert result.name == "size" and result.versions == {"size": "1"}
    m = result.metrics
    assert m["avg_auc_vs_baseline"] == pytest.approx(m["avg_auc"] - m["baseline_1lv_avg_auc"])
    assert 0.5 < m["avg_auc"] < 1 and 0 <= m["hit_rate"] <= 1 and m["test_lines"] > 50
    run = mlflow.get_run(result.run_id)
    assert run.data.params["size.n_em_iter"] == "15"
    assert run.data.tags["registration.decision"] == "registered"
    assert run.data.metrics["avg_auc"] == pytest.approx(m["avg_auc"])
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(result.run_id, "plots")}
    assert artifacts == {"plots/fit_calibration.png", "plots/recommended_vs_bought_sizes.png"}

    info = mlflow.models.get_model_info("models:/size@challenger")
    assert info.signature.inputs.input_names() == ["customer_id", "product_id", "category"]
    model = mlflow.pyfunc.load_model("models:/size@challenger")
    lines = con.table("order_lines").filter(lambda t: t.category == "bra").head(1).to_pandas()
    request = lines[["product_id"]].assign(customer_id=["nobody"])
    out = model.predict(request)
    assert tuple(out.columns) == OUTPUT_COLUMNS
    assert out["size_note"].iloc[0] == (
        f"new customer: most customers take {out['recommended_size'].iloc[0]} in this style"
    )
    # picks made after a size-guide view (params.size.guide_page) are evidence too
    recommender = model.unwrap_python_model().recommender
    assert recommender.guide_col == "size_guide"
    logged = mlflow.get_run(result.run_id).inputs.dataset_inputs[0].dataset
    assert "size_guide" in logged.schema


def test_a_model_that_fails_the_gates_is_not_registered(warehouse):
    root, con = warehouse
    result = train_size(con, write_params(root, auc_min=0.99, refit=False))
    assert result.versions == {"size": None}
    run = mlflow.get_run(result.run_id)
    assert run.data.tags["registration.decision"] == "refused"
    assert "avg_auc=" in run.data.tags["registration.gates"]
    assert "FAILED" in run.data.tags["registration.gates"]
