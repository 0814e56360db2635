"""Simulator benchmark: 1,000,000 customers (~50M events) in memory, then the full
``journey simulate`` path (simulate, validate, load into DuckDB) in a child process.

    python -m benchmarks.simulate [--customers N] [--seed S] [--skip-load]

Prints the figures and writes ``benchmarks/results/simulate.json``. Targets: the
simulation within 120 s and 6 GB peak RSS on a 2-core machine. Wall time depends on what
else the machine runs, so CPU seconds are reported beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "simulate.json"


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def bench_simulate(customers: int, seed: int) -> dict:
    from features.config import load_params
    from features.simulate import simulate

    params = load_params(ROOT / "params.yaml", env={})
    stages: dict[str, float] = {}
    last = [time.perf_counter(), ""]

    def on_stage(name: str) -> None:
        now = time.perf_counter()
        if last[1]:
            stages[str(last[1])] = round(now - float(last[0]), 2)
        last[0], last[1] = now, name
        print(f"  {name} ...", flush=True)

    cpu0, t0 = _cpu(resource.RUSAGE_SELF), time.perf_counter()
    data = simulate(params.simulate, customers=customers, seed=seed, on_stage=on_stage)
    seconds = time.perf_counter() - t0
    stages[str(last[1])] = round(time.perf_counter() - float(last[0]), 2)
    rows = data.rows
    return {
        "customers": customers,
        "seed": seed,
        "events": rows["events"],
        "rows": rows,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(_cpu(resource.RUSAGE_SELF) - cpu0, 2),
        "stage_seconds": stages,
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 3),
    }


def bench_full_path(customers: int, seed: int) -> dict:
    """``journey simulate`` into a fresh DuckDB file, in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        params = Path(tmp) / "params.yaml"
        text = (ROOT / "params.yaml").read_text()
        params.write_text(text.replace("duckdb:///data/warehouse.duckdb", "duckdb:///wh.duckdb"))
        journey = Path(sys.executable).parent / "journey"
        cmd = [str(journey), "simulate", "--customers", str(customers), "--seed", str(seed)]
        cpu0, t0 = _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
        done = subprocess.run(
            [*cmd, "--params", str(params)],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "120"},
            check=False,
        )
        seconds = time.perf_counter() - t0
        if done.returncode:
            raise SystemExit(f"journey simulate failed:\n{done.stdout}\n{done.stderr}")
        size = (Path(tmp) / "wh.duckdb").stat().st_size
        return {
            "seconds": round(seconds, 2),
            "cpu_seconds": round(_cpu(resource.RUSAGE_CHILDREN) - cpu0, 2),
            "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6, 3),
            "warehouse_gb": round(size / 1e9, 3),
            "output_tail": done.stdout.strip().splitlines()[-40:],
        }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-load", action="store_true", help="simulate only")
    args = ap.parse_args(argv)
    print(f"simulate {args.customers:,} customers", flush=True)
    result = {"simulate": bench_simulate(args.customers, args.seed)}
    s = result["simulate"]
    print(
        f"simulate: {s['events']:,} events in {s['seconds']} s "
        f"({s['cpu_seconds']} CPU s), peak RSS {s['peak_rss_gb']} GB; stages {s['stage_seconds']}",
        flush=True,
    )
    if not args.skip_load:
        print("journey simulate (simulate + validate + load into DuckDB) ...", flush=True)
        result["journey_simulate"] = full = bench_full_path(args.customers, args.seed)
        print(
            f"journey simulate: {full['seconds']} s ({full['cpu_seconds']} CPU s), "
            f"peak RSS {full['peak_rss_gb']} GB, warehouse {full['warehouse_gb']} GB"
        )
    result["load_average"] = os.getloadavg()
    result["cpus"] = os.cpu_count()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
