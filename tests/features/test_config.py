from pathlib import Path

import pytest

from features.config import load_params, resolve_url
from features.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "params.yaml"
    p.write_text(text)
    return p


def test_unknown_key_suggests_the_closest_valid_key(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'custmers'\. Did you mean 'customers'\?"):
        load_params(write(tmp_path, "simulate:\n  custmers: 10\n"), env={})


def test_unknown_key_inside_a_named_mapping_is_located(tmp_path):
    text = """
loaders:
  mappings:
    retail:
      sources: {tx: {file: tx.csv}}
      tables: {orders: {source: tx, columns: {order_id: InvoiceNo}, group_by: [], wher: "1=1"}}
"""
    with pytest.raises(ConfigError) as err:
        load_params(write(tmp_path, text), env={})
    assert "at loaders.mappings.retail.tables.orders" in str(err.value)
    assert "Did you mean 'where'?" in str(err.value)


def test_wrong_value_names_the_key_and_the_value(tmp_path):
    with pytest.raises(ConfigError, match=r"simulate\.customers: .*greater than 0 \(got -3\)"):
        load_params(write(tmp_path, "simulate:\n  customers: -3\n"), env={})


def test_relative_urls_resolve_against_the_params_folder(tmp_path):
    params = load_params(write(tmp_path, "{}\n"), env={})
    assert params.warehouse.url == f"duckdb:///{tmp_path}/data/warehouse.duckdb"
    assert params.mlflow.tracking_uri == f"sqlite:///{tmp_path}/mlflow/mlflow.db"
    assert params.mlflow.artifact_location == str(tmp_path / "mlflow" / "artifacts")


def test_environment_overrides_warehouse_and_tracking_uri(tmp_path):
    env = {
        "JOURNEY_WAREHOUSE": "duckdb:///other.duckdb",
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:5000",
    }
    params = load_params(write(tmp_path, "{}\n"), env=env)
    assert params.warehouse.url == f"duckdb:///{tmp_path}/other.duckdb"
    assert params.mlflow.tracking_uri == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("duckdb:///data/w.duckdb", "duckdb:////root/data/w.duckdb"),
        ("duckdb:////abs/w.duckdb", "duckdb:////abs/w.duckdb"),
        ("duckdb:///:memory:", "duckdb:///:memory:"),
        ("postgres://u@127.0.0.1/db", "postgres://u@127.0.0.1/db"),
    ],
)
def test_resolve_url(url, expected):
    assert resolve_url(url, Path("/root")) == expected


def test_the_repo_params_file_loads():
    root = Path(__file__).resolve().parents[2]
    params = load_params(root / "params.yaml", env={})
    assert params.root == root


def test_size_params_load_from_the_repo_params_and_reject_typos(tmp_path):
    repo = load_params(Path(__file__).resolve().parents[2] / "params.yaml", env={})
    assert repo.size.choice_window == 2 and repo.size.item_prior_sd == 0.5
    with pytest.raises(
        ConfigError, match=r"unknown key 'choice_windw'\. Did you mean 'choice_window'\?"
    ):
        load_params(write(tmp_path, "size:\n  choice_windw: 3\n"), env={})
