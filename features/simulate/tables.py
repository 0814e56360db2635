"""Assemble simulated arrays into contract tables and hidden-truth tables (pyarrow)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from features.config import SimulateParams
from features.contract.schema import BRA_BANDS, BRA_CUPS, FIT_FEEDBACK, RETURN_REASONS
from features.simulate.arrow import dictionary, fixed_ids, id_width, labels, timestamps
from features.simulate.catalog import Catalog
from features.simulate.clock import US_PER_DAY, days_to_us
from features.simulate.fit import ALPHA, N_CUPS, bra_label
from features.simulate.orders import OrderHistory
from features.simulate.population import Population
from features.simulate.sessions import EVENT_TYPES, PAGES, Events

SIZE_LABELS = tuple(
    [f"{b}{c}" for b in BRA_BANDS for c in BRA_CUPS] + list(ALPHA)
)  # bra (band, cup) at band * N_CUPS + cup, then alpha


def build_tables(
    params: SimulateParams,
    pop: Population,
    catalog: Catalog,
    history: OrderHistory,
    orders: dict[str, np.ndarray],
    lines: dict[str, np.ndarray],
    events: Events,
    sub_end: np.ndarray,
    end: float,
) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    """``(contract tables, truth tables)``."""
    n = len(pop)
    start = params.start
    end_us = days_to_us(start, np.array([end]))[0]
    cust_ids = fixed_ids("C", np.arange(n), id_width(n))
    channels, regions = list(params.population.channels), list(params.population.regions)
    customers = pa.table(
        {
            "customer_id": cust_ids,
            "signup_ts": timestamps(days_to_us(start, pop.signup)),
            "channel": labels(pop.channel, channels),
            "region": labels(pop.region, regions),
            "birth_year": pa.array(pop.birth_year, type=pa.int64()),
        }
    )

    n_sessions = len(events.session_customer)
    buy = events.session_order >= 0
    n_orders = len(orders["customer"])
    order_us = np.empty(n_orders, dtype=np.int64)
    order_us[events.session_order[buy]] = events.session_end_us[buy]
    events_t = pa.table(
        {
            "session_id": dictionary(
                events.session, fixed_ids("S", np.arange(n_sessions), id_width(n_sessions))
            ),
            "seq": pa.array(events.seq, type=pa.int64()),
            "customer_id": dictionary(events.customer, cust_ids),
            "ts": timestamps(events.ts_us),
            "event_type": labels(events.event_type, EVENT_TYPES),
            "page": labels(events.page, PAGES),
            "source": labels(events.session_source[events.session], events.sources),
            "device": labels(events.session_app[events.session].astype(np.int8), ("web", "app")),
            "product_id": dictionary(events.product, pa.array(catalog.product_id)),
        }
    )

    promo = params.promo
    codes = [promo.welcome_code, promo.default_code] + [c for c, _ in promo.monthly.values()]
    month_code = np.ones(13, dtype=np.int64)
    for k, month in enumerate(promo.monthly):
        month_code[month] = 2 + k
    code = np.where(orders["promo"], np.where(orders["first"], 0, month_code[orders["month"]]), -1)
    order_ids = fixed_ids("O", np.arange(n_orders), id_width(n_orders))
    orders_t = pa.table(
        {
            "order_id": order_ids,
            "customer_id": dictionary(orders["customer"], cust_ids),
            "ts": timestamps(order_us),
            "revenue": pa.array(np.round(orders["revenue"], 2)),
            "is_refund": pa.array(np.zeros(n_orders, dtype=bool)),
            "promo_code": labels(code, list(dict.fromkeys(codes))),
            "channel": labels(orders["app"].astype(np.int8), ("web", "app")),
        }
    )

    n_lines = len(lines["order"])
    is_bra = lines["band"] >= 0
    size = np.where(
        is_bra, lines["band"] * N_CUPS + lines["cup"], len(BRA_BANDS) * N_CUPS + lines["alpha"]
    )
    styles, style_idx = np.unique(catalog.style, return_inverse=True)
    line_ids = fixed_ids("L", np.arange(n_lines), id_width(n_lines))
    returned = lines["reason"] >= 0
    return_us = order_us[lines["order"]] + np.round(
        (lines["return_day"] - orders["day"][lines["order"]]) * US_PER_DAY
    ).astype(np.int64)
    returned &= return_us < end_us
    lines_t = pa.table(
        {
            "line_id": line_ids,
            "order_id": dictionary(lines["order"], order_ids),
            "product_id": dictionary(lines["product"], pa.array(catalog.product_id)),
            "category": labels(catalog.category[lines["product"]], catalog.categories),
            "style": labels(style_idx[lines["product"]], styles),
            "size": labels(size, SIZE_LABELS),
            "band": pa.array(
                np.asarray(BRA_BANDS)[np.maximum(lines["band"], 0)], mask=~is_bra, type=pa.int64()
            ),
            "cup": labels(lines["cup"], BRA_CUPS),
            "price": pa.array(lines["price"]),
            "quantity": pa.array(lines["quantity"], type=pa.int64()),
            "fit_feedback": labels(lines["feedback"], FIT_FEEDBACK),
        }
    )
    ret = np.flatnonzero(returned)
    returns_t = pa.table(
        {
            "return_id": fixed_ids("R", np.arange(len(ret)), id_width(len(ret))),
            "line_id": dictionary(ret, line_ids),
            "ts": timestamps(return_us[ret]),
            "reason": labels(lines["reason"][ret], RETURN_REASONS),
            "quantity": pa.array(lines["quantity"][ret], type=pa.int64()),
        }
    )

    subs: dict[str, np.ndarray] = (
        history.table("subs")
        if history.cols["subs"]
        else {
            "customer": np.zeros(0, dtype=np.int64),
            "plan": np.zeros(0, dtype=np.int8),
            "start": np.zeros(0),
        }
    )
    plans = params.membership.plans
    plan_names = list(plans)
    n_subs = len(subs["customer"])
    subs_t = pa.table(
        {
            "subscription_id": fixed_ids("M", np.arange(n_subs), id_width(n_subs)),
            "customer_id": dictionary(subs["customer"], cust_ids),
            "plan": labels(subs["plan"], plan_names),
            "start_ts": timestamps(days_to_us(start, subs["start"])),
            "end_ts": timestamps(days_to_us(start, np.nan_to_num(sub_end)), ~np.isnan(sub_end)),
            "price": pa.array(np.array([p.price for p in plans.values()])[subs["plan"]]),
            "period_days": pa.array(
                np.array([p.period_days for p in plans.values()], dtype=np.int64)[subs["plan"]]
            ),
        }
    )
    tables = {
        "customers": customers,
        "events": events_t,
        "orders": orders_t,
        "order_lines": lines_t,
        "returns": returns_t,
        "subscriptions": subs_t,
    }
    return tables, _truth(params, pop, catalog, history, cust_ids, orders, styles, style_idx)


def _truth(params, pop, catalog, history, cust_ids, orders, styles, style_idx):
    start = params.start
    n = len(pop)
    death = history.death
    believed_band = np.clip(pop.true_band + pop.band_error, 0, len(BRA_BANDS) - 1)
    believed_cup = np.clip(pop.true_cup + pop.cup_error, 0, N_CUPS - 1)
    believed_alpha = np.clip(pop.true_alpha + pop.alpha_error, 0, len(ALPHA) - 1)
    n_orders = np.bincount(orders["customer"], minlength=n)
    seg = history.table("segments")
    order = np.lexsort((seg["number"], seg["customer"]))
    seg = {k: v[order] for k, v in seg.items()}
    last = np.searchsorted(seg["customer"], np.arange(n), side="right") - 1
    customers = pa.table(
        {
            "customer_id": cust_ids,
            "true_band": pa.array(np.asarray(BRA_BANDS)[pop.true_band], type=pa.int64()),
            "true_cup": labels(pop.true_cup, BRA_CUPS),
            "true_size": pa.array(bra_label(pop.true_band, pop.true_cup)),
            "true_alpha": labels(pop.true_alpha, ALPHA),
            "initial_size": pa.array(bra_label(believed_band, believed_cup)),
            "initial_alpha": labels(believed_alpha, ALPHA),
            "promo_acquired": pa.array(pop.promo_acquired),
            "base_hazard_per_day": pa.array(pop.hazard),
            "final_hazard_per_day": pa.array(seg["hazard"][last]),
            "order_rate_per_day": pa.array(pop.order_rate),
            "browse_rate_per_day": pa.array(pop.browse_rate),
            "extra_lines_mean": pa.array(pop.extra_lines),
            "items_value": pa.array(pop.items_value),
            "promo_rate": pa.array(pop.promo_rate),
            "orders": pa.array(n_orders.astype(np.int64)),
            "churn_ts": timestamps(days_to_us(start, np.nan_to_num(death)), ~np.isnan(death)),
        }
    )
    products = pa.table(
        {
            "product_id": pa.array(catalog.product_id),
            "category": labels(catalog.category, catalog.categories),
            "style": labels(style_idx, styles),
            "price": pa.array(catalog.price),
            "style_offset": pa.array(catalog.style_offset),
            "size_offset": pa.array(catalog.offset),
        }
    )
    c = seg["customer"]
    segments = pa.table(
        {
            "customer_id": dictionary(c, cust_ids),
            "segment": pa.array(seg["number"].astype(np.int64)),
            "start_ts": timestamps(days_to_us(start, seg["day"])),
            "hazard_per_day": pa.array(seg["hazard"]),
            "order_rate_per_day": pa.array(seg["order_rate"]),
            "browse_rate_per_day": pa.array(pop.browse_rate[c]),
            "items_value": pa.array(pop.items_value[c]),
            "promo_rate": pa.array(seg["promo_rate"]),
            "first_order": pa.array(seg["first_order"]),
            "member": pa.array(seg["member"]),
        }
    )
    return {"truth_customers": customers, "truth_products": products, "truth_segments": segments}
