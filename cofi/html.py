"""Self-contained HTML: the neighbourhood graph of `cofi explore`, and the findings report.

Each file carries everything it needs (the data as JSON, the script, the style; for the graph the
pinned Cytoscape.js with its licence) and asks for nothing over the network: a Content Security
Policy forbids any load.  Every name and value reaches the page only as JSON data read by the
script and written with `textContent` (or drawn on the canvas), never as HTML, so a company called
`<img src=x onerror=alert(1)>` shows as exactly that text.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Sequence
from typing import Any

from cofi.explore import View
from cofi.findings import Finding
from cofi.resources import resource_dir
from cofi.restrictions import Restriction

CYTOSCAPE_VERSION = "3.34.4"
CYTOSCAPE_SHA256 = "081591ab735b2b6a3b31a3c60f8f3a3e2fee8c92939e0c7820ad1208571b6cd8"
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'"
)
KIND_COLOURS = {
    "person": "#4C8EDA",
    "company": "#F79767",
    "agency": "#8DCC93",
    "contract": "#FFD86E",
    "address": "#C990C0",
    "phone": "#C990C0",
    "email": "#C990C0",
}
KIND_SHAPES = {
    "person": "ellipse",
    "company": "round-rectangle",
    "agency": "hexagon",
    "contract": "diamond",
    "address": "triangle",
    "phone": "triangle",
    "email": "triangle",
}


def cytoscape_js() -> str:
    """The pinned Cytoscape.js, checked against its recorded hash."""
    path = resource_dir("vendor") / "cytoscape" / "cytoscape.min.js"
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != CYTOSCAPE_SHA256:
        raise RuntimeError(f"{path}: sha256 {digest}, expected the pinned {CYTOSCAPE_SHA256}")
    return data.decode("utf-8")


def json_for_html(data: Any) -> str:
    """JSON safe inside a <script> element: no `<`, `>` or `&` survives unescaped."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page(title: str, style: str, body: str, data: Any, script: str, libraries: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_BASE_STYLE}{style}</style>
</head>
<body>
{body}
<script type="application/json" id="cofi-data">{json_for_html(data)}</script>
{libraries}<script>{script}</script>
</body>
</html>
"""


def explore_html(view: View, records: dict[str, dict[str, Any]]) -> str:
    """The page for a neighbourhood view; `records` holds the input fields of its entities."""
    nodes = []
    for node in view.nodes.values():
        fields = [["kind", node["kind"]], ["id", node["id"]], ["name", node["name"]]]
        if node["kind"] == "contract":
            fields += _pairs(records.get(node["id"], {}), skip=("kind", "name"))
        elif node.get("key") is not None:
            fields += [["value as normalised", node["key"]], ["held by", str(node["holders"])]]
            if node.get("hub"):
                fields.append(["hub", "shared by more entities than the hub limit: not crossed"])
        else:
            members = node.get("records", [])
            if len(members) > 1:
                fields.append(["merged records", ", ".join(members)])
            for record in members:
                prefix = f"{record}: " if len(members) > 1 else ""
                fields += [[prefix + k, v] for k, v in
                           _pairs(records.get(record, {}), skip=("kind", "name"))]  # fmt: skip
        nodes.append({**node, "fields": fields})
    data = {
        "title": view.title,
        "nodes": nodes,
        "edges": list(view.edges.values()),
        "focus": view.focus,
        "root": _root(view),
        "truncated": view.truncated,
        "finding": view.finding,
        "notes": view.notes,
        "colours": KIND_COLOURS,
        "shapes": KIND_SHAPES,
    }
    legend = "".join(
        f'<span class="key"><i style="background:{colour}"></i>{kind}</span>'
        for kind, colour in KIND_COLOURS.items()
        if kind not in ("address", "phone", "email")
    )
    body = f"""<header>
<h1 id="title"></h1>
<input id="search" type="search" placeholder="find a node by name or id" aria-label="search">
<span class="legend">{legend}<span class="key"><i style="background:#C990C0"></i>address, phone,
email</span><span class="key"><i class="path"></i>finding's path</span></span>
<p id="note"></p>
</header>
<main><div id="cy"></div><aside id="props"><p class="hint">Click a node or a link to see its
properties. Drag to pan, scroll to zoom.</p></aside></main>
<footer>cofi explore. Graph drawing: Cytoscape.js {CYTOSCAPE_VERSION} (MIT licence, its notice is
at the top of the script in this file).</footer>"""
    libraries = f"<script>{cytoscape_js()}</script>\n"
    return _page(view.title, _EXPLORE_STYLE, body, data, _EXPLORE_SCRIPT, libraries)


def _root(view: View) -> str:
    """Where the drawing starts: a finding's decision-maker, else what was asked for."""
    if view.finding is not None:
        first = view.finding["decision_maker_id"]
        for node in view.nodes.values():
            if first in node.get("records", ()) or node["id"] == first:
                return str(node["id"])
    return view.focus[0]


def _pairs(record: dict[str, Any], skip: tuple[str, ...]) -> list[list[str]]:
    out = []
    for key, value in record.items():
        if key in skip or value in (None, "", []):
            continue
        shown = "; ".join(map(str, value)) if isinstance(value, list) else str(value)
        out.append([key, shown])
    return out


def report_html(
    findings: list[Finding], title: str, restrictions: Sequence[Restriction] = ()
) -> str:
    """The findings report: a sortable, filterable table, each row opening onto its path; then
    the `restrictions` given (relatives serving together), if any."""
    rows = [f.as_dict() for f in findings]
    body = """<header>
<h1 id="title"></h1>
<input id="filter" type="search" placeholder="filter: any word of a row" aria-label="filter">
<select id="severity" aria-label="severity"><option value="">every severity</option>
<option>high</option><option>medium</option><option>low</option></select>
<select id="pattern" aria-label="pattern"><option value="">every pattern</option></select>
<select id="disclosure" aria-label="disclosure"><option value="">every disclosure</option>
<option>undeclared</option><option>declared</option><option>notified</option>
<option>not_declarable</option></select>
<span id="count"></span>
</header>
<table id="findings"><thead><tr>
<th data-key="severity">Severity</th><th data-key="score">Score</th>
<th data-key="pattern">Pattern</th><th data-key="contract_id">Contract</th>
<th data-key="signed_on">Signed</th><th data-key="value">Value</th>
<th data-key="hops">Hops</th><th data-key="status">Status</th>
<th data-key="disclosure">Disclosure</th><th data-key="explanation">Explanation</th>
</tr></thead><tbody></tbody></table>
<section id="restrictions" hidden><h2>Relatives serving together</h2>
<table><thead><tr><th>Restriction</th><th>Agency</th><th>Since</th><th>Until</th>
<th>Status</th><th>Explanation</th></tr></thead><tbody></tbody></table></section>
<footer>cofi findings report. Click a column to sort, a row to see its path.</footer>"""
    data = {"title": title, "findings": rows, "colours": KIND_COLOURS,
            "restrictions": [r.as_dict() for r in restrictions]}  # fmt: skip
    return _page(title, _REPORT_STYLE, body, data, _REPORT_SCRIPT)


def matches_html(rows: list[dict[str, Any]], title: str) -> str:
    """`cofi match`'s candidate pairs as one static table (nothing runs in the page)."""
    cells = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                r["verdict"],
                f"{r['score']:.3f}",
                r["kind"],
                f"{r['left_name']} [{r['left_id']}]",
                f"{r['right_name']} [{r['right_id']}]",
                "; ".join(r["reasons"]),
                r["match_id"],
            )
        )
        + "</tr>\n"
        for r in rows
    )
    body = (
        f"<header><h1>{html.escape(title)}</h1><span>{len(rows)} pair(s)</span></header>\n"
        '<table id="matches"><thead><tr><th>Verdict</th><th>Score</th><th>Kind</th>'
        "<th>Left</th><th>Right</th><th>Reasons</th><th>Match id</th></tr></thead>\n"
        f"<tbody>{cells}</tbody></table>\n"
        "<footer>cofi match: decide a pair with <code>cofi match decide MATCH_ID same|different"
        "</code></footer>"
    )
    return _page(title, _MATCH_STYLE, body, {}, "")


_MATCH_STYLE = """
table{border-collapse:collapse;margin:8px 12px}
td,th{border-top:1px solid #eee;padding:3px 8px;text-align:left;vertical-align:top}
"""

_BASE_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222}
header{padding:8px 12px;border-bottom:1px solid #ddd;display:flex;flex-wrap:wrap;gap:10px;
align-items:center}
h1{font-size:16px;margin:0 12px 0 0}
footer{padding:6px 12px;color:#777;font-size:12px;border-top:1px solid #ddd}
input,select{font:inherit;padding:3px 6px}
.key{margin-right:10px;font-size:12px;white-space:nowrap}
.key i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.key i.path{background:#e8231a}
"""

_EXPLORE_STYLE = """
main{display:flex;height:calc(100vh - 120px)}
#cy{flex:1;min-width:0;background:#fafafa}
#props{width:340px;overflow:auto;padding:8px 12px;border-left:1px solid #ddd}
#props table{border-collapse:collapse;width:100%}
#props td{border-top:1px solid #eee;padding:3px 4px;vertical-align:top;word-break:break-word}
#props td:first-child{color:#666;width:38%}
#note{width:100%;margin:0;color:#a15c00;font-size:12px}
.hint{color:#777}
"""

_EXPLORE_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("cofi-data").textContent);
  document.getElementById("title").textContent = data.title;
  document.title = data.title;
  var note = [];
  if (data.truncated) note.push("Not every neighbour is drawn (hub values are not crossed; at most "
    + "a few hundred nodes). Explore a node of interest on its own to see more.");
  if (data.finding) note.push(data.finding.explanation);
  data.notes.forEach(function (n) { note.push(n); });
  document.getElementById("note").textContent = note.join(" ");
  var byId = {};
  var elements = [];
  data.nodes.forEach(function (n) {
    byId[n.id] = n;
    elements.push({group: "nodes", data: {id: n.id, label: n.name, kind: n.kind},
      classes: [n.kind, n.path ? "path" : "", n.hub ? "hub" : ""].join(" ").trim()});
  });
  var edgeById = {};
  data.edges.forEach(function (e) {
    edgeById[e.id] = e;
    elements.push({group: "edges", data: {id: e.id, source: e.source, target: e.target,
      label: e.label}, classes: e.path ? "path" : ""});
  });
  var style = [
    {selector: "node", style: {"label": "data(label)", "font-size": 10, "text-wrap": "wrap",
      "text-max-width": 130, "text-valign": "bottom", "text-margin-y": 3, "width": 30,
      "height": 30, "background-color": "#A5ABB6", "border-width": 1, "border-color": "#888"}},
    {selector: "edge", style: {"label": "data(label)", "font-size": 8, "curve-style": "bezier",
      "target-arrow-shape": "triangle", "width": 1.5, "line-color": "#b5b5b5",
      "target-arrow-color": "#b5b5b5", "text-rotation": "autorotate",
      "text-background-color": "#fafafa", "text-background-opacity": 0.85}},
    {selector: "node.hub", style: {"border-style": "dashed", "border-width": 3}},
    {selector: "node.path", style: {"border-width": 5, "border-color": "#e8231a"}},
    {selector: "edge.path", style: {"width": 5, "line-color": "#e8231a",
      "target-arrow-color": "#e8231a", "font-weight": "bold"}},
    {selector: "node.match", style: {"border-width": 5, "border-color": "#111"}},
    {selector: ":selected", style: {"overlay-color": "#2870C2", "overlay-opacity": 0.25}}
  ];
  Object.keys(data.colours).forEach(function (kind) {
    style.splice(2, 0, {selector: "node." + kind, style: {"background-color": data.colours[kind],
      "shape": data.shapes[kind]}});
  });
  // Rings out from the root (the entity or contract asked for; a finding's decision-maker):
  // the same file always draws the same picture, and a path reads from left to right.
  var cy = cytoscape({container: document.getElementById("cy"), elements: elements,
    style: style, minZoom: 0.05, maxZoom: 3,
    layout: {name: "breadthfirst", roots: [data.root], spacingFactor: 1.25, animate: false,
      padding: 30, transform: function (node, pos) { return {x: pos.y, y: pos.x}; }}});
  window.cofiGraph = cy;

  var panel = document.getElementById("props");
  function show(title, rows) {
    panel.textContent = "";
    var h = document.createElement("h2");
    h.textContent = title;
    panel.appendChild(h);
    var table = document.createElement("table");
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      row.forEach(function (cell) {
        var td = document.createElement("td");
        td.textContent = cell === null || cell === undefined ? "" : String(cell);
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
    panel.appendChild(table);
  }
  cy.on("tap", "node", function (ev) {
    var n = byId[ev.target.id()];
    show(n.name, n.fields);
  });
  cy.on("tap", "edge", function (ev) {
    var e = edgeById[ev.target.id()];
    var from = byId[e.source], to = byId[e.target];
    show(e.type, [["from", from ? from.name : e.source], ["to", to ? to.name : e.target],
      ["role", e.role], ["share", e.share === null ? "" : e.share + "%"],
      ["since", e.since], ["until", e.until]]);
  });
  document.getElementById("search").addEventListener("input", function (ev) {
    var q = ev.target.value.trim().toLowerCase();
    cy.nodes().removeClass("match");
    if (!q) return;
    var found = cy.nodes().filter(function (n) {
      var d = byId[n.id()];
      return d.name.toLowerCase().indexOf(q) >= 0 || d.id.toLowerCase().indexOf(q) >= 0;
    });
    found.addClass("match");
    if (found.length) cy.fit(found, 80);
  });
})();
"""

_REPORT_STYLE = """
table{border-collapse:collapse;width:100%}
th{position:sticky;top:0;background:#f3f3f3;cursor:pointer;text-align:left;padding:5px 6px;
user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
td{border-top:1px solid #eee;padding:4px 6px;vertical-align:top}
tr.row{cursor:pointer}
tr.row:hover{background:#f7f9ff}
tr.detail td{background:#fbfbfb;padding:8px 12px}
.sev-high{color:#b00020;font-weight:bold}
.sev-medium{color:#a15c00}
.chain{display:flex;flex-wrap:wrap;align-items:center;gap:4px;margin-top:6px}
.node{border:2px solid #888;border-radius:6px;padding:3px 7px;background:#fff}
.edge{color:#444;font-size:12px}
.edge::before{content:"\\2014 "}
.edge::after{content:" \\2192"}
.num{text-align:right;font-variant-numeric:tabular-nums}
"""

_REPORT_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("cofi-data").textContent);
  var rows = data.findings.slice();
  document.getElementById("title").textContent = data.title;
  document.title = data.title;
  var tbody = document.querySelector("#findings tbody");
  var filter = document.getElementById("filter");
  var severity = document.getElementById("severity");
  var pattern = document.getElementById("pattern");
  var disclosure = document.getElementById("disclosure");
  var patterns = {};
  rows.forEach(function (f) { patterns[f.pattern] = true; });
  Object.keys(patterns).sort().forEach(function (p) {
    var o = document.createElement("option"); o.textContent = p; pattern.appendChild(o);
  });
  var RANK = {high: 3, medium: 2, low: 1};
  var sortKey = "score", ascending = false;

  function money(f) {
    if (f.value === null || f.value === undefined) return "";
    return Number(f.value).toLocaleString("en-US", {maximumFractionDigits: 0}) + " " +
      (f.currency || "");
  }
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  function diagram(f) {
    var chain = document.createElement("div");
    chain.className = "chain";
    f.path.forEach(function (item, i) {
      var span = document.createElement("span");
      if (i % 2 === 0) {
        span.className = "node " + item.kind;
        span.style.borderColor = data.colours[item.kind] || "#888";
        span.textContent = item.name + " (" + item.kind + ")";
      } else {
        span.className = "edge";
        var words = [item.type];
        if (item.role) words.push(item.role);
        if (item.share !== null && item.share !== undefined) words.push(item.share + "%");
        if (item.since || item.until) words.push((item.since || "\u2026") + " \u2013 " +
          (item.until || "\u2026"));
        span.textContent = words.join(" ");
      }
      chain.appendChild(span);
    });
    return chain;
  }
  function visible(f) {
    if (severity.value && f.severity !== severity.value) return false;
    if (pattern.value && f.pattern !== pattern.value) return false;
    if (disclosure.value && f.disclosure !== disclosure.value) return false;
    var q = filter.value.trim().toLowerCase();
    if (!q) return true;
    var text = [f.finding_id, f.contract_id, f.pattern, f.severity, f.status, f.explanation,
      f.decision_maker_id, f.winner_id].concat(f.path.map(function (p) {
        return p.name || p.type || "";
      })).join(" ").toLowerCase();
    return text.indexOf(q) >= 0;
  }
  function compare(a, b) {
    var x = a[sortKey], y = b[sortKey];
    if (sortKey === "severity") { x = RANK[x] || 0; y = RANK[y] || 0; }
    if (x === null || x === undefined) x = typeof y === "number" ? -Infinity : "";
    if (y === null || y === undefined) y = typeof x === "number" ? -Infinity : "";
    var c = x < y ? -1 : x > y ? 1 : 0;
    if (c === 0) c = a.finding_id < b.finding_id ? -1 : a.finding_id > b.finding_id ? 1 : 0;
    return ascending ? c : -c;
  }
  function render() {
    rows.sort(compare);
    tbody.textContent = "";
    var shown = 0;
    rows.forEach(function (f) {
      if (!visible(f)) return;
      shown += 1;
      var tr = document.createElement("tr");
      tr.className = "row";
      tr.dataset.id = f.finding_id;
      cell(tr, f.severity, "sev-" + f.severity);
      cell(tr, Number(f.score).toFixed(2), "num");
      cell(tr, f.pattern);
      cell(tr, f.contract_id);
      cell(tr, f.signed_on);
      cell(tr, money(f), "num");
      cell(tr, String(f.hops), "num");
      cell(tr, f.status);
      cell(tr, f.disclosure || "");
      cell(tr, f.explanation);
      var detail = document.createElement("tr");
      detail.className = "detail";
      detail.hidden = true;
      var td = document.createElement("td");
      td.colSpan = 10;
      var head = document.createElement("div");
      head.textContent = f.finding_id + ": " + f.decision_role + " " + f.decision_maker_id +
        " \u2192 winner " + f.winner_id + (f.note ? " (note: " + f.note + ")" : "");
      td.appendChild(head);
      td.appendChild(diagram(f));
      detail.appendChild(td);
      tr.addEventListener("click", function () { detail.hidden = !detail.hidden; });
      tbody.appendChild(tr);
      tbody.appendChild(detail);
    });
    document.getElementById("count").textContent = shown + " of " + rows.length + " finding(s)";
    document.querySelectorAll("th").forEach(function (th) {
      if (th.dataset.key === sortKey) th.setAttribute("aria-sort", ascending ? "ascending" :
        "descending");
      else th.removeAttribute("aria-sort");
    });
  }
  document.querySelectorAll("th").forEach(function (th) {
    th.addEventListener("click", function () {
      if (sortKey === th.dataset.key) ascending = !ascending;
      else { sortKey = th.dataset.key; ascending = sortKey !== "score" && sortKey !== "value"; }
      render();
    });
  });
  [filter, severity, pattern, disclosure].forEach(function (el) {
    el.addEventListener("input", render);
  });
  render();
  if (data.restrictions.length) {
    var section = document.getElementById("restrictions");
    var body = section.querySelector("tbody");
    data.restrictions.forEach(function (r) {
      var tr = document.createElement("tr");
      [r.restriction_id, r.agency_name, r.since, r.until, r.status, r.explanation].forEach(
        function (v) { cell(tr, v || ""); });
      body.appendChild(tr);
    });
    section.hidden = false;
  }
})();
"""
