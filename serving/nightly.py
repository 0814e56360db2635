"""``journey nightly``: score every date missed since the last successful run, in order.

Safe under cron: the whole catch-up holds the scoring lock, so a second run started while
one is going waits (``--wait``) or exits with a clear message, and never writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from features.config import Params
from serving import manifest
from serving.lock import scoring_lock
from serving.score import ScoreResult, default_as_of, score_date

if TYPE_CHECKING:
    from ibis.backends import BaseBackend


def missed_dates(last_succeeded: dt.date | None, until: dt.date) -> list[dt.date]:
    """Dates after ``last_succeeded`` up to ``until`` (inclusive); just ``until`` the first time."""
    if last_succeeded is None:
        return [until]
    days = (until - last_succeeded).days
    return [last_succeeded + dt.timedelta(days=i) for i in range(1, days + 1)]


@dataclass
class NightlyResult:
    dates: list[dt.date]
    results: list[ScoreResult] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)


def run_nightly(
    con: BaseBackend,
    *,
    params: Params,
    until: dt.date | None = None,
    wait_seconds: float = 0.0,
    score: Callable[[dt.date, bool], ScoreResult] | None = None,
    on_plan: Callable[[NightlyResult], None] | None = None,
) -> NightlyResult:
    """Score each missed date in order, under the lock; stop at the first failure.

    ``score(day, is_last)`` scores one date (default :func:`score_date`); the CLI passes one
    that shows progress and writes the risk list for the last date. A failure leaves the
    dates before it scored and recorded, so the next run resumes at the failed date.
    """
    until = until or default_as_of()
    one = score or (lambda day, _last: score_date(con, day, params=params))
    with scoring_lock(params.path(params.serving.lock_path), wait_seconds=wait_seconds):
        abandoned = manifest.abandon_running(con)
        dates = missed_dates(manifest.last_succeeded(con), until)
        result = NightlyResult(dates=dates, abandoned=abandoned)
        if on_plan is not None:
            on_plan(result)
        for i, day in enumerate(dates):
            result.results.append(one(day, i == len(dates) - 1))
    return result
