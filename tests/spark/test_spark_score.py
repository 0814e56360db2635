"""Scoring on Spark gives the warehouse path's predictions and risk list, and is idempotent.

Both engines score the same 20,000 simulated customers with the same real champions
(conftest). Figures land in ``tests/artifacts/spark_scoring.json``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
from pathlib import Path

import cloudpickle
import mlflow
import numpy as np
import pandas as pd
import pytest

from serving.models import ModelError
from serving.predictions import PREDICTIONS_SCHEMA

pytestmark = pytest.mark.spark

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PER_RUN = ("run_id",)


def test_predictions_are_identical_on_spark_and_duckdb(duck_scored, spark_scored, world):
    want, got = duck_scored.predictions, spark_scored.predictions
    run_d, run_s = duck_scored.result.run, spark_scored.result.run
    assert (run_s.rows_in, run_s.rows_scored) == (run_d.rows_in, run_d.rows_scored)
    assert run_s.rows_scored < run_s.rows_in  # the active filter did something
    assert spark_scored.result.rows_out == len(got) == len(want) == run_d.rows_scored
    assert run_s.models == run_d.models
    assert got.customer_id.tolist() == want.customer_id.tolist()
    checked: dict[str, float] = {}
    for col in PREDICTIONS_SCHEMA.names:
        if col in PER_RUN or col == "as_of":
            continue
        a, b = got[col], want[col]
        if PREDICTIONS_SCHEMA.field(col).type == "double":
            x, y = a.to_numpy(float), b.to_numpy(float)
            assert (np.isnan(x) == np.isnan(y)).all(), f"{col}: nulls differ"
            both = ~np.isnan(y)
            assert np.allclose(x[both], y[both], rtol=1e-9, atol=1e-9), col
            checked[col] = float(np.max(np.abs(x[both] - y[both]), initial=0.0))
        else:
            assert a.where(a.notna(), None).tolist() == b.where(b.notna(), None).tolist(), col
            checked[col] = 0.0
    assert got.run_id.nunique() == 1 and got.run_id.iloc[0] == run_s.run_id
    # Churn reasons for the top reasons_top_n by value at risk only, the same customers.
    explained = got.reason_1.notna()
    assert explained.sum() == world.params.serving.reasons_top_n < len(got)
    assert (explained == want.reason_1.notna()).all()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "spark_scoring.json").write_text(
        json.dumps(
            {
                "customers_in_snapshot": run_s.rows_in,
                "customers_scored": run_s.rows_scored,
                "columns_exact": sorted(checked),
                "max_abs_diff": max(checked.values()),
                "spark_stage_seconds": run_s.stage_seconds,
                "duckdb_stage_seconds": run_d.stage_seconds,
            },
            indent=2,
        )
    )


def test_the_warehouse_paths_parquet_reader_reads_spark_predictions(spark_scored, world, dates):
    from serving.writeback import ParquetTarget

    as_of, _ = dates
    rows = ParquetTarget(world.root / "predictions").read(since=as_of, until=as_of)
    assert rows.customer_id.tolist() == spark_scored.predictions.customer_id.tolist()
    assert set(rows.as_of) == {as_of}
    assert rows.p_churn.equals(spark_scored.predictions.p_churn)


def test_risk_list_order_is_identical(duck_scored, spark_scored, world):
    spark_csv = pd.read_csv(spark_scored.risk_csv, dtype={"customer_id": str})
    duck_csv = pd.read_csv(duck_scored.risk_csv, dtype={"customer_id": str})
    n = min(len(spark_csv), world.params.spark.risk_list_rows)
    assert len(spark_csv) == n == min(len(duck_csv), world.params.spark.risk_list_rows)
    top = duck_csv.head(n)
    assert spark_csv["rank"].tolist() == top["rank"].tolist() == list(range(1, n + 1))
    assert spark_csv.customer_id.tolist() == top.customer_id.tolist()
    assert list(spark_csv.columns) == list(top.columns)
    assert spark_csv.segment.equals(top.segment)
    assert np.allclose(spark_csv.value_at_risk, top.value_at_risk, rtol=1e-5, equal_nan=True)


def test_the_page_counts_the_whole_day_not_the_top_rows(
    spark, spark_tables, world, spark_scored, dates, tmp_path
):
    from serving.spark_score import write_risk_list_spark

    as_of, _ = dates
    params = world.params.model_copy(
        update={
            "spark": world.params.spark.model_copy(update={"risk_list_rows": 25}),
            "serving": world.params.serving.model_copy(update={"risk_list_dir": str(tmp_path)}),
        }
    )
    path = str(world.root / "predictions")
    files = write_risk_list_spark(spark, spark_tables, path, as_of, params=params)
    assert files.rows == 25 and len(pd.read_csv(files.csv)) == 25
    page = files.html.read_text()
    scored = spark_scored.result.rows_out
    assert scored > 25 and f"{scored:,}</" in page and "25 (top by value at risk)" in page


def test_rescoring_a_date_replaces_that_partition_only(
    spark, spark_tables, world, spark_scored, dates, read_partition, partition_files
):
    from serving.spark_score import score_date_spark

    as_of, other = dates
    path = world.root / "rescored"
    shutil.copytree(world.root / "predictions", path)
    # Another date already scored: here, a copy of this date's partition under its name.
    shutil.copytree(path / f"as_of={as_of:%Y-%m-%d}", path / f"as_of={other:%Y-%m-%d}")
    before = partition_files(path, other)
    params = world.params.model_copy(
        update={
            "serving": world.params.serving.model_copy(
                update={"tiers": {"high": 0.9, "medium": 0.5, "low": 0.0}}
            )
        }
    )
    result = score_date_spark(spark, spark_tables, as_of, params=params, path=str(path))
    rows = read_partition(path, as_of)
    assert len(rows) == result.rows_out == spark_scored.result.rows_out  # replaced, not added
    assert set(rows.run_id) == {result.run.run_id} != {spark_scored.result.run.run_id}
    expected = np.where(rows.p_churn >= 0.9, "high", np.where(rows.p_churn >= 0.5, "medium", "low"))
    assert (rows.risk_tier.to_numpy() == expected).all()
    assert partition_files(path, other) == before


def test_a_missing_alias_is_refused_with_the_warehouse_paths_error(
    spark, spark_tables, world, dates, champions
):
    from serving.score import score_date
    from serving.spark_score import score_date_spark
    from serving.writeback import ParquetTarget

    as_of, _ = dates
    params = world.params.model_copy(
        update={"serving": world.params.serving.model_copy(update={"alias": "nightly"})}
    )
    with pytest.raises(ModelError) as duck:
        score_date(world.duck, as_of, params=params, target=ParquetTarget(world.root / "x"))
    path = world.root / "refused"
    with pytest.raises(ModelError) as on_spark:
        score_date_spark(spark, spark_tables, as_of, params=params, path=str(path))
    assert str(on_spark.value) == str(duck.value)
    assert "no 'nightly' version of registered model 'churn'" in str(on_spark.value)
    assert not path.exists()


def test_a_model_trained_on_other_features_is_refused_before_anything_runs(
    spark, spark_tables, world, dates, champions
):
    from serving.score import score_date
    from serving.spark_score import score_date_spark
    from serving.writeback import ParquetTarget

    as_of, _ = dates
    churn = champions["churn"]
    other = {**champions, "churn": dataclasses.replace(churn, inputs=[*churn.inputs, "loyalty"])}
    with pytest.raises(ModelError) as duck:
        score_date(
            world.duck, as_of, params=world.params, target=ParquetTarget(world.root / "y"),
            champions=other,
        )  # fmt: skip
    path = world.root / "refused_inputs"
    with pytest.raises(ModelError) as on_spark:
        score_date_spark(
            spark, spark_tables, as_of, params=world.params, path=str(path), champions=other
        )
    assert str(on_spark.value) == str(duck.value)
    assert "loyalty" in str(on_spark.value)
    assert not path.exists()


def test_clv_interval_does_not_depend_on_the_batch(champions, world, dates):
    from features.io.warehouse import canonical_tables
    from features.store import feature_snapshot

    as_of, _ = dates
    features = feature_snapshot(canonical_tables(world.duck), as_of, params=world.params)
    rows = features.to_pyarrow().to_pandas().sort_values("customer_id").head(2_000)
    model = champions["clv"].model
    whole = model.predict(rows)
    # Two batches, the second in reverse order: a customer's interval is her own.
    parts = [model.predict(rows.iloc[:1_000]), model.predict(rows.iloc[1_000:][::-1])[::-1]]
    halves = pd.concat(parts, ignore_index=True)
    for col in ("clv_p10", "clv_p90"):
        assert np.array_equal(whole[col].to_numpy(), halves[col].to_numpy()), col
    assert (whole.clv_p90 > whole.clv_p10).sum() > 20  # the intervals are not degenerate


class SparseReasons(mlflow.pyfunc.PythonModel):
    """A churn model whose second and third reasons are often missing (None or NaN)."""

    def predict(self, context, model_input, params=None):
        n = len(model_input)
        k = [int(c[1:]) for c in model_input["customer_id"]]  # from the row, not its position
        some = np.array([f"reason {i}" if i % 3 == 0 else None for i in k], dtype=object)
        nan = np.array([np.nan if i % 2 else "r3" for i in k], dtype=object)
        none = np.full(n, None, dtype=object)
        return pd.DataFrame(
            {
                "customer_id": model_input["customer_id"].astype(str).to_numpy(),
                "p_churn": np.full(n, 0.5),
                "reason_1": np.full(n, "first"),
                "reason_2": some,
                "reason_3": nan,
                "reason_1_feature": np.full(n, "recency_days"),
                "reason_2_feature": some,
                "reason_3_feature": none,
            }
        )


cloudpickle.register_pickle_by_value(sys.modules[__name__])


def test_missing_reasons_stay_null_through_spark_udf(spark, world):
    """mlflow's spark_udf turns a None into the text 'None' in a batch that holds text."""
    from mlflow.models import infer_signature

    from serving.models import Champion
    from serving.spark_score import champion_udfs, predict
    from training.tracking import configure

    configure(world.params)  # the world's experiment, so artifacts stay in its folder
    x = pd.DataFrame({"customer_id": ["c1", "c2", "c3"], "recency_days": [1.0, 2.0, np.nan]})
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=SparseReasons(),
            signature=infer_signature(x, SparseReasons().predict(None, x)),
            pip_requirements=[],
        )
    version = mlflow.register_model(info.model_uri, "sparse_reasons").version
    churn = Champion(
        role="churn",
        name="sparse_reasons",
        version=str(version),
        run_id=None,
        inputs=list(x.columns),
        model=mlflow.pyfunc.load_model(info.model_uri),
    )
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(12)], "recency_days": 1.0})
    udfs = champion_udfs(spark._session, {"churn": churn})
    rows = spark._session.createDataFrame(frame)
    got = predict(rows, {"churn": churn}, udfs, size_category="bra").toPandas()
    want = SparseReasons().predict(None, frame)
    for col in ("reason_2", "reason_3", "reason_2_feature", "reason_3_feature"):
        expected = [None if v is None or v != v else v for v in want[col]]
        assert got[col].where(got[col].notna(), None).tolist() == expected, col
    assert got.reason_1.eq("first").all()
