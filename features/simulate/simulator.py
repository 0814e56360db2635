"""``simulate``: the whole brand, as contract tables plus hidden-truth tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from features.config import SimulateParams
from features.simulate.catalog import Catalog, build_catalog
from features.simulate.clock import SeasonalClock, days_to_us
from features.simulate.orders import OrderHistory, simulate_orders
from features.simulate.population import Population, build_population
from features.simulate.sessions import LINES_SHOWN, Events, build_events, check_pages
from features.simulate.tables import build_tables

STAGES = ("catalog", "customers", "orders", "sessions", "tables")
TRUTH_TABLES = ("truth_customers", "truth_products", "truth_segments")


@dataclass
class SimulatedData:
    """Contract tables (``tables``) and hidden truth (``truth``), all pyarrow."""

    tables: dict[str, pa.Table]
    truth: dict[str, pa.Table]
    params: SimulateParams
    customers: int
    seed: int

    @property
    def rows(self) -> dict[str, int]:
        return {k: v.num_rows for k, v in {**self.tables, **self.truth}.items()}


def clock_for(params: SimulateParams) -> SeasonalClock:
    """The seasonal clock of a simulation, from its start to three years past its end."""
    return SeasonalClock.build(
        params.start, params.start, params.end + dt.timedelta(days=3 * 366), params.seasonality
    )


def end_day(params: SimulateParams) -> float:
    """The simulation ends at midnight after ``params.end`` (days since ``params.start``)."""
    return float((params.end - params.start).days + 1)


def simulate(
    params: SimulateParams,
    *,
    customers: int | None = None,
    seed: int | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> SimulatedData:
    """Simulate ``customers`` customers (default ``params.customers``) from ``seed``.

    The same params, size and seed give the same data. The catalogue depends on the seed
    only, so it is the same at every size. ``on_stage`` is called with each name of
    ``STAGES`` as it starts.
    """
    n = params.customers if customers is None else customers
    seed = params.seed if seed is None else seed
    if n <= 0:
        raise ValueError(f"customers must be positive, got {n}")
    if params.end < params.start:
        raise ValueError(f"simulate.end {params.end} is before simulate.start {params.start}")
    check_pages(params.sessions)
    stage = on_stage or (lambda _: None)
    rng_cat, rng_pop, rng_ord, rng_ses = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    clock, end = clock_for(params), end_day(params)
    stage("catalog")
    catalog = build_catalog(params.catalog, rng_cat)
    stage("customers")
    pop = build_population(params, n, catalog, clock, end, rng_pop)
    stage("orders")
    history, sub_end = simulate_orders(params, pop, catalog, clock, end, rng_ord)
    stage("sessions")
    orders = history.table("orders")
    lines = history.table("lines")
    events = _sessions(params, pop, catalog, clock, history, orders, lines, end, rng_ses)
    stage("tables")
    tables, truth = build_tables(params, pop, catalog, history, orders, lines, events, sub_end, end)
    return SimulatedData(tables, truth, params, n, seed)


def _sessions(
    params, pop: Population, catalog: Catalog, clock, history: OrderHistory, orders, lines, end, rng
) -> Events:
    n = len(pop)
    sp = params.sessions
    n_orders = len(orders["customer"])
    at_signup = (orders["number"] == 0) & (orders["day"] == pop.signup[orders["customer"]])
    signup_order = np.full(n, -1, dtype=np.int64)
    signup_order[orders["customer"][at_signup]] = np.flatnonzero(at_signup)
    later = np.flatnonzero(~at_signup)

    alive_until = np.where(np.isnan(history.death), end, np.minimum(history.death, end))
    c0, c1 = clock.cumulative(pop.signup), clock.cumulative(alive_until)
    count = rng.poisson(pop.browse_rate * np.maximum(c1 - c0, 0.0))
    who = np.repeat(np.arange(n), count)
    browse_day = clock.inverse(c0[who] + rng.random(len(who)) * (c1 - c0)[who])

    order_of_line = lines["order"]
    first_line = np.searchsorted(order_of_line, np.arange(n_orders))
    rank = np.arange(len(order_of_line)) - first_line[order_of_line]
    shown = np.full((n_orders, LINES_SHOWN), -1, dtype=np.int32)
    keep = rank < LINES_SHOWN
    shown[order_of_line[keep], rank[keep]] = lines["product"][keep]

    n_browse = len(who)
    customer = np.concatenate([np.arange(n), orders["customer"][later], who])
    day = np.concatenate([pop.signup, orders["day"][later], browse_day])
    order = np.concatenate([signup_order, later, np.full(n_browse, -1)])
    kind_signup = np.zeros(len(customer), dtype=bool)
    kind_signup[:n] = True
    # Sessions numbered by customer, then start (one float key sorts faster than lexsort;
    # days < 2**12 leave sub-second resolution).
    perm = np.argsort(customer * 4096.0 + day)
    customer, day, order, kind_signup = customer[perm], day[perm], order[perm], kind_signup[perm]
    buy = order >= 0
    o = np.where(buy, order, 0)

    products = np.where(buy[:, None], shown[o], -1)
    none = products[:, 0] < 0
    products[none, 0] = catalog.sample(_categories(catalog, int(none.sum()), rng), rng)

    channels = list(params.population.channels)
    sources = list(dict.fromkeys(channels + list(sp.sources)))
    src_p = np.array([sp.sources.get(s, 0.0) for s in sources])
    source = np.searchsorted(
        np.cumsum(src_p / src_p.sum()), rng.random(len(customer)), side="right"
    )
    source = np.where(kind_signup, pop.channel[customer], source.clip(0, len(sources) - 1))
    app = np.where(buy, orders["app"][o], rng.random(len(customer)) < pop.app_share[customer])
    login = ~kind_signup & (rng.random(len(customer)) < sp.login_share)
    ev = build_events(
        sp,
        customer=customer,
        start_us=days_to_us(params.start, day),
        signup=kind_signup,
        login=login,
        order=order,
        guide=np.where(buy, orders["guide"][o], False),
        joined=np.where(buy, orders["joined"][o], False),
        products=products,
        source=source.astype(np.int8),
        sources=sources,
        app=app,
        random_product=lambda k: catalog.sample(_categories(catalog, k, rng), rng),
        rng=rng,
    )
    return ev


def _categories(catalog: Catalog, k: int, rng) -> np.ndarray:
    share = np.bincount(catalog.category, weights=catalog.popularity)
    return np.searchsorted(np.cumsum(share / share.sum()), rng.random(k), side="right").clip(
        0, len(share) - 1
    )
