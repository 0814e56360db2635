"""MLflow tracking shared by every training entry point.

Nothing here runs at import time: :func:`configure` points MLflow at the store in
``params.mlflow`` (or ``MLFLOW_TRACKING_URI``) when a command starts.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
import subprocess
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
from mlflow.data.pandas_dataset import from_pandas

from features.config import Params, url_path
from features.errors import JourneyError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

# What a logged model needs at load time; pinned to the versions it was trained with.
RUNTIME_PACKAGES = (
    "mlflow",
    "lightgbm",
    "lifelines",
    "scikit-learn",
    "scipy",
    "pandas",
    "numpy",
    "pyarrow",
)


def configure(params: Params) -> str:
    """Point MLflow at the configured store and experiment; return the experiment id."""
    uri = params.mlflow.tracking_uri
    db = url_path(uri) if uri.startswith("sqlite:") else None
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    name = params.mlflow.experiment
    try:
        exp = mlflow.get_experiment_by_name(name)
        if exp is None:
            artifacts = Path(params.mlflow.artifact_location)
            artifacts.mkdir(parents=True, exist_ok=True)
            exp_id = mlflow.create_experiment(name, artifact_location=artifacts.as_uri())
        else:
            exp_id = exp.experiment_id
    except mlflow.exceptions.MlflowException as err:
        raise JourneyError(f"MLflow tracking store {uri} cannot be used: {err}") from None
    mlflow.set_experiment(experiment_id=exp_id)
    return exp_id


def git_commit(root: Path) -> str:
    """The current commit, with ``-dirty`` when the work tree has changes; ``unknown`` outside git."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("-dirty" if dirty else "")


def package_versions(names: Iterable[str] = RUNTIME_PACKAGES) -> dict[str, str]:
    return {n: md.version(n) for n in names}


def pip_requirements() -> list[str]:
    """Explicit requirements for ``log_model`` (inferring them is slow and pulls in unrelated ones)."""
    return [f"{n}=={v}" for n, v in package_versions().items()]


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = json.dumps(v) if isinstance(v, list | tuple) else v
    return out


def log_run_context(
    params: Params, *, sections: Sequence[str], tags: Mapping[str, str] = {}
) -> None:
    """Log the resolved params of ``sections``, the whole params file, git commit and versions."""
    resolved = params.model_dump(mode="json")
    flat = _flatten({s: resolved[s] for s in sections})
    # MLflow caps param values at 6000 characters and keys at 250.
    mlflow.log_params({k[:250]: str(v)[:6000] for k, v in flat.items()})
    mlflow.log_dict(resolved, "params.resolved.yaml")
    mlflow.set_tags(
        {
            "git_commit": git_commit(params.root),
            **{f"version.{n}": v for n, v in package_versions().items()},
            **tags,
        }
    )


def frame_digest(frame: pd.DataFrame) -> str:
    """A content digest of a frame: same rows and columns, same digest."""
    import pandas as pd

    h = hashlib.sha256()
    h.update(",".join(map(str, frame.columns)).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def log_training_data(
    frame: pd.DataFrame, *, name: str, targets: str | None, cutoffs: Sequence[Any], context: str
) -> str:
    """Log ``frame`` as an MLflow dataset input (name, digest, cutoffs); return the digest."""
    digest = frame_digest(frame)
    with warnings.catch_warnings():
        # The integer columns are labels, which features.frames.to_model_frame checks hold
        # no nulls; MLflow's hint about nulls in integer columns does not apply.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        ds = from_pandas(frame, name=name, targets=targets, digest=digest)
        mlflow.log_input(
            ds,
            context=context,
            tags={"cutoffs": ",".join(str(c)[:10] for c in cutoffs), "rows": str(len(frame))},
        )
    return digest


def log_figure(fig: Figure, path: str) -> None:
    """Log a matplotlib figure as an artifact and close it."""
    import matplotlib.pyplot as plt

    mlflow.log_figure(fig, path)
    plt.close(fig)
