"""``journey promote NAME``: champion moves to the challenger only if it scores better on
the same test window.

Each registered name has an *evaluator*: ``evaluator(con, params) -> (window, evaluate)``
builds the test window once and returns its description and ``evaluate(model_uri) ->
metrics``, which scores a registered model on it. Evaluators live beside their training
code and are found through :data:`EVALUATORS` (``"module:function"``, imported on use) or
registered at run time with :func:`register_evaluator`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from features.config import Params
from features.errors import JourneyError, unknown_name_message
from training.registry import Promotion, promote

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

Evaluate = Callable[[str], Mapping[str, float]]
Evaluator = Callable[["BaseBackend", Params], tuple[str, Evaluate]]

# registered model name -> "module:function" of its evaluator (add yours here).
EVALUATORS: dict[str, str | Evaluator] = {
    "churn": "training.evaluate_registered:churn_evaluator",
    "churn_survival": "training.evaluate_registered:churn_survival_evaluator",
    "clv": "training.train_clv:clv_evaluator",
    "size": "training.train_size:size_evaluator",
}


def register_evaluator(name: str, evaluator: str | Evaluator) -> None:
    """Make ``journey promote name`` score models with ``evaluator``."""
    EVALUATORS[name] = evaluator


def evaluator_for(name: str) -> Evaluator:
    if name not in EVALUATORS:
        raise JourneyError(unknown_name_message("model", name, EVALUATORS))
    found = EVALUATORS[name]
    if isinstance(found, str):
        module, _, attr = found.partition(":")
        found = getattr(importlib.import_module(module), attr)
    return found


def promote_model(name: str, con: BaseBackend, params: Params) -> Promotion:
    """Score ``name@challenger`` and ``name@champion`` on the same test window and move
    ``champion`` to the challenger if it is better by ``registry.promotion.<name>``."""
    rule = params.registry.promotion.get(name)
    if rule is None:
        raise JourneyError(
            f"params.yaml has no registry.promotion.{name} (the metric to compare); "
            f"configured: {', '.join(sorted(params.registry.promotion)) or 'none'}"
        )
    window, evaluate = evaluator_for(name)(con, params)
    return promote(name, evaluate, rule, window=window)
