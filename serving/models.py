"""The champion models, loaded from the MLflow registry as ``models:/<name>@<alias>``.

Serving never imports ``training``: it only reads the registry. Every model is checked
before anything is predicted or written: the alias must exist, the signature's inputs
must be columns we can supply, and after predicting, the outputs must be those of the
contract (``serving.predictions.MODEL_OUTPUTS``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from features.config import Params
from features.errors import JourneyError
from serving.predictions import KEY, MODEL_OUTPUTS, MODEL_ROLES, model_label

REFERENCE_ARTIFACT = "reference/feature_quantiles.json"


class ModelError(JourneyError):
    """A champion model is missing, unreachable, or does not fit the features."""


def configure_tracking(params: Params) -> str:
    """Point MLflow at the configured tracking and registry store; return its URI."""
    import mlflow

    uri = params.mlflow.tracking_uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


@dataclass
class Champion:
    """One loaded champion: its role, registered name, version, inputs and pyfunc."""

    role: str
    name: str
    version: str
    run_id: str | None
    inputs: list[str]
    model: Any  # mlflow.pyfunc.PyFuncModel
    optional: tuple[str, ...] = ()  # inputs the signature marks required=False

    @property
    def label(self) -> str:
        return model_label(self.name, self.version)

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def _reach_error(uri: str, err: Exception) -> ModelError:
    return ModelError(f"MLflow tracking store {uri} cannot be reached or read: {err}")


def resolve_champions(params: Params) -> dict[str, Champion]:
    """Look up and load ``models:/<name>@<alias>`` for churn, churn_survival, clv and size.

    Loads by version (resolved once) so that every row of a run comes from the same model
    even if the alias moves mid-run. A missing alias or registered model is an error naming
    the command that would create it; a store that cannot be reached is an error naming it.
    """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    uri = configure_tracking(params)
    alias = params.serving.alias
    client = MlflowClient()
    out: dict[str, Champion] = {}
    for role in MODEL_ROLES:
        name = getattr(params.serving.models, role)
        try:
            mv = client.get_model_version_by_alias(name, alias)
        except MlflowException as err:
            code = getattr(err, "error_code", "")
            if code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                train = "churn" if role == "churn_survival" else role
                raise ModelError(
                    f"no '{alias}' version of registered model {name!r} (the {role} model) in "
                    f"{uri}: train and promote it first (journey train {train}; "
                    f"journey promote {name})"
                ) from None
            raise _reach_error(uri, err) from None
        except Exception as err:  # connection refused, timeouts, unreadable store
            raise _reach_error(uri, err) from None
        model_uri = f"models:/{name}/{mv.version}"
        try:
            model = mlflow.pyfunc.load_model(model_uri)
        except MlflowException as err:
            raise ModelError(f"{name} v{mv.version} cannot be loaded from {uri}: {err}") from None
        signature = model.metadata.signature
        if signature is None or signature.inputs is None:
            raise ModelError(
                f"{name} v{mv.version} was logged without a signature; serving needs one to "
                "check its inputs (log the model with signature=...)"
            )
        inputs = list(signature.inputs.input_names())
        # The size model's request keys (product_id / category) may be left out. A feature
        # model's signature marks every column that had a null in its input example as
        # optional, yet a feature the builders do not make still means another model.
        optional = (
            tuple(c.name for c in signature.inputs.inputs if not c.required)
            if role == "size"
            else ()
        )
        out[role] = Champion(role, name, str(mv.version), mv.run_id, inputs, model, optional)
    return out


def check_inputs(champion: Champion, available: list[str]) -> None:
    """Refuse a model whose signature requires columns the features do not have."""
    missing = [c for c in champion.inputs if c not in available and c not in champion.optional]
    if missing:
        raise ModelError(
            f"{champion.label} ({champion.role}) needs {len(missing)} column(s) the features "
            f"as built do not have: {', '.join(missing)}. The model was trained on other "
            "features: retrain it, or score with the params it was trained with"
        )


def predict_batches(
    champion: Champion,
    frame: pd.DataFrame,
    *,
    batch_rows: int,
    on_batch: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Predict ``frame`` in batches; check row count, order and the contract's columns."""
    from mlflow.exceptions import MlflowException

    wanted = MODEL_OUTPUTS[champion.role]
    if frame.empty:
        return pd.DataFrame({KEY: pd.Series(dtype=object), **{c: [] for c in wanted}})
    inputs = frame[[c for c in champion.inputs if c in frame.columns]]
    parts = []
    for start in range(0, len(inputs), batch_rows):
        batch = inputs.iloc[start : start + batch_rows]
        try:
            result = champion.model.predict(batch)
        except MlflowException as err:
            raise ModelError(
                f"{champion.label} ({champion.role}) refused the features: {err}"
            ) from None
        result = pd.DataFrame(result)
        missing = [c for c in wanted if c not in result.columns]
        if missing or len(result) != len(batch):
            raise ModelError(
                f"{champion.label} ({champion.role}) broke the serving contract: "
                + (f"missing output column(s) {', '.join(missing)}" if missing else "")
                + (
                    f"; {len(result)} rows for {len(batch)} inputs"
                    if len(result) != len(batch)
                    else ""
                )
            )
        if (
            KEY in result.columns
            and not (result[KEY].astype(str).to_numpy() == batch[KEY].astype(str).to_numpy()).all()
        ):
            raise ModelError(f"{champion.label} ({champion.role}) changed the row order")
        result = result[list(wanted)].reset_index(drop=True)
        result.insert(0, KEY, batch[KEY].to_numpy())
        parts.append(result)
        if on_batch is not None:
            on_batch(len(batch))
    return pd.concat(parts, ignore_index=True)


def load_reference(champion: Champion) -> dict[str, Any] | None:
    """The reference distributions logged with the churn champion's run, or None if absent."""
    import mlflow
    from mlflow.exceptions import MlflowException

    if champion.run_id is None:
        return None
    try:
        path = mlflow.artifacts.download_artifacts(
            run_id=champion.run_id, artifact_path=REFERENCE_ARTIFACT
        )
    except (MlflowException, OSError):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def versions(champions: Mapping[str, Champion]) -> dict[str, str]:
    """Role -> ``name/version``."""
    return {role: c.label for role, c in champions.items()}
