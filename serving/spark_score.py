"""Score one date on Spark: the same features, champions and predictions rows as the warehouse path.

``score_date_spark`` is the Spark twin of :func:`serving.score.score_date`:

1. resolve ``models:/<name>@champion`` with :func:`serving.models.resolve_champions` and
   check every signature against the feature columns before anything runs (a missing
   alias or a model trained on other features fails with the same message);
2. build the snapshot as of the date's midnight with the training code
   (:func:`features.store.feature_snapshot`, the same Ibis expressions, on the PySpark
   backend) and keep the active customers (``serving.active_within_days``, as
   :func:`features.store.active_mask`);
3. score each champion with ``mlflow.pyfunc.spark_udf`` (``env_manager="local"``; the
   executors run this interpreter), asking for a struct of the contract's outputs
   (``serving.predictions.MODEL_OUTPUTS``); the size model gets ``customer_id`` and
   ``category = serving.size_category``;
4. with more active customers than ``serving.reasons_top_n``, score churn without reasons,
   then explain (TreeSHAP) the top N by value at risk only, as the warehouse path does;
5. turn the outputs into predictions rows with :func:`serving.predictions.assemble_predictions`
   itself, applied to each Arrow batch (``mapInArrow``), so tiers, actions and value at
   risk are computed by the one implementation;
6. write them as Parquet partitioned by ``as_of`` with dynamic partition overwrite:
   re-scoring a date replaces that date's partition and no other.

The risk list (:func:`write_risk_list_spark`) collects the top ``spark.risk_list_rows``
by value at risk to the driver and writes them through :mod:`serving.risk_list`.

Not done here (the warehouse path does it): the ``scoring_runs`` manifest and drift,
which live in the warehouse.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from features.config import Params
from features.errors import JourneyError
from features.io.spark import (
    AS_OF,
    count_partition,
    drop_partition,
    to_spark,
    write_partition,
)
from features.store import ACTIVITY_DAYS, feature_snapshot
from serving.manifest import SUCCEEDED, RunRecord
from serving.models import Champion, ModelError, check_inputs, resolve_champions
from serving.predictions import (
    KEY,
    MODEL_OUTPUTS,
    PREDICTIONS_SCHEMA,
    REASON_FEATURES,
    REASONS,
    assemble_predictions,
)
from serving.risk_list import (
    RiskListFiles,
    RiskTotals,
    rank_risk_list,
    render_risk_page,
    select_customer_columns,
    write_csv,
)
from serving.score import ScoreResult, ScoringError, check_actions

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend
    from pyspark.sql import Column, DataFrame, SparkSession
    from pyspark.sql.types import DataType, StructType

STAGES = ("models", "features", "predict", "reasons", "write")
# mlflow's spark_udf casts a struct's string fields with numpy's str: a None becomes
# "None" (NaN "nan", pd.NA "<NA>") whenever a batch holds any text (mlflow 3.17,
# pyfunc._convert_struct_values). No contract output is ever one of these words.
UDF_NULL_TEXT = ("None", "nan", "<NA>")
PROGRESS_ENV = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"


@contextlib.contextmanager
def _stage(
    run: RunRecord,
    name: str,
    progress: Callable[[str], None] | None,
    session: SparkSession | None = None,
) -> Iterator[None]:
    if progress is not None:
        progress(name)
    if session is not None:  # names the stage's jobs in the Spark UI and event log
        session.sparkContext.setJobDescription(f"journey score {run.as_of:%Y-%m-%d}: {name}")
    start = time.perf_counter()
    try:
        yield
    finally:
        run.stage_seconds[name] = run.stage_seconds.get(name, 0.0) + time.perf_counter() - start


def _spark_type(arrow: pa.DataType) -> DataType:
    from pyspark.sql import types as T

    if pa.types.is_floating(arrow):
        return T.DoubleType()
    if pa.types.is_date32(arrow):
        return T.DateType()
    if pa.types.is_string(arrow):
        return T.StringType()
    raise TypeError(f"no Spark type for {arrow}")  # a new PREDICTIONS_SCHEMA type


def predictions_struct() -> StructType:
    """``PREDICTIONS_SCHEMA`` as a Spark schema."""
    from pyspark.sql import types as T

    return T.StructType(
        [T.StructField(f.name, _spark_type(f.type), True) for f in PREDICTIONS_SCHEMA]
    )


def output_struct(role: str) -> StructType:
    """The UDF result type of a role: its contract outputs, typed as in the predictions table.

    Outputs the table does not keep (the size model's ``p_fit``...) are doubles.
    """
    from pyspark.sql import types as T

    names = PREDICTIONS_SCHEMA.names
    return T.StructType(
        [
            T.StructField(
                c,
                _spark_type(PREDICTIONS_SCHEMA.field(c).type) if c in names else T.DoubleType(),
                True,
            )
            for c in MODEL_OUTPUTS[role]
        ]
    )


def check_outputs(champion: Champion) -> None:
    """Refuse, before scoring, a model whose output signature lacks a contract output."""
    schema = champion.model.metadata.get_output_schema()
    if schema is None or not schema.has_input_names():
        return  # checked on the first batch instead (a missing field fails the UDF)
    have = set(schema.input_names())
    missing = [c for c in MODEL_OUTPUTS[champion.role] if c not in have]
    if missing:
        raise ModelError(
            f"{champion.label} ({champion.role}) broke the serving contract: "
            f"missing output column(s) {', '.join(missing)}"
        )


@contextlib.contextmanager
def _quiet_mlflow() -> Iterator[None]:
    # spark_udf(env_manager="local") warns on every call that it does not rebuild the
    # training environment: here that is the point (the executors run this interpreter).
    # Nor are its per-file download bars useful on a command line with its own progress.
    log = logging.getLogger("mlflow")
    level, bar = log.level, os.environ.get(PROGRESS_ENV)
    log.setLevel(logging.ERROR)
    os.environ[PROGRESS_ENV] = "false"
    try:
        yield
    finally:
        log.setLevel(level)
        if bar is None:
            os.environ.pop(PROGRESS_ENV, None)
        else:
            os.environ[PROGRESS_ENV] = bar


def champion_udfs(
    session: SparkSession,
    champions: Mapping[str, Champion],
    params: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One ``mlflow.pyfunc.spark_udf`` per champion, returning its contract outputs.

    ``params`` maps a role to the predict params its UDF passes (``{"churn": {"reasons":
    False}}``), as :func:`serving.models.predict_batches` does.
    """
    import mlflow.pyfunc

    params = params or {}
    with _quiet_mlflow():
        return {
            role: mlflow.pyfunc.spark_udf(
                session,
                c.uri,
                result_type=output_struct(role),
                env_manager="local",
                params=params.get(role),
            )
            for role, c in champions.items()
        }


def active_filter(columns: list[str], within_days: int | None) -> Column | None:
    """Spark's form of :func:`features.store.active_mask`: signed up, ordered or visited
    within ``within_days`` (a null day count never qualifies); None scores everyone."""
    from pyspark.sql import functions as F

    if within_days is None:
        return None
    missing = [c for c in ACTIVITY_DAYS if c not in columns]
    if missing:
        raise JourneyError(
            f"serving.active_within_days needs the features {', '.join(missing)}; set it to "
            "null to score everyone who signed up"
        )
    inf = F.lit(float("inf"))
    return F.least(*(F.coalesce(F.col(c).cast("double"), inf) for c in ACTIVITY_DAYS)) <= F.lit(
        float(within_days)
    )


def model_inputs(champions: Mapping[str, Champion], columns: list[str]) -> dict[str, list[str]]:
    """Each champion's input columns, checked against what it will get (all before any runs).

    Every model gets the feature columns, the size model ``customer_id`` and ``category``
    (as :func:`serving.score._predict_all`); optional signature inputs may be absent.
    """
    available = {role: [KEY, "category"] if role == "size" else columns for role in champions}
    for role, champion in champions.items():
        check_inputs(champion, available[role])
    return {
        role: [c for c in champion.inputs if c in available[role]]
        for role, champion in champions.items()
    }


def predict(
    features: DataFrame,
    champions: Mapping[str, Champion],
    udfs: Mapping[str, Any],
    *,
    size_category: str,
) -> DataFrame:
    """``customer_id`` and every champion's contract outputs, one row per feature row."""
    from pyspark.sql import functions as F

    inputs = model_inputs(champions, features.columns)
    df = features.withColumn("category", F.lit(size_category)) if "size" in champions else features
    # Spark runs each model (an iterator pandas UDF) in its own Arrow pass over the rows.
    scored = df.select(
        F.col(KEY),
        *(
            udf(F.struct(*(F.col(c) for c in inputs[role]))).alias(f"__{role}")
            for role, udf in udfs.items()
        ),
    )
    outputs: list[Column] = [F.col(KEY)]
    for role in udfs:
        for name, typ in ((f.name, f.dataType) for f in output_struct(role).fields):
            value = F.col(f"__{role}.{name}")
            if typ.typeName() == "string":
                value = F.when(value.isin(*UDF_NULL_TEXT), F.lit(None)).otherwise(value)
            outputs.append(value.alias(name))
    return scored.select(*outputs)


def _no_nan(col: Column) -> Column:
    from pyspark.sql import functions as F

    # Spark orders NaN above every number; pandas' risk_order treats it as missing.
    return F.coalesce(F.nanvl(col, F.lit(None).cast("double")), F.lit(float("-inf")))


def risk_order_columns(columns: list[str]) -> list[Column]:
    """Spark's form of :func:`serving.predictions.risk_order`: value at risk (or
    ``p_churn x clv``) then P(churn), highest first, missing last; then ``customer_id``."""
    from pyspark.sql import functions as F

    p = F.col("p_churn").cast("double")
    var = (
        F.col("value_at_risk").cast("double")
        if "value_at_risk" in columns
        else p * F.col("clv").cast("double")
    )
    return [_no_nan(var).desc(), _no_nan(p).desc(), F.col(KEY).asc()]


def reasons_for_top(
    scored: DataFrame,
    features: DataFrame,
    churn: Champion,
    udf: Any,
    top_n: int,
) -> DataFrame:
    """Churn reasons (``customer_id`` + the reason columns) of the ``top_n`` rows of
    ``scored`` by value at risk, as :func:`serving.score._reasons_for_top`: TreeSHAP only
    where the risk list reads it."""
    from pyspark.sql import functions as F

    top = scored.orderBy(*risk_order_columns(scored.columns)).limit(top_n).select(KEY)
    return predict(
        features.join(F.broadcast(top), KEY, "left_semi"),
        {"churn": churn},
        {"churn": udf},
        size_category="",
    ).select(KEY, *REASONS, *REASON_FEATURES)


def _assembler(
    *,
    as_of: dt.date,
    params: Params,
    models: Mapping[str, str],
    run_id: str,
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    s = params.serving
    tiers, rules, default = dict(s.tiers), list(s.actions), s.default_action
    models = dict(models)

    def assemble(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = assemble_predictions(
                batch.to_pandas(),
                as_of=as_of,
                tiers=tiers,
                rules=rules,
                default_action=default,
                models=models,
                run_id=run_id,
            )
            yield from rows.to_batches()

    return assemble


def _spark_failure(as_of: dt.date, err: Exception) -> ScoringError:
    """The last line of a Spark or Python worker error is the one that says what broke."""
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    tail = [line for line in lines if not line.startswith(("at ", "File ", "JVM stacktrace"))]
    why = tail[-1] if tail else type(err).__name__
    return ScoringError(f"scoring {as_of:%Y-%m-%d} on Spark failed: {why}")


def score_date_spark(
    con: BaseBackend,
    tables: Mapping[str, ir.Table],
    as_of: dt.date,
    *,
    params: Params,
    path: str,
    champions: Mapping[str, Champion] | None = None,
    progress: Callable[[str], None] | None = None,
) -> ScoreResult:
    """Score every active customer as of ``as_of`` on Spark and replace that date's partition.

    ``con`` is the Ibis PySpark backend holding ``tables`` (:mod:`features.io.spark`).
    Idempotent: the partition ``path/as_of=<date>/`` is replaced whole; other dates are
    untouched. Nothing is written when a model is refused. The run is described by a
    :class:`serving.manifest.RunRecord` (not stored: the manifest lives in the warehouse).
    """
    from pyspark.sql import functions as F

    session: SparkSession = con._session  # type: ignore[attr-defined]
    run = RunRecord(as_of=as_of, target=path)
    with _stage(run, "models", progress):
        check_actions(params)
        champions = champions or resolve_champions(params)
        for champion in champions.values():
            check_outputs(champion)
        run.models = {role: c.label for role, c in champions.items()}
        expr = feature_snapshot(dict(tables), as_of, params=params)
        model_inputs(champions, list(expr.columns))  # refuse a model before anything runs
    flagged = scored = explained = None
    try:
        with _stage(run, "features", progress, session):
            snapshot = to_spark(con, expr)
            keep = active_filter(snapshot.columns, params.serving.active_within_days)
            flagged = snapshot.withColumn(
                "__active", keep if keep is not None else F.lit(True)
            ).persist()
            counts = flagged.agg(
                F.count(F.lit(1)).alias("n"), F.count_if(F.col("__active")).alias("active")
            ).first()
            run.rows_in = int(counts["n"]) if counts else 0
            run.rows_scored = int(counts["active"]) if counts else 0
            active = flagged.filter(F.col("__active")).drop("__active")
        top_n = params.serving.reasons_top_n or run.rows_scored
        limited = run.rows_scored > top_n and "churn" in champions
        with _stage(run, "predict", progress, session):
            opts = {"churn": {"reasons": False}} if limited else None
            udfs = champion_udfs(session, champions, opts)
            size = params.serving.size_category
            scored = predict(active, champions, udfs, size_category=size).persist()
            scored.count()  # every model runs here, once
        out = scored
        if limited:
            with _stage(run, "reasons", progress, session):
                churn = champions["churn"]
                (explain,) = champion_udfs(session, {"churn": churn}).values()
                explained = reasons_for_top(scored, active, churn, explain, top_n).persist()
                explained.count()
                reason_cols = [*REASONS, *REASON_FEATURES]
                out = scored.drop(*reason_cols).join(F.broadcast(explained), KEY, "left")
        rows = out.mapInArrow(
            _assembler(as_of=as_of, params=params, models=run.models, run_id=run.run_id),
            predictions_struct(),
        )
        with _stage(run, "write", progress, session):
            if run.rows_scored:
                write_partition(rows, path)
            else:  # nobody active: the date holds no rows (an empty write would keep old ones)
                drop_partition(session, path, as_of)
            run.rows_out = count_partition(session, path, as_of)
    except JourneyError:
        raise
    except Exception as err:
        raise _spark_failure(as_of, err) from err
    finally:
        for cached in (explained, scored, flagged):
            if cached is not None:
                cached.unpersist()
        session.sparkContext.setJobDescription(None)  # type: ignore[arg-type]
    run.status = SUCCEEDED
    run.finished_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return ScoreResult(run=run, target=path)


def read_predictions(session: SparkSession, path: str) -> DataFrame:
    """Every date's predictions under ``path`` (``as_of`` from the partition folders)."""
    return session.read.parquet(path)


def top_of_day(
    session: SparkSession, path: str, as_of: dt.date, rows: int
) -> tuple[pd.DataFrame, RiskTotals]:
    """The top ``rows`` predictions of ``as_of`` by value at risk (the list's order), and
    the day's totals: customers, summed value at risk, customers per tier."""
    from pyspark.sql import functions as F

    day = read_predictions(session, path).filter(F.col(AS_OF) == F.lit(as_of))
    top = day.orderBy(*risk_order_columns(day.columns)).limit(rows).toPandas()
    agg = day.agg(
        F.count(F.lit(1)).alias("n"), F.sum(F.coalesce("value_at_risk", F.lit(0.0))).alias("var")
    ).first()
    tiers = day.filter(F.col("risk_tier").isNotNull()).groupBy("risk_tier").count().collect()
    totals = RiskTotals(
        int(agg["n"]) if agg else 0,
        float(agg["var"] or 0.0) if agg else 0.0,
        {str(r["risk_tier"]): int(r["count"]) for r in tiers},
    )
    return top, totals


def write_risk_list_spark(
    con: BaseBackend,
    tables: Mapping[str, ir.Table],
    path: str,
    as_of: dt.date,
    *,
    params: Params,
    generated_at: dt.datetime | None = None,
) -> RiskListFiles:
    """The risk list of ``as_of`` from the Spark predictions, through :mod:`serving.risk_list`.

    The top ``spark.risk_list_rows`` by value at risk are collected to the driver with
    their score history (``serving.history_runs`` days) and customer columns; the CSV
    holds them all, the page the top ``serving.html_rows``; its header counts the whole day.
    """
    from pyspark.sql import functions as F

    session: SparkSession = con._session  # type: ignore[attr-defined]
    s = params.serving
    top, totals = top_of_day(session, path, as_of, params.spark.risk_list_rows)
    ids = session.createDataFrame(pd.DataFrame({KEY: top[KEY].astype(str)}))
    customers = None
    if "customers" in tables:
        selected = select_customer_columns(tables["customers"], params)
        if selected is not None:
            customers = to_spark(con, selected).join(F.broadcast(ids), KEY, "left_semi").toPandas()
    since = as_of - dt.timedelta(days=s.history_runs - 1)
    history = (
        read_predictions(session, path)
        .filter((F.col(AS_OF) >= F.lit(since)) & (F.col(AS_OF) <= F.lit(as_of)))
        .join(F.broadcast(ids), KEY, "left_semi")
        .select(KEY, AS_OF, "p_churn", "risk_tier", "recommended_action")
        .toPandas()
    )
    ranked = rank_risk_list(top[[c for c in PREDICTIONS_SCHEMA.names if c in top]], customers)
    folder = params.path(s.risk_list_dir)
    csv = write_csv(ranked, folder / f"risk_list_{as_of:%Y-%m-%d}.csv")
    page = render_risk_page(
        ranked,
        history,
        as_of=as_of,
        rows=s.html_rows,
        generated_at=generated_at,
        totals=totals,
        churn_definition=params.labels.churn,
    )
    html = Path(folder / f"risk_list_{as_of:%Y-%m-%d}.html")
    html.write_text(page, encoding="utf-8")
    return RiskListFiles(csv, html, len(ranked))
