"""Feature-table benchmark: our builders against idiomatic pandas and featuretools DFS.

    python -m benchmarks.features [--customers 1000000] [--seed 7] [--cutoff 2026-01-01]
                                  [--warehouse PATH] [--pandas-customers N]
                                  [--featuretools-customers N]

Data: ``journey simulate`` (1,000,000 customers, ~50M events by default) into a DuckDB
warehouse cached under ``data/bench/``, or any loaded warehouse (``--warehouse``).

Each contender runs in its own process, so peak RSS is its own:

- ours: ``build_features`` on the warehouse (DuckDB, 2 threads), the whole table fetched
  as Arrow; the time includes compiling the query and reading the tables;
- pandas: ``benchmarks/baselines/pandas_features.py`` (the reference the tests compare
  the builders with) on DataFrames already in memory (string columns as categoricals);
  loading them is timed apart and not charged. If it cannot hold every customer, it runs
  on a deterministic subsample and its rate is customers per second on that sample. Its
  output is compared with ours on the same customers;
- featuretools: Deep Feature Synthesis on the same six tables with a cutoff time per
  customer (a microsecond before ours: featuretools includes rows at the cutoff), once
  over all history and once per window with ``training_window``, as windowed aggregates
  need; on a subsample, rate = customers per second.

Targets: the full table within 60 s and 4 GB peak RSS; >= 5x pandas and >= 20x
featuretools in customers per second. Writes ``benchmarks/results/features.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import peak_rss_gb, write_results

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "data" / "bench"
TABLES = ("customers", "events", "orders", "order_lines", "returns", "subscriptions")
# Kept as plain strings in pandas: ties break on them and categoricals sort by code.
TIE_KEYS = {"order_id", "subscription_id"}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _params():
    from features.config import load_params

    return load_params(ROOT / "params.yaml", env={})


def ensure_warehouse(customers: int, seed: int) -> Path:
    """The simulated warehouse for ``customers`` and ``seed``, simulated once and cached."""
    path = CACHE / f"features_{customers}_s{seed}.duckdb"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.duckdb")
    tmp.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as d:
        params = Path(d) / "params.yaml"
        text = (ROOT / "params.yaml").read_text()
        params.write_text(text.replace("duckdb:///data/warehouse.duckdb", f"duckdb:///{tmp}"))
        journey = Path(sys.executable).parent / "journey"
        cmd = [str(journey), "simulate", "--customers", str(customers), "--seed", str(seed)]
        print(f"simulating {customers:,} customers into {path} (once) ...", flush=True)
        subprocess.run([*cmd, "--params", str(params)], check=True)
    tmp.rename(path)
    return path


def _connect(warehouse: Path):
    from features.io.warehouse import connect

    con = connect(f"duckdb:///{warehouse}", read_only=True)
    con.raw_sql("SET threads = 2")
    con.raw_sql("SET memory_limit = '2500MB'")
    con.raw_sql("SET preserve_insertion_order = false")
    return con


def _sample_filter(every: int) -> str:
    """SQL predicate on customer_id keeping one customer in ``every`` (deterministic)."""
    return "true" if every <= 1 else f"hash(customer_id) % {every} = 0"


def _load_sample(con, every: int) -> dict[str, object]:
    """The six tables as Arrow, restricted to a deterministic customer sample."""
    keep = _sample_filter(every)
    sql = {
        "customers": f"SELECT * FROM customers WHERE {keep}",
        "events": f"SELECT * FROM events WHERE {keep}",
        "orders": f"SELECT * FROM orders WHERE {keep}",
        "order_lines": "SELECT l.* FROM order_lines l SEMI JOIN "
        f"(SELECT order_id FROM orders WHERE {keep}) o USING (order_id)",
        "returns": "SELECT r.* FROM returns r SEMI JOIN (SELECT l.line_id FROM order_lines l "
        f"SEMI JOIN (SELECT order_id FROM orders WHERE {keep}) o USING (order_id)) x "
        "USING (line_id)",
        "subscriptions": f"SELECT * FROM subscriptions WHERE {keep}",
    }
    return {name: con.con.sql(q).to_arrow_table() for name, q in sql.items()}


def _to_pandas(arrow_tables: dict) -> dict:
    """Arrow tables as pandas: strings as categoricals (but tie keys), timestamps in ns."""
    import pyarrow as pa
    import pyarrow.compute as pc

    frames = {}
    for name, table in arrow_tables.items():
        cols = {}
        for field, col in zip(table.schema, table.columns, strict=True):
            if pa.types.is_dictionary(field.type) and field.name in TIE_KEYS:
                col = pc.cast(col, pa.string())
            elif pa.types.is_string(field.type) and field.name not in TIE_KEYS:
                col = pc.dictionary_encode(col)
            cols[field.name] = col
        frames[name] = pa.table(cols).to_pandas()
    return frames


def run_ours(warehouse: Path, cutoff: dt.datetime, out: Path) -> dict:
    from features.builders import build_features
    from features.io.warehouse import canonical_tables

    params = _params()
    con = _connect(warehouse)
    cpu0, t0 = _cpu(), time.perf_counter()
    table = con.to_pyarrow(build_features(canonical_tables(con), cutoff, params=params))
    figures = {
        "rows": table.num_rows,
        "features": table.num_columns - 1,
        "seconds": round(time.perf_counter() - t0, 2),
        "cpu_seconds": round(_cpu() - cpu0, 2),
        "peak_rss_gb": round(peak_rss_gb(), 3),
    }
    table.to_pandas().to_parquet(out)  # for the comparison with pandas, not timed
    return figures


def run_pandas(warehouse: Path, cutoff: dt.datetime, every: int, out: Path) -> dict:
    from benchmarks.baselines.pandas_features import build_features_pandas

    params = _params()
    con = _connect(warehouse)
    t0 = time.perf_counter()
    frames = _to_pandas(_load_sample(con, every))
    con.disconnect()
    load = time.perf_counter() - t0
    cpu0, t0 = _cpu(), time.perf_counter()
    result = build_features_pandas(frames, cutoff, params=params.features)
    seconds = time.perf_counter() - t0
    cpu = _cpu() - cpu0
    result.reset_index().to_parquet(out)
    return {
        "sample_every": every,
        "rows": len(result),
        "features": result.shape[1],
        "load_seconds": round(load, 2),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_rss_gb": round(peak_rss_gb(), 3),
    }


def _entityset(frames: dict):
    import featuretools as ft

    lines = frames["order_lines"].merge(
        frames["orders"][["order_id", "ts"]].rename(columns={"ts": "order_ts"}), on="order_id"
    )
    subs = frames["subscriptions"]
    es = ft.EntitySet("journey")
    es.add_dataframe(
        dataframe_name="customers",
        dataframe=frames["customers"].drop(columns=["email", "segment", "birth_year"]),
        index="customer_id",
        time_index="signup_ts",
    )
    es.add_dataframe(
        dataframe_name="events",
        dataframe=frames["events"].drop(columns=["product_id"]),
        index="event_id",
        make_index=True,
        time_index="ts",
    )
    es.add_dataframe(
        dataframe_name="orders", dataframe=frames["orders"], index="order_id", time_index="ts"
    )
    es.add_dataframe(
        dataframe_name="order_lines", dataframe=lines, index="line_id", time_index="order_ts"
    )
    es.add_dataframe(
        dataframe_name="returns", dataframe=frames["returns"], index="return_id", time_index="ts"
    )
    es.add_dataframe(
        dataframe_name="subscriptions",
        dataframe=subs,
        index="subscription_id",
        time_index="start_ts",
        secondary_time_index={"end_ts": ["end_ts"]},
    )
    for parent, pcol, child, ccol in (
        ("customers", "customer_id", "events", "customer_id"),
        ("customers", "customer_id", "orders", "customer_id"),
        ("orders", "order_id", "order_lines", "order_id"),
        ("order_lines", "line_id", "returns", "line_id"),
        ("customers", "customer_id", "subscriptions", "customer_id"),
    ):
        es.add_relationship(parent, pcol, child, ccol)
    return es


def run_featuretools(warehouse: Path, cutoff: dt.datetime, every: int, windows: list[int]) -> dict:
    import warnings

    import featuretools as ft
    import pandas as pd

    warnings.filterwarnings("ignore")
    con = _connect(warehouse)
    t0 = time.perf_counter()
    frames = _load_sample(con, every)
    frames = {name: t.to_pandas() for name, t in frames.items()}
    con.disconnect()
    load = time.perf_counter() - t0
    pop = frames["customers"]
    pop = pop.loc[pop.signup_ts < cutoff, "customer_id"]
    # featuretools uses rows up to and including the cutoff; ours stop just before it.
    cutoff_times = pd.DataFrame({"customer_id": pop, "time": cutoff - dt.timedelta(microseconds=1)})
    agg = ["count", "sum", "mean", "std", "max", "min", "num_unique", "time_since_last"]
    cpu0, t0 = _cpu(), time.perf_counter()
    es = _entityset(frames)
    entityset_seconds = time.perf_counter() - t0
    calls = {}
    n_features = 0
    for window in [None, *windows]:
        t1 = time.perf_counter()
        fm, defs = ft.dfs(
            entityset=es,
            target_dataframe_name="customers",
            cutoff_time=cutoff_times,
            training_window=None if window is None else f"{window} days",
            agg_primitives=agg,
            trans_primitives=[],
            max_depth=2,
            n_jobs=1,
        )
        calls["all" if window is None else f"{window}d"] = round(time.perf_counter() - t1, 2)
        n_features += fm.shape[1]
    seconds = time.perf_counter() - t0
    return {
        "sample_every": every,
        "rows": len(cutoff_times),
        "features": n_features,
        "load_seconds": round(load, 2),
        "entityset_seconds": round(entityset_seconds, 2),
        "dfs_seconds": calls,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(_cpu() - cpu0, 2),
        "peak_rss_gb": round(peak_rss_gb(), 3),
    }


def _child(kind: str, args: argparse.Namespace, extra: list[str]) -> dict:
    """Run one contender in a fresh process and return its figures."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        result = Path(f.name)
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.features",
        "--run",
        kind,
        "--warehouse",
        str(args.warehouse),
        "--cutoff",
        args.cutoff,
        "--result",
        str(result),
        *extra,
    ]
    print(f"--- {kind} ...", flush=True)
    done = subprocess.run(
        cmd, cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore"}, check=False
    )
    if done.returncode:
        return {"error": f"exit code {done.returncode}"}
    figures = json.loads(result.read_text())
    result.unlink()
    print(json.dumps(figures, indent=2), flush=True)
    return figures


def _compare(ours_path: Path, pandas_path: Path) -> dict:
    """Do the pandas baseline and our builders agree on the sampled customers?"""
    import numpy as np
    import pandas as pd

    ours = pd.read_parquet(ours_path).set_index("customer_id")
    theirs = pd.read_parquet(pandas_path).set_index("customer_id")
    ours = ours.loc[theirs.index, theirs.columns]
    nums = [c for c in ours.columns if ours[c].dtype.kind == "f"]
    a, b = ours[nums].to_numpy(), theirs[nums].astype(float).to_numpy()
    close = np.isclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True)
    cats = [c for c in ours.columns if c not in nums]
    same_cats = bool(
        (ours[cats].astype(str).to_numpy() == theirs[cats].astype(str).to_numpy()).all()
    )
    return {
        "customers": len(theirs),
        "numeric_cells_equal": float(close.mean()),
        "categoricals_equal": same_cats,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--cutoff", help="default: the day after simulate.end, so every customer has a row"
    )
    ap.add_argument("--warehouse", type=Path)
    ap.add_argument("--pandas-every", type=int, default=1, help="pandas on 1 customer in N")
    ap.add_argument("--featuretools-every", type=int, default=500)
    ap.add_argument("--skip", nargs="*", default=[], choices=["pandas", "featuretools"])
    ap.add_argument("--run", choices=["ours", "pandas", "featuretools"], help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--every", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cutoff is None:
        args.cutoff = (_params().simulate.end + dt.timedelta(days=1)).isoformat()
    cutoff = dt.datetime.fromisoformat(args.cutoff)

    if args.run:  # a child process: one contender
        if args.run == "ours":
            figures = run_ours(args.warehouse, cutoff, args.out)
        elif args.run == "pandas":
            figures = run_pandas(args.warehouse, cutoff, args.every, args.out)
        else:
            windows = _params().features.windows_days
            figures = run_featuretools(args.warehouse, cutoff, args.every, windows)
        args.result.write_text(json.dumps(figures))
        return 0

    args.warehouse = args.warehouse or ensure_warehouse(args.customers, args.seed)
    from features.io.warehouse import connect

    con = connect(f"duckdb:///{args.warehouse}", read_only=True)
    rows = {t: int(con.table(t).count().to_pyarrow().as_py()) for t in TABLES}
    con.disconnect()
    print(f"warehouse {args.warehouse}: " + ", ".join(f"{t} {n:,}" for t, n in rows.items()))

    with tempfile.TemporaryDirectory() as d:
        ours_out, pandas_out = Path(d) / "ours.parquet", Path(d) / "pandas.parquet"
        ours = _child("ours", args, ["--out", str(ours_out)])
        pandas = (
            {"skipped": True}
            if "pandas" in args.skip
            else _child(
                "pandas", args, ["--every", str(args.pandas_every), "--out", str(pandas_out)]
            )
        )
        agreement = (
            _compare(ours_out, pandas_out) if "seconds" in pandas and "seconds" in ours else None
        )
    ft = (
        {"skipped": True}
        if "featuretools" in args.skip
        else _child("featuretools", args, ["--every", str(args.featuretools_every)])
    )

    def rate(f: dict) -> float | None:
        return f["rows"] / f["seconds"] if "seconds" in f and f["seconds"] > 0 else None

    ours_rate = rate(ours)
    figures = {
        "customers": ours.get("rows"),
        "events": rows["events"],
        "seconds": ours.get("seconds"),
        "peak_rss_gb": ours.get("peak_rss_gb"),
        "speedup_vs_pandas": round(ours_rate / rate(pandas), 2)
        if ours_rate and rate(pandas)
        else None,
        "speedup_vs_featuretools": round(ours_rate / rate(ft), 2)
        if ours_rate and rate(ft)
        else None,
        "customers_per_second": {
            "ours": round(ours_rate, 1) if ours_rate else None,
            "pandas": round(rate(pandas), 1) if rate(pandas) else None,
            "featuretools": round(rate(ft), 1) if rate(ft) else None,
        },
        "targets_met": {
            "seconds<=60": bool(ours.get("seconds", 1e9) <= 60),
            "peak_rss_gb<=4": bool(ours.get("peak_rss_gb", 1e9) <= 4),
        },
        "cutoff": args.cutoff,
        "warehouse": str(args.warehouse),
        "tables": rows,
        "ours": ours,
        "pandas": pandas,
        "pandas_agrees_with_ours": agreement,
        "featuretools": ft,
        "load_avg_1m": os.getloadavg()[0],
    }
    if figures["speedup_vs_pandas"] is not None:
        figures["targets_met"]["speedup_vs_pandas>=5"] = figures["speedup_vs_pandas"] >= 5
    if figures["speedup_vs_featuretools"] is not None:
        figures["targets_met"]["speedup_vs_featuretools>=20"] = (
            figures["speedup_vs_featuretools"] >= 20
        )
    write_results("features", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
