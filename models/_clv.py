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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

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
