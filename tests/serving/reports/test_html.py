"""The base page escapes every string and loads nothing from the network."""

import datetime as dt
import json
import math

import pandas as pd

from serving.reports.figures import bar_chart
from serving.reports.html import (
    Figure,
    Report,
    Section,
    render_page,
    render_template,
    table_from_frame,
)

EVIL = "<script>alert(1)</script>"


def test_every_string_is_escaped_and_the_page_is_self_contained(assert_self_contained):
    section = Section(
        title=EVIL,
        anchor="s",
        intro=EVIL,
        facts=[(EVIL, EVIL)],
        figures=[Figure(EVIL, bar_chart([EVIL, "$5 off"], [2, 1], title=EVIL), caption=EVIL)],
        tables=[table_from_frame(pd.DataFrame({"page": [EVIL], "n": [3]}), title=EVIL)],
        notes=[EVIL],
    )
    html = render_page(
        EVIL,
        [section, Section("two", "t")],
        subtitle=EVIL,
        warnings=[EVIL],
        generated_at=dt.datetime(2026, 1, 2, 3, 4),
    )
    assert "<script" not in html
    # title twice, subtitle, nav, warning, heading, intro, fact x2, alt, caption, table
    # title, cell, note
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 14
    assert "generated 2026-01-02 03:04 UTC" in html
    assert '<a href="#t">two</a>' in html
    assert_self_contained(html)


def test_a_later_page_can_extend_the_base_template(assert_self_contained):
    risk = '{% extends "base.html" %}{% block content %}<p>{{ who }}</p>{% endblock %}'
    html = render_template("risk.html", templates={"risk.html": risk}, title="Risk", who=EVIL)
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" in html
    assert "<title>Risk</title>" in html
    assert_self_contained(html)


def test_tables_format_numbers_and_mark_numeric_columns():
    df = pd.DataFrame({"page_name": ["a", "b"], "share": [0.5, math.nan], "n": [1234, 5]})
    t = table_from_frame(df, formats={"share": ".1%"}, labels={"n": "count"}, max_rows=1)
    assert t.columns == ["page name", "share", "count"]
    assert t.rows == [["a", "50.0%", "1,234"]]
    assert list(t.numeric) == [False, True, True]
    assert t.caption == "First 1 of 2 rows."


def test_report_json_is_valid_without_nan():
    report = Report("k", "t", "", [], {"x": math.nan, "y": (1, 2), "z": {3: 0.5}})
    assert json.loads(report.to_json()) == {"report": "k", "x": None, "y": [1, 2], "z": {"3": 0.5}}
