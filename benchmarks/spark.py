"""Nightly scoring on Spark (local[2]) next to the warehouse path, on the same customers and models.

``python -m benchmarks.spark [customers] [--stand-in-models] [--driver-memory 6g]``
(default 1,000,000 customers).

1. Simulates ``customers`` into a DuckDB file under ``benchmarks/results/`` (reused when
   it exists), trains quick real models with the training entry points and promotes
   them (``benchmarks.score``'s setup, in a child process; not timed), and exports the
   canonical tables to Parquet (timed apart: ``export_seconds``).
2. Times the warehouse path (:func:`serving.score.score_date`, predictions to a Parquet
   folder) and the Spark path (:func:`serving.spark_score.score_date_spark`, features
   from the Parquet folder, predictions partitioned by as_of), then each one's risk list.
3. Compares the two engines' predictions row by row.

Writes ``benchmarks/results/spark.json``: ``customers``, ``spark_seconds``,
``duckdb_seconds``, ``identical`` (every column but ``run_id`` and the CLV interval,
whose posterior draws depend on the batch a customer is scored in), throughput per core,
stage timings, and how the interval compares.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.common import RESULTS, peak_rss_gb, timed, write_results

ROOT = Path(__file__).resolve().parents[1]
CORES = 2  # local[2]


def bench_params(url: str, store: Path, driver_memory: str):
    from benchmarks.score import bench_params as score_params

    base = score_params(url, store)
    return base.model_copy(
        update={
            "spark": base.spark.model_copy(
                update={
                    "master": "local[2]",
                    "driver_memory": driver_memory,
                    "source": str(store / "canonical"),
                    "predictions": str(store / "predictions_spark"),
                    "conf": {
                        **base.spark.conf,
                        "spark.ui.enabled": "false",
                        "spark.local.dir": str(store / "spark-tmp"),
                        # Task metrics (shuffle, spill, memory) for docs/scale.md.
                        "spark.eventLog.enabled": "true",
                        "spark.eventLog.compress": "false",
                        "spark.eventLog.dir": (store / "eventlog").as_uri(),
                    },
                }
            )
        }
    )


def setup(args, url: str, store: Path) -> None:
    """Simulate (if needed), register champions, export Parquet; in its own process."""
    from benchmarks.score import build_warehouse, register_stand_ins, train_real_models
    from features.io.parquet import export_parquet
    from features.io.warehouse import connect

    params = bench_params(url, store, args.driver_memory)
    times: dict[str, float] = {}
    if not Path(url.removeprefix("duckdb://")).exists():
        RESULTS.mkdir(parents=True, exist_ok=True)
        with timed(times, "simulate_and_load"):
            build_warehouse(url, args.customers, params)
    con = connect(url)
    with timed(times, "train_and_promote"):
        notes = (
            register_stand_ins(params) if args.stand_in_models else train_real_models(con, params)
        )
    with timed(times, "export_parquet"):
        rows = export_parquet(con, Path(params.spark.source))
    payload = {"seconds": times, "notes": notes, "rows": rows}
    (store / "setup.json").write_text(json.dumps(payload))


def read_day(folder: Path, as_of: dt.date) -> pd.DataFrame:
    """One date's predictions from a Parquet folder partitioned by as_of, sorted by id."""
    import pyarrow.parquet as pq

    part = folder / f"as_of={as_of:%Y-%m-%d}"
    frame = pd.concat(
        [pq.read_table(f).to_pandas() for f in sorted(part.glob("*.parquet"))], ignore_index=True
    )
    return frame.sort_values("customer_id").reset_index(drop=True)


def event_log_metrics(folder: Path) -> dict[str, Any]:
    """Task metrics summed per job description (the scorer names its stages' jobs)."""
    stage_job: dict[int, str] = {}
    out: dict[str, dict[str, float]] = {}
    # Spark 4 rolls event logs: eventlog_v2_<app>/events_<n>_<app> (+ an appstatus marker).
    for file in sorted(f for f in folder.rglob("events_*") if f.is_file()):
        with file.open(encoding="utf-8") as f:
            for line in f:
                event = json.loads(line)
                kind = event.get("Event")
                if kind == "SparkListenerJobStart":
                    props = event.get("Properties") or {}
                    name = props.get("spark.job.description") or "other"
                    for stage in event.get("Stage IDs", []):
                        stage_job[stage] = name
                elif kind == "SparkListenerTaskEnd" and event.get("Task Metrics"):
                    m = event["Task Metrics"]
                    name = stage_job.get(event["Stage ID"], "other")
                    acc = out.setdefault(name, {})

                    def add(key: str, value: float, acc: dict[str, float] = acc) -> None:
                        acc[key] = acc.get(key, 0.0) + value

                    add("tasks", 1)
                    add("executor_cpu_seconds", m.get("Executor CPU Time", 0) / 1e9)
                    add("executor_run_seconds", m.get("Executor Run Time", 0) / 1e3)
                    add("input_gb", m.get("Input Metrics", {}).get("Bytes Read", 0) / 1e9)
                    w = m.get("Shuffle Write Metrics", {})
                    add("shuffle_write_gb", w.get("Shuffle Bytes Written", 0) / 1e9)
                    add("shuffle_records", w.get("Shuffle Records Written", 0))
                    add("spill_disk_gb", m.get("Disk Bytes Spilled", 0) / 1e9)
                    peak = m.get("Peak Execution Memory", 0) / 1e9
                    acc["max_task_peak_memory_gb"] = max(
                        acc.get("max_task_peak_memory_gb", 0), peak
                    )
    return {name: {k: round(v, 3) for k, v in acc.items()} for name, acc in out.items()}


def compare(spark: pd.DataFrame, duck: pd.DataFrame) -> dict[str, Any]:
    """Row-by-row agreement of the two engines' predictions."""
    from serving.predictions import PREDICTIONS_SCHEMA

    out: dict[str, Any] = {"rows_spark": len(spark), "rows_duckdb": len(duck)}
    if len(spark) != len(duck) or not (spark.customer_id.values == duck.customer_id.values).all():
        return out | {"identical": False, "why": "different customers"}
    differ, max_diff = [], 0.0
    for col in PREDICTIONS_SCHEMA.names:
        if col in ("run_id", "as_of") or col not in duck:
            continue
        a, b = spark[col], duck[col]
        if pd.api.types.is_float_dtype(b):
            x, y = a.to_numpy(float), b.to_numpy(float)
            both = ~np.isnan(y)
            same = (np.isnan(x) == np.isnan(y)).all() and np.allclose(
                x[both], y[both], rtol=1e-9, atol=1e-9
            )
            if both.any():
                max_diff = max(max_diff, float(np.max(np.abs(x[both] - y[both]))))
        else:
            same = a.where(a.notna(), None).tolist() == b.where(b.notna(), None).tolist()
        if not same:
            differ.append(col)
    return out | {
        "identical": not differ,
        "columns_differing": differ,
        "max_abs_diff": max_diff,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("customers", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--stand-in-models", action="store_true")
    parser.add_argument("--driver-memory", default="6g", help="local[2] runs in the driver JVM")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder")
    parser.add_argument(
        "--reuse-store", help="score with the models and Parquet a previous --keep run left here"
    )
    parser.add_argument("--setup-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = f"duckdb:///{RESULTS}/spark_warehouse_{args.customers}.duckdb"
    if args.setup_only:
        setup(args, url, Path(args.setup_only))
        return
    if args.reuse_store:
        store = Path(args.reuse_store)
        for stale in ("predictions_duckdb", "predictions_spark", "eventlog", "spark-tmp"):
            shutil.rmtree(store / stale, ignore_errors=True)
    else:
        store = Path(tempfile.mkdtemp(prefix="journey-bench-spark-"))
        child = [
            sys.executable,
            "-m",
            "benchmarks.spark",
            *sys.argv[1:],
            "--setup-only",
            str(store),
        ]
        print(f"setup (simulate if needed, train, export Parquet) in {store} ...", flush=True)
        subprocess.run(child, cwd=ROOT, check=True)
    prepared = json.loads((store / "setup.json").read_text())

    import mlflow.pyfunc  # noqa: F401 (a per-process cost, paid before timing)

    from features.io.spark import canonical_tables, connect, spark_session
    from features.io.warehouse import canonical_tables as warehouse_tables
    from features.io.warehouse import connect as connect_warehouse
    from features.labels import observation_end
    from serving.risk_list import write_risk_list
    from serving.score import score_date
    from serving.spark_score import score_date_spark, write_risk_list_spark
    from serving.writeback import ParquetTarget

    params = bench_params(url, store, args.driver_memory)
    duck = connect_warehouse(url)
    as_of = (observation_end(warehouse_tables(duck)) - dt.timedelta(days=1)).date()
    timings: dict[str, float] = {}

    print(f"warehouse path, as of {as_of} ...", flush=True)
    target = ParquetTarget(store / "predictions_duckdb")
    with timed(timings, "duckdb_seconds"):
        duck_result = score_date(duck, as_of, params=params, target=target)
    with timed(timings, "duckdb_risk_list_seconds"):
        write_risk_list(duck, target, as_of, params=params)
    duck_peak = peak_rss_gb()

    print("Spark path ...", flush=True)
    (store / "eventlog").mkdir(exist_ok=True)
    with timed(timings, "spark_session_seconds"):
        con = connect(spark_session(params))
        tables = canonical_tables(con, params.spark.source)
    path = params.spark.predictions
    with timed(timings, "spark_seconds"):
        spark_result = score_date_spark(con, tables, as_of, params=params, path=path)
    with timed(timings, "spark_risk_list_seconds"):
        write_risk_list_spark(con, tables, path, as_of, params=params)
    con._session.stop()  # type: ignore[attr-defined]
    metrics = event_log_metrics(store / "eventlog")

    print("comparing ...", flush=True)
    agreement = compare(read_day(Path(path), as_of), read_day(target.folder, as_of))
    scored = spark_result.run.rows_scored or 0
    write_results(
        "spark",
        {
            "customers": scored,
            "customers_in_snapshot": spark_result.run.rows_in,
            "customers_simulated": args.customers,
            "as_of": as_of,
            "spark_seconds": timings["spark_seconds"],
            "duckdb_seconds": timings["duckdb_seconds"],
            "identical": agreement["identical"],
            "identical_means": "every predictions column but run_id equal to 1e-9 (the CLV "
            "interval too: its draws are keyed by customer); same customers",
            "cores": CORES,
            "spark_customers_per_core_second": round(scored / timings["spark_seconds"] / CORES, 1),
            "duckdb_customers_per_core_second": round(
                scored / timings["duckdb_seconds"] / (os.cpu_count() or CORES), 1
            ),
            "spark_session_seconds": timings["spark_session_seconds"],
            "risk_list_seconds": {
                "spark": timings["spark_risk_list_seconds"],
                "duckdb": timings["duckdb_risk_list_seconds"],
            },
            "stages": {
                "spark": {k: round(v, 2) for k, v in spark_result.run.stage_seconds.items()},
                "duckdb": {k: round(v, 2) for k, v in duck_result.run.stage_seconds.items()},
            },
            "agreement": agreement,
            "spark_task_metrics": metrics,
            "spark": {
                "master": params.spark.master,
                "driver_memory": params.spark.driver_memory,
                "shuffle_partitions": params.spark.shuffle_partitions,
                "arrow_batch_rows": params.spark.arrow_batch_rows,
            },
            "duckdb_peak_rss_gb": round(duck_peak, 2),
            "models": spark_result.run.models,
            "model_notes": prepared["notes"],
            "setup_seconds": prepared["seconds"],
            "parquet_rows": prepared["rows"],
        },
    )
    if not (args.keep or args.reuse_store):
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
