"""Typed configuration loaded from ``params.yaml``.

Every tunable number and date lives in ``params.yaml``; environment-specific values
come from environment variables:

- ``JOURNEY_WAREHOUSE`` overrides ``warehouse.url``;
- ``MLFLOW_TRACKING_URI`` overrides ``mlflow.tracking_uri``.

Relative paths in URLs (``duckdb:///data/w.duckdb``, ``sqlite:///mlflow/mlflow.db``,
SQLAlchemy style: three slashes relative, four absolute) resolve against the folder
that holds the params file, so a command gives the same result from any directory.
Nothing here runs at import time.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from features.errors import ConfigError, unknown_name_message

WAREHOUSE_ENV = "JOURNEY_WAREHOUSE"
TRACKING_ENV = "MLFLOW_TRACKING_URI"


class Section(BaseModel):
    """A block of params: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectParams(Section):
    seed: int = 42


class WarehouseParams(Section):
    url: str = "duckdb:///data/warehouse.duckdb"


class MlflowParams(Section):
    tracking_uri: str = "sqlite:///mlflow/mlflow.db"
    artifact_location: str = "mlflow/artifacts"
    experiment: str = "customer-journey"


class SimulateParams(Section):
    """The simulated direct-to-consumer apparel and intimates brand (see features.simulate)."""

    customers: int = Field(20_000, gt=0)
    seed: int = 7
    start: dt.date = dt.date(2023, 1, 1)
    end: dt.date = dt.date(2025, 12, 31)


class ValidationParams(Section):
    # A load whose share of quarantined rows in any table exceeds this is refused: it is
    # almost always a mapping mistake, not bad rows.
    max_quarantine_share: float = Field(0.5, ge=0, le=1)
    # Timestamps later than load time plus this skew are quarantined as "in the future".
    future_skew_hours: float = Field(24.0, ge=0)


class SourceParams(Section):
    """One input of a mapped dataset: a file, glob or folder, or SQL over other sources.

    ``file`` is relative to the folder given to ``journey load``. CSV is read with every
    column as text, so that the validator reports a wrongly typed value with its raw
    text; Parquet arrives typed. ``sql`` derives a source from earlier ones, which it
    names in braces (``SELECT ... FROM {sessions}``); it must keep ``_row`` and
    ``_source`` so that every row still points at its file line.
    """

    file: str | None = None
    sql: str | None = None
    format: Literal["csv", "parquet"] | None = None  # from the extension when omitted
    # Passed to DuckDB's CSV reader: delim, header, skip, quote, columns...
    options: dict[str, Any] = Field(default_factory=dict)
    # {column: SQL condition every row must meet}; the first failing row is an error
    # naming the file, row, column and value (for values a row's shape depends on).
    checks: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _file_or_sql(self) -> SourceParams:
        if (self.file is None) == (self.sql is None):
            raise ValueError("give exactly one of 'file' and 'sql'")
        if self.sql is not None and (self.format or self.options):
            raise ValueError("'format' and 'options' apply to files, not to 'sql' sources")
        return self


class TableMapping(Section):
    """How one canonical table is built from a source: SQL expressions over its columns.

    ``columns`` maps each contract column to a DuckDB SQL expression over the source's
    columns (a bare column name is the simplest). With ``group_by`` the expressions are
    aggregates, one row per group. ``where`` keeps only the source rows it is true for.
    ``formats`` gives a strptime format for timestamp columns held as text
    (``{ts: "%m/%d/%Y %H:%M"}``); a value that does not match is quarantined as
    unparseable. ``earliest(text, format)`` is an aggregate for grouped tables: the
    earliest time in the group, as text in that format.
    """

    source: str
    columns: dict[str, str]
    group_by: list[str] = Field(default_factory=list)
    where: str | None = None
    formats: dict[str, str] = Field(default_factory=dict)


class DatasetMapping(Section):
    """A dataset brought by configuration alone: sources and per-table column mappings."""

    description: str = ""
    sources: dict[str, SourceParams]
    tables: dict[str, TableMapping]


class LoadersParams(Section):
    mappings: dict[str, DatasetMapping] = Field(default_factory=dict)
    # The 365 data has no timestamps; its adapter orders events from this anchor (see README).
    journey365_anchor: dt.datetime = dt.datetime(2022, 1, 1)


class Gate(Section):
    """Bounds a logged metric must meet for a model to be registered."""

    min: float | None = None
    max: float | None = None


class PromotionParams(Section):
    """The metric on which a challenger must beat the champion, on the same test window."""

    metric: str
    higher_is_better: bool = True


class RegistryParams(Section):
    # {model: {metric: {min|max}}}; include "<metric>_vs_baseline" gates so that a model
    # that does not beat its run's baseline is not registered.
    gates: dict[str, dict[str, Gate]] = Field(default_factory=dict)
    promotion: dict[str, PromotionParams] = Field(default_factory=dict)


class JourneyAnalyticsParams(Section):
    """Journey (path) analytics over page events (see features.analytics)."""

    # Which of a customer's sessions make up their journey: "all", or "until_target" =
    # sessions up to and including the first that reaches target_page (customers who never
    # reach it keep all their sessions).
    session_rule: Literal["all", "until_target"] = "all"
    target_page: str = "Checkout"
    ngram_n: int = Field(default=3, ge=2)
    # Count an n-gram at most once per journey (the 365 case study) or every time it occurs.
    ngram_once_per_journey: bool = True
    top_n: int = Field(default=10, gt=0)
    funnel_pages: list[str] = Field(
        default_factory=lambda: ["Homepage", "Pricing", "Checkout"], min_length=1
    )
    # A customer's plan is their first subscription's plan (by start_ts) or their latest's.
    plan_rule: Literal["first", "latest"] = "first"
    # Group label for customers without a subscription, so that they are counted, not dropped.
    no_plan_label: str = "(no plan)"
    graph_pages: int = Field(default=10, ge=2)
    graph_edges: int = Field(default=25, gt=0)


class KpiParams(Section):
    """Commercial KPIs over orders, customers and sessions (see features.analytics.kpis)."""

    # The published DTC figures count a first order exactly N days after signup as within N
    # days (inclusive) but a reorder exactly N days after the first order as outside
    # (half-open), so each window states which it is.
    first_order_within_days: int = Field(default=7, gt=0)
    first_order_window_inclusive: bool = True
    retention_days: list[PositiveInt] = Field(default_factory=lambda: [30, 60, 90], min_length=1)
    retention_window_inclusive: bool = False
    rolling_window_days: int = Field(default=28, gt=0)
    cohort_max_months: int = Field(default=12, ge=0)
    conversion_event_types: list[str] = Field(default_factory=lambda: ["purchase"], min_length=1)
    # Group label for a missing channel, region or source, so that rows are never dropped.
    unknown_label: str = "(unknown)"


class AnalyticsParams(Section):
    report_dir: str = "out/reports"
    journeys: JourneyAnalyticsParams = JourneyAnalyticsParams()
    kpis: KpiParams = KpiParams()


class Params(Section):
    """All params. ``root`` is the folder relative paths resolve against."""

    root: Path = Path(".")
    project: ProjectParams = ProjectParams()
    warehouse: WarehouseParams = WarehouseParams()
    mlflow: MlflowParams = MlflowParams()
    simulate: SimulateParams = SimulateParams()
    validation: ValidationParams = ValidationParams()
    loaders: LoadersParams = LoadersParams()
    registry: RegistryParams = RegistryParams()
    analytics: AnalyticsParams = AnalyticsParams()

    @field_validator("root")
    @classmethod
    def _absolute_root(cls, v: Path) -> Path:
        return v.resolve()

    def path(self, relative: str | Path) -> Path:
        """A path from params, resolved against ``root`` unless already absolute."""
        p = Path(relative)
        return p if p.is_absolute() else self.root / p


def resolve_url(url: str, root: Path) -> str:
    """Make a ``scheme:///relative/path`` URL absolute against ``root``.

    ``duckdb:///data/w.duckdb`` -> ``duckdb:////<root>/data/w.duckdb``; URLs with four
    slashes, a host, or ``:memory:`` are returned unchanged.
    """
    scheme, sep, rest = url.partition(":///")
    if not sep or rest.startswith("/") or rest.startswith(":memory:") or not rest:
        return url
    return f"{scheme}:///{(root / rest).resolve()}"


def url_path(url: str) -> Path | None:
    """The file path in a ``duckdb:////abs`` or ``sqlite:////abs`` URL, else None."""
    _, sep, rest = url.partition(":///")
    return Path(rest) if sep and rest.startswith("/") else None


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The params model that owns the key at ``loc`` (walking through dict values)."""
    node: Any = Params
    parts = list(loc)
    while parts:
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(str(parts.pop(0)))
            if field is None:
                return None
            node = field.annotation
        elif get_origin(node) is dict:
            parts.pop(0)  # a user-chosen key, e.g. a mapping's name
            node = get_args(node)[1]
        else:
            return None
    return node if isinstance(node, type) and issubclass(node, BaseModel) else None


def _explain(err: ValidationError, source: Path) -> str:
    lines = [f"{source}: invalid params"]
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            owner = _model_at(tuple(e["loc"][:-1]))
            valid = list(owner.model_fields) if owner is not None else []
            where = ".".join(str(p) for p in e["loc"][:-1]) or "top level"
            lines.append(f"  at {where}: " + unknown_name_message("key", str(e["loc"][-1]), valid))
        else:
            lines.append(f"  {loc}: {e['msg']} (got {e.get('input')!r})")
    return "\n".join(lines)


def parse_params(
    raw: Mapping[str, Any],
    *,
    root: Path,
    env: Mapping[str, str],
    source: Path | str = "params.yaml",
) -> Params:
    """Validate a params mapping, apply environment overrides and resolve relative URLs."""
    data = dict(raw or {})
    data.pop("root", None)
    try:
        params = Params.model_validate({**data, "root": root})
    except ValidationError as err:
        raise ConfigError(_explain(err, Path(source))) from None
    warehouse = env.get(WAREHOUSE_ENV) or params.warehouse.url
    tracking = env.get(TRACKING_ENV) or params.mlflow.tracking_uri
    return params.model_copy(
        update={
            "warehouse": params.warehouse.model_copy(
                update={"url": resolve_url(warehouse, params.root)}
            ),
            "mlflow": params.mlflow.model_copy(
                update={
                    "tracking_uri": resolve_url(tracking, params.root),
                    "artifact_location": str(params.path(params.mlflow.artifact_location)),
                }
            ),
        }
    )


def load_params(
    path: str | Path = "params.yaml", *, env: Mapping[str, str] | None = None
) -> Params:
    """Load ``params.yaml``; an unknown key fails with the closest valid key suggested."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"params file not found: {path.resolve()}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    return parse_params(
        raw, root=path.resolve().parent, env=os.environ if env is None else env, source=path
    )
