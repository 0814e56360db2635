"""Both reports on the real case-study data, loaded through the adapters."""

import json

from features.config import JourneyAnalyticsParams, KpiParams
from serving.reports.journeys import build_journey_report
from serving.reports.kpis import build_kpi_report


def test_journey_report_on_365(shared_data, real_dataset, assert_self_contained):
    _, tables = real_dataset("365", shared_data / "user_journey_365")
    report = build_journey_report(tables, JourneyAnalyticsParams())
    data = json.loads(report.to_json())
    assert (data["n_journeys"], data["n_pages"]) == (1350, 14098)
    assert round(data["mean_journey_length"], 5) == 10.44296
    assert data["page_presence"]["Resources center"] == 184
    assert data["page_count"]["Homepage"] == 2679
    assert [c for _, c in data["top_ngrams"][:4]] == [239, 220, 180, 123]
    shares = {p: round(s["Resources center"], 4) for p, s in data["presence_share_by_plan"].items()}
    assert shares == {"Annual": 0.1482, "Monthly": 0.1117, "Quarterly": 0.0930}
    assert [f["journeys"] for f in data["funnel"]] == [843, 405, 326]
    assert report.warnings == []
    assert_self_contained(report.to_html())


def test_kpi_report_on_dtc(shared_data, real_dataset, assert_self_contained):
    _, tables = real_dataset("dtc", shared_data / "dtc_wellness")
    report = build_kpi_report(tables, KpiParams())
    data = json.loads(report.to_json())
    assert round(data["total_revenue"], 2) == 41282.33
    assert round(data["aov"], 2) == 103.21
    assert {c: round(v, 2) for c, v in data["aov_by_channel"].items()} == {
        "social": 112.95,
        "organic": 104.20,
        "email": 101.79,
        "referral": 97.46,
        "paid_search": 96.21,
    }
    assert data["first_order_within_7d_share"] == 0.3
    assert data["promo_first_order_never_reordered"] == {"count": 7, "total": 81, "share": 7 / 81}
    assert {d: round(100 * s) for d, s in data["reorder_retention"].items()} == {
        "30": 71,
        "60": 92,
        "90": 93,
    }
    assert data["converted_sessions"]["converted"] == 110
    assert_self_contained(report.to_html())
