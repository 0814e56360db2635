"""Size recommendations from the registered ``size`` model (``models:/size@champion``).

Serving never imports ``training``: it reads the registry by alias only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from features.errors import JourneyError

NAME = "size"


@dataclass
class LoadedModel:
    model: Any  # mlflow.pyfunc.PyFuncModel
    uri: str
    version: str
    note: str | None  # set when the champion was missing and the challenger stands in


def load_size_model(tracking_uri: str) -> LoadedModel:
    """``models:/size@champion``, or ``@challenger`` with a note when there is no champion."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    client = MlflowClient()
    tried = []
    for alias in ("champion", "challenger"):
        try:
            mv = client.get_model_version_by_alias(NAME, alias)
        except MlflowException:
            tried.append(alias)
            continue
        uri = f"models:/{NAME}@{alias}"
        note = (
            None
            if alias == "champion"
            else f"no size@champion yet: using size@challenger (v{mv.version}); "
            "promote it with `journey promote size`"
        )
        return LoadedModel(mlflow.pyfunc.load_model(uri), uri, str(mv.version), note)
    raise JourneyError(
        f"no registered size model ({', '.join('@' + a for a in tried)} missing in {tracking_uri}); "
        "train one with `journey train size`"
    )


def recommend_size(
    loaded: LoadedModel, customer_id: str, *, product_id: str | None, category: str | None
) -> pd.Series:
    """One recommendation row (``models.pyfunc_size.OUTPUT_COLUMNS``)."""
    if (product_id is None) == (category is None):
        raise JourneyError("give exactly one of --product and --category")
    key = {"product_id": product_id} if product_id is not None else {"category": category}
    request = pd.DataFrame({"customer_id": [customer_id], **{k: [v] for k, v in key.items()}})
    return loaded.model.predict(request).iloc[0]
