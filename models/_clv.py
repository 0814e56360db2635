"""What the CLV models share: the purchase-summary columns they read and the frame they return.

The probabilistic models (BG/NBD, Gamma-Gamma, the survival model) read a customer's
purchase history as a few summary columns, named by the ``*_col`` parameters, with the
defaults produced by ``features.purchase_days.build_purchase_days``:

- ``repeat_purchase_days``: distinct purchase days after the first (x);
- ``purchase_span_days``: days from the first purchase to the last (t_x);
- ``days_since_first_purchase``: days from the first purchase to the cutoff (T);
- ``repeat_spend_mean``: mean spend per repeat purchase day (missing when x = 0).

Every CLV model's ``predict_frame`` returns :data:`CLV_COLUMNS`, indexed like ``X``: the
expected value over the horizon (``clv``), its 10th and 90th percentiles, P(alive) and
the expected number of purchase days over the horizon.

The percentiles come from posterior draws. Each row draws from its own random stream,
keyed by the model's seed and the row's own inputs (:func:`row_generators`), so a
customer's interval is a function of her history alone: the same whichever other
customers are scored with her, in whatever order, chunk or Spark partition.
"""

from __future__ import annotations

import numbers
import zlib
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

CLV_COLUMNS = ("clv", "clv_p10", "clv_p90", "p_alive", "expected_orders")
INTERVAL_QUANTILES = (0.1, 0.9)

FREQUENCY = "repeat_purchase_days"
SPAN = "purchase_span_days"
AGE = "days_since_first_purchase"
MONETARY = "repeat_spend_mean"


def column(
    frame: pd.DataFrame, name: str, *, role: str, parameter: str | None = None
) -> np.ndarray:
    """A numeric column as float64 (NaN for missing); a missing column names the valid ones."""
    if name not in frame.columns:
        raise ValueError(
            f"X has no {role} column {name!r} (set {parameter or role + '_col'}); its "
            f"columns are: {list(frame.columns)[:30]}"
        )
    s = frame[name]
    if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
        raise ValueError(f"{role} column {name!r} must be numeric; it is {s.dtype}")
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def _fail(frame: pd.DataFrame, bad: np.ndarray, what: str, values: Sequence[np.ndarray]) -> None:
    if bad.any():
        i = int(np.argmax(bad))
        shown = ", ".join(f"{v[i]:g}" for v in values)
        raise ValueError(
            f"{int(bad.sum())} row(s) {what}; first: row {frame.index[i]!r} ({shown}). "
            "CLV models score customers with at least one purchase before the cutoff."
        )


def purchase_history(
    frame: pd.DataFrame, *, frequency_col: str, span_col: str, age_col: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated (x, t_x, T) in days: x a whole number >= 0, 0 <= t_x <= T, t_x = 0 when x = 0."""
    x = column(frame, frequency_col, role="frequency")
    tx = column(frame, span_col, role="span")
    age = column(frame, age_col, role="age")
    names = f"({frequency_col}, {span_col}, {age_col})"
    values = (x, tx, age)
    _fail(frame, ~np.isfinite(x) | ~np.isfinite(tx) | ~np.isfinite(age), f"miss {names}", values)
    _fail(
        frame, (x < 0) | (x != np.round(x)), f"have {frequency_col} not a whole number >= 0", values
    )
    _fail(frame, (tx < 0) | (tx > age + 1e-9), f"break 0 <= {span_col} <= {age_col}", values)
    _fail(frame, (x == 0) & (tx > 0), f"have {span_col} > 0 but no repeat purchase", values)
    return x, tx, age


def spend_history(frame: pd.DataFrame, x: np.ndarray, *, monetary_col: str) -> np.ndarray:
    """Mean repeat spend, validated >= 0 where x > 0; set to 0 where x = 0 (unused there)."""
    m = column(frame, monetary_col, role="monetary")
    repeat = x > 0
    _fail(
        frame,
        repeat & ~(np.isfinite(m) & (m >= 0)),
        f"have repeat purchases but {monetary_col} missing or < 0",
        (x, m),
    )
    return np.where(repeat, m, 0.0)


def clv_frame(index: pd.Index, **columns: np.ndarray) -> pd.DataFrame:
    """The :data:`CLV_COLUMNS` frame (float64), indexed like the scored rows."""
    return pd.DataFrame(
        {c: np.asarray(columns[c], dtype=np.float64) for c in CLV_COLUMNS}, index=index
    )


def row_keys(*values: np.ndarray) -> np.ndarray:
    """A uint64 key per row from the row's values (float arrays of equal length).

    Values are rounded to 6 decimals first, so that an engine's last-bit difference (a mean
    summed in another order on Spark) keeps the key; a float 3.0 and an int 3 give the same
    key, -0.0 the key of 0.0, and every NaN the same key.
    """
    rounded = (np.round(np.asarray(v, dtype=np.float64), 6) + 0.0 for v in values)
    frame = pd.DataFrame({i: np.where(np.isnan(v), np.nan, v) for i, v in enumerate(rounded)})
    return pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)


def seed_of(random_state) -> int:
    """An int seed from scikit-learn's ``random_state``: the int itself, one draw from a
    ``RandomState`` or ``Generator``, fresh entropy for None."""
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**63))
    return int(check_random_state(random_state).randint(2**62))


def row_generators(keys: np.ndarray, seed: int, stream: str) -> Iterator[np.random.Generator]:
    """One generator per row: Philox keyed by the row's key (:func:`row_keys`), ``seed``
    and the name of the ``stream`` (e.g. ``"orders"``, so that two samplers reading the
    same row draw independent numbers).

    A row's draws then depend on nothing but its key: not on the other rows, their order or
    the batch. Rows with equal keys get equal draws, so draws are for per-row quantities
    (an interval), not for sums over rows. Creating a generator costs ~7 us a row, less
    than drawing its few hundred numbers.
    """
    salt = int(
        np.random.SeedSequence([seed % 2**128, zlib.crc32(stream.encode())]).generate_state(
            1, np.uint64
        )[0]
    )
    for key in keys.tolist():
        yield np.random.Generator(np.random.Philox(key=(key << 64) | salt))
