"""Load the ModCloth / RentTheRunway fit-feedback files (Misra et al. 2018), JSON lines.

Each line is one purchase (or rental) with the customer's fit verdict:

- ModCloth (``modcloth_final_data.json``): ``item_id, user_id, size`` (the shop's numeric
  size), ``fit``, ``category``, ``bra size`` (band, e.g. ``"34"``), ``cup size`` (``"b"``,
  ``"dd/e"``), ``quality``, ``length``, ... and no date;
- RentTheRunway (``renttherunway_final_data.json``): ``fit, user_id, item_id, size``,
  ``category``, ``bust size`` (``"34d"``), ``rating``, ``review_date``
  (``"April 20, 2016"``), ...

``fit`` is ``small``/``fit``/``large``, recoded to the contract's ``too_small``/``fit``/
``too_large``. The frame fits ``SizeRecommender`` as it is (``size`` is a numeric label).

Nothing is dropped silently: a line with a bad or missing required field is rejected and
each problem listed with its line number, field and value; a bad optional field is set
to null and listed too. ``lines_read == rows + rejected_lines`` always holds.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from features.errors import unknown_name_message

DATASETS = ("modcloth", "renttherunway")
FIT_VALUES = {"small": "too_small", "fit": "fit", "large": "too_large"}
REQUIRED = {"user_id": "customer_id", "item_id": "product_id", "category": "category"}
COLUMNS = (
    "line_number", "customer_id", "product_id", "category", "size", "fit", "ts",
    "customer_band", "customer_cup",
)  # fmt: skip
PROBLEM_COLUMNS = ("line_number", "field", "value", "problem", "action")
_BUST = re.compile(r"^\s*(\d{2})\s*([a-z][a-z/+]*)\s*$", re.IGNORECASE)


@dataclass
class FitFeedbackLoad:
    """Accepted rows, every problem found, and the count of lines read."""

    frame: pd.DataFrame
    problems: pd.DataFrame
    lines_read: int

    @property
    def rejected_lines(self) -> int:
        rejected = self.problems[self.problems["action"] == "rejected"]
        return int(rejected["line_number"].nunique())

    @property
    def reconciles(self) -> bool:
        return self.lines_read == len(self.frame) + self.rejected_lines


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def _size_label(value) -> str:
    """A numeric size as a label: ``14`` and ``"14"`` -> ``"14"``, ``7.5`` -> ``"7.5"``."""
    if isinstance(value, bool):
        raise ValueError
    number = float(value)
    if not math.isfinite(number):
        raise ValueError
    return str(int(number)) if number.is_integer() else repr(number)


def _band(value) -> int:
    number = float(value)
    if not number.is_integer() or not 20 <= number <= 60:
        raise ValueError
    return int(number)


def _bust(value) -> tuple[int, str]:
    m = _BUST.match(str(value))
    if not m:
        raise ValueError
    return int(m.group(1)), m.group(2).lower()


def _parse_record(record: dict, dataset: str, line: int, problems: list) -> dict | None:
    """One accepted row, or None when a required field is bad (problems appended)."""
    row: dict = {"line_number": line}
    bad = []
    for field, column in REQUIRED.items():
        value = record.get(field)
        if _missing(value) or isinstance(value, dict | list):
            bad.append((field, value, "missing" if _missing(value) else "not a scalar"))
        else:
            row[column] = str(value).strip()
    fit = record.get("fit")
    if isinstance(fit, str) and fit.strip().lower() in FIT_VALUES:
        row["fit"] = FIT_VALUES[fit.strip().lower()]
    else:
        bad.append(
            ("fit", fit, "missing" if _missing(fit) else f"not one of {', '.join(FIT_VALUES)}")
        )
    try:
        row["size"] = _size_label(record.get("size"))
    except (TypeError, ValueError):
        value = record.get("size")
        bad.append(("size", value, "missing" if _missing(value) else "not a number"))
    if bad:
        for field, value, problem in bad:
            problems.append((line, field, _show(value), problem, "rejected"))
        return None

    def optional(field: str, parse, problem: str):
        value = record.get(field)
        if _missing(value):
            return None
        try:
            return parse(value)
        except (TypeError, ValueError):
            problems.append((line, field, _show(value), problem, "nulled"))
            return None

    row["ts"] = row["customer_band"] = row["customer_cup"] = None
    if dataset == "modcloth":
        row["customer_band"] = optional("bra size", _band, "not a band (20-60)")
        row["customer_cup"] = optional("cup size", lambda v: str(v).strip().lower(), "not text")
    else:
        bust = optional("bust size", _bust, "not a bust size like 34d")
        if bust is not None:
            row["customer_band"], row["customer_cup"] = bust
        row["ts"] = optional(
            "review_date",
            lambda v: dt.datetime.strptime(str(v).strip(), "%B %d, %Y"),
            "not a date like 'April 20, 2016'",
        )
    return row


def _show(value) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


def load_fit_feedback(path: str | Path, dataset: str) -> FitFeedbackLoad:
    """Read a ModCloth or RentTheRunway JSON-lines file (``.gz`` too) into a fit frame."""
    if dataset not in DATASETS:
        raise ValueError(unknown_name_message("fit-feedback dataset", dataset, DATASETS))
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"fit-feedback file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    rows, problems, lines_read = [], [], 0
    with opener(path, "rb") as fh:
        for line, raw in enumerate(fh, start=1):
            lines_read = line
            try:
                text = raw.decode("utf-8").strip()
            except UnicodeDecodeError as err:
                problems.append(
                    (line, "<line>", _show(repr(raw[:60])), f"not UTF-8: {err.reason}", "rejected")
                )
                continue
            if not text:
                problems.append((line, "<line>", "", "blank line", "rejected"))
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as err:
                problems.append(
                    (line, "<line>", _show(text), f"not valid JSON: {err.msg}", "rejected")
                )
                continue
            if not isinstance(record, dict):
                problems.append((line, "<line>", _show(text), "not a JSON object", "rejected"))
                continue
            row = _parse_record(record, dataset, line, problems)
            if row is not None:
                rows.append(row)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["ts"] = pd.to_datetime(frame["ts"])
    frame["customer_band"] = frame["customer_band"].astype("Int64")
    frame["line_number"] = frame["line_number"].astype("int64")
    problem_frame = pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS))
    return FitFeedbackLoad(frame, problem_frame, lines_read)
