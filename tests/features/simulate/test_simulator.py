"""The simulator writes exactly the contract, deterministically, and loads with no quarantine."""

import datetime as dt

import numpy as np
import pytest

from features.contract.schema import ALPHA_SIZES, BRA_CUPS, EVENT_TYPES, TABLES
from features.simulate import simulate
from features.simulate.load import load_simulation
from features.simulate.sessions import PAGES

NOW = dt.datetime(2026, 6, 1)


def test_same_seed_same_data_and_another_seed_differs(sim_params):
    a = simulate(sim_params, customers=300, seed=3)
    b = simulate(sim_params, customers=300, seed=3)
    c = simulate(sim_params, customers=300, seed=4)
    for name in [*a.tables, *a.truth]:
        ta = {**a.tables, **a.truth}[name]
        assert ta.equals({**b.tables, **b.truth}[name]), name
    assert not a.tables["orders"].equals(c.tables["orders"])


def test_tables_carry_exactly_the_contract_columns(small_sim):
    assert set(small_sim.tables) == set(TABLES)
    for name, table in small_sim.tables.items():
        assert tuple(table.column_names) == tuple(
            c for c in TABLES[name].column_names if c in table.column_names
        )
        assert set(TABLES[name].required_columns) <= set(table.column_names), name


def test_every_table_validates_with_nothing_quarantined(con, small_sim):
    report = load_simulation(con, small_sim, now=NOW, max_quarantine_share=0.5)
    assert report.reconciles
    assert {r.table: r.quarantined for r in report.reports.values()} == dict.fromkeys(TABLES, 0)
    for name, table in small_sim.tables.items():
        assert con.table(name).count().to_pandas() == table.num_rows
    for name, table in small_sim.truth.items():
        assert con.table(name).count().to_pandas() == table.num_rows
    assert con.table("quarantine").count().to_pandas() == 0


def test_sizes_are_real_bra_and_alpha_sizes(small_sim):
    lines = small_sim.tables["order_lines"].to_pandas()
    bra = lines[lines.category == "bra"]
    assert bra.band.between(28, 46).all() and (bra.band % 2 == 0).all()
    assert set(bra.cup.astype(str)) <= set(BRA_CUPS)
    assert (bra["size"].astype(str) == bra.band.astype(int).astype(str) + bra.cup.astype(str)).all()
    other = lines[lines.category != "bra"]
    assert other.band.isna().all() and other.cup.isna().all()
    assert set(other["size"].astype(str)) <= set(ALPHA_SIZES) - {"XXS", "3XL"}
    assert set(lines.category.astype(str)) == {"bra", "knickers", "sleepwear", "apparel"}


def test_order_revenue_is_the_sum_of_its_lines(small_sim):
    lines = small_sim.tables["order_lines"].to_pandas()
    orders = small_sim.tables["orders"].to_pandas().set_index("order_id")
    total = (lines.price * lines.quantity).groupby(lines.order_id.astype(str)).sum()
    np.testing.assert_allclose(orders.revenue.loc[total.index], total, atol=0.011)
    promo = orders.promo_code.notna()
    assert 0.1 < promo.mean() < 0.6


def test_purchase_sessions_end_in_checkout_then_purchase_at_the_order_time(small_sim):
    ev = small_sim.tables["events"].to_pandas()
    ev["event_type"] = ev.event_type.astype(str)
    last = ev.groupby("session_id", observed=True).tail(2)
    pairs = last.groupby("session_id", observed=True).event_type.agg(tuple)
    bought = ev[ev.event_type == "purchase"].session_id.unique()
    assert (pairs.loc[bought] == ("checkout", "purchase")).all()
    purchases = np.sort(ev[ev.event_type == "purchase"].ts.to_numpy())
    orders = np.sort(small_sim.tables["orders"].column("ts").to_numpy())
    np.testing.assert_array_equal(purchases, orders)
    # Abandonment: some sessions reach checkout and leave without buying.
    checkout = set(ev[ev.event_type == "checkout"].session_id)
    assert len(checkout - set(bought)) > 0
    first = ev.groupby("session_id", observed=True).head(1)
    assert (first.seq == 1).all()
    signups = ev[ev.event_type == "signup"]
    assert signups.customer_id.nunique() == small_sim.customers == len(signups)


def test_events_follow_the_page_vocabulary(small_sim):
    ev = small_sim.tables["events"].to_pandas()
    pages = set(ev.page.astype(str))
    assert {"home", "category", "product", "size_guide", "cart", "checkout", "returns"} <= pages
    assert pages <= {*PAGES}
    assert set(ev.device.astype(str)) == {"web", "app"}
    assert set(ev.event_type.astype(str)) <= set(EVENT_TYPES)
    product_pages = ev[ev.page == "product"]
    assert product_pages.product_id.notna().all()
    assert ev[ev.page == "home"].product_id.isna().all()


def test_a_plan_change_ends_one_subscription_where_the_next_starts(moderate_frames):
    subs = moderate_frames["subscriptions"].sort_values(["customer_id", "start_ts"])
    multi = subs[subs.duplicated("customer_id", keep=False)]
    assert len(multi) > 0
    nxt = multi.groupby("customer_id").start_ts.shift(-1)
    changed = nxt.notna()
    assert (multi.end_ts[changed] == nxt[changed]).all()
    assert set(subs.plan) == {"Monthly", "Annual"}


def test_unknown_page_in_params_is_a_config_error(sim_params):
    from features.errors import ConfigError

    bad = sim_params.sessions.model_copy(update={"start": {"hme": 1.0}})
    with pytest.raises(ConfigError, match="unknown page 'hme'. Did you mean 'home'"):
        simulate(sim_params.model_copy(update={"sessions": bad}), customers=10, seed=1)


def test_the_repo_params_simulate_section_is_what_the_tests_use(sim_params):
    from pathlib import Path

    from features.config import load_params

    root = Path(__file__).resolve().parents[3]
    assert load_params(root / "params.yaml", env={}).simulate == sim_params
