"""The Parquet folder and the Spark session: the contract's tables, names and types."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.config import load_params
from features.contract.schema import TABLES
from features.errors import JourneyError
from features.io.parquet import read_parquet_tables
from features.io.spark import canonical_tables, spark_conf
from features.io.warehouse import canonical_tables as warehouse_tables

pytestmark = pytest.mark.spark


def test_export_reads_back_as_the_warehouse_holds_it(world):
    back = read_parquet_tables(world.source)
    held = warehouse_tables(world.duck)
    assert set(back) == set(held) == set(TABLES)
    for name, table in back.items():
        key = list(TABLES[name].primary_key)
        got = table.to_pandas().sort_values(key).reset_index(drop=True)
        want = held[name].to_pandas().sort_values(key).reset_index(drop=True)
        assert got.equals(want), name


def test_spark_tables_have_the_contract_names_and_types(spark, spark_tables):
    from pyspark.sql import types as T

    assert set(spark_tables) == set(TABLES)
    for name, table in spark_tables.items():
        want = TABLES[name].ibis_schema()
        assert list(table.columns) == list(want.names), name
        for col in want.names:
            assert table.schema()[col].copy(nullable=True) == want[col].copy(nullable=True)
        # Parquet's naive timestamps arrive as TIMESTAMP_NTZ; the views hold TIMESTAMP.
        df = spark._session.sql(spark.compile(table))
        kinds = {f.name: type(f.dataType) for f in df.schema.fields}
        for col in (c for c in want.names if want[c].is_timestamp()):
            assert kinds[col] is T.TimestampType, (name, col)


def test_a_table_off_the_contract_is_refused_naming_path_and_column(spark, tmp_path, world):
    folder = tmp_path / "lake"
    (folder / "customers").mkdir(parents=True)
    customers = pq.read_table(next((world.source / "customers").glob("*.parquet")))
    customers = customers.drop_columns(["signup_ts"])
    i = customers.schema.get_field_index("birth_year")
    customers = customers.set_column(i, "birth_year", customers.column(i).cast(pa.string()))
    pq.write_table(customers, folder / "customers" / "part-0.parquet")
    with pytest.raises(JourneyError) as err:
        canonical_tables(spark, str(folder))
    msg = str(err.value)
    assert "'customers'" in msg and str(folder / "customers") in msg
    assert "missing column(s) signup_ts" in msg
    assert "birth_year is string, the contract says int64" in msg


def test_a_missing_folder_names_the_command_that_makes_it(spark, tmp_path):
    with pytest.raises(JourneyError, match="journey export-parquet"):
        canonical_tables(spark, str(tmp_path / "nowhere"))


def test_spark_params_env_override_and_spark_submit(tmp_path):
    (tmp_path / "params.yaml").write_text(
        "spark:\n  shuffle_partitions: 3\n  conf: {spark.ui.enabled: false, spark.x: 4}\n"
    )
    params = load_params(tmp_path / "params.yaml", env={"JOURNEY_SPARK_MASTER": "spark://h:7077"})
    assert params.spark.master == "spark://h:7077"
    conf = spark_conf(params.spark, submitted=False)
    assert conf["spark.master"] == "spark://h:7077"
    assert conf["spark.sql.shuffle.partitions"] == "3"
    assert conf["spark.ui.enabled"] == "false" and conf["spark.x"] == "4"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.sql.sources.partitionOverwriteMode"] == "dynamic"
    # Under spark-submit its --master and memory flags win: params do not set them.
    submitted = spark_conf(params.spark, submitted=True)
    assert not {"spark.master", "spark.driver.memory", "spark.executor.memory"} & set(submitted)
    assert load_params(tmp_path / "params.yaml", env={}).spark.master == "local[2]"


def test_the_session_runs_in_utc_with_arrow_and_this_python(spark):
    import os
    import sys

    conf = spark._session.conf
    assert conf.get("spark.sql.session.timeZone") == "UTC"
    assert conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"
    assert conf.get("spark.sql.shuffle.partitions") == "4"
    assert os.environ["PYSPARK_PYTHON"] == sys.executable
