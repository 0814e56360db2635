import pytest

from features.config import load_params


@pytest.fixture
def mlflow_params(tmp_path):
    """Params pointing MLflow at a temporary SQLite store and artifact folder."""
    (tmp_path / "params.yaml").write_text("mlflow: {experiment: test}\n")
    return load_params(tmp_path / "params.yaml", env={})
