"""Random journey histories around a fixed cutoff, and the feature query compiled once.

Compiling the full feature expression takes Ibis a few seconds, so property tests
compile it once per session over unbound tables and run the SQL on each example's rows.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import strategies as st

from features.builders import build_features
from features.config import FeaturesParams, PathsParams
from features.contract.schema import TABLES
from features.io.warehouse import connect

CUTOFF = dt.datetime(2024, 7, 1)
CUSTOMERS = ["c0", "c1", "c2", "c3"]
# Small windows keep the boundaries dense in random data.
PARAMS = FeaturesParams(
    windows_days=[7, 30],
    trend_days=30,
    returns_window_days=30,
    paths=PathsParams(window_days=30, early_events=2),
)
PAGES = [None, "home", "Pricing", "product", "size guide", "size-guide", "cart", "checkout"]
PAGES += ["returns", "membership", "help"]
EVENT_TYPES = ["page_view", "page_view", "search", "add_to_cart", "checkout", "purchase"]
SIZES = [
    (34, "C", "34C"),
    (32, "D", "32D"),
    (36, "b", "36B"),
    (None, None, "M"),
    (None, None, None),
]
DAY_MIN = 24 * 60
BOUNDARIES = [-d * DAY_MIN for d in (7, 14, 30, 60)] + [-1]

past_minutes = st.one_of(st.integers(-200 * DAY_MIN, -1), st.sampled_from(BOUNDARIES))
future_minutes = st.one_of(st.just(0), st.integers(0, 200 * DAY_MIN))
any_minutes = st.one_of(past_minutes, future_minutes)


def at(minutes: int) -> dt.datetime:
    return CUTOFF + dt.timedelta(minutes=minutes)


@st.composite
def _orders(draw, when, prefix, customers):
    orders, lines, returns = [], [], []
    for i in range(draw(st.integers(0, 6))):
        oid = f"{prefix}o{i}"
        refund = draw(st.sampled_from([False, False, False, True]))
        revenue = draw(st.sampled_from([0.0, 10.0, 25.5, 99.0]))
        orders.append(
            {
                "order_id": oid,
                "customer_id": draw(st.sampled_from(customers)),
                "ts": at(draw(when)),
                "revenue": -revenue if refund else revenue,
                "is_refund": refund,
                "promo_code": draw(st.sampled_from([None, "SPRING", " "])),
            }
        )
        for j in range(draw(st.integers(0, 2))):
            band, cup, size = draw(st.sampled_from(SIZES))
            lid = f"{oid}l{j}"
            lines.append(
                {
                    "line_id": lid,
                    "order_id": oid,
                    "product_id": "p",
                    "size": size,
                    "band": band,
                    "cup": cup,
                    "price": 10.0,
                    "quantity": -1 if refund else draw(st.integers(1, 2)),
                }
            )
            if draw(st.booleans()):
                returns.append(_return(draw, f"{lid}r", lid, when))
    return orders, lines, returns


def _return(draw, rid, line_id, when):
    return {
        "return_id": rid,
        "line_id": line_id,
        "ts": at(draw(when)),
        "reason": draw(st.sampled_from(["too_small", "too_large", "style", "other"])),
        "quantity": draw(st.integers(1, 2)),
    }


def _session(draw, sid, customer, start, first_seq=1):
    n = draw(st.integers(1, 5))
    return [
        {
            "session_id": sid,
            "seq": first_seq + k,
            "customer_id": customer,
            "ts": at(start + k),
            "event_type": draw(st.sampled_from(EVENT_TYPES)),
            "page": draw(st.sampled_from(PAGES)),
            "device": "web",
        }
        for k in range(n)
    ]


def _subscription(draw, sid, customer, when):
    start = draw(when)
    end = draw(st.one_of(st.none(), st.integers(1, 120 * DAY_MIN)))
    return {
        "subscription_id": sid,
        "customer_id": customer,
        "plan": draw(st.sampled_from(["Monthly", "Annual"])),
        "start_ts": at(start),
        "end_ts": None if end is None else at(start + end),
        "price": draw(st.sampled_from([None, 9.99, 99.0])),
        "period_days": draw(st.sampled_from([None, 30, 365])),
    }


@st.composite
def histories(draw):
    """Rows of every table, with timestamps before, at and after ``CUTOFF``."""
    customers = [
        {
            "customer_id": c,
            "signup_ts": at(draw(any_minutes)),
            "channel": draw(st.sampled_from([None, "email", "social"])),
            "region": draw(st.sampled_from([None, "UK"])),
        }
        for c in CUSTOMERS
    ]
    orders, lines, returns = draw(_orders(any_minutes, "", CUSTOMERS))
    events = []
    for i in range(draw(st.integers(0, 5))):
        customer = draw(st.sampled_from(CUSTOMERS))
        events += _session(draw, f"s{i}", customer, draw(any_minutes))
    subs = [
        _subscription(draw, f"x{i}", draw(st.sampled_from(CUSTOMERS)), any_minutes)
        for i in range(draw(st.integers(0, 3)))
    ]
    return {
        "customers": customers,
        "orders": orders,
        "order_lines": lines,
        "returns": returns,
        "events": events,
        "subscriptions": subs,
    }


@st.composite
def futures(draw, base):
    """Rows that happen at or after ``CUTOFF``, appended to (or closing rows of) ``base``."""
    newcomers = [{"customer_id": "n0", "signup_ts": at(draw(future_minutes))}]
    everyone = CUSTOMERS + ["n0"]
    orders, lines, returns = draw(_orders(future_minutes, "f", everyone))
    past_lines = [r["line_id"] for r in base["order_lines"]]
    for i, lid in enumerate(
        draw(st.lists(st.sampled_from(past_lines), max_size=3)) if past_lines else []
    ):
        returns.append(_return(draw, f"fr{i}", lid, future_minutes))
    events = []
    for i in range(draw(st.integers(0, 3))):
        events += _session(draw, f"fs{i}", draw(st.sampled_from(everyone)), draw(future_minutes))
    for row in base["events"]:  # some sessions go on past the cutoff
        if row["seq"] == 1 and draw(st.booleans()):
            events += _session(
                draw, row["session_id"], row["customer_id"], draw(future_minutes), 100
            )
    subs = [
        _subscription(draw, f"fx{i}", draw(st.sampled_from(everyone)), future_minutes)
        for i in range(draw(st.integers(0, 2)))
    ]
    closed = []
    for row in base["subscriptions"]:  # an open membership ends at or after the cutoff
        if row["end_ts"] is None and draw(st.booleans()):
            closed.append({**row, "end_ts": max(at(draw(future_minutes)), row["start_ts"])})
        else:
            closed.append(row)
    return {
        "customers": base["customers"] + newcomers,
        "orders": base["orders"] + orders,
        "order_lines": base["order_lines"] + lines,
        "returns": base["returns"] + returns,
        "events": base["events"] + events,
        "subscriptions": closed + subs,
    }


SHOP_PAGES = np.array(["home", "Pricing", "product", "size guide", "cart", "checkout", "returns"])
SHOP_PAGES = np.append(SHOP_PAGES, ["membership", "help", None])
SHOP_TYPES = np.array(["page_view"] * 4 + ["search", "add_to_cart", "checkout", "purchase"])
BRAS = [(34, "C"), (32, "D"), (36, "B"), (30, "AA"), (None, None)]


def _random_shop(seed: int = 7, customers: int = 300) -> dict[str, pd.DataFrame]:
    """A small shop with two years of history around ``CUTOFF``."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-01-01T00:00:00")
    span_s = 2 * 365 * 86_400

    def stamps(n):
        return start + rng.integers(0, span_s, n).astype("timedelta64[s]")

    ids = np.array([f"c{i:04d}" for i in range(customers)])
    cust = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_ts": stamps(customers),
            "channel": rng.choice(np.array(["email", "social", None]), customers),
            "region": rng.choice(np.array(["UK", "US", None]), customers),
        }
    )
    n_sess = customers * 6
    sess_len = rng.integers(1, 9, n_sess)
    sid = np.repeat([f"s{i}" for i in range(n_sess)], sess_len)
    seq = np.concatenate([np.arange(1, k + 1) for k in sess_len])
    sess_start = np.repeat(stamps(n_sess), sess_len)
    events = pd.DataFrame(
        {
            "session_id": sid,
            "seq": seq,
            "customer_id": np.repeat(rng.choice(ids, n_sess), sess_len),
            "ts": sess_start + (seq * 45).astype("timedelta64[s]"),
            "event_type": rng.choice(SHOP_TYPES, len(seq)),
            "page": rng.choice(SHOP_PAGES, len(seq)),
        }
    )
    n_ord = customers * 4
    refund = rng.random(n_ord) < 0.1
    revenue = rng.choice([0.0, 19.5, 35.0, 60.25], n_ord)
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n_ord)],
            "customer_id": rng.choice(ids, n_ord),
            "ts": stamps(n_ord),
            "revenue": np.where(refund, -revenue, revenue),
            "is_refund": refund,
            "promo_code": rng.choice(np.array(["SPRING", None, None]), n_ord),
        }
    )
    per = rng.integers(1, 4, n_ord)
    line_order = np.repeat(orders.order_id.to_numpy(), per)
    bras = [BRAS[i] for i in rng.integers(0, len(BRAS), len(line_order))]
    lines = pd.DataFrame(
        {
            "line_id": [f"l{i}" for i in range(len(line_order))],
            "order_id": line_order,
            "product_id": "p",
            "size": [f"{b}{c}" if b else rng.choice(["S", "M", "L"]) for b, c in bras],
            "band": pd.array([b for b, _ in bras], dtype="Int64"),
            "cup": [c for _, c in bras],
            "price": 10.0,
            "quantity": np.where(np.repeat(refund, per), -1, rng.integers(1, 3, len(line_order))),
        }
    )
    back = lines.sample(frac=0.3, random_state=seed)
    order_ts = orders.set_index("order_id").ts
    returns = pd.DataFrame(
        {
            "return_id": [f"r{i}" for i in range(len(back))],
            "line_id": back.line_id.to_numpy(),
            "ts": order_ts.loc[back.order_id].to_numpy()
            + rng.integers(3600, 60 * 86_400, len(back)).astype("timedelta64[s]"),
            "reason": rng.choice(["too_small", "too_large", "style", "quality"], len(back)),
            "quantity": 1,
        }
    )
    n_sub = customers // 2
    sub_start = stamps(n_sub)
    sub_end = sub_start + rng.integers(20, 400, n_sub).astype("timedelta64[D]")
    subs = pd.DataFrame(
        {
            "subscription_id": [f"x{i}" for i in range(n_sub)],
            "customer_id": rng.choice(ids, n_sub),
            "plan": rng.choice(["Monthly", "Annual"], n_sub),
            "start_ts": sub_start,
            "end_ts": pd.Series(sub_end).where(rng.random(n_sub) < 0.6),
            "price": rng.choice([9.99, 99.0], n_sub),
            "period_days": rng.choice([30, 365], n_sub),
        }
    )
    frames = {
        "customers": cust,
        "events": events,
        "orders": orders,
        "order_lines": lines,
        "returns": returns,
        "subscriptions": subs,
    }
    return {name: frames[name].reindex(columns=TABLES[name].column_names) for name in TABLES}


@pytest.fixture(scope="session")
def random_shop():
    """``random_shop(seed, customers)``: a seeded shop as pandas frames (see above)."""
    return _random_shop


def arrow_tables(rows: dict[str, list[dict]]) -> dict[str, pa.Table]:
    return {
        name: pa.Table.from_pylist(rows.get(name, []), schema=t.ibis_schema().to_pyarrow())
        for name, t in TABLES.items()
    }


def unbound_tables() -> dict[str, ibis.Table]:
    return {name: ibis.table(t.ibis_schema(), name=name) for name, t in TABLES.items()}


class Compiled:
    """SQL compiled once from an expression over unbound tables; runs on any rows."""

    def __init__(self, expr: ibis.Table) -> None:
        self.sql = ibis.to_sql(expr, dialect="duckdb")
        self.con = connect("duckdb:///:memory:").con

    def __call__(self, rows: dict[str, list[dict]], key: str = "customer_id"):
        for name, table in arrow_tables(rows).items():
            self.con.register(name, table)
        df = self.con.execute(self.sql).df()
        return df.sort_values(key).set_index(key)


@pytest.fixture(scope="session")
def compiled_features() -> Compiled:
    """The full feature table at ``CUTOFF`` with ``PARAMS``, compiled once."""
    return Compiled(build_features(unbound_tables(), CUTOFF, params=PARAMS))


@pytest.fixture(scope="session")
def property_params() -> FeaturesParams:
    """The feature params the compiled query uses."""
    return PARAMS


@pytest.fixture(scope="session")
def compile_expr():
    """Compile any builder or label expression over unbound tables: ``compile_expr(fn)``."""
    return lambda make: Compiled(make(unbound_tables()))


@pytest.fixture(scope="session")
def history_strategy():
    return histories()


@pytest.fixture(scope="session")
def future_strategy():
    return futures


@pytest.fixture(scope="session")
def spark_con():
    """An Ibis PySpark backend on a local one-core Spark; skips without Java or pyspark."""
    import os
    import shutil
    import sys

    if shutil.which("java") is None:
        pytest.skip("Spark needs Java (no `java` on PATH)")
    pyspark = pytest.importorskip("pyspark")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        pyspark.sql.SparkSession.builder.master("local[1]")
        .appName("journey-tests")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield ibis.pyspark.connect(session)
    session.stop()
