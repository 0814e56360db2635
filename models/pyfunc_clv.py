"""The registered ``clv`` model: feature-table rows in, ``clv, clv_p10, clv_p90, p_alive,
expected_orders`` out (revenue over ``labels.horizon_days``; see CONTRACTS.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from models._clv import AGE, CLV_COLUMNS, INTERVAL_QUANTILES
from models.clv_hybrid import HybridCLVModel

KEY = "customer_id"


@dataclass(frozen=True)
class NewCustomerRates:
    """Expected revenue and orders over the horizon of a customer with no purchase yet.

    The purchase-dynamics models need a first purchase; signed-up customers without one
    get the mean of the labelled training rows without one, and their empirical P10 and
    P90 (P(alive) is unknown: NaN).
    """

    clv: float
    clv_p10: float
    clv_p90: float
    expected_orders: float

    @classmethod
    def learn(cls, revenue, orders) -> NewCustomerRates:
        revenue = np.asarray(revenue, dtype=np.float64)
        if len(revenue) == 0:
            return cls(0.0, 0.0, 0.0, 0.0)
        p10, p90 = np.quantile(revenue, INTERVAL_QUANTILES)
        return cls(float(revenue.mean()), float(p10), float(p90), float(np.mean(orders)))


class CLVPyfunc(PythonModel):
    """Score feature-table rows with a fitted :class:`~models.clv_hybrid.HybridCLVModel`.

    Rows are customers as built by ``features.builders.build_features`` (``as_of`` and
    unused columns are ignored). Customers with a purchase before the cutoff
    (``days_since_first_purchase`` present) are scored by the hybrid; the others get
    :class:`NewCustomerRates`. Row order is kept; ``customer_id`` comes first.
    """

    def __init__(self, model: HybridCLVModel, new_customer: NewCustomerRates):
        self.model = model
        self.new_customer = new_customer

    @property
    def feature_names(self) -> list[str]:
        """The feature columns the model reads (the signature adds ``customer_id``)."""
        return list(self.model.feature_names_in_)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return score_frame(self.model, self.new_customer, model_input)


def score_frame(
    model: HybridCLVModel, new_customer: NewCustomerRates, rows: pd.DataFrame
) -> pd.DataFrame:
    """:data:`~models._clv.CLV_COLUMNS` per row of ``rows``, in order, ``customer_id`` first."""
    names: Sequence[str] = list(model.feature_names_in_)
    missing = [c for c in (KEY, *names) if c not in rows.columns]
    if missing:
        raise ValueError(f"the clv model needs columns it did not get: {missing}")
    frame = rows[list(names)].reset_index(drop=True)
    out = pd.DataFrame(np.nan, index=frame.index, columns=list(CLV_COLUMNS))
    bought = frame[AGE].notna().to_numpy()
    if bought.any():
        out.loc[bought] = model.predict_frame(frame[bought]).to_numpy()
    out.loc[~bought, "clv"] = new_customer.clv
    out.loc[~bought, "clv_p10"] = new_customer.clv_p10
    out.loc[~bought, "clv_p90"] = new_customer.clv_p90
    out.loc[~bought, "expected_orders"] = new_customer.expected_orders
    out.insert(0, KEY, rows[KEY].astype(str).to_numpy())
    return out
