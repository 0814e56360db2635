"""The customer feature table in idiomatic pandas, following ``features.builders``' definitions.

Two jobs: the independent reference the Ibis builders are tested against
(``tests/features/builders/test_pandas_reference.py``), and the pandas baseline of
``benchmarks/features.py``. It takes plain DataFrames with the contract's columns
(timestamps as ``datetime64``) and returns one row per customer with
``signup_ts < cutoff``, indexed by ``customer_id``. Features use rows before the cutoff
only. Time differences use whole epoch seconds, as the builders do. String columns may
be ``category`` (every groupby passes ``observed=True``); ties break on ``order_id`` and
``subscription_id``, which must then stay plain strings so that they sort lexically.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from features.config import FeaturesParams
from features.contract.schema import BRA_BANDS
from features.sizes import CUP_STEP

DAY = 86_400.0
EPOCH = pd.Timestamp(0)
KEY = "customer_id"


def epoch_s(ts: pd.Series) -> pd.Series:
    """Whole epoch seconds (float, NaN for NaT)."""
    return np.floor((ts - EPOCH).dt.total_seconds())


def _cutoff_s(cutoff: dt.datetime) -> float:
    return float(np.floor((pd.Timestamp(cutoff) - EPOCH).total_seconds()))


def population(frames: Mapping[str, pd.DataFrame], cutoff: dt.datetime) -> pd.DataFrame:
    """Customers signed up before the cutoff, indexed by id.

    Each family returns ``out.reindex(pop.index)``: assigning a Series to an empty frame
    would otherwise adopt the Series' index.
    """
    c = frames["customers"]
    return c.loc[c.signup_ts < cutoff].set_index(KEY).sort_index()


def _is_sale(orders: pd.DataFrame) -> pd.Series:
    return ~orders.is_refund.fillna(False).astype(bool)


def value(frames, cutoff, *, windows_days, trend_days) -> pd.DataFrame:
    pop = population(frames, cutoff)
    c_s = _cutoff_s(cutoff)
    o = frames["orders"]
    o = o.loc[o.ts < cutoff].copy()
    o["sale"] = _is_sale(o)
    o["amount"] = o.revenue.where(o.sale, -o.revenue.abs())
    o["refund"] = o.revenue.abs().where(~o.sale, 0.0)
    o["s"] = epoch_s(o.ts)
    sales = o.loc[o.sale].sort_values([KEY, "ts", "order_id"])
    by_sale = sales.groupby(KEY, observed=True)
    by_all = o.groupby(KEY, observed=True)

    out = pd.DataFrame(index=pop.index)
    out["tenure_days"] = (c_s - epoch_s(pop.signup_ts)) / DAY
    out["recency_days"] = (c_s - by_sale.s.max()) / DAY
    out["days_since_first_order"] = (c_s - by_sale.s.min()) / DAY
    out["orders_lifetime"] = by_sale.size()
    out["spend_lifetime"] = by_all.amount.sum()
    out["refunds_lifetime"] = by_all.refund.sum()
    gross = by_sale.revenue.sum().reindex(out.index).fillna(0)
    counts = ["orders_lifetime", "spend_lifetime", "refunds_lifetime"]
    out[counts] = out[counts].fillna(0)
    out["refund_share"] = (out.refunds_lifetime / gross).where(gross > 0)
    out["aov"] = (gross / out.orders_lifetime).where(out.orders_lifetime > 0)
    gaps = by_sale.s.diff() / DAY
    out["interpurchase_days_mean"] = gaps.groupby(sales[KEY], observed=True).mean()
    out["interpurchase_days_std"] = gaps.groupby(sales[KEY], observed=True).std()

    def since(days):
        return o.ts >= pd.Timestamp(cutoff) - pd.Timedelta(days=days)

    for w in windows_days:
        inside = since(w)
        out[f"orders_{w}d"] = o.loc[inside & o.sale].groupby(KEY, observed=True).size()
        out[f"spend_{w}d"] = o.loc[inside].groupby(KEY, observed=True).amount.sum()
    recent = since(trend_days)
    prev = since(2 * trend_days) & ~recent
    orders_diff = (
        o.loc[recent & o.sale]
        .groupby(KEY, observed=True)
        .size()
        .sub(o.loc[prev & o.sale].groupby(KEY, observed=True).size(), fill_value=0)
    )
    spend_diff = (
        o.loc[recent]
        .groupby(KEY, observed=True)
        .amount.sum()
        .sub(o.loc[prev].groupby(KEY, observed=True).amount.sum(), fill_value=0)
    )
    out[f"orders_trend_{trend_days}d"] = orders_diff
    out[f"spend_trend_{trend_days}d"] = spend_diff
    windowed = [f"{stem}_{w}d" for w in windows_days for stem in ("orders", "spend")]
    windowed += [f"orders_trend_{trend_days}d", f"spend_trend_{trend_days}d"]
    out[windowed] = out[windowed].fillna(0)
    return out.reindex(pop.index)


def engagement(frames, cutoff, *, windows_days) -> pd.DataFrame:
    pop = population(frames, cutoff)
    c_s = _cutoff_s(cutoff)
    e = frames["events"]
    e = e.loc[e.ts < cutoff, [KEY, "seq", "ts", "event_type"]].copy()
    e["s"] = epoch_s(e.ts)
    e["day"] = np.ceil((c_s - e.s) / DAY)
    e["pv"] = e.event_type.eq("page_view")
    e["start"] = e.seq.eq(1)  # a session counts where it starts

    out = pd.DataFrame(index=pop.index)
    out["sessions_lifetime"] = e.groupby(KEY, observed=True).start.sum()
    out["days_since_last_visit"] = (c_s - e.groupby(KEY, observed=True).s.max()) / DAY
    days = e.groupby([KEY, "day"], as_index=False, observed=True)[["pv", "start"]].sum()
    for w in windows_days:
        in_w = days.loc[days.day <= w].groupby(KEY, observed=True)
        out[f"sessions_{w}d"] = in_w.start.sum()
        out[f"page_views_{w}d"] = in_w.pv.sum()
        out[f"active_days_{w}d"] = in_w.size()
    counts = [c for c in out.columns if c != "days_since_last_visit"]
    out[counts] = out[counts].fillna(0)
    return out.reindex(pop.index)


def paths(
    frames, cutoff, *, window_days, early_events, pages, early_pages, transitions
) -> pd.DataFrame:
    pop = population(frames, cutoff)
    p = f"{window_days}d"
    e = frames["events"]
    start = pd.Timestamp(cutoff) - pd.Timedelta(days=window_days)
    e = e.loc[(e.ts < cutoff) & (e.ts >= start)].copy()
    e["pk"] = e.page.str.strip().str.lower().str.replace(" ", "_").str.replace("-", "_")
    e["checkout"] = e.event_type.eq("checkout") | e.pk.isin(pages.get("checkout", []))
    e["purchase"] = e.event_type.eq("purchase")
    early = e.seq <= early_events
    for k in early_pages:
        e[f"early_{k}"] = e.pk.isin(pages[k]) & early

    flags = ["checkout", "purchase", *(f"early_{k}" for k in early_pages)]
    sessions = e.groupby([KEY, "session_id"], observed=True).agg(
        length=("seq", "size"), **{f: (f, "any") for f in flags}
    )
    by_customer = sessions.groupby(level=KEY, observed=True)
    out = pd.DataFrame(index=pop.index)

    paged = e.loc[e.pk.notna(), [KEY, "session_id", "seq", "pk"]]
    following = paged[["session_id", "seq", "pk"]].assign(seq=paged.seq - 1)
    moves = paged.merge(following, on=["session_id", "seq"], suffixes=("_prev", ""))
    for key, names in pages.items():
        out[f"{key}_views_{p}"] = paged.loc[paged.pk.isin(names)].groupby(KEY, observed=True).size()
    for k in early_pages:
        out[f"early_{k}_sessions_{p}"] = by_customer[f"early_{k}"].sum()
    out[f"path_length_mean_{p}"] = by_customer.length.mean()
    out[f"path_length_max_{p}"] = by_customer.length.max()
    out[f"checkout_sessions_{p}"] = by_customer.checkout.sum()
    abandoned = sessions.checkout & ~sessions.purchase
    out[f"abandoned_checkouts_{p}"] = abandoned.groupby(level=KEY, observed=True).sum()
    for a, b in transitions:
        hit = moves.pk_prev.eq(a) & moves.pk.eq(b)
        out[f"{a}_to_{b}_{p}"] = moves.loc[hit].groupby(KEY, observed=True).size()
    nullable = [f"path_length_mean_{p}", f"path_length_max_{p}"]
    counts = out.columns.difference(nullable)
    out[counts] = out[counts].fillna(0)
    out[f"key_pages_seen_{p}"] = sum(out[f"{key}_views_{p}"].gt(0) for key in pages)
    return out.astype(float).reindex(pop.index)


def _cup_volume(lines: pd.DataFrame) -> pd.Series:
    cup = lines.cup.str.upper().map(CUP_STEP)
    return (lines.band - BRA_BANDS[0]) / 2 + cup


def returns(frames, cutoff, *, window_days) -> pd.DataFrame:
    pop = population(frames, cutoff)
    o = frames["orders"]
    bought = o.loc[(o.ts < cutoff) & _is_sale(o), ["order_id", KEY]]
    lines = frames["order_lines"]
    lines = lines.loc[lines.quantity > 0].merge(bought, on="order_id")
    r = frames["returns"]
    r = r.loc[r.ts < cutoff].merge(lines[["line_id", KEY]], on="line_id")
    fit = r.reason.isin(["too_small", "too_large"])
    recent = r.ts >= pd.Timestamp(cutoff) - pd.Timedelta(days=window_days)
    w = window_days

    out = pd.DataFrame(index=pop.index)
    out["units_bought"] = lines.groupby(KEY, observed=True).quantity.sum()
    out["returns_lifetime"] = r.groupby(KEY, observed=True).quantity.sum()
    out["fit_returns_lifetime"] = r.loc[fit].groupby(KEY, observed=True).quantity.sum()
    out[f"returns_{w}d"] = r.loc[recent].groupby(KEY, observed=True).quantity.sum()
    out[f"fit_returns_{w}d"] = r.loc[recent & fit].groupby(KEY, observed=True).quantity.sum()
    for reason in ("too_small", "too_large"):
        hit = recent & r.reason.eq(reason)
        out[f"{reason}_returns_{w}d"] = r.loc[hit].groupby(KEY, observed=True).quantity.sum()
    by_line = lines.groupby(KEY, observed=True)
    out["distinct_sizes"] = by_line["size"].nunique()
    out["distinct_bands"] = by_line.band.nunique()
    out["distinct_cups"] = lines.cup.str.upper().groupby(lines[KEY], observed=True).nunique()
    bras = lines.loc[lines.band.notna() & lines.cup.notna()].copy()
    bras["volume"] = _cup_volume(bras)
    bras["kept"] = ~bras.line_id.isin(r.line_id)
    out["distinct_bra_sizes"] = bras.groupby(KEY, observed=True)["size"].nunique()
    out = out.fillna(0).astype(float)
    out["return_rate"] = (out.returns_lifetime / out.units_bought).where(out.units_bought > 0)
    kept = bras.loc[bras.kept].groupby(KEY, observed=True).volume.mean()
    out["cup_volume_drift_steps"] = kept - bras.groupby(KEY, observed=True).volume.mean()
    return out.reindex(pop.index)


def promo(frames, cutoff) -> pd.DataFrame:
    pop = population(frames, cutoff)
    o = frames["orders"]
    sales = o.loc[(o.ts < cutoff) & _is_sale(o)].copy()
    sales["promo"] = sales.promo_code.notna() & sales.promo_code.str.strip().str.len().gt(0)
    first = sales.sort_values([KEY, "ts", "order_id"]).groupby(KEY, observed=True).promo.first()
    by = sales.groupby(KEY, observed=True)

    out = pd.DataFrame(index=pop.index)
    out["promo_orders_lifetime"] = by.promo.sum()
    out["promo_orders_lifetime"] = out.promo_orders_lifetime.fillna(0).astype(float)
    out["promo_order_share"] = by.promo.mean()
    out["first_order_promo"] = first.astype(float)
    out["channel"] = pop.channel.astype(object).fillna("unknown")
    out["region"] = pop.region.astype(object).fillna("unknown")
    return out.reindex(pop.index)


def subscription(frames, cutoff) -> pd.DataFrame:
    pop = population(frames, cutoff)
    c_s = _cutoff_s(cutoff)
    s = frames["subscriptions"]
    s = s.loc[s.start_ts < cutoff].copy()
    s["end_ts"] = s.end_ts.where(s.end_ts < cutoff)
    s["active"] = s.end_ts.isna()
    s["start_s"] = epoch_s(s.start_ts)
    s["covered"] = (epoch_s(s.end_ts).fillna(c_s) - s.start_s) / DAY
    s = s.sort_values([KEY, "start_ts", "subscription_id"])
    prev = s.groupby(KEY, observed=True).plan.shift()
    s["changed"] = prev.notna() & prev.ne(s.plan)
    # the latest start wins, ties to the larger id: s is sorted, keep the last per customer
    current = s.loc[s.active].drop_duplicates(KEY, keep="last").set_index(KEY)
    by = s.groupby(KEY, observed=True)

    out = pd.DataFrame(index=pop.index)
    out["plan"] = current.plan.astype(object).reindex(out.index).fillna("none")
    out["is_subscribed"] = out.index.isin(current.index).astype(float)
    out["plan_tenure_days"] = (c_s - current.start_s) / DAY
    out["member_days"] = by.covered.sum()
    out["subscriptions_lifetime"] = by.size()
    out["plan_changes"] = by.changed.sum()
    counts = ["member_days", "subscriptions_lifetime", "plan_changes"]
    out[counts] = out[counts].fillna(0).astype(float)
    period = current.period_days.astype(float)
    out["days_to_renewal"] = (period - out.plan_tenure_days % period) % period
    out["plan_price"] = current.price.astype(float)
    last_end = (c_s - by.end_ts.max().pipe(epoch_s)) / DAY
    out["days_since_membership_end"] = last_end.where(out.is_subscribed == 0)
    return out.reindex(pop.index)


def purchases(frames, cutoff) -> pd.DataFrame:
    """Purchase days (UTC calendar days with a sale): x, t_x, T, repeat and first spend."""
    pop = population(frames, cutoff)
    o = frames["orders"]
    o = o.loc[(o.ts < cutoff) & _is_sale(o)].copy()
    o["day"] = o.ts.dt.floor("D")
    o["s"] = epoch_s(o.ts)
    days = (
        o.groupby([KEY, "day"], observed=True)
        .agg(s=("s", "min"), spend=("revenue", "sum"))
        .reset_index()
        .sort_values([KEY, "day"])
    )
    by = days.groupby(KEY, observed=True)
    out = pd.DataFrame(index=pop.index)
    x = by.size() - 1
    first = by.spend.first()
    out["repeat_purchase_days"] = x.astype(float)
    out["purchase_span_days"] = (by.s.max() - by.s.min()) / DAY
    out["days_since_first_purchase"] = (_cutoff_s(cutoff) - by.s.min()) / DAY
    out["repeat_spend_mean"] = ((by.spend.sum() - first) / x).where(x > 0)
    out["first_purchase_spend"] = first.astype(float)
    return out.reindex(pop.index)


def build_features_pandas(
    frames: Mapping[str, pd.DataFrame], cutoff: dt.datetime, *, params: FeaturesParams
) -> pd.DataFrame:
    """Every family's features for customers with ``signup_ts < cutoff``."""
    q = params.paths
    parts = [
        value(frames, cutoff, windows_days=params.windows_days, trend_days=params.trend_days),
        engagement(frames, cutoff, windows_days=params.windows_days),
        paths(
            frames,
            cutoff,
            window_days=q.window_days,
            early_events=q.early_events,
            pages=q.pages,
            early_pages=q.early_pages,
            transitions=q.transitions,
        ),
        returns(frames, cutoff, window_days=params.returns_window_days),
        promo(frames, cutoff),
        subscription(frames, cutoff),
        purchases(frames, cutoff),
    ]
    out = pd.concat(parts, axis=1)
    out.index = out.index.astype(object)
    return out
