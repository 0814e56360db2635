"""Feature-frame handling shared by the estimators (models/_frame.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models._frame import FrameSchema


def literal_frame():
    return pd.DataFrame(
        {
            "orders": pd.array([1, None, 3, 4], dtype="Int64"),
            "is_member": [True, False, True, True],
            "channel": ["web", "app", None, "web"],
            "size_band": pd.Categorical([34, 36, 36, 34]),
            "plan": pd.array(["gold", "gold", "basic", None], dtype="string"),
        }
    )


def test_kinds_and_levels_most_frequent_first():
    schema = FrameSchema.learn(literal_frame())
    assert schema.numeric == ("orders", "is_member")
    assert schema.categories == {
        "channel": ("web", "app"),
        "size_band": ("34", "36"),  # equal counts: by name
        "plan": ("gold", "basic"),
    }


def test_design_imputes_medians_and_reference_codes():
    frame = literal_frame()
    schema = FrameSchema.learn(frame)
    medians = schema.learn_medians(frame)
    assert medians == {"orders": 3.0, "is_member": 1.0}
    design = schema.to_design(frame, medians)
    assert list(design.columns) == [
        "orders",
        "is_member",
        "channel=app",
        "size_band=36",
        "plan=basic",
    ]
    np.testing.assert_array_equal(
        design.to_numpy(),
        [
            [1, 1, 0, 0, 0],
            [3, 0, 1, 1, 0],
            [3, 1, 0, 1, 1],
            [4, 1, 0, 0, 0],
        ],
    )


def test_lightgbm_frame_keeps_training_levels():
    frame = literal_frame()
    schema = FrameSchema.learn(frame)
    new = frame.assign(channel=["store", "web", "app", None])
    data = schema.to_lightgbm(new)
    assert list(data.columns) == ["f0", "f1", "f2", "f3", "f4"]
    assert list(data["f2"].cat.categories) == ["web", "app"]
    assert data["f2"].isna().tolist() == [True, False, False, True]  # unseen -> missing
    assert data["f0"].dtype == np.float64 and np.isnan(data["f0"][1])


def test_bad_values_are_named():
    frame = literal_frame()
    schema = FrameSchema.learn(frame)
    with pytest.raises(ValueError, match="column 'orders', row 2 = inf"):
        schema.to_lightgbm(frame.assign(orders=[1.0, 2.0, np.inf, 4.0]))
    with pytest.raises(TypeError, match="'orders' was numeric at fit time"):
        schema.to_lightgbm(frame.assign(orders=["a", "b", "c", "d"]))
