"""The drift report: PSI per feature and of the churn score, run by run (``journey report drift``)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from features.config import DriftParams
from features.errors import EmptyResultError
from serving.reports.figures import _figure
from serving.reports.html import Figure, Report, Section, table_from_frame

STEPS = ("history", "latest")


def psi_history_chart(history: pd.DataFrame, names: list[str], *, threshold: float) -> bytes:
    """PSI over as_of dates, one line per name, with the flag threshold dashed."""
    with _figure(9, 3.8) as (fig, buf):
        ax = fig.subplots()
        for name in names:
            h = history[history.name == name].sort_values("as_of")
            ax.plot(pd.to_datetime(h.as_of), h.psi, marker="o", ms=3, label=name)
        ax.axhline(threshold, ls="--", c="#b3261e", lw=1, label=f"threshold {threshold:g}")
        ax.set_title("PSI against the churn champion's training data", loc="left")
        ax.set_ylabel("PSI")
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        fig.autofmt_xdate()
    return buf.getvalue()


def build_drift_report(
    history: pd.DataFrame,
    options: DriftParams,
    *,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """The report from the ``drift`` table's rows (``serving.drift.drift_history``)."""
    tick = progress or (lambda _: None)
    if history.empty:
        raise EmptyResultError(
            "the drift table is empty: run `journey score` with a churn champion that logged "
            "reference/feature_quantiles.json"
        )
    tick("history")
    key = history[history.key]
    names = sorted(key.name.unique(), key=lambda n: (n != "p_churn", n))
    chart = psi_history_chart(key, names, threshold=options.psi_threshold)
    tick("latest")
    last_day = history.as_of.max()
    latest = history[history.as_of == last_day].sort_values("psi", ascending=False)
    flagged = latest[latest.flagged]
    sections = [
        Section(
            "PSI over time",
            "history",
            intro="Key features and the churn score; PSI above the threshold flags the run.",
            facts=[
                ("runs", f"{history.run_id.nunique():,}"),
                ("latest as of", f"{last_day:%Y-%m-%d}"),
                ("flagged now", f"{len(flagged):,}"),
            ],
            figures=[Figure("PSI history", chart)],
        ),
        Section(
            f"Every feature on {last_day:%Y-%m-%d}",
            "latest",
            tables=[
                table_from_frame(
                    latest[
                        ["name", "kind", "psi", "reference_mean", "current_mean", "key", "flagged"]
                    ],
                    formats={"psi": ".3f", "reference_mean": ",.2f", "current_mean": ",.2f"},
                )
            ],
        ),
    ]
    warnings = (
        [f"PSI above {options.psi_threshold:g}: " + ", ".join(flagged.name)] if len(flagged) else []
    )
    return Report(
        kind="drift",
        title="Drift",
        subtitle="features and scores against the champion's training data",
        sections=sections,
        data={
            "latest": latest[["name", "kind", "psi", "flagged"]].to_dict(orient="records"),
            "threshold": options.psi_threshold,
        },
        warnings=warnings,
    )
