"""Journeys and their statistics agree with a plain-Python reference on random sessions."""

from collections import Counter

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.analytics.journeys import build_journeys
from features.analytics.paths import (
    count_ngrams,
    count_page_presence,
    count_pages,
    count_transitions,
    summarize_journeys,
)

PAGES = ["A", "B", "C", "T"]
sessions = st.lists(st.sampled_from(PAGES), min_size=1, max_size=5)
customers = st.dictionaries(
    st.sampled_from(["u1", "u2", "u3", "u4"]),
    st.lists(sessions, min_size=1, max_size=3),
    min_size=1,
)


def reference(data: dict[str, list[list[str]]], until_target: bool) -> dict[str, list[str]]:
    out = {}
    for customer, ss in data.items():
        if until_target:
            hit = next((k for k, s in enumerate(ss) if "T" in s), None)
            ss = ss if hit is None else ss[: hit + 1]
        pages = [p for s in ss for p in s]
        out[customer] = [p for i, p in enumerate(pages) if i == 0 or pages[i - 1] != p]
    return out


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=customers, until_target=st.booleans())
def test_statistics_match_the_reference(page_events, data, until_target):
    events = page_events(data)
    if until_target and not any("T" in s for ss in data.values() for s in ss):
        return  # an unknown target is an error, tested elsewhere
    rule = "until_target" if until_target else "all"
    journeys = build_journeys(events, session_rule=rule, target_page="T")
    ref = reference(data, until_target)

    summary = summarize_journeys(journeys)
    assert (summary.n_journeys, summary.n_pages) == (len(ref), sum(map(len, ref.values())))

    counts = count_pages(journeys)
    assert dict(zip(counts.page, counts["count"], strict=True)) == Counter(
        p for j in ref.values() for p in j
    )
    presence = count_page_presence(journeys)
    assert dict(zip(presence.page, presence.journeys, strict=True)) == Counter(
        p for j in ref.values() for p in set(j)
    )
    pairs = Counter(pair for j in ref.values() for pair in zip(j, j[1:], strict=False))
    if pairs:
        t = count_transitions(journeys)
        assert dict(zip(zip(t.page, t.next_page, strict=True), t["count"], strict=True)) == pairs
    for once in (True, False):
        grams = [list(zip(j, j[1:], j[2:], strict=False)) for j in ref.values()]
        expected = Counter(g for gs in grams for g in (set(gs) if once else gs))
        if expected:
            got = count_ngrams(journeys, n=3, once_per_journey=once)
            assert dict(zip(got.ngram, got["count"], strict=True)) == expected
            top = pd.Series(expected).sort_values(ascending=False).iloc[0]
            assert got["count"].iloc[0] == top
