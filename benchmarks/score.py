"""Nightly scoring end to end: features + all four champions + write-back + risk list.

``python -m benchmarks.score [customers] [--warehouse URL] [--stand-in-models]``
(default 1,000,000 customers; targets: <= 3 minutes, <= 6 GB peak, pyfunc <= 10% over
the raw boosters).

1. Simulates ``customers`` into a DuckDB file under ``benchmarks/results/`` (reused when
   it exists, or pass ``--warehouse``); not timed.
2. Trains quick real models with the training entry points (``train_churn``,
   ``train_clv``, ``train_size``, ``training.max_rows_per_cutoff`` rows per cutoff) into a
   temporary MLflow store and promotes them; not timed. ``--stand-in-models`` registers
   closed-form pyfunc models instead, to measure the serving path alone before the real
   models exist (the figures then say so).
3. Times ``score_date`` (one date, the end of the simulation) and the risk list, and the
   churn and CLV pyfuncs against their raw LightGBM boosters on the same rows.

Writes ``benchmarks/results/score.json``: ``customers``, ``seconds``, ``peak_rss_gb``,
``pyfunc_overhead_pct``, ``stages``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.common import RESULTS, peak_rss_gb, timed, write_results

ROOT = Path(__file__).resolve().parents[1]


def build_warehouse(url: str, customers: int, params) -> None:
    from features.io.warehouse import connect
    from features.simulate import simulate
    from features.simulate.load import load_simulation

    data = simulate(params.simulate, customers=customers)
    con = connect(url)
    load_simulation(
        con,
        data,
        now=dt.datetime(2100, 1, 1),
        max_quarantine_share=params.validation.max_quarantine_share,
    )
    con.disconnect()


def train_real_models(con, params) -> list[str]:
    """Train and promote churn (+ survival), clv and size with the training entry points."""
    try:
        from training.promote import promote_model
        from training.train_churn import train_churn
        from training.train_clv import train_clv
        from training.train_size import train_size
    except ImportError as err:
        raise SystemExit(
            f"real models need the training entry points ({err}); run with --stand-in-models "
            "to measure the serving path alone"
        ) from None
    notes = []
    for train in (train_churn, train_clv, train_size):
        result = train(con, params)
        notes.append(result.summary())
        refused = [n for n, v in result.versions.items() if v is None]
        if refused:
            raise SystemExit(f"the registry gates refused {', '.join(refused)}: {result.summary()}")
    for name in ("churn", "churn_survival", "clv", "size"):
        notes.append(promote_model(name, con, params).describe())
    return notes


def stand_ins() -> dict[str, tuple[Any, list[str]]]:
    """Closed-form pyfunc models with the contract's outputs, for ``--stand-in-models``."""
    import mlflow

    def frame(x, **cols):
        return pd.DataFrame({"customer_id": x["customer_id"].astype(str).to_numpy(), **cols})

    class Churn(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            rec = pd.to_numeric(model_input["recency_days"], errors="coerce").to_numpy(float)
            p = np.where(np.isnan(rec), 0.5, 1 - np.exp(-rec / 100))
            slow = pd.to_numeric(model_input["days_since_last_visit"], errors="coerce") > 30
            text = np.where(slow, "no visit in over 30 days", None)
            feat = np.where(slow, "days_since_last_visit", None)
            none = np.full(len(p), None, dtype=object)
            return frame(
                model_input,
                p_churn=p,
                reason_1=text,
                reason_2=none,
                reason_3=none,
                reason_1_feature=feat,
                reason_2_feature=none,
                reason_3_feature=none,
            )

    class Survival(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            rec = pd.to_numeric(model_input["recency_days"], errors="coerce").to_numpy(float)
            rate = np.where(np.isnan(rec), 0.005, np.maximum(rec, 1) / 10_000)
            grid = np.arange(0, 181, 15)
            curves = np.round(np.exp(-np.outer(rate, grid)), 4)
            return frame(
                model_input,
                p_churn_30d=1 - np.exp(-30 * rate),
                p_churn_60d=1 - np.exp(-60 * rate),
                p_churn_90d=1 - np.exp(-90 * rate),
                median_days_to_churn=np.log(2) / rate,
                survival_curve=["[" + ",".join(map(str, c)) + "]" for c in curves.tolist()],
            )

    class Clv(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            s = pd.to_numeric(model_input["spend_365d"], errors="coerce").fillna(0).to_numpy(float)
            return frame(
                model_input,
                clv=s,
                clv_p10=s / 2,
                clv_p90=s * 2,
                p_alive=np.full(len(s), 0.9),
                expected_orders=s / 50,
            )

    class Size(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            n = len(model_input)
            return frame(
                model_input,
                recommended_size=np.full(n, "34C"),
                p_fit=np.full(n, 0.7),
                p_too_small=np.full(n, 0.2),
                p_too_large=np.full(n, 0.1),
                size_confidence=np.full(n, 0.5),
                size_note=np.full(n, "stand-in"),
            )

    ids = ["customer_id"]
    return {
        "churn": (Churn(), [*ids, "recency_days", "days_since_last_visit"]),
        "churn_survival": (Survival(), [*ids, "recency_days"]),
        "clv": (Clv(), [*ids, "spend_365d"]),
        "size": (Size(), [*ids, "category"]),
    }


def register_stand_ins(params) -> list[str]:
    """Closed-form pyfuncs honouring the contract (serving path only; see the module doc)."""
    import mlflow

    from training.tracking import configure, pip_requirements

    configure(params)
    for name, (model, columns) in stand_ins().items():
        x = pd.DataFrame({c: ["c0"] if c == "customer_id" else [1.0] for c in columns})
        if "category" in x:
            x["category"] = ["bra"]
        with mlflow.start_run():
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=model,
                signature=mlflow.models.infer_signature(x, model.predict(None, x)),
                pip_requirements=pip_requirements(),
            )
        mv = mlflow.register_model(info.model_uri, name)
        mlflow.MlflowClient().set_registered_model_alias(name, "champion", mv.version)
    return ["stand-in closed-form models (no boosters)"]


def raw_call(role: str, inner: Any, x: pd.DataFrame) -> Callable[[], Any]:
    """The fitted estimator behind a pyfunc, called without MLflow on the same rows:
    churn's calibrated LightGBM (``ChurnClassifier.predict_proba``), CLV's hybrid
    (``predict_frame`` on the customers who bought; the others get constants)."""
    if role == "churn":
        clf = inner.classifier
        cols = list(clf.feature_names_in_)
        return lambda: clf.predict_proba(x[cols])
    from models._clv import AGE

    model = inner.model
    frame = x[list(model.feature_names_in_)].reset_index(drop=True)
    bought = frame[frame[AGE].notna()]
    return lambda: model.predict_frame(bought)


def pyfunc_overhead(champions, features: pd.DataFrame, rows: int) -> dict[str, Any]:
    """Seconds of the churn and CLV pyfuncs (through MLflow, reasons off: like for like)
    against the fitted estimators they wrap, called directly on the same rows."""
    sample = features.head(rows)
    out: dict[str, Any] = {"rows": len(sample)}
    for role in ("churn", "clv"):
        c = champions[role]
        x = sample[c.inputs]
        params = {"reasons": False} if role == "churn" else None
        start = time.perf_counter()
        c.model.predict(x, params=params)
        pyfunc_s = time.perf_counter() - start
        raw = raw_call(role, c.model.unwrap_python_model(), x)
        start = time.perf_counter()
        raw()
        raw_s = time.perf_counter() - start
        out[role] = {"pyfunc_s": round(pyfunc_s, 3), "raw_s": round(raw_s, 3)}
    pyfunc = sum(out[r]["pyfunc_s"] for r in ("churn", "clv"))
    raw_total = sum(out[r]["raw_s"] for r in ("churn", "clv"))
    out["over_raw_pct"] = round(100 * (pyfunc - raw_total) / raw_total, 1)
    return out


def bench_params(url: str, store: Path):
    from features.config import load_params

    base = load_params(ROOT / "params.yaml", env={})
    return base.model_copy(
        update={
            "warehouse": base.warehouse.model_copy(update={"url": url}),
            "mlflow": base.mlflow.model_copy(
                update={
                    "tracking_uri": f"sqlite:///{store}/mlflow.db",
                    "artifact_location": str(store / "artifacts"),
                }
            ),
            "training": base.training.model_copy(update={"max_rows_per_cutoff": 20_000}),
            "serving": base.serving.model_copy(
                update={
                    "risk_list_dir": str(store / "risk_list"),
                    "lock_path": str(store / "lock"),
                }
            ),
        }
    )


def setup(args, url: str, store: Path) -> None:
    """Simulate (if needed) and register champions; runs in its own process (see main)."""
    from features.io.warehouse import connect

    params = bench_params(url, store)
    times: dict[str, float] = {}
    if args.warehouse is None and not Path(url.removeprefix("duckdb://")).exists():
        RESULTS.mkdir(parents=True, exist_ok=True)
        with timed(times, "simulate_and_load"):
            build_warehouse(url, args.customers, params)
    con = connect(url)
    with timed(times, "train_and_promote"):
        notes = (
            register_stand_ins(params) if args.stand_in_models else train_real_models(con, params)
        )
    (store / "setup.json").write_text(json.dumps({"seconds": times, "notes": notes}))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("customers", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--warehouse", help="an existing warehouse URL to score")
    parser.add_argument("--stand-in-models", action="store_true")
    parser.add_argument("--overhead-rows", type=int, default=100_000)
    parser.add_argument("--setup-only", help=argparse.SUPPRESS)
    parser.add_argument(
        "--reuse-store", help="score with the models a previous run trained into this folder"
    )
    args = parser.parse_args()
    url = args.warehouse or f"duckdb:///{RESULTS}/score_warehouse_{args.customers}.duckdb"
    if args.setup_only:
        setup(args, url, Path(args.setup_only))
        return
    # Simulation and training run in a child process, so peak memory is scoring's own.
    if args.reuse_store:  # a store a previous run prepared (and the warehouse beside it)
        store = Path(args.reuse_store)
    else:
        store = Path(tempfile.mkdtemp(prefix="journey-bench-score-"))
        child = [
            sys.executable,
            "-m",
            "benchmarks.score",
            *sys.argv[1:],
            "--setup-only",
            str(store),
        ]
        subprocess.run(child, cwd=ROOT, check=True)
    prepared = json.loads((store / "setup.json").read_text())

    from features.io.warehouse import canonical_tables, connect
    from features.labels import observation_end
    from serving.models import resolve_champions
    from serving.risk_list import write_risk_list
    from serving.score import build_active_features, score_date
    from serving.writeback import open_target

    # Importing MLflow is a per-process cost (seconds; more without compiled bytecode, e.g.
    # under PYTHONDONTWRITEBYTECODE): timed apart from scoring.
    import_times: dict[str, float] = {}
    with timed(import_times, "import_mlflow"):
        import mlflow.pyfunc  # noqa: F401

    params = bench_params(url, store)
    con = connect(url)
    as_of = (observation_end(canonical_tables(con)) - dt.timedelta(days=1)).date()
    stages: dict[str, float] = {}
    start = time.perf_counter()
    target = open_target(None, warehouse_url=url, warehouse=con)
    result = score_date(con, as_of, params=params, target=target)
    with timed(stages, "risk_list"):
        files = write_risk_list(con, target, as_of, params=params)
    seconds = time.perf_counter() - start
    peak = peak_rss_gb()
    stages = {**{k: round(v, 3) for k, v in result.run.stage_seconds.items()}, **stages}

    champions = resolve_champions(params)
    features, _ = build_active_features(con, as_of, params)
    overhead = pyfunc_overhead(champions, features, args.overhead_rows)
    write_results(
        "score",
        {
            "customers": result.run.rows_scored,
            "customers_simulated": args.customers,
            "as_of": as_of,
            "seconds": round(seconds, 2),
            "peak_rss_gb": round(peak, 2),
            "pyfunc_overhead_pct": overhead["over_raw_pct"],
            "pyfunc_overhead_basis": "the fitted estimators the pyfuncs wrap, called directly",
            "pyfunc": overhead,
            "stages": stages,
            "rows_out": result.rows_out,
            "risk_list_rows": files.rows,
            "models": result.run.models,
            "model_notes": prepared["notes"],
            "setup_seconds": {**prepared["seconds"], **import_times},
            "targets": {"seconds": 180, "peak_rss_gb": 6, "pyfunc_overhead_pct": 10},
            "drift_warnings": result.run.warnings,
        },
    )
    if not args.reuse_store:
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
