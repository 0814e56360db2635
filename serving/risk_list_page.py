"""The risk-list page's template, style and script (kept apart from the Python that fills them).

The script builds every cell with ``textContent`` and the survival curve with SVG DOM
calls, so no data string is ever parsed as HTML. It is allowed by its SHA-256 hash in the
page's Content-Security-Policy; no other script, and no network request, can run.
"""

from __future__ import annotations

TEMPLATE = """{% extends "base.html" %}
{% block csp %}default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{{ script_hash }}'{% endblock %}
{% block head %}<style>{{ style }}</style>{% endblock %}
{% block nav %}{% endblock %}
{% block content %}
<section id="summary">
<div class="facts">{% for k, v in facts %}
<div class="fact"><div class="v">{{ v }}</div><div class="k">{{ k }}</div></div>{% endfor %}
</div>
<div class="filters">
<label>tier <select id="f-tier"><option value="">all</option>{% for t in tiers %}<option value="{{ t }}">{{ t }}</option>{% endfor %}</select></label>
<label>reason <select id="f-reason"><option value="">all</option>{% for r in reasons %}<option value="{{ r }}">{{ r }}</option>{% endfor %}</select></label>
<label>action <select id="f-action"><option value="">all</option>{% for a in actions %}<option value="{{ a }}">{{ a }}</option>{% endfor %}</select></label>
<label>customer <input id="f-search" type="search" placeholder="id contains"></label>
<span id="count" class="note"></span>
</div>
</section>
<div class="layout">
<section class="list">
<table id="risk">
<thead><tr>{% for key, label, kind in columns %}<th data-key="{{ key }}" data-type="{{ kind }}"{% if kind != 'text' %} class="num"{% endif %} tabindex="0" aria-sort="none">{{ label }}</th>{% endfor %}</tr></thead>
<tbody></tbody>
</table>
</section>
<aside id="detail" hidden>
<button id="d-close" type="button" aria-label="close">&times;</button>
<h2 id="d-title"></h2>
<dl id="d-facts"></dl>
<h3>survival curve</h3>
<svg id="d-curve" viewBox="0 0 320 180" width="320" height="180" role="img" aria-label="survival curve"></svg>
<h3>score history</h3>
<table id="d-history"><thead><tr><th>as of</th><th class="num">P(churn)</th><th>tier</th><th>action</th></tr></thead><tbody></tbody></table>
</aside>
</div>
<script type="application/json" id="risk-data">{{ data_json|safe }}</script>
<script>{{ script|safe }}</script>
{% endblock %}
"""

STYLE = """
main { max-width: none; }
.filters { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; font-size: .9rem; }
.filters select, .filters input { font: inherit; padding: .15rem .3rem; }
.layout { display: flex; gap: 1rem; align-items: flex-start; }
.layout .list { flex: 1; overflow-x: auto; }
#risk th { cursor: pointer; user-select: none; white-space: nowrap; }
#risk th[aria-sort=ascending]::after { content: " \\25B2"; }
#risk th[aria-sort=descending]::after { content: " \\25BC"; }
#risk tbody tr { cursor: pointer; }
#risk tbody tr:hover, #risk tbody tr.selected { background: #eef3fb; }
td.tier-high { color: #b3261e; font-weight: 600; }
td.tier-medium { color: #a15c00; }
aside#detail { width: 360px; background: #fff; border-radius: 6px; padding: 1rem;
               box-shadow: 0 1px 3px rgba(0,0,0,.15); position: sticky; top: 1rem; }
#d-close { float: right; border: 0; background: none; font-size: 1.3rem; cursor: pointer; }
dl#d-facts { display: grid; grid-template-columns: auto 1fr; gap: .2rem .8rem; font-size: .85rem; }
dl#d-facts dt { color: #5a6573; }
dl#d-facts dd { margin: 0; }
"""

SCRIPT = r"""(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("risk-data").textContent);
  var rows = data.rows, cols = data.columns;
  var state = { key: "rank", dir: 1, tier: "", reason: "", action: "", q: "" };
  var tbody = document.querySelector("#risk tbody");
  var heads = document.querySelectorAll("#risk th");

  function fmt(v, type) {
    if (v === null || v === undefined) return "";
    if (type === "pct") return (100 * v).toFixed(1) + "%";
    if (type === "money") return Number(v).toLocaleString("en-US", { maximumFractionDigits: 0 });
    if (type === "int") return Math.round(Number(v)).toLocaleString("en-US");
    return String(v);
  }
  function label(key) {  // the page's own column label, so table and panel agree
    for (var i = 0; i < cols.length; i++) if (cols[i].key === key) return cols[i].label;
    return key;
  }
  function keep(r) {
    if (state.tier && r.risk_tier !== state.tier) return false;
    if (state.action && r.recommended_action !== state.action) return false;
    if (state.reason && r.reason_1_feature !== state.reason && r.reason_2_feature !== state.reason &&
        r.reason_3_feature !== state.reason) return false;
    if (state.q && String(r.customer_id).toLowerCase().indexOf(state.q) < 0) return false;
    return true;
  }
  function compare(a, b) {
    var x = a[state.key], y = b[state.key];
    if (x === y) return a.rank - b.rank;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * state.dir;
  }
  function render() {
    var list = rows.filter(keep).sort(compare);
    var frag = document.createDocumentFragment();
    list.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-id", r.customer_id);
      cols.forEach(function (c) {
        var td = document.createElement("td");
        td.textContent = fmt(r[c.key], c.type);
        if (c.type !== "text") td.className = "num";
        if (c.key === "risk_tier" && r.risk_tier) td.className = "tier-" + r.risk_tier;
        tr.appendChild(td);
      });
      tr.addEventListener("click", function () { show(r, tr); });
      frag.appendChild(tr);
    });
    tbody.textContent = "";
    tbody.appendChild(frag);
    document.getElementById("count").textContent = list.length + " of " + rows.length + " customers";
    Array.prototype.forEach.call(heads, function (th) {
      var on = th.getAttribute("data-key") === state.key;
      th.setAttribute("aria-sort", on ? (state.dir > 0 ? "ascending" : "descending") : "none");
    });
  }
  function sortBy(th) {
    var key = th.getAttribute("data-key");
    if (state.key === key) state.dir = -state.dir;
    else { state.key = key; state.dir = th.getAttribute("data-type") === "text" ? 1 : -1; }
    render();
  }
  Array.prototype.forEach.call(heads, function (th) {
    th.addEventListener("click", function () { sortBy(th); });
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") sortBy(th); });
  });
  [["f-tier", "tier"], ["f-reason", "reason"], ["f-action", "action"]].forEach(function (p) {
    document.getElementById(p[0]).addEventListener("change", function (e) {
      state[p[1]] = e.target.value; render();
    });
  });
  document.getElementById("f-search").addEventListener("input", function (e) {
    state.q = e.target.value.toLowerCase(); render();
  });

  var SVG = "http://www.w3.org/2000/svg";
  function svg(name, attrs, text) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (text !== undefined) el.textContent = text;
    return el;
  }
  function drawCurve(curveJson) {
    var box = document.getElementById("d-curve");
    box.textContent = "";
    var pts = [];
    try { pts = JSON.parse(curveJson || "[]"); } catch (err) { pts = []; }
    var L = 36, R = 310, T = 10, B = 150, maxT = Math.max(15 * (pts.length - 1), 1);
    box.appendChild(svg("line", { x1: L, y1: B, x2: R, y2: B, stroke: "#888" }));
    box.appendChild(svg("line", { x1: L, y1: T, x2: L, y2: B, stroke: "#888" }));
    box.appendChild(svg("text", { x: L - 4, y: T + 4, "text-anchor": "end", "font-size": 10 }, "1"));
    box.appendChild(svg("text", { x: L - 4, y: B, "text-anchor": "end", "font-size": 10 }, "0"));
    box.appendChild(svg("text", { x: R, y: B + 14, "text-anchor": "end", "font-size": 10 }, maxT + " days"));
    box.appendChild(svg("text", { x: L, y: B + 14, "font-size": 10 }, "0"));
    if (!pts.length) {
      box.appendChild(svg("text", { x: 170, y: 80, "text-anchor": "middle", "font-size": 11 }, "no curve"));
      return;
    }
    var d = pts.map(function (s, i) {
      var x = L + (R - L) * (15 * i) / maxT, y = B - (B - T) * Math.max(0, Math.min(1, s));
      return (i ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
    }).join(" ");
    box.appendChild(svg("path", { d: d, fill: "none", stroke: "#2f6db5", "stroke-width": 2, "class": "curve" }));
  }
  function show(r, tr) {
    Array.prototype.forEach.call(tbody.querySelectorAll("tr.selected"), function (x) {
      x.classList.remove("selected");
    });
    tr.classList.add("selected");
    var panel = document.getElementById("detail");
    panel.hidden = false;
    document.getElementById("d-title").textContent = "customer " + r.customer_id;
    var dl = document.getElementById("d-facts");
    dl.textContent = "";
    var facts = [
      ["tier", r.risk_tier], ["P(churn)", fmt(r.p_churn, "pct")],
      ["P(churn) 90 days", fmt(r.p_churn_90d, "pct")],
      [label("median_days_to_churn"), fmt(r.median_days_to_churn, "int")],
      ["CLV", fmt(r.clv, "money")], ["value at risk", fmt(r.value_at_risk, "money")],
      ["reason 1", r.reason_1], ["reason 2", r.reason_2], ["reason 3", r.reason_3],
      ["action", r.recommended_action], ["recommended size", r.recommended_size]
    ];
    cols.forEach(function (c) {  // configured customer columns (segment, contacts)
      if (["segment"].indexOf(c.key) >= 0) facts.push([c.label, r[c.key]]);
    });
    facts.forEach(function (f) {
      if (f[1] === null || f[1] === undefined || f[1] === "") return;
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = f[0]; dd.textContent = String(f[1]);
      dl.appendChild(dt); dl.appendChild(dd);
    });
    drawCurve(r.survival_curve);
    var hb = document.querySelector("#d-history tbody");
    hb.textContent = "";
    (data.history[r.customer_id] || []).forEach(function (h) {
      var row = document.createElement("tr");
      [h[0], fmt(h[1], "pct"), h[2], h[3]].forEach(function (v, i) {
        var td = document.createElement("td");
        td.textContent = v === null || v === undefined ? "" : String(v);
        if (i === 1) td.className = "num";
        row.appendChild(td);
      });
      hb.appendChild(row);
    });
  }
  document.getElementById("d-close").addEventListener("click", function () {
    document.getElementById("detail").hidden = true;
  });
  render();
})();
"""
