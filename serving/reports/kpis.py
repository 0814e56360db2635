"""The KPI report: revenue, order value, first orders, reorders and cohorts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from features.analytics import (
    build_cohort_retention,
    compute_aov,
    compute_aov_by,
    compute_reorder_retention,
    count_converted_sessions,
    count_promo_first_orders_never_reordered,
    roll_revenue,
    share_first_order_within,
    sum_revenue_by,
)
from features.errors import EmptyResultError
from serving.reports import figures
from serving.reports.html import Figure, Report, Section, table_from_frame

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from features.config import KpiParams

STEPS = ("revenue", "order value", "first orders", "retention", "cohorts", "sessions")
_PCT, _INT, _MONEY = ".1%", ",", ",.2f"


def _require(tables: Mapping[str, ir.Table], *names: str) -> None:
    for name in names:
        if name not in tables:
            raise EmptyResultError(f"the warehouse has no {name} table, so there are no KPIs")


def build_kpi_report(
    tables: Mapping[str, ir.Table],
    options: KpiParams,
    *,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Compute every KPI and lay them out; ``progress`` hears each of :data:`STEPS`.

    Needs ``customers`` and ``orders``; raises :class:`EmptyResultError` without sales.
    Sessions are optional: without events that section says so.
    """
    tick = progress or (lambda _: None)
    _require(tables, "customers", "orders")
    o = options
    customers, orders = tables["customers"], tables["orders"]
    unknown = o.unknown_label

    tick("revenue")
    by_cr = sum_revenue_by(orders, customers, by=("channel", "region"), unknown_label=unknown)
    total = float(by_cr.revenue.sum())
    n_orders = int(by_cr.orders.sum())
    rolling = roll_revenue(orders, window_days=o.rolling_window_days)
    data: dict[str, object] = {
        "total_revenue": total,
        "n_orders": n_orders,
        "revenue_by_channel_region": by_cr.to_dict(orient="records"),
    }
    revenue_matrix = by_cr.pivot_table(
        index="channel", columns="region", values="revenue", aggfunc="sum", fill_value=0.0
    )
    sections = [
        Section(
            "Revenue",
            "revenue",
            intro="Net revenue (sales less refunds) by the customer's acquisition channel and "
            f"region, and its trailing {o.rolling_window_days}-day sum.",
            facts=[("net revenue", f"{total:,.2f}"), ("orders", f"{n_orders:,}")],
            figures=[
                Figure(
                    "Rolling revenue",
                    figures.line_chart(
                        rolling.date.tolist(),
                        {
                            "daily": rolling.revenue.tolist(),
                            f"trailing {o.rolling_window_days} days": (
                                rolling.rolling_revenue.tolist()
                            ),
                        },
                        title="Net revenue",
                    ),
                ),
                Figure(
                    "Revenue by channel and region",
                    figures.heatmap(
                        revenue_matrix,
                        title="Net revenue by channel and region",
                        value_format=",.0f",
                    ),
                ),
            ],
            tables=[
                table_from_frame(
                    by_cr,
                    formats={"orders": _INT, "revenue": _MONEY, "share": _PCT},
                    labels={"share": "of revenue"},
                )
            ],
        )
    ]

    tick("order value")
    aov = compute_aov(orders)
    by_channel = compute_aov_by(orders, customers, by="channel", unknown_label=unknown)
    data["aov"] = aov
    data["aov_by_channel"] = dict(zip(by_channel.channel, by_channel.aov, strict=True))
    sections.append(
        Section(
            "Average order value",
            "aov",
            intro="Sales revenue over the number of sales (refunds excluded), by the customer's "
            "acquisition channel.",
            facts=[("AOV", f"{aov:,.2f}")],
            figures=[
                Figure(
                    "AOV by channel",
                    figures.bar_chart(
                        by_channel.channel.tolist(),
                        by_channel.aov.tolist(),
                        title="AOV by acquisition channel",
                        value_format=",.2f",
                    ),
                )
            ],
            tables=[
                table_from_frame(
                    by_channel, formats={"orders": _INT, "revenue": _MONEY, "aov": _MONEY}
                )
            ],
        )
    )

    tick("first orders")
    days = o.first_order_within_days
    within = share_first_order_within(
        customers, orders, days=days, inclusive=o.first_order_window_inclusive
    )
    promo = count_promo_first_orders_never_reordered(orders)
    data[f"first_order_within_{days}d_share"] = within.share
    data["first_order_within"] = {"days": days, **within.to_dict()}
    data["promo_first_order_never_reordered"] = promo.to_dict()
    sections.append(
        Section(
            "First orders",
            "first-orders",
            facts=[
                (
                    f"first order within {days} days of signup",
                    f"{within.share:.1%} ({within.count:,} of {within.total:,} customers)",
                ),
                (
                    "promo first order, never reordered",
                    f"{promo.share:.2%} ({promo.count:,} of {promo.total:,})",
                ),
            ],
            notes=[
                f"Within {days} days "
                + ("includes" if o.first_order_window_inclusive else "excludes")
                + f" day {days} itself."
            ],
        )
    )

    tick("retention")
    retention = compute_reorder_retention(
        orders, days=o.retention_days, inclusive=o.retention_window_inclusive
    )
    data["reorder_retention"] = {
        str(d): s for d, s in zip(retention.days, retention.share, strict=True)
    }
    sections.append(
        Section(
            "Reorder retention",
            "retention",
            intro="Customers with a later order within N days of their first, of all customers "
            "with an order.",
            facts=[
                (f"reorder within {d} days", f"{s:.0%}")
                for d, s in zip(retention.days, retention.share, strict=True)
            ],
            figures=[
                Figure(
                    "Reorder retention",
                    figures.bar_chart(
                        [f"{d} days" for d in retention.days],
                        retention.share.tolist(),
                        title="Reordered within N days of the first order",
                        value_format=".1%",
                    ),
                )
            ],
            tables=[table_from_frame(retention, formats={"share": _PCT})],
        )
    )

    tick("cohorts")
    cohorts = build_cohort_retention(orders, max_months=o.cohort_max_months)
    matrix = cohorts.pivot(index="cohort", columns="months_since_first", values="share")
    sizes = cohorts.groupby("cohort").cohort_customers.first()
    matrix.index = [f"{c} ({sizes[c]:,})" for c in matrix.index]
    data["cohort_retention"] = {
        c: dict(zip(g.months_since_first.astype(str), g.share, strict=True))
        for c, g in cohorts.groupby("cohort")
    }
    sections.append(
        Section(
            "Monthly cohorts",
            "cohorts",
            intro="Customers by the month of their first order (cohort size in brackets) and "
            "the share who ordered in each later month.",
            figures=[
                Figure(
                    "Cohort retention",
                    figures.heatmap(
                        matrix,
                        title="Share of the cohort ordering, by months since the first order",
                        xlabel="months since first order",
                    ),
                )
            ],
        )
    )

    tick("sessions")
    session_section = Section("Sessions and conversion", "sessions")
    try:
        if "events" not in tables:
            raise EmptyResultError("the warehouse has no events table")
        sessions = count_converted_sessions(
            tables["events"], conversion_event_types=o.conversion_event_types, unknown_label=unknown
        )
    except EmptyResultError as err:
        session_section.notes.append(f"No session figures: {err}.")
    else:
        n, conv = int(sessions.sessions.sum()), int(sessions.converted.sum())
        data["converted_sessions"] = {
            "sessions": n,
            "converted": conv,
            "by_source": {
                s: {"sessions": int(a), "converted": int(b)}
                for s, a, b in zip(
                    sessions.source, sessions.sessions, sessions.converted, strict=True
                )
            },
        }
        session_section.intro = (
            "A session converts when it has an event of type "
            + ", ".join(o.conversion_event_types)
            + "; its source is its first event's."
        )
        session_section.facts.append(("converted sessions", f"{conv:,} of {n:,} ({conv / n:.1%})"))
        session_section.tables.append(
            table_from_frame(
                sessions,
                formats={"sessions": _INT, "converted": _INT, "share": _PCT},
                labels={"share": "conversion rate"},
            )
        )
    sections.append(session_section)
    return Report(
        kind="kpis",
        title="Commercial KPIs",
        subtitle=f"{n_orders:,} orders, net revenue {total:,.2f}",
        sections=sections,
        data=data,
    )
