"""The churn-risk list customer-success teams act on: a CSV for CRM import and one HTML page.

Ranked by value at risk (P(churn) x CLV), then P(churn), then customer id. By default it
holds ``customer_id`` and the scored fields only; the customer's segment and any
``serving.contact_columns`` (PII) come from the ``customers`` table when configured.

The page is self-contained and works offline: the rows travel as JSON inside the page and
a small inline script (allowed by its hash in the page's Content-Security-Policy, nothing
else) sorts, filters and fills the detail panel. Every value from data is written with
``textContent`` or escaped, never parsed as markup.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from features.errors import JourneyError, unknown_name_message
from serving.predictions import AS_OF, KEY, REASON_FEATURES, REASONS, risk_order
from serving.reports.html import render_template
from serving.risk_list_page import SCRIPT, STYLE, TEMPLATE

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from features.config import Params
    from serving.writeback import Target

LIST_COLUMNS = (
    "risk_tier",
    "p_churn",
    "p_churn_90d",
    "median_days_to_churn",
    "clv",
    "value_at_risk",
    *REASONS,
    "recommended_action",
    "recommended_size",
)
# (key, label, type) of the columns the page shows; the rest stay in the detail panel.
PAGE_COLUMNS = (
    ("rank", "#", "int"),
    (KEY, "customer", "text"),
    ("segment", "segment", "text"),
    ("risk_tier", "tier", "text"),
    ("p_churn", "P(churn)", "pct"),
    ("median_days_to_churn", "days to churn", "int"),  # label: MEDIAN_LABELS
    ("clv", "CLV", "money"),
    ("value_at_risk", "value at risk", "money"),
    ("reason_1", "top reason", "text"),
    ("recommended_action", "action", "text"),
    ("recommended_size", "size", "text"),
)
# What the survival median means depends on ``labels.churn`` (models/pyfunc_churn_survival.py):
# under inactivity the event timed is the next order, so a long median is the risky one and
# "days to churn" would read the wrong way round to a CS lead.
MEDIAN_LABELS = {
    "inactivity": "days to next order (median)",
    "cancellation": "days to churn (median)",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class RiskListFiles:
    csv: Path
    html: Path
    rows: int


@dataclass(frozen=True)
class RiskTotals:
    """Figures over every customer scored that day, for the page's header."""

    customers: int
    value_at_risk: float
    tiers: dict[str, int]


def risk_totals(ranked: pd.DataFrame) -> RiskTotals:
    """Customers, summed value at risk and customers per tier of a whole day's list."""
    if ranked.empty:
        return RiskTotals(0, 0.0, {})
    tiers = ranked.risk_tier.dropna().value_counts()
    return RiskTotals(
        len(ranked),
        float(ranked.value_at_risk.fillna(0).sum()),
        {str(t): int(n) for t, n in tiers.items()},
    )


def rank_risk_list(
    predictions: pd.DataFrame, customers: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One date's predictions, ranked by value at risk (nulls last), with customer columns.

    ``customers`` (``customer_id`` plus the configured columns) is left-joined on the id.
    """
    cols = [KEY, AS_OF, *LIST_COLUMNS, *REASON_FEATURES, "survival_curve"]
    out = predictions[[c for c in cols if c in predictions.columns]].reset_index(drop=True)
    out = out.iloc[risk_order(out)].reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    if customers is not None and len(customers.columns) > 1:
        extra = customers.drop_duplicates(KEY)
        out = out.merge(extra, on=KEY, how="left", validate="one_to_one")
        first = ["rank", KEY, *[c for c in extra.columns if c != KEY]]
        out = out[first + [c for c in out.columns if c not in first]]
    return out


def _csv_safe(v: object) -> object:
    """Spreadsheet/CRM formula injection guard: text starting with = + - @ gets a quote."""
    if isinstance(v, str) and v.startswith(FORMULA_START):
        return "'" + v
    return v


def write_csv(ranked: pd.DataFrame, path: Path) -> Path:
    """The ranked list as UTF-8 CSV (no survival curves or reason feature names)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shown = ranked.drop(columns=[*REASON_FEATURES, "survival_curve"], errors="ignore")
    text_cols = [c for c in shown.columns if shown[c].dtype == object]
    shown = shown.assign(**{c: shown[c].map(_csv_safe) for c in text_cols})
    shown.to_csv(path, index=False, float_format="%.6g", date_format="%Y-%m-%d")
    return path


def _json_for_script(data: object) -> str:
    """JSON safe inside a <script> element: < > & are escaped, so no tag can close it."""
    text = json.dumps(data, allow_nan=False, default=str, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _plain(v: object) -> object:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    if hasattr(v, "item") and not isinstance(v, str):
        return _plain(v.item())
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def render_risk_page(
    ranked: pd.DataFrame,
    history: pd.DataFrame,
    *,
    as_of: dt.date,
    rows: int,
    generated_at: dt.datetime | None = None,
    totals: RiskTotals | None = None,
    churn_definition: str = "inactivity",
) -> str:
    """The HTML page: the top ``rows`` of ``ranked`` and each shown customer's score history.

    The header's figures come from ``totals`` when ``ranked`` holds only the top of the
    day's list (the Spark engine collects the top rows only); else from ``ranked``.
    ``churn_definition`` (``labels.churn``) names the survival median's column.
    """
    if churn_definition not in MEDIAN_LABELS:
        raise JourneyError(
            unknown_name_message("churn definition", churn_definition, MEDIAN_LABELS)
        )
    shown = ranked.head(rows)
    columns = [
        (k, MEDIAN_LABELS[churn_definition] if k == "median_days_to_churn" else label, t)
        for k, label, t in PAGE_COLUMNS
        if k in shown.columns
    ]
    keep = [c for c in shown.columns if c != AS_OF]
    records = [
        {k: _plain(v) for k, v in zip(keep, r, strict=True)}
        for r in shown[keep].itertuples(index=False, name=None)
    ]
    hist: dict[str, list[list[object]]] = {}
    if not history.empty:
        h = history[history[KEY].isin(set(shown[KEY]))].sort_values([KEY, AS_OF])
        for r in h[[KEY, AS_OF, "p_churn", "risk_tier", "recommended_action"]].itertuples(
            index=False, name=None
        ):
            hist.setdefault(str(r[0]), []).append([_plain(v) for v in r[1:]])
    data = {
        "columns": [{"key": k, "label": label, "type": t} for k, label, t in columns],
        "rows": records,
        "history": hist,
    }
    tiers = sorted({str(r["risk_tier"]) for r in records if r.get("risk_tier")})
    reasons = sorted({str(r[c]) for r in records for c in REASON_FEATURES if r.get(c)})
    actions = sorted({str(r["recommended_action"]) for r in records if r.get("recommended_action")})
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    totals = totals or risk_totals(ranked)
    facts = [
        ("customers scored", f"{totals.customers:,}"),
        ("shown here", f"{len(shown):,} (top by value at risk)"),
        ("value at risk", f"{totals.value_at_risk:,.0f}"),
        *((f"tier {t}", f"{totals.tiers[t]:,}") for t in sorted(totals.tiers)),
    ]
    return render_template(
        "risk_list.html",
        templates={"risk_list.html": TEMPLATE},
        title=f"Churn-risk list {as_of:%Y-%m-%d}",
        subtitle="ranked by value at risk = P(churn) x CLV",
        generated_at=f"{generated_at:%Y-%m-%d %H:%M} UTC" if generated_at else None,
        style=STYLE,
        script=SCRIPT,
        script_hash=digest,
        data_json=_json_for_script(data),
        columns=columns,
        tiers=tiers,
        reasons=reasons,
        actions=actions,
        facts=facts,
    )


def select_customer_columns(customers: ir.Table, params: Params) -> ir.Table | None:
    """``customer_id`` + segment + configured contact columns of ``customers``, or None."""
    s = params.serving
    wanted = [c for c in (s.segment_column, *s.contact_columns) if c]
    if not wanted:
        return None
    have = customers.columns
    for c in wanted:
        if c not in have:
            raise JourneyError(
                "serving.contact_columns / segment_column: "
                + unknown_name_message("customers column", c, have)
            )
    return customers.select(KEY, *wanted)


def customer_columns(con: BaseBackend, params: Params) -> pd.DataFrame | None:
    """``customer_id`` + segment + configured contact columns from ``customers``, or None."""
    if "customers" not in con.list_tables():
        return None
    t = select_customer_columns(con.table("customers"), params)
    return None if t is None else t.to_pyarrow().to_pandas()


def write_risk_list(
    con: BaseBackend,
    target: Target,
    as_of: dt.date,
    *,
    params: Params,
    generated_at: dt.datetime | None = None,
) -> RiskListFiles:
    """Write ``risk_list_<date>.csv`` and ``.html`` under ``serving.risk_list_dir``."""
    s = params.serving
    since = as_of - dt.timedelta(days=s.history_runs - 1)
    preds = target.read(since=since, until=as_of)
    today = preds[preds[AS_OF] == as_of]
    ranked = rank_risk_list(today, customer_columns(con, params))
    folder = params.path(s.risk_list_dir)
    csv = write_csv(ranked, folder / f"risk_list_{as_of:%Y-%m-%d}.csv")
    page = render_risk_page(
        ranked,
        preds,
        as_of=as_of,
        rows=s.html_rows,
        generated_at=generated_at,
        churn_definition=params.labels.churn,
    )
    html = folder / f"risk_list_{as_of:%Y-%m-%d}.html"
    html.write_text(page, encoding="utf-8")
    return RiskListFiles(csv, html, len(ranked))
