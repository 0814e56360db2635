"""Simulation time: float days since the start date, and the seasonal demand clock.

Demand is piecewise constant by calendar month. A process with base rate ``r`` per day
has intensity ``r * s(t)``, where ``s`` is the month's seasonality factor (normalized to
mean 1 over a year). Its cumulative intensity ``r * C(t)`` is piecewise linear with knots
at month starts, so event times are drawn exactly by inverting ``C`` and every integral the
oracles need has a closed form per month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

US_PER_DAY = 86_400_000_000


@dataclass(frozen=True)
class SeasonalClock:
    """Month segments ``[edges[j], edges[j+1])`` in days since ``origin`` with factor ``rate[j]``."""

    origin: dt.date
    edges: np.ndarray  # float64 day offsets of month starts, strictly increasing
    rate: np.ndarray  # seasonality factor per segment (len(edges) - 1)
    months: np.ndarray  # calendar month (1-12) per segment
    cum: np.ndarray  # C at each edge, C(edges[0]) = 0

    @classmethod
    def build(
        cls, origin: dt.date, first: dt.date, last: dt.date, seasonality: list[float]
    ) -> SeasonalClock:
        """Segments for every month from ``first``'s month through ``last``'s month."""
        factors = np.asarray(seasonality, dtype=np.float64)
        factors = factors / factors.mean()
        starts = []
        y, m = first.year, first.month
        while True:  # month starts through the one after ``last``'s month
            starts.append(dt.date(y, m, 1))
            if (y, m) > (last.year, last.month):
                break
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        edges = np.array([(d - origin).days for d in starts], dtype=np.float64)
        months = np.array([d.month for d in starts[:-1]])
        rate = factors[months - 1]
        cum = np.concatenate([[0.0], np.cumsum(rate * np.diff(edges))])
        return cls(origin, edges, rate, months, cum)

    def cumulative(self, t: np.ndarray) -> np.ndarray:
        """``C(t)``: integral of the seasonality factor from the first edge to ``t``."""
        return np.interp(t, self.edges, self.cum)

    def inverse(self, c: np.ndarray) -> np.ndarray:
        """The time ``t`` with ``C(t) = c`` (extrapolates linearly past the last edge)."""
        c = np.asarray(c, dtype=np.float64)
        t = np.interp(c, self.cum, self.edges)
        over = c > self.cum[-1]
        if over.any():
            t = np.where(over, self.edges[-1] + (c - self.cum[-1]) / self.rate[-1], t)
        return t

    def factor(self, t: np.ndarray) -> np.ndarray:
        """Seasonality factor in force at ``t``."""
        j = np.clip(np.searchsorted(self.edges, t, side="right") - 1, 0, len(self.rate) - 1)
        return self.rate[j]

    def segment_month(self, t: np.ndarray) -> np.ndarray:
        """Calendar month (1-12) of each time."""
        j = np.clip(np.searchsorted(self.edges, t, side="right") - 1, 0, len(self.rate) - 1)
        return self.months[j]

    def pieces(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Split each interval ``[a_i, b_i)`` at month edges.

        Returns ``(lo, hi, rate)`` of shape (n, segments): the part of each month inside the
        interval (``hi == lo`` where the month does not intersect it) and the month's factor.
        """
        lo = np.clip(self.edges[None, :-1], a[:, None], b[:, None])
        hi = np.clip(self.edges[None, 1:], a[:, None], b[:, None])
        return lo, hi, np.broadcast_to(self.rate, lo.shape)


def days_to_us(origin: dt.date, days: np.ndarray) -> np.ndarray:
    """Float days since ``origin`` -> int64 microseconds since the Unix epoch."""
    base = (dt.datetime.combine(origin, dt.time()) - dt.datetime(1970, 1, 1)) // dt.timedelta(
        microseconds=1
    )
    return base + np.round(np.asarray(days) * US_PER_DAY).astype(np.int64)


def us_to_days(origin: dt.date, us: np.ndarray) -> np.ndarray:
    """Int64 microseconds since the Unix epoch -> float days since ``origin``."""
    base = (dt.datetime.combine(origin, dt.time()) - dt.datetime(1970, 1, 1)) // dt.timedelta(
        microseconds=1
    )
    return (np.asarray(us, dtype=np.int64) - base) / US_PER_DAY
