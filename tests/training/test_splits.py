import datetime as dt

import ibis
import pytest

from features.config import Params
from features.errors import JourneyError
from training.splits import out_of_time_split


def _tables(last: dt.datetime):
    orders = ibis.memtable({"ts": [dt.datetime(2024, 1, 5), last]})
    return {"orders": orders}


def test_stepped_cutoffs_end_a_horizon_before_the_test_cutoff():
    params = Params.model_validate(
        {"labels": {"horizon_days": 90}, "training": {"n_train_cutoffs": 3, "cutoff_step_days": 30}}
    )
    split = out_of_time_split(_tables(dt.datetime(2025, 12, 31, 13)), params)
    assert split.observed_until == dt.datetime(2026, 1, 1)
    assert split.test_cutoff == dt.datetime(2025, 10, 3)
    assert split.train_cutoffs == (
        dt.datetime(2025, 5, 6),
        dt.datetime(2025, 6, 5),
        dt.datetime(2025, 7, 5),
    )
    assert all(c + dt.timedelta(days=90) <= split.test_cutoff for c in split.train_cutoffs)


def test_explicit_cutoffs_that_overlap_the_test_window_are_refused():
    params = Params.model_validate(
        {
            "labels": {"horizon_days": 90},
            "training": {
                "test_cutoff": "2025-09-01",
                "train_cutoffs": ["2025-06-03", "2025-06-04"],
            },
        }
    )
    with pytest.raises(JourneyError, match="2025-06-04"):
        out_of_time_split(_tables(dt.datetime(2025, 12, 31)), params)


def test_a_test_window_past_the_data_is_refused():
    params = Params.model_validate({"training": {"test_cutoff": "2025-11-01"}})
    with pytest.raises(JourneyError, match="runs past the end"):
        out_of_time_split(_tables(dt.datetime(2025, 12, 31)), params)
