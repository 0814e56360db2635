"""Registration gates and promotion, shared by every model (aliases, never stages).

- A trained model is registered, and gets the alias ``challenger``, only if its logged
  metrics pass the gates in ``params.yaml`` (``registry.gates.<model>``), which include
  beating the run's own baseline. Otherwise it is not registered, and the run says why.
- ``promote`` moves ``champion`` to the challenger only if the challenger beats the
  current champion on the same test window (the caller scores both); the decision and
  the figures are written on the model version as tags.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from features.config import Gate, PromotionParams
from features.errors import JourneyError

CHALLENGER = "challenger"
CHAMPION = "champion"


@dataclass(frozen=True)
class GateCheck:
    metric: str
    value: float | None
    bound: str
    passed: bool


@dataclass(frozen=True)
class GateResult:
    checks: tuple[GateCheck, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def summary(self) -> str:
        return "; ".join(
            f"{c.metric}={'missing' if c.value is None else f'{c.value:.4f}'} {c.bound} "
            f"{'ok' if c.passed else 'FAILED'}"
            for c in self.checks
        )


def check_gates(metrics: Mapping[str, float], gates: Mapping[str, Gate]) -> GateResult:
    """Compare logged metrics with their bounds; a gated metric that is missing fails."""
    checks = []
    for metric, gate in gates.items():
        value = metrics.get(metric)
        if gate.min is not None:
            ok = value is not None and value >= gate.min
            checks.append(GateCheck(metric, value, f">= {gate.min:g}", ok))
        if gate.max is not None:
            ok = value is not None and value <= gate.max
            checks.append(GateCheck(metric, value, f"<= {gate.max:g}", ok))
    return GateResult(tuple(checks))


def register_challenger(
    model_uri: str, name: str, metrics: Mapping[str, float], gates: Mapping[str, Gate]
) -> str | None:
    """Register ``model_uri`` as ``name@challenger`` if the gates pass; return its version.

    Must run inside the training run: the decision is tagged on it either way.
    """
    result = check_gates(metrics, gates)
    mlflow.set_tags(
        {
            "registration.gates": result.summary(),
            "registration.decision": "registered" if result.passed else "refused",
        }
    )
    if not result.passed:
        return None
    mv = mlflow.register_model(model_uri, name, tags={"gates": result.summary()})
    client = MlflowClient()
    client.set_registered_model_alias(name, CHALLENGER, mv.version)
    return str(mv.version)


def alias_version(name: str, alias: str) -> str | None:
    """The version behind ``name@alias``, or None when the alias (or the model) does not exist."""
    try:
        return str(MlflowClient().get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


@dataclass(frozen=True)
class Promotion:
    name: str
    challenger: str
    champion_before: str | None
    promoted: bool
    challenger_score: float
    champion_score: float | None
    metric: str

    def describe(self) -> str:
        if self.champion_before is None:
            return (
                f"{self.name} v{self.challenger} is the first champion "
                f"({self.metric}={self.challenger_score:.4f})"
            )
        verdict = "promoted" if self.promoted else "kept the champion"
        return (
            f"{self.name}: {verdict}: challenger v{self.challenger} {self.metric}="
            f"{self.challenger_score:.4f} vs champion v{self.champion_before} "
            f"{self.metric}={self.champion_score:.4f}"
        )


def promote(
    name: str, evaluate: Callable[[str], Mapping[str, float]], rule: PromotionParams, *, window: str
) -> Promotion:
    """Move ``champion`` to the challenger if it scores better on the same test window.

    ``evaluate(model_uri)`` scores a registered model on the test window described by
    ``window``; both models are scored by the same function on the same data.
    """
    challenger = alias_version(name, CHALLENGER)
    if challenger is None:
        raise JourneyError(
            f"{name} has no '{CHALLENGER}' version: train it first (journey train {name})"
        )
    champion = alias_version(name, CHAMPION)
    ch_score = float(evaluate(f"models:/{name}@{CHALLENGER}")[rule.metric])
    cp_score: float | None = None
    if champion is None:
        promoted = True
    elif champion == challenger:
        promoted, cp_score = False, ch_score
    else:
        cp_score = float(evaluate(f"models:/{name}@{CHAMPION}")[rule.metric])
        promoted = ch_score > cp_score if rule.higher_is_better else ch_score < cp_score
    decision = Promotion(name, challenger, champion, promoted, ch_score, cp_score, rule.metric)
    client = MlflowClient()
    for key, value in {
        "promotion.decision": "promoted" if promoted else "not promoted",
        "promotion.metric": rule.metric,
        "promotion.challenger_score": f"{ch_score:.6f}",
        "promotion.champion_version": champion or "none",
        "promotion.champion_score": "none" if cp_score is None else f"{cp_score:.6f}",
        "promotion.window": window,
        "promotion.decided_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }.items():
        client.set_model_version_tag(name, challenger, key, value)
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, challenger)
    return decision
