"""The CLV intervals' random draws: one stream per row, keyed by the row's own inputs, so a
customer's P10-P90 does not depend on the batch, the order or the chunk she is scored in."""

from __future__ import annotations

import numpy as np
import pytest

from models._clv import row_generators, row_keys, seed_of
from models.clv_bgnbd_gg import BetaGeoCLVModel
from models.clv_pareto_nbd_gg import ParetoCLVModel


def test_row_keys_follow_values_not_their_representation():
    a = row_keys(np.array([3.0, 0.0, np.nan, 1.0]), np.array([2.5, 1.0, 1.0, 1.0]))
    b = row_keys(
        np.array([3, -0.0, -np.nan, 1.0 + 2e-16]).astype(np.float64),
        np.array([2.5, 1.0, 1.0, 1.0]),
    )
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.uint64
    assert len(set(a.tolist())) == 4
    # Which column a value is in matters, and so does a change beyond the rounding.
    assert (
        row_keys(np.array([1.0]), np.array([2.0]))[0]
        != row_keys(np.array([2.0]), np.array([1.0]))[0]
    )
    assert row_keys(np.array([1.0]))[0] != row_keys(np.array([1.00001]))[0]


def test_row_generators_depend_on_key_seed_and_stream():
    keys = np.array([7, 7, 8], dtype=np.uint64)
    draws = [g.random(5) for g in row_generators(keys, 0, "orders")]
    np.testing.assert_array_equal(draws[0], draws[1])
    assert not np.array_equal(draws[0], draws[2])
    other_stream = next(row_generators(keys, 0, "spend")).random(5)
    other_seed = next(row_generators(keys, 1, "orders")).random(5)
    assert not np.array_equal(draws[0], other_stream)
    assert not np.array_equal(draws[0], other_seed)


def test_seed_of():
    assert seed_of(42) == 42
    assert seed_of(np.random.RandomState(3)) == seed_of(np.random.RandomState(3))
    assert seed_of(np.random.default_rng(3)) == seed_of(np.random.default_rng(3))
    assert seed_of(None) != seed_of(None)


@pytest.mark.parametrize("model_class", [BetaGeoCLVModel, ParetoCLVModel])
def test_interval_is_the_same_in_any_batch(model_class, purchase_sample):
    X = purchase_sample.X.iloc[:600]
    model = model_class(horizon_days=purchase_sample.horizon_days, n_draws=200, random_state=5)
    model.fit(purchase_sample.X)
    whole = model.predict_frame(X)
    shuffled = X.sample(frac=1.0, random_state=1)
    parts = [model.predict_frame(shuffled.iloc[:250]), model.predict_frame(shuffled.iloc[250:])]
    for part in parts:
        for col in ("clv_p10", "clv_p90"):
            np.testing.assert_array_equal(part[col], whole.loc[part.index, col])
    assert (whole.clv_p90 > whole.clv_p10).mean() > 0.2  # the intervals are not degenerate
    # Another seed gives other draws.
    again = model.set_params(random_state=6).predict_frame(X)
    assert not np.array_equal(again.clv_p90, whole.clv_p90)


def test_the_draws_still_have_the_model_s_mean(purchase_sample):
    """Per-row streams change how draws are made, not their distribution."""
    model = BetaGeoCLVModel(horizon_days=purchase_sample.horizon_days).fit(purchase_sample.X)
    X = purchase_sample.X.iloc[:300]
    counts = model.purchases_.sample_orders(X, 182, n_draws=4000, random_state=0)
    want = model.purchases_.predict_expected_orders(X, 182)
    np.testing.assert_allclose(counts.mean(axis=1), want, rtol=0.1, atol=0.03)
    totals = model.spend_.sample_total_spend(X, counts, random_state=0)
    spend = model.spend_.predict_spend(X)
    np.testing.assert_allclose(totals.mean(axis=1), want * spend, rtol=0.12, atol=1.0)
