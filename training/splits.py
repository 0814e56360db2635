"""The out-of-time split every model trains and tests on.

Train cutoffs are strictly before the test cutoff and no train label window
``[cutoff, cutoff + horizon_days)`` reaches past the test cutoff, so nothing the test
window holds leaks into training.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from features.builders._common import as_cutoff
from features.config import Params
from features.errors import JourneyError
from features.labels import observation_end

if TYPE_CHECKING:
    import ibis.expr.types as ir


@dataclass(frozen=True)
class Split:
    train_cutoffs: tuple[dt.datetime, ...]
    test_cutoff: dt.datetime
    horizon_days: int
    observed_until: dt.datetime

    def describe(self) -> str:
        train = ", ".join(f"{c:%Y-%m-%d}" for c in self.train_cutoffs)
        return (
            f"train cutoffs {train}; test cutoff {self.test_cutoff:%Y-%m-%d} "
            f"(labels over {self.horizon_days} days, data until {self.observed_until:%Y-%m-%d})"
        )


def out_of_time_split(
    tables: Mapping[str, ir.Table], params: Params, *, horizon_days: int | None = None
) -> Split:
    """Cutoffs from ``params.training`` (derived from the data's end where null)."""
    horizon = int(horizon_days or params.labels.horizon_days)
    step = dt.timedelta(days=horizon)
    until = as_cutoff(params.labels.observed_until or observation_end(tables))
    cfg = params.training
    test = as_cutoff(cfg.test_cutoff) if cfg.test_cutoff else until - step
    if test + step > until:
        raise JourneyError(
            f"training.test_cutoff {test:%Y-%m-%d} + {horizon} days of labels runs past the end "
            f"of the data ({until:%Y-%m-%d}); choose a cutoff on or before {until - step:%Y-%m-%d}"
        )
    if cfg.train_cutoffs:
        train = sorted(as_cutoff(c) for c in cfg.train_cutoffs)
    else:
        last = test - step
        every = dt.timedelta(days=cfg.cutoff_step_days)
        train = sorted(last - k * every for k in range(cfg.n_train_cutoffs))
    late = [c for c in train if c + step > test]
    if late:
        raise JourneyError(
            "train cutoffs whose label windows overlap the test window "
            f"(test cutoff {test:%Y-%m-%d}, horizon {horizon} days): "
            + ", ".join(f"{c:%Y-%m-%d}" for c in late)
        )
    return Split(tuple(train), test, horizon, until)
