"""Random journey histories around a fixed cutoff, and the feature query compiled once.

Compiling the full feature expression takes Ibis a few seconds, so property tests
compile it once per session over unbound tables and run the SQL on each example's rows.
"""

from __future__ import annotations

import datetime as dt

import ibis
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
