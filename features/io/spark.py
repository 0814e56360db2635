"""The Spark engine: a SparkSession from ``params.spark``, the canonical tables from Parquet.

Features are built on Spark with the same Ibis expressions as on DuckDB
(``ibis.pyspark.connect(session)``): this module only opens the session, registers the
Parquet folder's tables as the canonical tables (the contract's names and types) and
writes results as Parquet partitioned by ``as_of``, replacing that date's partition only.

The session runs in UTC with Arrow on. ``PYSPARK_PYTHON`` and ``PYSPARK_DRIVER_PYTHON``
default to the running interpreter, so Python workers see the same packages (the models
are unpickled there). ``SPARK_HOME``, ``JAVA_HOME`` and ``SPARK_CONF_DIR`` are left to
Spark. Under ``spark-submit`` the master, driver and executor settings, and the
executors' Python (``spark.pyspark.python``), come from its command line; params then
only set the SQL settings below and ``spark.conf``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis

from features.config import Params, SparkParams
from features.contract.schema import TABLES
from features.errors import EmptyResultError, JourneyError
from features.io.parquet import check_schema, table_folders

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend
    from pyspark.sql import DataFrame, SparkSession

AS_OF = "as_of"
# spark-submit starts the Python driver with a gateway to its JVM already running.
SUBMIT_ENV = "PYSPARK_GATEWAY_PORT"


def spark_path(params: Params, value: str) -> str:
    """A path from ``params.spark``: URLs (``s3a://``, ``hdfs://``) as given, else resolved."""
    return value if "://" in value else str(params.path(value))


def ensure_java() -> None:
    """Spark needs a JVM: say how to get one when neither JAVA_HOME nor ``java`` is there."""
    home = os.environ.get("JAVA_HOME")
    if home and Path(home, "bin", "java").exists():
        return
    if shutil.which("java") is None:
        raise JourneyError(
            "the Spark engine needs Java 17 or 21: install a JDK (apt-get install "
            "openjdk-17-jre-headless) or set JAVA_HOME"
        )


def worker_python() -> None:
    """Point Spark's Python workers at this interpreter unless the environment already does."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)


def spark_conf(sp: SparkParams, *, submitted: bool) -> dict[str, str]:
    """The Spark settings for ``sp``; with ``submitted``, only what spark-submit leaves open."""
    conf: dict[str, str] = {}
    if not submitted:
        conf["spark.master"] = sp.master
        conf["spark.app.name"] = sp.app_name
        conf["spark.driver.memory"] = sp.driver_memory
        conf["spark.executor.memory"] = sp.executor_memory
        if sp.executor_cores is not None:
            conf["spark.executor.cores"] = str(sp.executor_cores)
        if sp.executor_instances is not None:
            conf["spark.executor.instances"] = str(sp.executor_instances)
    conf |= {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(sp.shuffle_partitions),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(sp.arrow_batch_rows),
        # Writing a date replaces that date's partition, never the whole folder.
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
    }
    return conf | sp.conf


def spark_session(params: Params) -> SparkSession:
    """Get or create the SparkSession configured by ``params.spark``."""
    ensure_java()
    from pyspark.sql import SparkSession

    submitted = SUBMIT_ENV in os.environ
    if not submitted:  # spark-submit users name the executors' Python (spark.pyspark.python)
        worker_python()
    builder = SparkSession.builder
    for key, value in spark_conf(params.spark, submitted=submitted).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as err:  # no JVM, bad master URL, port clash
        raise JourneyError(
            f"cannot start Spark (master {params.spark.master}): {type(err).__name__}: {err}"
        ) from None
    # Spark's own WARN lines (loopback hostname, native Hadoop) would bury the summary.
    session.sparkContext.setLogLevel("ERROR")
    # A session that already existed keeps its static settings; the SQL ones apply now.
    for key, value in spark_conf(params.spark, submitted=True).items():
        if key.startswith("spark.sql."):
            session.conf.set(key, value)
    return session


def connect(session: SparkSession) -> BaseBackend:
    """The Ibis PySpark backend on ``session`` (which Ibis keeps in UTC)."""
    return ibis.pyspark.connect(session)


def _read_table(session: SparkSession, path: str) -> DataFrame:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    df = session.read.parquet(path)
    # Parquet timestamps without UTC adjustment arrive as TIMESTAMP_NTZ; in a UTC session
    # TIMESTAMP holds the same instants and compares with Ibis' timestamp literals as is.
    return df.select(
        *(
            F.col(f.name).cast(T.TimestampType()).alias(f.name)
            if isinstance(f.dataType, T.TimestampNTZType)
            else F.col(f.name)
            for f in df.schema.fields
        )
    )


def _table_paths(source: str) -> dict[str, str]:
    if "://" not in source or source.startswith("file://"):
        local = Path(source.removeprefix("file://"))
        return {name: str(p) for name, p in table_folders(local).items()}
    return {name: f"{source.rstrip('/')}/{name}" for name in TABLES}


def canonical_tables(con: BaseBackend, source: str) -> dict[str, ir.Table]:
    """The canonical tables under the Parquet folder ``source``, checked against the contract.

    Each is a temporary view of the session (a fresh name per call, so tables read earlier
    keep their data); columns come in the contract's order, timestamps as TIMESTAMP.
    A table whose columns or types differ from the contract is an error naming them.
    """
    from pyspark.errors import AnalysisException

    session: SparkSession = con._session  # type: ignore[attr-defined]
    token = uuid.uuid4().hex[:8]
    out: dict[str, ir.Table] = {}
    for name, path in _table_paths(source).items():
        try:
            df = _read_table(session, path)
        except AnalysisException as err:
            if "PATH_NOT_FOUND" in str(err) and "://" in source:
                continue  # a remote source may hold a subset of the tables
            raise JourneyError(f"table {name!r} at {path} cannot be read: {err}") from None
        view = f"canonical_{name}_{token}"
        df.createOrReplaceTempView(view)
        table = con.table(view)
        check_schema(name, table.schema(), path)
        out[name] = table.select(*TABLES[name].column_names)
    if not out:
        raise JourneyError(f"{source} holds none of the canonical tables ({', '.join(TABLES)})")
    return out


def to_spark(con: BaseBackend, expr: ir.Table) -> DataFrame:
    """The Spark DataFrame computing ``expr`` (lazy: nothing runs until an action)."""
    return con.raw_sql(con.compile(expr))  # type: ignore[attr-defined]


def write_partition(df: DataFrame, path: str) -> None:
    """Write ``df`` under ``path/as_of=YYYY-MM-DD/``, one partition per ``as_of`` it holds.

    Dynamic partition overwrite: the dates in ``df`` are replaced, every other date's
    partition is left as it was.
    """
    (
        df.write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(AS_OF)
        .parquet(path)
    )


def partition_path(path: str, as_of: dt.date) -> str:
    """``path/as_of=YYYY-MM-DD``: where one date's rows live."""
    return f"{path.rstrip('/')}/{AS_OF}={as_of:%Y-%m-%d}"


def _hadoop_path(session: SparkSession, path: str) -> tuple[Any, Any]:
    # Through the JVM's Hadoop FileSystem, so local, hdfs:// and s3a:// paths all work.
    sc: Any = session.sparkContext
    hpath = sc._jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(sc._jsc.hadoopConfiguration()), hpath


def drop_partition(session: SparkSession, path: str, as_of: dt.date) -> None:
    """Delete ``as_of``'s partition (writing no rows with dynamic overwrite keeps the old ones)."""
    fs, hpath = _hadoop_path(session, partition_path(path, as_of))
    if fs.exists(hpath):
        fs.delete(hpath, True)


def count_partition(session: SparkSession, path: str, as_of: dt.date) -> int:
    """Rows stored for ``as_of`` under ``path`` (0 without a partition)."""
    part = partition_path(path, as_of)
    fs, hpath = _hadoop_path(session, part)
    return int(session.read.parquet(part).count()) if fs.exists(hpath) else 0


def write_features(
    con: BaseBackend, tables: dict[str, ir.Table], as_of: dt.date, *, params: Params, path: str
) -> int:
    """Build the snapshot as of ``as_of`` on Spark and replace its partition; rows written.

    The same expressions as the warehouse path (:func:`features.store.feature_snapshot`):
    events before midnight of ``as_of`` only. Fails, writing nothing, when nobody had
    signed up by then.
    """
    from features.builders._common import as_cutoff, population
    from features.store import feature_snapshot

    signed_up = population(tables, as_cutoff(as_of)).count().to_pyarrow().as_py()
    if not signed_up:
        raise EmptyResultError(
            f"no customers had signed up before {as_of:%Y-%m-%d}: nothing to build features for"
        )
    snapshot = feature_snapshot(tables, as_of, params=params)
    write_partition(to_spark(con, snapshot), path)
    return count_partition(con._session, path, as_of)  # type: ignore[attr-defined]


def read_partitions(con: BaseBackend, path: str, name: str) -> ir.Table:
    """The Parquet folder ``path`` (partitioned by ``as_of``) as the session table ``name``."""
    session: SparkSession = con._session  # type: ignore[attr-defined]
    session.read.parquet(path).createOrReplaceTempView(name)
    return con.table(name)
