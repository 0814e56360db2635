"""Self-contained HTML reports (see :mod:`serving.reports.html` for the shared base)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from features.errors import UnknownValueError, unknown_name_message
from serving.reports import journeys, kpis
from serving.reports.html import Report

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from features.config import Params

# Each kind's progress steps, for a progress bar sized before the work starts.
STEPS: dict[str, tuple[str, ...]] = {"journeys": journeys.STEPS, "kpis": kpis.STEPS}


def build_report(
    kind: str,
    tables: Mapping[str, ir.Table],
    params: Params,
    *,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Build the ``kind`` report (``journeys`` or ``kpis``) from canonical ``tables``."""
    if kind == "journeys":
        return journeys.build_journey_report(tables, params.analytics.journeys, progress=progress)
    if kind == "kpis":
        return kpis.build_kpi_report(tables, params.analytics.kpis, progress=progress)
    raise UnknownValueError(unknown_name_message("report", kind, STEPS))


__all__ = ["STEPS", "Report", "build_report"]
