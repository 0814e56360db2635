"""The Ibis builders on DuckDB agree with plain pandas (benchmarks/baselines/pandas_features.py).

Two samples: a seeded random shop of a few hundred customers, and random histories
around the cutoff from hypothesis (empty tables, nulls, ties and window boundaries).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from benchmarks.baselines.pandas_features import build_features_pandas
from features.builders import build_features, categorical_features
from features.config import FeaturesParams
from features.contract.schema import TABLES

CUTOFF = dt.datetime(2024, 7, 1)
PAGES = np.array(["home", "Pricing", "product", "size guide", "cart", "checkout", "returns"])
PAGES = np.append(PAGES, ["membership", "help", None])
TYPES = np.array(["page_view"] * 4 + ["search", "add_to_cart", "checkout", "purchase"])
BRAS = [(34, "C"), (32, "D"), (36, "B"), (30, "DD"), (None, None)]


def random_shop(seed: int = 7, customers: int = 300) -> dict[str, pd.DataFrame]:
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
            "event_type": rng.choice(TYPES, len(seq)),
            "page": rng.choice(PAGES, len(seq)),
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


def to_arrow(frames: dict[str, pd.DataFrame]) -> dict[str, pa.Table]:
    return {
        name: pa.Table.from_pandas(
            df, schema=TABLES[name].ibis_schema().to_pyarrow(), preserve_index=False
        )
        for name, df in frames.items()
    }


def assert_same(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert list(ours.index) == list(theirs.index)
    assert set(ours.columns) == set(theirs.columns)
    theirs = theirs[ours.columns]
    cats = categorical_features()
    pd.testing.assert_frame_equal(ours[cats], theirs[cats], check_dtype=False)
    nums = ours.columns.difference(cats)
    pd.testing.assert_frame_equal(
        ours[nums].astype(float), theirs[nums].astype(float), check_exact=False, rtol=1e-9
    )


def test_duckdb_matches_pandas_on_a_random_shop(con):
    import ibis

    frames = random_shop()
    tables = {name: ibis.memtable(t) for name, t in to_arrow(frames).items()}
    ours = con.execute(build_features(tables, CUTOFF, params=FeaturesParams()))
    ours = ours.set_index("customer_id").sort_index()
    theirs = build_features_pandas(frames, CUTOFF, params=FeaturesParams())
    assert len(ours) > 100
    assert ours.orders_365d.sum() > 100 and ours.abandoned_checkouts_90d.sum() > 10
    assert ours.cup_volume_drift_steps.notna().sum() > 10
    assert_same(ours, theirs)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # Each example runs a large query, so failures are reported unshrunk.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(data=st.data())
def test_duckdb_matches_pandas_on_random_histories(
    data, compiled_features, history_strategy, property_params
):
    rows = data.draw(history_strategy)
    frames = {
        name: pa.Table.from_pylist(
            rows.get(name, []), schema=t.ibis_schema().to_pyarrow()
        ).to_pandas()
        for name, t in TABLES.items()
    }
    ours = compiled_features(rows)
    assert_same(ours, build_features_pandas(frames, CUTOFF, params=property_params))
