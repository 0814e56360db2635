"""Serving fixtures: a small warehouse on disk and real MLflow pyfunc champions.

The four models honour the pyfunc contract in CONTRACTS.md with simple closed-form rules
on a few features, so tests can assert exact predictions. They are logged to a temporary
SQLite tracking store, registered and given the ``champion`` alias, once per session.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from pathlib import Path

import cloudpickle
import mlflow
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from mlflow.models import infer_signature

from features.config import load_params
from features.contract.schema import TABLES
from features.io.warehouse import connect
from models.pyfunc_size import size_signature

D = dt.datetime
AS_OF = dt.date(2024, 7, 1)
CURVE_DAYS = list(range(0, 181, 15))


class ChurnRule(mlflow.pyfunc.PythonModel):
    """p_churn = 1 - exp(-recency_days / 100); 0.5 without orders. Reasons from two features."""

    def predict(self, context, model_input, params=None):
        x = model_input
        rec = pd.to_numeric(x["recency_days"], errors="coerce")
        p = (1 - np.exp(-rec / 100.0)).fillna(0.5)
        visit = pd.to_numeric(x["days_since_last_visit"], errors="coerce")
        fit = pd.to_numeric(x["fit_returns_90d"], errors="coerce").fillna(0)
        r1, f1, r2, f2 = [], [], [], []
        for v, f in zip(visit, fit, strict=True):
            reasons = []
            if f > 0:
                reasons.append((f"{f:.0f} fit return(s) in 90 days", "fit_returns_90d"))
            if not (v == v) or v > 30:
                text = "never visited" if not (v == v) else f"no visit in {v:.0f} days"
                reasons.append((text, "days_since_last_visit"))
            reasons += [(None, None)] * 2
            r1.append(reasons[0][0])
            f1.append(reasons[0][1])
            r2.append(reasons[1][0])
            f2.append(reasons[1][1])
        none = [None] * len(x)
        return pd.DataFrame(
            {
                "customer_id": x["customer_id"].astype(str).to_numpy(),
                "p_churn": p.to_numpy(float),
                "reason_1": r1,
                "reason_2": r2,
                "reason_3": none,
                "reason_1_feature": f1,
                "reason_2_feature": f2,
                "reason_3_feature": none,
            }
        )


class SurvivalRule(mlflow.pyfunc.PythonModel):
    """Exponential survival with hazard recency_days / 10,000 per day (0.005 without orders)."""

    def predict(self, context, model_input, params=None):
        rec = pd.to_numeric(model_input["recency_days"], errors="coerce").to_numpy(float)
        rate = np.where(np.isnan(rec), 0.005, np.maximum(rec, 1.0) / 10_000)
        curves = [json.dumps([round(math.exp(-r * t), 6) for t in CURVE_DAYS]) for r in rate]
        median = np.log(2) / rate
        return pd.DataFrame(
            {
                "customer_id": model_input["customer_id"].astype(str).to_numpy(),
                "p_churn_30d": 1 - np.exp(-rate * 30),
                "p_churn_60d": 1 - np.exp(-rate * 60),
                "p_churn_90d": 1 - np.exp(-rate * 90),
                "median_days_to_churn": np.where(median > 180, np.inf, median),
                "survival_curve": curves,
            }
        )


class ClvRule(mlflow.pyfunc.PythonModel):
    """clv = half the last year's spend (0 without orders); P10/P90 = 0.5x / 1.5x."""

    def predict(self, context, model_input, params=None):
        spend = pd.to_numeric(model_input["spend_365d"], errors="coerce").fillna(0).to_numpy(float)
        clv = spend / 2
        return pd.DataFrame(
            {
                "customer_id": model_input["customer_id"].astype(str).to_numpy(),
                "clv": clv,
                "clv_p10": clv * 0.5,
                "clv_p90": clv * 1.5,
                "p_alive": np.full(len(clv), 0.9),
                "expected_orders": spend / 50,
            }
        )


class SizeRule(mlflow.pyfunc.PythonModel):
    """34C for bras, M otherwise."""

    def predict(self, context, model_input, params=None):
        cat = model_input["category"].astype(str).to_numpy()
        n = len(cat)
        return pd.DataFrame(
            {
                "customer_id": model_input["customer_id"].astype(str).to_numpy(),
                "recommended_size": np.where(cat == "bra", "34C", "M"),
                "p_fit": np.full(n, 0.7),
                "p_too_small": np.full(n, 0.2),
                "p_too_large": np.full(n, 0.1),
                "size_confidence": np.full(n, 0.6),
                "size_note": ["new customer: most customers take 34C in this style"] * n,
            }
        )


# The models pickle by value, so a scorer in another process loads them without this file.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

CHURN_INPUTS = ["customer_id", "recency_days", "days_since_last_visit", "fit_returns_90d"]
INPUTS = {
    "churn": (ChurnRule(), CHURN_INPUTS),
    "churn_survival": (SurvivalRule(), ["customer_id", "recency_days"]),
    "clv": (ClvRule(), ["customer_id", "spend_365d"]),
    "size": (SizeRule(), ["customer_id", "category"]),
}


def example_input(columns: list[str]) -> pd.DataFrame:
    data = {
        c: [f"c{i}" for i in range(3)] if c == "customer_id" else [1.0, 40.0, np.nan]
        for c in columns
    }
    if "category" in data:
        data["category"] = ["bra", "knickers", "bra"]
    return pd.DataFrame(data)


def register_model(
    name: str,
    model,
    columns: list[str],
    *,
    alias: str = "champion",
    reference: dict | None = None,
    text_columns: tuple[str, ...] = (),
    signature=None,
) -> str:
    """Log ``model`` with a signature over ``columns``, register it and set ``alias``.

    ``text_columns`` are logged as strings, to make a signature whose types do not match.
    """
    from training.tracking import pip_requirements

    x = example_input(columns)
    for c in text_columns:
        x[c] = ["1", "40", "7"]
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=model,
            signature=signature or infer_signature(x, model.predict(None, x)),
            input_example=x,
            pip_requirements=pip_requirements(),
        )
        if reference is not None:
            mlflow.log_dict(reference, "reference/feature_quantiles.json")
    mv = mlflow.register_model(info.model_uri, name)
    mlflow.MlflowClient().set_registered_model_alias(name, alias, mv.version)
    del run
    return str(mv.version)


def reference_for_tests() -> dict:
    """A churn training reference where recency_days was mostly under 30 days."""
    from features.reference import reference_distribution

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 30, 500),
            "days_since_last_visit": rng.uniform(0, 10, 500),
            "orders_365d": rng.integers(1, 5, 500).astype(float),
        }
    )
    return reference_distribution(frame, {"p_churn": 1 - np.exp(-frame.recency_days / 100)})


@pytest.fixture(scope="session")
def registry(tmp_path_factory) -> Path:
    """A tracking store with churn, churn_survival, clv and size champions (and a bad churn)."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    exp = mlflow.create_experiment("serving-tests", artifact_location=(root / "art").as_uri())
    mlflow.set_experiment(experiment_id=exp)
    for name, (model, columns) in INPUTS.items():
        ref = reference_for_tests() if name == "churn" else None
        # The size stand-in carries the real size signature: product_id is optional.
        sig = size_signature() if name == "size" else None
        register_model(name, model, columns, reference=ref, signature=sig)
    # A churn model trained on a feature the builders do not make.
    register_model("churn_other_features", ChurnRule(), [*CHURN_INPUTS, "loyalty_points"])
    # A churn model that was trained on recency_days as text.
    register_model("churn_text_recency", ChurnRule(), CHURN_INPUTS, text_columns=("recency_days",))
    # A churn model with a challenger but no champion.
    register_model("churn_unpromoted", ChurnRule(), CHURN_INPUTS, alias="challenger")
    return root


CUSTOMERS = [
    # a: recent buyer and visitor; b: fit returns and no visit for 91 days;
    # c: signed up, no events at all; d: lapsed > 365 days (inactive); e: signs up later.
    {"customer_id": "a", "signup_ts": D(2024, 1, 1), "segment": "vip", "email": "a@x.test"},
    {"customer_id": "b", "signup_ts": D(2024, 1, 1), "segment": "core", "email": "b@x.test"},
    {"customer_id": "c", "signup_ts": D(2024, 6, 20), "segment": None, "email": "c@x.test"},
    {"customer_id": "d", "signup_ts": D(2022, 1, 1), "segment": "core"},
    {"customer_id": "e", "signup_ts": D(2024, 8, 1)},
]
ORDERS = [
    {"order_id": "o1", "customer_id": "a", "ts": D(2024, 6, 21), "revenue": 100.0},
    {"order_id": "o2", "customer_id": "b", "ts": D(2024, 3, 3), "revenue": 60.0},
    {"order_id": "o3", "customer_id": "d", "ts": D(2022, 2, 1), "revenue": 10.0},
]
LINES = [
    {"line_id": "l1", "order_id": "o1", "product_id": "p1", "price": 100.0, "quantity": 1},
    {"line_id": "l2", "order_id": "o2", "product_id": "p2", "price": 60.0, "quantity": 1},
]
RETURNS = [
    {"return_id": "r1", "line_id": "l2", "ts": D(2024, 4, 20), "reason": "too_small", "quantity": 1}
]
EVENTS = [
    {
        "session_id": "s1",
        "seq": 1,
        "customer_id": "a",
        "ts": D(2024, 6, 25),
        "event_type": "page_view",
        "page": "home",
    },
    {
        "session_id": "s2",
        "seq": 1,
        "customer_id": "b",
        "ts": D(2024, 4, 1),
        "event_type": "page_view",
        "page": "home",
    },
]
DEFAULTS = {"orders": {"is_refund": False}}


def write_canonical(url: str, rows: dict[str, list[dict]]) -> None:
    con = connect(url)
    for name, table in TABLES.items():
        schema = table.ibis_schema().to_pyarrow()
        data = [{**DEFAULTS.get(name, {}), **r} for r in rows.get(name, [])]
        con.create_table(name, pa.Table.from_pylist(data, schema=schema), overwrite=True)
    con.disconnect()


SMALL = {
    "customers": CUSTOMERS,
    "orders": ORDERS,
    "order_lines": LINES,
    "returns": RETURNS,
    "events": EVENTS,
}


@pytest.fixture
def serving_env(tmp_path, registry):
    """``(params, warehouse_url)``: the small warehouse on disk and the session's champions."""
    url = f"duckdb:///{tmp_path}/warehouse.duckdb"
    write_canonical(url, SMALL)
    (tmp_path / "params.yaml").write_text(
        f"warehouse: {{url: '{url}'}}\n"
        f"mlflow: {{tracking_uri: 'sqlite:///{registry}/mlflow.db', experiment: serving-tests}}\n"
        "serving:\n"
        "  actions:\n"
        "    - {action: fit consultation + size advice, features: [fit_returns_90d]}\n"
        "    - {action: win-back offer, features: [days_since_last_visit]}\n"
        "  drift: {key_features: [recency_days, days_since_last_visit]}\n"
    )
    params = load_params(tmp_path / "params.yaml", env={})
    return params, url


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL server on loopback (Debian's binaries), stopped after the session.

    As root, the server runs as the ``postgres`` user (PostgreSQL refuses to run as root).
    Skips, saying why, when the binaries are absent.
    """
    import glob
    import os
    import shutil
    import subprocess
    import tempfile

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip(
            "PostgreSQL binaries not found (/usr/lib/postgresql/*/bin; apt-get install postgresql)"
        )
    bindir = Path(found[-1]).parent
    pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")
    base = Path(tempfile.mkdtemp(prefix="journey-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)

    run(
        str(bindir / "initdb"),
        "-D",
        str(base / "data"),
        "-A",
        "trust",
        "-U",
        "postgres",
        "--no-sync",
        "-E",
        "UTF8",
    )
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(base / "data"),
        "-o",
        opts,
        "-l",
        str(base / "log"),
        "-w",
        "start",
    )
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)
