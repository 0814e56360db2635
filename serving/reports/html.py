"""Self-contained HTML pages: one base template, sections of facts, figures and tables.

Pages load nothing from the network: styles are inline, figures are embedded PNG data
URIs, and a Content-Security-Policy forbids every other source. Jinja2 autoescaping is on
for every template, so any string taken from data (a page name, a plan, a customer id)
is shown as text, never interpreted as markup.

Pages that need a script (the churn-risk list) override ``{% block csp %}`` to allow
exactly their own inline script by its hash, and add styles in ``{% block head %}``.

Other pages (the churn-risk list, for one) reuse the base: either pass
:class:`Section` objects to :func:`render_page`, or register a template that starts with
``{% extends "base.html" %}`` and fills ``{% block content %}`` through
:func:`render_template`'s ``templates`` argument.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd

_BASE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
      content="{% block csp %}default-src 'none'; img-src data:; style-src 'unsafe-inline'{% endblock %}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       color: #1d2733; background: #f6f7f9; line-height: 1.45; }
header { background: #1d2733; color: #fff; padding: 1.2rem 2rem; }
header h1 { margin: 0 0 .3rem; font-size: 1.5rem; }
header p { margin: 0; color: #c4cbd4; font-size: .9rem; }
nav { padding: .6rem 2rem; background: #e8ebef; font-size: .9rem; }
nav a { margin-right: 1rem; color: #1d4f91; text-decoration: none; }
main { padding: 1rem 2rem 3rem; max-width: 1200px; }
section { background: #fff; border-radius: 6px; padding: 1rem 1.4rem; margin: 1rem 0;
          box-shadow: 0 1px 2px rgba(0,0,0,.08); }
h2 { font-size: 1.2rem; margin: .2rem 0 .6rem; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
.facts { display: flex; flex-wrap: wrap; gap: .8rem; margin: .4rem 0 .8rem; }
.fact { background: #f0f3f7; border-radius: 4px; padding: .5rem .8rem; min-width: 9rem; }
.fact .v { font-size: 1.3rem; font-weight: 600; }
.fact .k { font-size: .8rem; color: #5a6573; }
.note { color: #5a6573; font-size: .9rem; }
.warning { background: #fff4e0; border-left: 4px solid #e69b00; padding: .5rem .8rem; }
figure { margin: .6rem 0; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: .85rem; color: #5a6573; }
table { border-collapse: collapse; font-size: .85rem; margin: .3rem 0 .8rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e3e6ea; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f0f3f7; }
</style>
{% block head %}{% endblock %}
</head>
<body>
<header>
<h1>{{ title }}</h1>
<p>{{ subtitle }}{% if generated_at %} &middot; generated {{ generated_at }}{% endif %}</p>
</header>
{% block nav %}{% if sections|length > 1 %}
<nav>{% for s in sections %}<a href="#{{ s.anchor }}">{{ s.title }}</a>{% endfor %}</nav>
{% endif %}{% endblock %}
<main>
{% for w in warnings %}<p class="warning">{{ w }}</p>{% endfor %}
{% block content %}{% for s in sections %}{% include "section.html" %}{% endfor %}{% endblock %}
</main>
</body>
</html>
"""

_SECTION = """<section id="{{ s.anchor }}">
<h2>{{ s.title }}</h2>
{% if s.intro %}<p class="note">{{ s.intro }}</p>{% endif %}
{% if s.facts %}<div class="facts">{% for k, v in s.facts %}
<div class="fact"><div class="v">{{ v }}</div><div class="k">{{ k }}</div></div>{% endfor %}
</div>{% endif %}
{% for f in s.figures %}<figure>
<img src="{{ f.data_uri }}" alt="{{ f.title }}">
{% if f.caption %}<figcaption>{{ f.caption }}</figcaption>{% endif %}
</figure>{% endfor %}
{% for t in s.tables %}{% include "table.html" %}{% endfor %}
{% for n in s.notes %}<p class="note">{{ n }}</p>{% endfor %}
</section>
"""

_TABLE = """{% if t.title %}<h3>{{ t.title }}</h3>{% endif %}
<table>
<thead><tr>{% for c in t.columns %}<th{% if t.numeric[loop.index0] %} class="num"{% endif %}>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in t.rows %}
<tr>{% for v in row %}<td{% if t.numeric[loop.index0] %} class="num"{% endif %}>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</tbody>
</table>
{% if t.caption %}<p class="note">{{ t.caption }}</p>{% endif %}
"""

TEMPLATES: dict[str, str] = {"base.html": _BASE, "section.html": _SECTION, "table.html": _TABLE}


@dataclass(frozen=True)
class Figure:
    """A PNG figure, embedded in the page as a data URI."""

    title: str
    png: bytes
    caption: str = ""

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class Table:
    """Rows of already formatted cells; ``numeric`` right-aligns a column."""

    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    title: str = ""
    caption: str = ""
    numeric: Sequence[bool] = ()

    def __post_init__(self) -> None:
        if not self.numeric:
            object.__setattr__(self, "numeric", [False] * len(self.columns))


@dataclass
class Section:
    """One block of a page: key figures (``facts``), figures, tables and notes."""

    title: str
    anchor: str
    intro: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def format_value(v: object, fmt: str | None = None) -> str:
    """A cell: ``fmt`` (a format spec such as ``",.2f"`` or ``".1%"``) for numbers."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, tuple):
        return " → ".join(str(p) for p in v)
    if fmt and isinstance(v, int | float):
        return format(v, fmt)
    if isinstance(v, float):
        return format(v, ",.4g")
    if isinstance(v, int):
        return format(v, ",")
    return str(v)


def table_from_frame(
    df: pd.DataFrame,
    *,
    title: str = "",
    caption: str = "",
    formats: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    max_rows: int | None = None,
) -> Table:
    """A :class:`Table` from a frame; ``formats`` per column, ``labels`` rename headers.

    Headers without a label show the column name with spaces for underscores.
    """
    formats, labels = formats or {}, labels or {}
    shown = df if max_rows is None else df.head(max_rows)
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    rows = [
        [format_value(_native(v), formats.get(c)) for c, v in zip(df.columns, r, strict=True)]
        for r in shown.itertuples(index=False, name=None)
    ]
    if max_rows is not None and len(df) > max_rows:
        caption = (caption + " " if caption else "") + f"First {max_rows} of {len(df):,} rows."
    return Table(
        columns=[labels.get(c, c.replace("_", " ")) for c in df.columns],
        rows=rows,
        title=title,
        caption=caption,
        numeric=numeric,
    )


def _native(v: object) -> object:
    return v.item() if hasattr(v, "item") and not isinstance(v, str | bytes) else v


def environment(templates: Mapping[str, str] | None = None) -> jinja2.Environment:
    """A Jinja2 environment with the base templates (plus ``templates``), autoescaping on."""
    return jinja2.Environment(
        loader=jinja2.DictLoader({**TEMPLATES, **(templates or {})}),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_template(
    name: str, *, templates: Mapping[str, str] | None = None, **context: object
) -> str:
    """Render template ``name`` (a base template or one of ``templates``)."""
    context.setdefault("sections", [])
    context.setdefault("warnings", [])
    context.setdefault("subtitle", "")
    context.setdefault("generated_at", None)
    return environment(templates).get_template(name).render(**context)


def render_page(
    title: str,
    sections: Sequence[Section],
    *,
    subtitle: str = "",
    generated_at: dt.datetime | None = None,
    warnings: Sequence[str] = (),
) -> str:
    """A whole page from the base template and ``sections``."""
    return render_template(
        "base.html",
        title=title,
        subtitle=subtitle,
        generated_at=f"{generated_at:%Y-%m-%d %H:%M} UTC" if generated_at else None,
        sections=list(sections),
        warnings=list(warnings),
    )


def write_page(html: str, path: Path) -> Path:
    """Write ``html`` to ``path`` (creating its folder) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


@dataclass
class Report:
    """A finished report: its page sections, its figures as JSON data, and its warnings."""

    kind: str
    title: str
    subtitle: str
    sections: list[Section]
    data: dict[str, object]
    warnings: list[str] = field(default_factory=list)

    def to_html(self, *, generated_at: dt.datetime | None = None) -> str:
        return render_page(
            self.title,
            self.sections,
            subtitle=self.subtitle,
            generated_at=generated_at,
            warnings=self.warnings,
        )

    def to_json(self) -> str:
        """``data`` plus ``report`` (the kind); NaN becomes null so the JSON is valid."""
        return json.dumps(jsonable({"report": self.kind, **self.data}), indent=2, allow_nan=False)


def jsonable(v: object) -> object:
    """Plain JSON values: numpy scalars unwrapped, tuples as lists, NaN as None."""
    v = _native(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, Mapping):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    return v
