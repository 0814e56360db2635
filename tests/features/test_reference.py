"""Reference distributions and PSI, checked against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from features.reference import (
    EPS,
    psi,
    psi_categorical,
    psi_numeric,
    psi_table,
    reference_distribution,
)


def test_psi_matches_the_formula():
    e, a = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    want = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi(e, a) == pytest.approx(want)
    assert psi(e, e) == 0.0
    # an empty bin is floored at EPS, so moving everything gives a large finite PSI
    flipped = (EPS - 1) * math.log(EPS / 1) + (1 - EPS) * math.log(1 / EPS)
    assert psi(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(flipped)


def test_reference_bins_are_half_open_quantiles_and_nulls_have_their_own_bin():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, None], "plan": ["M", "M", "A", None, "M"]})
    ref = reference_distribution(frame, {"p": [0.1, 0.2]}, bins=2, categorical=["plan"])
    assert ref["numeric"]["x"] == {
        "edges": [2.5],
        "shares": [0.5, 0.5],
        "null_share": pytest.approx(0.2),
        "mean": 2.5,
    }
    assert ref["categorical"]["plan"]["shares"] == {"M": 0.6, "A": 0.2, "(null)": 0.2}
    assert ref["scores"]["p"]["edges"] == [pytest.approx(0.15)]
    # same data: PSI 0; every value moved into the top bin and no nulls: hand-computed PSI
    value, mean = psi_numeric(ref["numeric"]["x"], frame.x)
    assert value == pytest.approx(0.0) and mean == 2.5
    value, _ = psi_numeric(ref["numeric"]["x"], pd.Series([9.0, 9.0]))
    e = np.array([0.4, 0.4, 0.2])
    a = np.array([EPS, 1.0, EPS])
    assert value == pytest.approx(float(np.sum((a - e) * np.log(a / e))))
    assert psi_categorical(ref["categorical"]["plan"], frame.plan) == pytest.approx(0.0)


def test_psi_table_names_every_reference_column():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    ref = reference_distribution(frame.assign(gone=1.0), {"p_churn": [0.1, 0.9]})
    table = psi_table(ref, frame, {"p_churn": pd.Series([0.1, 0.9])})
    assert table.name.tolist() == ["x", "gone", "p_churn"]
    assert table.kind.tolist() == ["feature", "feature", "score"]
    assert table.psi.iloc[0] == pytest.approx(0.0) and math.isnan(table.psi.iloc[1])
