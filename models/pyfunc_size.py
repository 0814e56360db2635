"""``SizePyfunc``: the registered ``size`` model, a fitted ``SizeRecommender`` behind pyfunc.

Input rows: ``customer_id`` (string) and ``product_id`` or ``category`` (string; either
may be null per row, not both). A product's category comes from the catalogue the model
was trained with; a category-only request is answered for the category's typical
product (no item offset). Output, one row per input row in order (``OUTPUT_COLUMNS``):
``customer_id``, ``recommended_size``, ``p_fit``, ``p_too_small``, ``p_too_large`` (at
the recommended size), ``size_confidence`` (0..1, grows with her evidence; for a new
customer, the share of customers who take that size) and ``size_note``, which for a new
customer reads "new customer: most customers take 34C in this style".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.pyfunc import PythonModel
from mlflow.types import ColSpec, Schema

from features.errors import JourneyError
from models.size_recommender import SizeRecommender

OUTPUT_COLUMNS = (
    "customer_id",
    "recommended_size",
    "p_fit",
    "p_too_small",
    "p_too_large",
    "size_confidence",
    "size_note",
)
_NO_ITEM = "\x00category"  # an item key no product has: the category's typical product


def size_signature() -> ModelSignature:
    """Input ``customer_id`` plus optional ``product_id`` / ``category``; the output columns."""
    inputs = Schema(
        [
            ColSpec("string", "customer_id"),
            ColSpec("string", "product_id", required=False),
            ColSpec("string", "category", required=False),
        ]
    )
    kinds = {"recommended_size": "string", "size_note": "string", "customer_id": "string"}
    outputs = Schema([ColSpec(kinds.get(c, "double"), c) for c in OUTPUT_COLUMNS])
    return ModelSignature(inputs=inputs, outputs=outputs)


class SizePyfunc(PythonModel):
    """Size recommendations per (customer, product or category).

    Parameters
    ----------
    recommender : SizeRecommender
        Fitted, with ``customer_col="customer_id"``, ``item_col="product_id"`` and
        ``category_col="category"``.
    product_categories : dict
        ``{product_id: category}`` for every product that can be asked about.
    """

    def __init__(self, recommender: SizeRecommender, product_categories: dict[str, str]):
        cols = (recommender.customer_col, recommender.item_col, recommender.category_col)
        if cols != ("customer_id", "product_id", "category"):
            raise ValueError(f"the recommender's column roles must be {OUTPUT_COLUMNS[:1]}, "
                             f"product_id, category; got {cols}")  # fmt: skip
        self.recommender = recommender
        self.product_categories = dict(product_categories)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return self.recommend(pd.DataFrame(model_input))

    def requests(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``customer_id, product_id, category`` per row; unknown products raise, listed."""
        if "customer_id" not in frame:
            raise JourneyError(f"size requests need customer_id; got {list(frame.columns)}")
        n = len(frame)
        none = pd.Series([None] * n, index=frame.index, dtype=object)
        product = frame["product_id"].astype(object) if "product_id" in frame else none
        category = frame["category"].astype(object) if "category" in frame else none
        product = product.where(product.notna(), None)
        has_product = product.notna()
        known = product[has_product].map(self.product_categories)
        unknown = product[has_product][known.isna()]
        if len(unknown):
            raise JourneyError(
                f"{len(unknown)} unknown product_id(s): {', '.join(map(str, unknown[:5]))}; "
                f"the model knows {len(self.product_categories)} products"
            )
        category = category.where(~has_product, known.reindex(frame.index))
        missing = np.flatnonzero(category.isna().to_numpy())
        if missing.size:
            raise JourneyError(
                f"rows {', '.join(map(str, missing[:5]))} have neither product_id nor category"
            )
        valid = sorted(self.recommender.category_system_)
        bad = sorted(set(category.astype(str)) - set(valid))
        if bad:
            raise JourneyError(
                f"no size model for category {', '.join(bad[:5])}; valid: {', '.join(valid)}"
            )
        return pd.DataFrame(
            {
                "customer_id": frame["customer_id"].astype(str).to_numpy(),
                "product_id": product.fillna(_NO_ITEM).astype(str).to_numpy(),
                "category": category.astype(str).to_numpy(),
            }
        )

    def recommend(self, frame: pd.DataFrame) -> pd.DataFrame:
        """One recommendation per row of ``frame``, in order (``OUTPUT_COLUMNS``)."""
        req = self.requests(frame)
        if req.empty:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in OUTPUT_COLUMNS})
        rec = self.recommender.recommend(req)
        by_product = (req["product_id"] != _NO_ITEM).to_numpy()
        where = np.where(by_product, "in this style", "in this category (" + req["category"] + ")")
        note = np.where(
            rec["is_new_customer"].to_numpy(),
            "new customer: most customers take "
            + rec["recommended_size"].astype(str)
            + " "
            + where,
            rec["reason"].astype(str),
        )
        return pd.DataFrame(
            {
                "customer_id": req["customer_id"].to_numpy(),
                "recommended_size": rec["recommended_size"].astype(str).to_numpy(),
                "p_fit": rec["p_fit"].to_numpy(float),
                "p_too_small": rec["p_too_small"].to_numpy(float),
                "p_too_large": rec["p_too_large"].to_numpy(float),
                "size_confidence": rec["confidence"].to_numpy(float),
                "size_note": note,
            }
        )
