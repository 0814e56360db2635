"""Spark fixtures: one local[2] session, one simulated world, real champions, both engines' runs.

Built once per session (each is expensive): 20,000 simulated customers in a DuckDB
warehouse and as a Parquet folder; churn, survival, CLV and size models trained on it
with the training entry points and promoted to ``@champion`` in a temporary MLflow store;
one scoring run per engine for :data:`AS_OF`. Every test skips, saying why, when there is
no Java.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from features.config import Params, load_params

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = 20_000
SEED = 11
AS_OF = dt.date(2025, 12, 1)  # scored by both engines
OTHER = dt.date(2025, 11, 1)  # a second date, for partition tests


def java_missing() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if (home and Path(home, "bin", "java").exists()) or shutil.which("java"):
        return None
    return "Java is not installed (no `java` on PATH, no JAVA_HOME): Spark needs a JVM 17+"


def world_params(root: Path, **spark: object) -> Params:
    """The repo's params with everything written under ``root`` and a small Spark."""
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["warehouse"] = {"url": f"duckdb:///{root}/warehouse.duckdb"}
    raw["mlflow"] = {
        **raw.get("mlflow", {}),
        "tracking_uri": f"sqlite:///{root}/mlflow/mlflow.db",
        "artifact_location": str(root / "mlflow" / "artifacts"),
    }
    # Quick real models: two train cutoffs of 3,000 customers each.
    raw["training"] = {
        **raw.get("training", {}),
        "n_train_cutoffs": 2,
        "max_rows_per_cutoff": 3_000,
    }
    raw["serving"] = {
        **raw["serving"],
        # Fewer than the ~11,000 active customers: both engines explain the top 2,000 only.
        "reasons_top_n": 2_000,
        "risk_list_dir": str(root / "risk_list"),
        "lock_path": str(root / "lock"),
    }
    raw["spark"] = {
        **raw["spark"],
        "shuffle_partitions": 4,
        "source": str(root / "canonical"),
        "features": str(root / "features"),
        "predictions": str(root / "predictions"),
        "conf": {
            "spark.ui.enabled": False,
            "spark.ui.showConsoleProgress": False,
            "spark.local.dir": str(root / "spark-tmp"),
        },
        **spark,
    }
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_params(root / "params.yaml", env={})


@dataclass
class World:
    root: Path
    params: Params
    duck: object  # the DuckDB warehouse (Ibis backend)
    source: Path  # the canonical tables as Parquet


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> World:
    """20,000 simulated customers: a DuckDB warehouse and its Parquet export."""
    from features.io.parquet import export_parquet
    from features.io.warehouse import connect
    from features.simulate import simulate
    from features.simulate.load import load_simulation

    root = tmp_path_factory.mktemp("spark-world")
    params = world_params(root)
    duck = connect(params.warehouse.url)
    data = simulate(params.simulate, customers=CUSTOMERS, seed=SEED)
    load_simulation(duck, data, now=dt.datetime(2026, 1, 1), max_quarantine_share=0.5)
    source = params.path(params.spark.source)
    export_parquet(duck, source)
    return World(root, params, duck, source)


@pytest.fixture(scope="session")
def spark(world):
    """The Ibis PySpark backend on one local[2] session (4 shuffle partitions)."""
    reason = java_missing()
    if reason:
        pytest.skip(reason)
    from features.io.spark import connect, spark_session

    session = spark_session(world.params)
    yield connect(session)
    session.stop()


@pytest.fixture(scope="session")
def spark_tables(spark, world):
    from features.io.spark import canonical_tables

    return canonical_tables(spark, str(world.source))


@pytest.fixture(scope="session")
def champions(world) -> dict:
    """Real churn, churn_survival, clv and size models trained on the world, as @champion."""
    from serving.models import resolve_champions
    from training.promote import promote_model
    from training.train_churn import train_churn
    from training.train_clv import train_clv
    from training.train_size import train_size

    for train in (train_churn, train_clv, train_size):
        result = train(world.duck, world.params)
        assert all(result.versions.values()), result.summary()
    for name in ("churn", "churn_survival", "clv", "size"):
        assert promote_model(name, world.duck, world.params).promoted
    return resolve_champions(world.params)


@dataclass
class Scored:
    predictions: pd.DataFrame  # the date's rows, sorted by customer_id
    result: object  # serving.score.ScoreResult
    risk_csv: Path


@pytest.fixture(scope="session")
def duck_scored(world, champions) -> Scored:
    """The warehouse path's run for AS_OF (predictions to a Parquet target)."""
    from serving.risk_list import write_risk_list
    from serving.score import score_date
    from serving.writeback import ParquetTarget

    params = world.params.model_copy(
        update={
            "serving": world.params.serving.model_copy(
                update={"risk_list_dir": str(world.root / "risk_list_duckdb")}
            )
        }
    )
    target = ParquetTarget(world.root / "predictions_duckdb")
    result = score_date(world.duck, AS_OF, params=params, target=target)
    files = write_risk_list(world.duck, target, AS_OF, params=params)
    rows = target.read(since=AS_OF, until=AS_OF)
    return Scored(rows.sort_values("customer_id").reset_index(drop=True), result, files.csv)


@pytest.fixture(scope="session")
def spark_scored(spark, spark_tables, world, champions) -> Scored:
    """The Spark path's run for AS_OF (predictions under spark.predictions)."""
    from serving.spark_score import score_date_spark, write_risk_list_spark

    path = str(world.root / "predictions")
    result = score_date_spark(spark, spark_tables, AS_OF, params=world.params, path=path)
    files = write_risk_list_spark(spark, spark_tables, path, AS_OF, params=world.params)
    rows = _read_partition(Path(path), AS_OF)
    return Scored(rows, result, files.csv)


def _read_partition(folder: Path, as_of: dt.date) -> pd.DataFrame:
    """One ``as_of=`` partition read with pyarrow alone (no Spark), sorted by customer_id."""
    import pyarrow.parquet as pq

    part = folder / f"as_of={as_of:%Y-%m-%d}"
    files = sorted(part.glob("*.parquet"))
    assert files, f"no parquet files in {part}"
    frame = pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
    return frame.sort_values("customer_id").reset_index(drop=True)


def _partition_files(folder: Path, as_of: dt.date) -> dict[str, bytes]:
    """File name -> bytes of one partition, to prove it was left alone."""
    part = folder / f"as_of={as_of:%Y-%m-%d}"
    return {f.name: f.read_bytes() for f in sorted(part.iterdir()) if f.is_file()}


@pytest.fixture
def read_partition():
    """``read_partition(folder, as_of)``: one partition's rows, sorted by customer_id."""
    return _read_partition


@pytest.fixture
def partition_files():
    """``partition_files(folder, as_of)``: file name -> bytes of one partition."""
    return _partition_files


@pytest.fixture
def dates() -> tuple[dt.date, dt.date]:
    """``(AS_OF, OTHER)``: the date both engines score, and a second date."""
    return AS_OF, OTHER
