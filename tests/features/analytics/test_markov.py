"""Markov removal effects: worked by hand, and against an independent power iteration."""

import numpy as np
import pytest

from features.analytics.journeys import build_journeys
from features.analytics.markov import (
    CONVERSION,
    NULL,
    START,
    compute_removal_effects,
    conversion_probability,
)
from features.errors import EmptyResultError, UnknownValueError


def test_removal_effects_by_hand(page_events):
    # start->A 2/3, start->B 1/3; A->B 1/2, A->C 1/2; B->conversion; C->null.
    # p = 2/3 * 1/2 + 1/3 = 2/3. Without A: 1/3 (effect 1/2); without B: 0 (effect 1);
    # without C: 2/3 (effect 0).
    events = page_events({"x": [["A", "B", "T"]], "y": [["A", "C"]], "z": [["B", "T"]]})
    result = compute_removal_effects(build_journeys(events), target_page="T")
    assert result.conversion_probability == pytest.approx(2 / 3)
    effects = result.effects.set_index("page")
    assert effects.index.tolist() == ["B", "A", "C"]
    assert effects.removal_effect.tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert effects.share.tolist() == pytest.approx([2 / 3, 1 / 3, 0.0])
    assert effects.conversion_probability_without.tolist() == pytest.approx([0, 1 / 3, 2 / 3])


def test_paths_stop_at_the_first_target_and_a_journey_may_open_on_it(page_events):
    events = page_events({"x": [["T", "A"]], "y": [["A", "T", "B"]], "z": [["A"]]})
    result = compute_removal_effects(build_journeys(events), target_page="T")
    counts = {(f, t): c for f, t, c in result.transitions.itertuples(index=False)}
    assert counts == {(START, CONVERSION): 1, (START, "A"): 2, ("A", CONVERSION): 1, ("A", NULL): 1}
    assert result.conversion_probability == pytest.approx(2 / 3)
    assert result.effects.page.tolist() == ["A"]  # B only comes after the conversion
    assert result.effects.removal_effect.tolist() == pytest.approx([0.5])


def _power_iteration(transitions, removed=None, steps=2000):
    """Push probability mass through the full chain, absorbing states included."""
    states = sorted(set(transitions.from_state) | set(transitions.to_state))
    ix = {s: i for i, s in enumerate(states)}
    m = np.zeros((len(states), len(states)))
    for f, t, c in transitions.itertuples(index=False):
        m[ix[f], ix[NULL if t == removed else t]] += c
    for s in (CONVERSION, NULL):
        m[ix[s], ix[s]] = 1
    if removed is not None:
        m[ix[removed]] = 0
        m[ix[removed], ix[NULL]] = 1
    m = m / m.sum(axis=1, keepdims=True)
    mass = np.zeros(len(states))
    mass[ix[START]] = 1
    for _ in range(steps):
        mass = mass @ m
    return mass[ix[CONVERSION]]


def test_chain_with_cycles_matches_power_iteration(page_events):
    events = page_events(
        {
            "a": [["Home", "Login", "Home", "Pricing", "Checkout"]],
            "b": [["Login", "Home", "Login"], ["Blog", "Home", "Checkout"]],
            "c": [["Home", "Blog", "Home", "Login"]],
            "d": [["Pricing", "Home"], ["Login", "Checkout"]],
            "e": [["Blog"]],
        }
    )
    result = compute_removal_effects(build_journeys(events), target_page="Checkout")
    t = result.transitions
    assert result.conversion_probability == pytest.approx(_power_iteration(t))
    for page, p in zip(
        result.effects.page, result.effects.conversion_probability_without, strict=True
    ):
        assert p == pytest.approx(_power_iteration(t, removed=page))
        assert conversion_probability(t, removed=page) == pytest.approx(p)
    assert 0 < result.conversion_probability < 1


def test_a_target_no_journey_has_is_an_error(page_events):
    journeys = build_journeys(page_events({"x": [["A", "B"]]}))
    with pytest.raises(UnknownValueError, match="'Checkout'.*Valid: A, B"):
        compute_removal_effects(journeys, target_page="Checkout")


def test_only_target_pages_leave_nothing_to_remove(page_events):
    journeys = build_journeys(page_events({"x": [["T"]]}))
    with pytest.raises(EmptyResultError, match="every journey opens on 'T'"):
        compute_removal_effects(journeys, target_page="T")
