"""The KPI report: its JSON figures and escaping."""

import json

import pytest

from features.config import KpiParams
from features.errors import EmptyResultError
from serving.reports.kpis import STEPS, build_kpi_report

REQUIRED = {
    "aov",
    "aov_by_channel",
    "first_order_within_7d_share",
    "promo_first_order_never_reordered",
    "reorder_retention",
}


def test_figures_and_json(kpi_tables, hostile):
    heard = []
    report = build_kpi_report(kpi_tables, KpiParams(), progress=heard.append)
    assert heard == list(STEPS)
    data = json.loads(report.to_json())
    assert REQUIRED <= set(data)
    assert data["total_revenue"] == 180.0
    assert data["aov"] == 60.0
    assert data["aov_by_channel"] == {hostile.channel: 75.0, "email": 30.0}
    assert data["first_order_within_7d_share"] == 0.5
    assert data["promo_first_order_never_reordered"] == {"count": 1, "total": 2, "share": 0.5}
    assert data["reorder_retention"] == {"30": 0.5, "60": 0.5, "90": 0.5}
    assert data["cohort_retention"] == {"2024-01": {"0": 1.0, "1": 0.0}, "2024-02": {"0": 1.0}}
    assert [r["region"] for r in data["revenue_by_channel_region"]] == ["EU", "(unknown)"]
    assert "converted_sessions" not in data


def test_html_escapes_data_and_is_self_contained(kpi_tables, assert_self_contained):
    html = build_kpi_report(kpi_tables, KpiParams()).to_html()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "No session figures" in html
    # rolling revenue, revenue by channel and region, AOV, retention, cohorts
    assert html.count("<img ") == 5
    assert_self_contained(html)


def test_sessions_when_there_are_events(kpi_tables, canonical):
    events = canonical(
        "events",
        [
            {
                "session_id": "s1",
                "seq": 1,
                "customer_id": "c1",
                "ts": "2024-01-03",
                "event_type": "purchase",
                "source": "email",
            },
            {
                "session_id": "s2",
                "seq": 1,
                "customer_id": "c2",
                "ts": "2024-01-04",
                "event_type": "page_view",
                "source": "email",
            },
        ],
    )
    data = build_kpi_report({**kpi_tables, "events": events}, KpiParams()).data
    assert data["converted_sessions"] == {
        "sessions": 2,
        "converted": 1,
        "by_source": {"email": {"sessions": 2, "converted": 1}},
    }


def test_no_orders_table_is_an_error(kpi_tables):
    with pytest.raises(EmptyResultError, match="no orders table"):
        build_kpi_report({"customers": kpi_tables["customers"]}, KpiParams())
