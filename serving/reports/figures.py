"""Report figures as PNG bytes, drawn with matplotlib's object API (no pyplot state).

Labels come from data, so math text is off: a page called ``$5 off`` is drawn as typed.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

_RC: dict[Any, Any] = {
    "text.parse_math": False,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",
}
_BLUE = "#2f6db5"


@contextmanager
def _figure(width: float, height: float) -> Iterator[tuple[Figure, io.BytesIO]]:
    buf = io.BytesIO()
    with rc_context(_RC):
        fig = Figure(figsize=(width, height), layout="constrained")
        yield fig, buf
        fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    xlabel: str = "",
    value_format: str = ",.0f",
) -> bytes:
    """Horizontal bars, first label on top, each bar labelled with its value."""
    n = len(labels)
    with _figure(7.5, max(1.6, 0.32 * n + 0.9)) as (fig, buf):
        ax = fig.subplots()
        y = np.arange(n)
        bars = ax.barh(y, values, color=_BLUE)
        ax.set_yticks(y, [str(label) for label in labels])
        ax.invert_yaxis()
        ax.bar_label(bars, labels=[format(v, value_format) for v in values], padding=3)
        ax.set_title(title, loc="left")
        ax.set_xlabel(xlabel)
        ax.margins(x=0.12)
    return buf.getvalue()


def funnel_chart(pages: Sequence[str], counts: Sequence[int], *, title: str) -> bytes:
    """Centred bars that narrow step by step, labelled with count and share of step 1."""
    n = len(pages)
    top = max(max(counts), 1)
    with _figure(7.5, max(1.6, 0.55 * n + 0.8)) as (fig, buf):
        ax = fig.subplots()
        y = np.arange(n)
        left = [(top - c) / 2 for c in counts]
        ax.barh(y, counts, left=left, color=_BLUE, height=0.7)
        for i, c in enumerate(counts):
            share = c / counts[0] if counts[0] else 0.0
            ax.text(
                top / 2,
                i,
                f"{c:,} ({share:.0%})",
                ha="center",
                va="center",
                color="white" if c > top * 0.25 else "#1d2733",
            )
        ax.set_yticks(y, [f"{i + 1}. {p}" for i, p in enumerate(pages)])
        ax.invert_yaxis()
        ax.set_xticks([])
        ax.spines[["bottom", "left"]].set_visible(False)
        ax.set_title(title, loc="left")
    return buf.getvalue()


def heatmap(
    matrix: pd.DataFrame,
    *,
    title: str,
    value_format: str = ".0%",
    xlabel: str = "",
    ylabel: str = "",
) -> bytes:
    """A matrix of values, annotated when small enough to read; NaN cells are blank."""
    rows, cols = matrix.shape
    values = matrix.to_numpy(dtype=float)
    xlabels = [str(c) for c in matrix.columns]
    ylabels = [str(r) for r in matrix.index]
    tilt = cols > 8 or max(map(len, xlabels), default=0) > 6
    width = 2.5 + 0.075 * max(map(len, ylabels), default=0) + 0.75 * cols
    height = 1.4 + 0.34 * rows + (0.07 * max(map(len, xlabels), default=0) if tilt else 0)
    with _figure(min(13, max(6.0, width)), min(14, height)) as (fig, buf):
        ax = fig.subplots()
        im = ax.imshow(np.ma.masked_invalid(values), cmap="Blues", aspect="auto", vmin=0)
        ax.set_xticks(
            range(cols), xlabels, rotation=30 if tilt else 0, ha="right" if tilt else "center"
        )
        ax.set_yticks(range(rows), ylabels)
        if rows * cols <= 400:
            vmax = np.nanmax(values) if np.isfinite(values).any() else 1.0
            for (i, j), v in np.ndenumerate(values):
                if not math.isnan(v):
                    dark = v > 0.6 * vmax
                    ax.text(
                        j,
                        i,
                        format(v, value_format),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if dark else "#1d2733",
                    )
        ax.set_title(title, loc="left")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.spines[["bottom", "left"]].set_visible(False)
        fig.colorbar(im, ax=ax, shrink=0.8)
    return buf.getvalue()


def line_chart(
    x: Sequence[Any],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    ylabel: str = "",
) -> bytes:
    """One line per series over a shared x axis (dates or numbers)."""
    with _figure(9, 3.4) as (fig, buf):
        ax = fig.subplots()
        for i, (label, values) in enumerate(series.items()):
            ax.plot(x, values, label=label, lw=1.8 if i else 0.8, alpha=1 if i else 0.6)
        ax.set_title(title, loc="left")
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper left", frameon=False)
        ax.grid(axis="y", alpha=0.3)
    return buf.getvalue()


def transition_graph(
    nodes: Sequence[tuple[str, int]],
    edges: Sequence[tuple[str, str, int]],
    *,
    title: str,
) -> bytes:
    """Pages on a circle, sized by visits; arrows from page to next page, width by count."""
    n = len(nodes)
    angle = {name: math.pi / 2 - 2 * math.pi * i / n for i, (name, _) in enumerate(nodes)}
    pos = {k: (math.cos(a), math.sin(a)) for k, a in angle.items()}
    biggest = max(c for _, c in nodes) or 1
    radius = {k: 8 + 22 * math.sqrt(c / biggest) for k, c in nodes}  # points
    heaviest = max((c for *_, c in edges), default=1) or 1
    with _figure(8, 8) as (fig, buf):
        ax = fig.subplots()
        ax.set_aspect("equal")
        ax.set_xlim(-1.6, 1.6)
        ax.set_ylim(-1.45, 1.45)
        ax.axis("off")
        for a, b, c in sorted(edges, key=lambda e: e[2]):
            w = c / heaviest
            ax.add_patch(
                FancyArrowPatch(
                    pos[a],
                    pos[b],
                    arrowstyle="-|>",
                    mutation_scale=8 + 10 * w,
                    connectionstyle="arc3,rad=0.18",
                    lw=0.4 + 6 * w,
                    color=(0.18, 0.43, 0.71, 0.25 + 0.65 * w),
                    shrinkA=radius[a] * 0.75,
                    shrinkB=radius[b] * 0.75,
                    zorder=1,
                )
            )
        for name, count in nodes:
            x, y = pos[name]
            ax.scatter(
                [x],
                [y],
                s=(radius[name] * 1.5) ** 2,
                color="#e8eef7",
                edgecolor=_BLUE,
                lw=1.2,
                zorder=2,
            )
            theta = angle[name]
            lx, ly = 1.2 * math.cos(theta), 1.2 * math.sin(theta)
            ha = "center" if abs(lx) < 0.36 else ("left" if lx > 0 else "right")
            ax.text(lx, ly, f"{name}\n{count:,}", ha=ha, va="center", fontsize=8, zorder=3)
        ax.set_title(title, loc="left")
    return buf.getvalue()
