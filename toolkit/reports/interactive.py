"""The report's one inline script: sort, filter and search its tables in the browser, offline.

It reads the page and nothing else (no fetch, no storage, no ``innerHTML``: cells are compared and moved,
never parsed), so the report stays one file that opens offline; :func:`toolkit.reports.export.page` inlines
it with a Content-Security-Policy that lets the browser load nothing at all. Tables with class ``sortable``
get a search box, a filter per ``<th data-filter>`` column and sorting by a click (or Enter) on a header:
numbers sort as numbers, a cell's ``data-sort`` wins over its text. Following a link to an element inside a
closed ``<details>`` ("and N more") opens it; printing opens them all.
"""

from __future__ import annotations

SCRIPT = r"""
(function () {
  "use strict";
  function key(cell) {
    var k = cell.getAttribute("data-sort");
    return k !== null ? k : cell.textContent.trim();
  }
  function bodyRows(table) { return Array.prototype.slice.call(table.tBodies[0].rows); }
  function sortBy(table, index, th) {
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    var rows = bodyRows(table);
    var numeric = rows.every(function (r) {
      var v = key(r.cells[index]);
      return v === "" || !isNaN(Number(v));
    });
    rows.sort(function (a, b) {
      var x = key(a.cells[index]), y = key(b.cells[index]);
      var c = numeric ? Number(x) - Number(y) : x.localeCompare(y, undefined, {numeric: true});
      return dir === "ascending" ? c : -c;
    });
    rows.forEach(function (r) { table.tBodies[0].appendChild(r); });
  }
  function refresh(table, ctl) {
    var words = ctl.search.value.toLowerCase(), shown = 0, rows = bodyRows(table);
    rows.forEach(function (r) {
      var ok = r.textContent.toLowerCase().indexOf(words) >= 0;
      ctl.filters.forEach(function (f) {
        if (f.select.value !== "" && key(r.cells[f.index]) !== f.select.value) { ok = false; }
      });
      r.hidden = !ok;
      if (ok) { shown += 1; }
    });
    ctl.count.textContent = shown + " of " + rows.length + " rows";
  }
  function controls(table, n) {
    var bar = document.createElement("div"), ctl = {filters: []};
    bar.className = "tablectl";
    ctl.search = document.createElement("input");
    ctl.search.type = "search";
    ctl.search.placeholder = "Search this table";
    ctl.search.setAttribute("aria-label", "Search this table");
    ctl.search.id = (table.id || "table-" + n) + "-search";
    bar.appendChild(ctl.search);
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.tabIndex = 0;
      th.title = "Sort by " + th.textContent;
      th.addEventListener("click", function () { sortBy(table, index, th); });
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortBy(table, index, th); } });
      if (!th.hasAttribute("data-filter")) { return; }
      var select = document.createElement("select"), seen = {};
      select.setAttribute("aria-label", "Filter by " + th.textContent);
      select.appendChild(new Option("All: " + th.textContent, ""));
      bodyRows(table).forEach(function (r) {
        seen[key(r.cells[index])] = r.cells[index].textContent.trim();
      });
      Object.keys(seen).sort().forEach(function (k) { select.appendChild(new Option(seen[k], k)); });
      select.addEventListener("change", function () { refresh(table, ctl); });
      ctl.filters.push({select: select, index: index});
      bar.appendChild(select);
    });
    ctl.count = document.createElement("span");
    ctl.count.className = "note";
    bar.appendChild(ctl.count);
    ctl.search.addEventListener("input", function () { refresh(table, ctl); });
    table.parentNode.insertBefore(bar, table);
    refresh(table, ctl);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), controls);
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    for (var el = target; el; el = el.parentElement) {
      if (el.tagName === "DETAILS") { el.open = true; }
      if (el.tagName === "TR") { el.hidden = false; }
    }
    if (target) { target.scrollIntoView(); }
  }
  window.addEventListener("hashchange", reveal);
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
  reveal();
})();
"""

# The page may load nothing: inline styles and this script only, images from data: URIs at most.
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
