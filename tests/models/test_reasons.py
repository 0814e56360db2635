"""Reason codes: exact sentences from literal contribution matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.reasons import format_value, readable_name, top_reasons

TEMPLATES = {
    "fit_returns_90d": "{value:.0f} fit returns in 90 days",
    "days_since_last_visit": "no visit in {value:.0f} days",
    "unused_feature": "never shown",
}


def frames():
    idx = pd.Index(["c1", "c2", "c3", "c4"], name="customer_id")
    contributions = pd.DataFrame(
        {
            "fit_returns_90d": [0.90, -0.20, 0.30, 0.0],
            "days_since_last_visit": [0.40, 0.70, 0.30, -1.0],
            "spend_90d": [0.10, 0.05, -0.50, np.nan],
            "channel": [-0.30, 0.60, 0.30, -0.1],
            "bias": [9.0, 9.0, 9.0, 9.0],
        },
        index=idx,
    )
    values = pd.DataFrame(
        {
            "channel": pd.Categorical(["web", "app", np.nan, "web"]),
            "spend_90d": [120.5, 1250.0, 80.25, 10.0],
            "days_since_last_visit": [45.0, 63.4, np.nan, 2.0],
            "fit_returns_90d": [3.0, 0.0, 1.0, 0.0],
            "segment": ["a", "b", "c", "d"],  # extra columns are fine
        },
        index=idx,
    )
    return contributions, values


def test_exact_sentences_strongest_first():
    contributions, values = frames()
    out = top_reasons(contributions, values, TEMPLATES, k=3)
    assert out.index.equals(contributions.index)
    assert list(out.columns) == [
        "reason_1",
        "reason_2",
        "reason_3",
        "reason_1_feature",
        "reason_2_feature",
        "reason_3_feature",
    ]
    rows = out.to_dict(orient="index")
    assert rows["c1"] == {
        "reason_1": "3 fit returns in 90 days",
        "reason_2": "no visit in 45 days",
        "reason_3": "spend (last 90 days): 120.5",
        "reason_1_feature": "fit_returns_90d",
        "reason_2_feature": "days_since_last_visit",
        "reason_3_feature": "spend_90d",
    }
    # 63.4 renders through the template's own format; the untemplated categorical reads
    # "name: value"; spend's 0.05 is third.
    assert rows["c2"]["reason_1"] == "no visit in 63 days"
    assert rows["c2"]["reason_2"] == "channel: app"
    assert rows["c2"]["reason_3"] == "spend (last 90 days): 1,250"
    # Three equal contributions rank in column order; missing values read "unknown".
    assert [rows["c3"][f"reason_{j}"] for j in (1, 2, 3)] == [
        "1 fit returns in 90 days",
        "days since last visit: unknown",
        "channel: unknown",
    ]
    # Nothing pushes c4 up (zero, negative, NaN): no reasons at all.
    assert [rows["c4"][f"reason_{j}"] for j in (1, 2, 3)] == [None, None, None]
    assert [rows["c4"][f"reason_{j}_feature"] for j in (1, 2, 3)] == [None, None, None]


def test_fewer_positive_contributions_than_k_leave_none():
    contributions, values = frames()
    out = top_reasons(contributions, values, TEMPLATES, k=5)
    assert out.loc["c1", "reason_4"] is None  # c1 has three positive contributions
    assert out.loc["c2", "reason_4"] is None
    assert out.loc["c3", "reason_3_feature"] == "channel"


def test_inputs_are_not_modified():
    contributions, values = frames()
    before = (contributions.copy(), values.copy())
    top_reasons(contributions, values, TEMPLATES, k=2)
    pd.testing.assert_frame_equal(contributions, before[0])
    pd.testing.assert_frame_equal(values, before[1])


def test_feature_placeholder_and_no_templates():
    contributions, values = frames()
    out = top_reasons(contributions, values, {"channel": "{feature} is {value}"}, k=1)
    assert out["reason_1"].tolist() == [
        "fit returns (last 90 days): 3",
        "days since last visit: 63.4",
        "fit returns (last 90 days): 1",
        None,
    ]
    out = top_reasons(contributions[["channel"]], values, {"channel": "{feature} is {value}"})
    assert out["reason_1"].tolist() == [None, "channel is app", "channel: unknown", None]


def test_errors_name_the_problem():
    contributions, values = frames()
    with pytest.raises(ValueError, match=r"lacks 1 contribution column\(s\): \['spend_90d'\]"):
        top_reasons(contributions, values.drop(columns="spend_90d"), TEMPLATES)
    with pytest.raises(ValueError, match="same index"):
        top_reasons(contributions, values.reset_index(drop=True), TEMPLATES)
    with pytest.raises(
        ValueError, match=r"'channel' \('\{value:.0f\}'\) cannot format the value 'app'"
    ):
        top_reasons(contributions, values, {"channel": "{value:.0f}"})
    with pytest.raises(ValueError, match=r"uses \['count'\]; valid placeholders: value, feature"):
        top_reasons(contributions, values, {"spend_90d": "{count} orders"})
    with pytest.raises(ValueError, match="k must be a positive integer"):
        top_reasons(contributions, values, TEMPLATES, k=0)


def test_readable_defaults():
    assert readable_name("fit_returns_90d") == "fit returns (last 90 days)"
    assert readable_name("days_since_last_visit") == "days since last visit"
    assert readable_name("d90d_x") == "d90d x"
    assert [format_value(v) for v in (3.0, 1250.0, 0.25, 0.1 + 0.2, True, np.int64(7), "web")] == [
        "3",
        "1,250",
        "0.25",
        "0.3",
        "yes",
        "7",
        "web",
    ]


def test_large_frames_render_each_distinct_value_once():
    rng = np.random.default_rng(0)
    n = 50_000
    names = [f"f{i}" for i in range(12)]
    contributions = pd.DataFrame(rng.normal(size=(n, 12)), columns=names)
    values = pd.DataFrame(rng.integers(0, 30, size=(n, 12)).astype(float), columns=names)
    out = top_reasons(contributions, values, {"f0": "{value:.0f} things"}, k=3)
    # Check a sample of rows against a row-by-row computation.
    for i in rng.choice(n, 200, replace=False):
        c = contributions.iloc[i]
        top = [f for f in c.sort_values(ascending=False, kind="stable").index if c[f] > 0][:3]
        expected = [
            f"{values.at[i, f]:.0f} things" if f == "f0" else f"{f}: {values.at[i, f]:.0f}"
            for f in top
        ]
        expected += [None] * (3 - len(expected))
        assert out.loc[i, ["reason_1", "reason_2", "reason_3"]].tolist() == expected


def test_last_bit_differences_read_the_same():
    """Spark and DuckDB sum in different orders: 155.5 may arrive as 155.49999999999997."""
    idx = pd.Index(["duckdb", "spark", "other"])
    contributions = pd.DataFrame({"aov": [1.0, 1.0, 1.0]}, index=idx)
    values = pd.DataFrame({"aov": [155.5, 155.49999999999997, 155.4]}, index=idx)
    assert 155.49999999999997 != 155.5
    out = top_reasons(contributions, values, {"aov": "average order value {value:,.0f}"}, k=1)
    assert out["reason_1"].tolist() == [
        "average order value 156",
        "average order value 156",
        "average order value 155",
    ]
    plain = top_reasons(contributions, values, None, k=1)["reason_1"].tolist()
    assert plain == ["aov: 155.5", "aov: 155.5", "aov: 155.4"]
