"""The journey report: its JSON figures, escaping and what it does with missing pages."""

import json

import pytest

from features.config import JourneyAnalyticsParams
from features.errors import EmptyResultError
from serving.reports.journeys import STEPS, build_journey_report

REQUIRED = {
    "n_journeys",
    "mean_journey_length",
    "page_presence",
    "page_count",
    "top_ngrams",
    "presence_share_by_plan",
}


def test_figures_and_json(journey_tables, hostile):
    heard = []
    report = build_journey_report(
        journey_tables,
        JourneyAnalyticsParams(funnel_pages=["Home", "Pricing", "Checkout"]),
        progress=heard.append,
    )
    assert heard == list(STEPS)
    data = json.loads(report.to_json())
    assert REQUIRED <= set(data)
    assert data["report"] == "journeys"
    assert (data["n_journeys"], data["n_pages"], data["mean_journey_length"]) == (3, 9, 3.0)
    assert data["page_presence"] == {"Home": 3, hostile.page: 2, "Checkout": 2, "Pricing": 2}
    assert data["page_count"] == {"Home": 3, hostile.page: 2, "Checkout": 2, "Pricing": 2}
    assert data["top_ngrams"] == [
        [[hostile.page, "Home", "Pricing"], 1],
        [["Home", hostile.page, "Checkout"], 1],
        [["Home", "Pricing", "Checkout"], 1],
    ]
    assert data["presence_share_by_plan"] == {
        "(no plan)": {"Home": 1.0, hostile.page: 0.0, "Checkout": 0.0, "Pricing": 1.0},
        hostile.plan: {"Home": 1.0, hostile.page: 1.0, "Checkout": 1.0, "Pricing": 0.5},
    }
    assert [f["journeys"] for f in data["funnel"]] == [3, 2, 1]
    assert data["next_page"]["Home"] == {hostile.page: 1, "Pricing": 2}
    assert report.warnings == []


def test_html_escapes_data_and_is_self_contained(journey_tables, hostile, assert_self_contained):
    options = JourneyAnalyticsParams(funnel_pages=["Home", "Checkout"])
    html = build_journey_report(journey_tables, options).to_html()
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#34;page&#34;)&lt;/script&gt;" in html
    assert html.count("<img ") == 5  # presence, plans, transitions, funnel, removal effects
    assert_self_contained(html)


def test_missing_funnel_and_target_pages_become_warnings(journey_tables, assert_self_contained):
    options = JourneyAnalyticsParams(funnel_pages=["Home", "<i>Nope</i>"], target_page="Cart")
    report = build_journey_report(journey_tables, options)
    assert len(report.warnings) == 2
    assert "'<i>Nope</i>'" in report.warnings[0] and "Valid: " in report.warnings[0]
    assert "'Cart'" in report.warnings[1]
    assert {"funnel", "removal_effect"}.isdisjoint(json.loads(report.to_json()))
    html = report.to_html()
    assert "&lt;i&gt;Nope&lt;/i&gt;" in html and "<i>" not in html
    assert_self_contained(html)


def test_until_target_rule_and_no_subscriptions(journey_tables):
    options = JourneyAnalyticsParams(session_rule="until_target", target_page="Checkout")
    report = build_journey_report({"events": journey_tables["events"]}, options)
    assert report.data["n_pages"] == 9
    assert list(report.data["presence_share_by_plan"]) == ["(no plan)"]


def test_no_events_is_an_error():
    with pytest.raises(EmptyResultError, match="no events table"):
        build_journey_report({}, JourneyAnalyticsParams())
