"""The report's sections as HTML fragments: executive summary, findings, mobile matrix, apps, usage, legend.

Every fragment is escaped, labelled from the field catalog and shows missing values with the markers of
:mod:`toolkit.analysis.display`; charts are inline SVG (nothing fetched; fragments hold no script: the
page's one inline script is :mod:`.interactive`). Wide content is split so a 1,024 px window needs no
sideways scroll: the mobile matrix shows :data:`APPS_PER_BLOCK` apps per block. App names link to their
cards (:func:`app_cards`, ids from :func:`app_anchor`).

>>> import pandas as pd
>>> from toolkit.reports.data import ReportData
>>> apps = pd.DataFrame({"name": ["A"], "kind": ["ConnectedApp"], "coverage": ["metadata"],
...                      "ip_relaxation": ["BYPASS"], "has_oauth": [True]})
>>> "Relax IP restrictions" in summary(ReportData({"apps": apps}, org_name="Acme"))
True
"""

from __future__ import annotations

import hashlib
import html
import re
import shlex
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..analysis.compare import compare_mobile, mobile_fields
from ..analysis.counts import app_counts
from ..analysis.display import REPORT_COLUMNS, column_label, display_value, legend_items, people_table
from ..analysis.markers import NOT_APPLICABLE, NOT_SET, UNKNOWN
from ..model import catalog
from ..rules import score
from ..rules.model import ORG_APP
from ..rules.report import rule_label
from .data import ReportData

APPS_PER_BLOCK = 7
MAX_NAMES = 12
SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_COLORS = {"critical": "#7f1d1d", "high": "#b91c1c", "medium": "#d97706", "low": "#2563eb",
                   "info": "#6b7280"}
BAR_COLOR = "#3b6ea5"
# the report's sections in order: the contents link to them (ids from anchor())
SECTIONS = ("Summary", "Orgs", "Findings", "Org-wide settings", "Mobile settings", "Apps", "App cards",
            "Usage", "Problems")
CARD_RULES = ("NET-01", "TOK-01")  # the summary's cards about apps, counted by score.affected_apps
MARKERS = (NOT_SET, NOT_APPLICABLE, UNKNOWN)
POLICY_TYPES = ("enum", "boolean", "integer")  # settings where a different value is a deviation

CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2933;margin:0;background:#fff}
main{max-width:1280px;margin:0 auto;padding:24px 32px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid #e4e7eb}
h3{font-size:15px;margin:20px 0 6px}
p,li{max-width:100ch}
table{border-collapse:collapse;margin:8px 0 16px;font-size:12.5px;max-width:100%;table-layout:auto}
th,td{border:1px solid #d3d9e0;padding:4px 7px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
thead th{background:#eef2f6}tbody th{background:#f7f9fb;font-weight:600}
table.wide{width:100%}
td.dev,span.dev{background:#fff3c4;font-weight:600}
td.fail,span.fail{background:#f8d7da;color:#58151c;font-weight:600}
td.marker{color:#7b8794;text-align:center}
.meta{color:#52606d}.note{color:#52606d;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{border:1px solid #d3d9e0;border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:22px}
.sev{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;white-space:nowrap}
table.findings th,table.findings td.num{overflow-wrap:normal}
table.words th,table.words td{overflow-wrap:normal}
.charts{display:flex;flex-wrap:wrap;gap:24px}
.legend span{display:inline-block;margin-right:18px}
.legend code{background:#eef2f6;padding:0 6px;border-radius:3px}
.warning{border-left:4px solid #b91c1c;background:#fdecec;padding:8px 12px}
a{color:#1d4ed8}
svg{max-width:100%;height:auto}
nav.toc{border:1px solid #d3d9e0;border-radius:6px;padding:6px 14px;margin:12px 0;background:#f7f9fb}
nav.toc ol{margin:4px 0;padding-left:20px;columns:4 14em}
.scoreboard{display:flex;flex-wrap:wrap;gap:16px;align-items:center;margin:8px 0}
.scoreboard p{flex:1 1 30em;margin:0}
.score{border-radius:8px;padding:10px 18px;color:#fff;background:#52606d;min-width:170px}
.score b{font-size:40px;line-height:1}.score span{font-size:16px}.score em{display:block;font-style:normal}
.grade{display:inline-block;min-width:1.6em;text-align:center;border-radius:4px;color:#fff;font-weight:700;
  background:#52606d;padding:0 4px}
.grade-A{background:#15803d}.grade-B{background:#4d7c0f}.grade-C{background:#a16207}
.grade-D{background:#c2410c}.grade-F{background:#b91c1c}
details.more{display:inline}details.more summary{cursor:pointer;color:#1d4ed8;display:inline}
details.more[open] summary{display:block}
.tablectl{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:8px 0 0}
.tablectl input,.tablectl select{font:inherit;padding:3px 6px;max-width:min(100%,18em)}
table.sortable thead th{cursor:pointer}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
details.appcard{border:1px solid #d3d9e0;border-radius:6px;padding:4px 14px;margin:6px 0}
details.appcard>summary{cursor:pointer;padding:2px 0}details.appcard[open]>summary{margin-bottom:6px}
details.appcard:target{outline:3px solid #1d4ed8}
.cardcols{display:flex;flex-wrap:wrap;gap:0 16px;align-items:flex-start}
.cardcols>*{flex:1 1 260px;min-width:0}.cardcols>div.cardfindings{flex:3 1 480px}
table.kv th{white-space:normal;width:45%}
code.cmd{overflow-wrap:anywhere}
thead th{overflow-wrap:normal}
@media (max-width:1200px){main{padding:16px}table.words th,table.words td{overflow-wrap:anywhere}}
@media print{
  @page{margin:12mm}
  body{font-size:10.5pt}main{max-width:none;padding:0}
  nav.toc,.tablectl,details>summary{display:none}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  a{color:inherit;text-decoration:none}
  h2,h3{break-after:avoid}#app-cards{break-before:page}
  table{font-size:8.5pt;width:100%}thead{display:table-header-group}
  tr,svg,.card,.score,details.appcard{break-inside:avoid}details.appcard>summary{display:block}
  table.words th,table.words td,table.findings th{overflow-wrap:anywhere}
  .charts svg{max-width:48%}
}
"""


NOTEBOOK_SCOPE = ".jp-OutputArea-output.jp-RenderedHTMLCommon"  # JupyterLab's HTML outputs (beats its CSS)


def scoped_css(css: str = "", scope: str = NOTEBOOK_SCOPE) -> str:
    """The report's CSS with every rule limited to ``scope`` (``body`` becomes the scope; the page's ``main``
    box, print and ``@page`` rules are left out): the same look in a notebook's outputs without restyling
    JupyterLab.

    >>> scoped_css("body{margin:0}main{x:y}h1,td.x{color:red}@media (max-width:9px){main{z:0}p{a:b}}"
    ...            "@media print{p{c:d}}", ".o")
    '.o{margin:0}.o h1,.o td.x{color:red}@media (max-width:9px){.o p{a:b}}'
    """
    css = css or CSS
    out, depth, start, prelude = [], 0, 0, ""
    for i, ch in enumerate(css):
        if ch == "{":
            if depth == 0:
                prelude, start = css[start:i].strip(), i + 1
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                body, start = css[start:i], i + 1
                if prelude.startswith(("@media print", "@page")):
                    continue
                if prelude.startswith("@"):
                    out.append(f"{prelude}{{{scoped_css(body, scope)}}}")
                    continue
                selectors = [s.strip() for s in prelude.split(",") if s.strip() != "main"]
                scoped = [scope if s == "body" else f"{scope} {s}" for s in selectors]
                if scoped:
                    out.append(f"{','.join(scoped)}{{{body}}}")
    return "".join(out)


def notebook_style() -> str:
    """A ``<style>`` for notebook 06 in JupyterLab (a ``notebook-only`` cell): the report's look, scoped."""
    return f"<style>{scoped_css()}</style>"


def _e(value: Any) -> str:
    return html.escape(str(value))


def anchor(text: str, prefix: str = "") -> str:
    """An element id for ``text``: letters, digits, ``_`` and ``-`` kept, anything else makes the id carry a
    short hash of the text (two names never share an id, and no name can break out of the attribute).

    >>> anchor("Mobile settings"), anchor("Demo_JWT", "card-"), anchor("A<b>", "card-")
    ('mobile-settings', 'card-Demo_JWT', 'card-A-b--f91bf2')
    """
    if prefix:
        slug = re.sub(r"[^A-Za-z0-9_-]", "-", text)
        return prefix + (slug if slug == text else f"{slug}-{hashlib.sha1(text.encode()).hexdigest()[:6]}")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def app_anchor(name: str) -> str:
    """The id of an app's card (:func:`app_cards`); every table links its app names there."""
    return anchor(str(name), "card-")


def rule_anchor(rule: str) -> str:
    """The id of a rule's row in the findings table."""
    return anchor(str(rule), "rule-")


def app_link(name: Any) -> str:
    """An app's name (wrappable) linking to its card; ``(org)`` (an org-wide finding) to the org settings.

    >>> app_link("A_B"), app_link("(org)")
    ("<a href='#card-A_B'>A_<wbr>B</a>", "<a href='#org-wide-settings'>(org)</a>")
    """
    target = anchor("Org-wide settings") if str(name) == ORG_APP else app_anchor(str(name))
    return f"<a href='#{target}'>{_breakable(name)}</a>"


def app_links(names: Sequence[str], limit: int = MAX_NAMES) -> str:
    """Names linked to their cards: the first ``limit``, the rest behind "and N more" (a ``<details>`` that
    opens in place, no script needed).

    >>> out = app_links(["A", "B", "C"], limit=2)
    >>> out.count("<a href") == 3 and "<summary>and 1 more</summary>" in out
    True
    """
    shown = ", ".join(app_link(n) for n in names[:limit])
    rest = names[limit:]
    if not rest:
        return shown
    return (shown + f" <details class='more'><summary>and {len(rest)} more</summary>"
            + ", ".join(app_link(n) for n in rest) + "</details>")


def severity_badge(severity: str) -> str:
    sev = str(severity).lower()
    return f"<span class='sev' style='background:{SEVERITY_COLORS.get(sev, BAR_COLOR)}'>{_e(sev)}</span>"


def grade_badge(grade: str, value: Any = "") -> str:
    """A grade (A-F) as a coloured badge, with the score after it when given."""
    tail = f" {_e(value)}" if value != "" else ""
    return f"<span class='grade grade-{_e(grade)}'>{_e(grade)}</span>{tail}"


def bar_chart(items: Sequence[tuple[str, int]], *, title: str, colors: Sequence[str] = (),
              width: int = 560) -> str:
    """A horizontal bar chart as inline SVG (labels left, counts at the bar ends).

    >>> svg = bar_chart([("High", 3), ("Low", 1)], title="Findings")
    >>> svg.startswith("<svg") and svg.count("<rect") == 2 and "<title>Findings</title>" in svg
    True
    """
    label_w, row_h, top = 250, 24, 28
    scale = max([n for _, n in items] + [1])
    bar_w = width - label_w - 50
    height = top + row_h * len(items) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}"><title>{_e(title)}</title>',
        f'<text x="0" y="16" font-size="13" font-weight="600" fill="#1f2933">{_e(title)}</text>',
    ]
    for i, (label, n) in enumerate(items):
        y = top + i * row_h
        w = max(1, round(bar_w * n / scale)) if n else 0
        color = colors[i] if i < len(colors) else BAR_COLOR
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f"<g><title>{_e(label)}: {n}</title>"
            f'<text x="{label_w - 6}" y="{y + 15}" font-size="12" text-anchor="end" fill="#1f2933">'
            f"{_e(short)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row_h - 8}" fill="{color}"/>'
            f'<text x="{label_w + w + 5}" y="{y + 15}" font-size="12" fill="#1f2933">{n}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _value_counts(apps: pd.DataFrame, column: str) -> list[tuple[str, int]]:
    if column not in apps:
        return []
    counts = Counter(
        display_value(column, v, k, c)
        for v, k, c in zip(apps[column], apps["kind"], apps.get("coverage", "metadata+soql"), strict=False)
    )
    counts.pop(NOT_APPLICABLE, None)
    return counts.most_common()


def _cards(cards: Sequence[tuple[str, Any]]) -> str:
    return "<div class='cards'>" + "".join(
        f"<div class='card'><b>{_e(v)}</b>{_e(k)}</div>" for k, v in cards
    ) + "</div>"


def severity_colors(severities: Sequence[str]) -> list[str]:
    """The colour of each severity (for charts).

    >>> severity_colors(["high", "odd"])
    ['#b91c1c', '#3b6ea5']
    """
    return [SEVERITY_COLORS.get(s, BAR_COLOR) for s in severities]


def failed(findings: pd.DataFrame | None) -> pd.DataFrame | None:
    """The findings that fail (``status == "fail"``): not those that could not be checked or are ignored."""
    if findings is None or "status" not in findings:
        return findings
    return findings[findings["status"] == "fail"]


def severity_counts(findings: pd.DataFrame | None) -> list[tuple[str, int]]:
    """Findings per severity, most severe first (severities with none left out).

    >>> severity_counts(pd.DataFrame({"severity": ["low", "high", "high"]}))
    [('high', 2), ('low', 1)]
    """
    if findings is None or findings.empty:
        return []
    counts = findings["severity"].astype(str).str.lower().value_counts()
    order = [s for s in SEVERITIES if s in counts] + [s for s in counts.index if s not in SEVERITIES]
    return [(s, int(counts[s])) for s in order]


def contents(data: ReportData) -> str:
    """The table of contents: a link to every section this data has (the ids of :func:`section`)."""
    present = {
        "Orgs": data.tables.get("fleet") is not None,  # several orgs in one run
        "Findings": data.findings is not None,
        "Org-wide settings": data.tables.get("org") is not None and not data.tables["org"].empty,
        "Usage": "usage" in data.tables,
    }
    links = "".join(f"<li><a href='#{anchor(t)}'>{_e(t)}</a></li>" for t in SECTIONS if present.get(t, True))
    return f"<nav class='toc' aria-label='Contents'><b>Contents</b><ol>{links}</ol></nav>"


def scoreboard(data: ReportData) -> str:
    """The org's score and grade (:func:`toolkit.rules.score.org_score`) and how it is made."""
    names = [str(n) for n in data.tables["apps"]["name"]]
    org = score.org_score(data.findings, names)
    apps = score.app_scores(data.findings, names)
    by_grade = Counter(apps["grade"])
    spread = " · ".join(f"{g}: {by_grade[g]}" for _, g in score.GRADES if by_grade[g])
    return (
        f"<div class='scoreboard'><div class='score grade-{org.grade}'><b>{org.score}</b><span>/100</span>"
        f"<em>{org.grade} · {score.GRADE_WORDS[org.grade]}</em></div><p>Org score: the mean of the apps' "
        "scores (100 minus 40 per critical, 15 per high, 5 per medium and 1 per low failed finding) minus "
        "the org-wide findings; grades as Salesforce Health Check's bands (A 90+, B 80+, C 70+, D 55+, F "
        "below). "
        f"Apps by grade: {spread}.</p></div>"
    )


def top_actions(data: ReportData, n: int = 5) -> str:
    """The ``n`` rules to fix first (severity weight × apps affected) and what a bulk edit fixes now."""
    actions = score.top_actions(data.findings, n)
    if actions.empty:
        return "<p>No findings: nothing to fix.</p>"
    rows = []
    for i, a in enumerate(actions.to_dict("records"), 1):
        fix = (f"<b>Fixable now by bulk edit: {a['changes']} changes in {a['change_apps']} apps</b>"
               + impact_note(data.impacts.get(str(a["rule"])))
               if a["changes"] else "Not by bulk edit: in Setup, app by app")
        rows.append(
            f"<tr><td class='num'>{i}</td><td>{severity_badge(a['severity'])}</td>"
            f"<td><a href='#{rule_anchor(a['rule'])}'><b>{_e(a['rule'])}</b></a><br>{_e(a['title'])}</td>"
            f"<td class='num'>{a['apps']}</td><td>{_e(a['remedy'])}<br>{fix}</td>"
            f"<td>{app_links(a['names'], 5)}</td></tr>"
        )
    return ("<table class='wide actions'><thead><tr><th>#</th><th>Severity</th><th>Rule</th><th>Apps</th>"
            "<th>What to do</th><th>Apps affected</th></tr></thead><tbody>" + "".join(rows) + "</tbody>"
            "</table><p class='note'>Ranked by severity weight × apps affected. A bulk edit: "
            "<code>python -m toolkit edit --where ... --set ...</code> (dry run first; docs/edits.md), or "
            "the edit form of notebook 05.</p>")


def impact_note(impact: dict[str, Any] | None) -> str:
    """What the action's bulk edit would break, from the org's own usage (issue 16).

    >>> impact_note({"users": 4, "apps": 2, "unknown": 0}), impact_note({"users": 0, "apps": 0, "unknown": 3})
    ('; <b>breaks 4 users in 2 apps</b>', '; no user known to break (3 changes of unknown impact)')
    """
    if not impact:
        return ""  # a folder: no usage to judge from
    if "error" in impact:
        return f"; impact unknown: {_e(impact['error'])}"
    unknown = f" ({impact['unknown']} changes of unknown impact)" if impact.get("unknown") else ""
    if impact.get("users"):
        return f"; <b>breaks {impact['users']} users in {impact['apps']} apps</b>{unknown}"
    return f"; no user known to break{unknown}"


def riskiest_apps(data: ReportData, n: int = 10) -> str:
    """The ``n`` apps with the most weight of failed findings, with their score and findings by severity."""
    scores = score.app_scores(data.findings, [str(a) for a in data.tables["apps"]["name"]])
    scores = scores[scores["points"] > 0].head(n)
    if scores.empty:
        return "<p>No app has a failed finding.</p>"
    kinds = dict(zip(data.tables["apps"]["name"].astype(str), data.tables["apps"]["kind"], strict=False))
    rows = "".join(
        f"<tr><td>{app_link(r['app'])}</td>"
        f"<td>{_e(catalog.KIND_LABELS.get(str(kinds.get(r['app'])), ''))}</td>"
        f"<td data-sort='{r['score']}'>{grade_badge(r['grade'], r['score'])}</td>"
        f"<td class='num'>{r['points']}</td><td class='num'>{r['findings']}</td>"
        + "".join(f"<td class='num'>{r[s]}</td>" for s in SEVERITIES[:4]) + "</tr>"
        for r in scores.to_dict("records")
    )
    head = "".join(f"<th>{s.capitalize()}</th>" for s in SEVERITIES[:4])
    return ("<table class='wide riskiest'><thead><tr><th>App</th><th>Kind</th><th>Score</th>"
            f"<th>Risk points</th><th>Findings</th>{head}</tr></thead><tbody>{rows}</tbody></table>"
            "<p class='note'>Risk points: the weights of the app's failed findings (its score is 100 minus "
            "them, 0 at least); the riskiest first.</p>")


def since_last_run(data: ReportData, most: int = 20) -> str:
    """New and fixed failed findings since the newest kept run of this org, and the trend over the kept runs
    (:func:`toolkit.analysis.history.since_last`; empty without a history)."""
    history = data.history or {}
    new, fixed, trend = (history.get(k) for k in ("new", "fixed", "trend"))
    if trend is None or trend.empty:
        return ("<p class='note'>No earlier run of this org is kept in the history (the first run, or "
                "<code>--no-history</code>): nothing to compare with yet.</p>")
    parts = []
    for title, frame in (("New since the last run", new), ("Fixed since the last run", fixed)):
        if frame is None or frame.empty:
            parts.append(f"<p><b>{title}:</b> none.</p>")
            continue
        rows = "".join(
            f"<tr><td>{severity_badge(str(r['severity']))}</td>"
            f"<td><a href='#{rule_anchor(str(r['rule']))}'>{_e(r['rule'])}</a></td>"
            f"<td>{app_link(r['app'])}</td></tr>"
            for r in frame.head(most).to_dict("records")
        )
        more = f"<p class='note'>and {len(frame) - most} more.</p>" if len(frame) > most else ""
        parts.append(f"<p><b>{title}: {len(frame)}</b></p><table class='since'><thead><tr><th>Severity</th>"
                     f"<th>Rule</th><th>App</th></tr></thead><tbody>{rows}</tbody></table>{more}")
    runs = trend.tail(12).to_dict("records")
    when = [f"{str(r['created'])[:16].replace('T', ' ')} {r['command']}" for r in runs]
    scored = [(w, int(r["score"])) for w, r in zip(when, runs, strict=True) if pd.notna(r.get("score"))]
    if scored:  # entries kept before scores were have none
        parts.append(bar_chart(scored, title=f"Org score over the last {len(scored)} scored runs (of 100)"))
    parts.append(bar_chart([(w, int(r["failed"])) for w, r in zip(when, runs, strict=True)],
                           title=f"Failed findings over the last {len(runs)} kept runs"))
    return "".join(parts)


def summary(data: ReportData) -> str:
    """The executive summary first: title, origin and date, contents, the score and grade, the top actions,
    the riskiest apps, counts, findings by severity, the key charts."""
    apps = data.tables["apps"]
    cards: list[tuple[str, Any]] = [("apps", len(apps)), *((k, n) for k, n in app_counts(apps).items())]
    usage = data.tables.get("usage")
    if usage is not None and "used" in usage:
        # an app whose usage could not be read (NA) is not counted as unused
        cards.append(("not used in the window", int(usage["used"].eq(False).sum())))
    fails = failed(data.findings)
    if fails is not None:
        # one number per idea: the apps a rule affects, the same count as its findings row and chart bar
        affected = score.affected_apps(fails)
        cards.extend((f"apps: {rule_label(r)}", len(affected.get(r, []))) for r in CARD_RULES)
        cards.append(("findings", len(fails)))
        cards.extend((f"{s} findings", n) for s, n in severity_counts(fails) if s in ("critical", "high"))
    stamp = data.generated.strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f"<h1>{_e(data.title)}</h1>",
        f"<p class='meta'>Source: {_e(data.origin or 'unknown')} · generated {stamp} · consumer keys masked; "
        "secrets, tokens and certificate bodies are never shown.</p>",
    ]
    if data.partial_reason:
        parts.append(f"<p class='warning'><b>PARTIAL audit:</b> {_e(data.partial_reason)}. Counts are lower "
                     "bounds.</p>")
    parts.append(contents(data))
    parts.append("<h2 id='summary'>Summary</h2>")
    if data.findings is not None:
        parts += [scoreboard(data), "<h3 id='top-actions'>Top 5 actions</h3>", top_actions(data),
                  "<h3 id='since-last-run'>Since the last run</h3>", since_last_run(data),
                  "<h3 id='riskiest-apps'>Riskiest apps</h3>", riskiest_apps(data)]
    parts.append("<h3>In numbers</h3>" + _cards(cards))
    charts = []
    sev = severity_counts(failed(data.findings))
    if sev:
        charts.append(bar_chart([(s.capitalize(), n) for s, n in sev], title="Findings by severity",
                                colors=severity_colors([s for s, _ in sev])))
    for column in ("ip_relaxation", "refresh_policy", "permitted_users"):
        counts = _value_counts(apps, column)
        if counts:
            charts.append(bar_chart(counts, title=f"Apps by {catalog.field(column).label}"))
    parts.append("<div class='charts'>" + "".join(charts) + "</div>")
    return "\n".join(parts)


def findings(data: ReportData) -> str:
    """One row per rule: severity, what is wrong, affected apps, the remedy, whether the API can fix it.

    Empty when the findings layer is not installed (the notebook then leaves the section out).
    """
    frame = failed(data.findings)
    if frame is None or data.findings is None:
        return ""
    unchecked = len(data.findings) - len(frame)
    note = (f"<p class='note'>{unchecked} checks could not be made (a value the audit could not read) or are "
            "ignored by the baseline: see findings.csv.</p>" if unchecked else "")
    if frame.empty:
        return "<p>No findings: every rule passed.</p>" + note
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    rows = []
    affected = score.affected_apps(frame)
    groups = frame.groupby("rule", sort=False)
    ordered = sorted(groups, key=lambda g: (rank.get(str(g[1]["severity"].iloc[0]).lower(), 99),
                                            -len(affected[str(g[0])])))
    for rule, group in ordered:
        first = group.iloc[0]
        sev = str(first["severity"]).lower()
        apps = affected[str(rule)]
        label = str(first.get("title") or "")
        if not label and str(first.get("field")) in catalog.CATALOG:
            label = catalog.CATALOG[str(first["field"])].label
        fixable = "Yes" if bool(group.get("fixable_by_api", pd.Series([False])).any()) else "No"
        rows.append(
            f"<tr id='{rule_anchor(str(rule))}'><td data-sort='{rank.get(sev, 99)}'>{severity_badge(sev)}"
            f"</td><td><b>{_e(rule)}</b>{'<br>' + _e(label) if label else ''}</td>"
            f"<td class='num'>{len(apps)}</td><td>{app_links(apps)}</td><td>{_e(first.get('remedy', ''))}"
            "</td>"
            f"<td>{fixable}</td></tr>"
        )
    return (
        "<table class='wide findings sortable' id='findings-table'><thead><tr><th data-filter>Severity</th>"
        "<th>Rule</th><th>Apps</th><th>Affected apps</th><th>Remedy</th><th data-filter>Fixable by API</th>"
        "</tr></thead><tbody>"
        + "".join(rows) + "</tbody></table><p class='note'>Every finding, one row per app: findings.csv and "
        "the Findings sheet of the workbook; each app's own findings: its card (App cards).</p>" + note
    )


def judged_cells(tables: dict[str, pd.DataFrame]) -> tuple[list[str], dict[tuple[str, str], str]] | None:
    """The rules layer's mobile matrix (:func:`toolkit.mobile_matrix`): its app order (platform groups,
    iOS/Android twins side by side) and each (app, field id) cell's status (``baseline``: fails the
    baseline, ``majority``: differs from most of its platform group...)."""
    from ..rules.matrix import mobile_matrix

    states = mobile_matrix(tables, status=True)
    ids = {f.label: f.id for f in mobile_fields()}
    order = [str(app) for _group, app in states.index]
    cells = {
        (app, ids[str(label)]): str(state)
        for app, (_index, row) in zip(order, states.iterrows(), strict=True)
        for label, state in row.items()
        if str(label) in ids
    }
    return order, cells


def _majority(cells: list[str]) -> str | None:
    common = Counter(c for c in cells if c not in MARKERS).most_common(1)
    return common[0][0] if common else None


def mobile_matrix(data: ReportData) -> str:
    """The mobile settings of the apps that have any, in blocks of :data:`APPS_PER_BLOCK` apps.

    Rows are Setup labels (settings no app sets are left out). With findings, cells are judged by the rules
    (red: fails the baseline; amber: differs from most apps of its platform group) and apps come in its
    order (twins side by side); without it, a policy value that differs from the most common one is amber.
    """
    apps = data.tables["apps"]
    missing = [f.id for f in mobile_fields() if f.id not in apps]
    tables = {**data.tables, "apps": apps.reindex(columns=[*apps.columns, *missing])}
    matrix = compare_mobile(tables, labels=False)
    if matrix.shape[1] == 0:
        return "<p>No app has a mobile setting.</p>"
    judged = judged_cells(tables) if data.findings is not None else None  # judged when the rules ran
    if judged is not None:
        ordered = [a for a in judged[0] if a in matrix.columns]
        matrix = matrix[ordered + [c for c in matrix.columns if c not in set(ordered)]]
    by_name = tables["apps"].drop_duplicates("name")
    coverage = {str(n): str(c) for n, c in zip(by_name["name"], by_name.get("coverage", ""), strict=False)}
    names = [str(c) for c in matrix.columns]
    kinds = {str(n): str(k) for n, k in matrix.loc["kind"].items()}
    shown: dict[str, list[str]] = {}
    for fid in [f.id for f in mobile_fields()]:
        cells = [display_value(fid, v, kinds[str(a)], coverage.get(str(a), ""))
                 for a, v in matrix.loc[fid].items()]
        if any(c not in MARKERS for c in cells):
            shown[fid] = cells
    blocks = []
    for start in range(0, len(names), APPS_PER_BLOCK):
        cols = range(start, min(start + APPS_PER_BLOCK, len(names)))
        head = "".join(f"<th>{app_link(names[i])}</th>" for i in cols)
        kind_row = "".join(f"<td>{_e(catalog.KIND_LABELS.get(kinds[names[i]], ''))}</td>" for i in cols)
        body = [f"<tr><th>Kind</th>{kind_row}</tr>"]
        for fid, cells in shown.items():
            usual = _majority(cells) if catalog.field(fid).type in POLICY_TYPES else None
            tds = []
            for i in cols:
                c = cells[i]
                classes = ["marker"] if c in MARKERS else []
                if judged is not None:
                    state = judged[1].get((names[i], fid), "")
                    classes += {"baseline": ["fail"], "majority": ["dev"]}.get(state, [])
                elif usual is not None and c not in MARKERS and c != usual:
                    classes.append("dev")
                cls = f" class='{' '.join(classes)}'" if classes else ""
                tds.append(f"<td{cls}>{_breakable(c)}</td>")
            body.append(f"<tr><th>{_e(catalog.field(fid).label)}</th>{''.join(tds)}</tr>")
        blocks.append(f"<table class='wide words'><thead><tr><th>Setting</th>{head}</tr></thead>"
                      f"<tbody>{''.join(body)}</tbody></table>")
    how = (
        "<span class='fail'>red</span>: fails the baseline; <span class='dev'>amber</span>: differs from "
        "most apps of its platform group (iOS/Android twins side by side)"
        if judged is not None
        else "<span class='dev'>amber</span>: a policy value (choice, switch, number) that differs from the "
        "most common one"
    )
    return f"<p class='note'>{len(names)} apps with mobile settings; {how}.</p>" + "".join(blocks)


def apps_table(data: ReportData, columns: Sequence[str] = REPORT_COLUMNS) -> str:
    """The curated apps table (Setup labels, value labels, markers), with each app's failed findings and
    risk (score and grade) when the rules ran; names link to the apps' cards. Every column is in apps.csv."""
    apps = data.tables["apps"]
    table = people_table(apps, columns)
    cells: dict[str, Sequence[tuple[str, Any]]] = {}
    if data.findings is not None:
        scores = score.app_scores(data.findings, apps["name"].astype(str)).set_index("app").to_dict("index")
        mine = [scores[str(n)] for n in apps["name"]]
        table.insert(1, "Findings", [int(r["findings"]) for r in mine])
        table.insert(2, "Risk", [r["grade"] for r in mine])
        cells["Risk"] = [(grade_badge(str(r["grade"]), int(r["score"])), int(r["score"])) for r in mine]
    name = column_label("name")
    return _table(table, css="wide words sortable", links=(name,), cells=cells, table_id="apps-table",
                  filters=[c for c in ("Kind", "Coverage", column_label("ip_relaxation"),
                                       column_label("refresh_policy")) if c in table.columns]) + (
        "<p class='note'>Risk: the app's score out of 100 and its grade (see the Summary). The other "
        "settings of every app: apps.csv and the Apps sheet of the workbook.</p>"
    )


def usage(data: ReportData, top: int = 10) -> str:
    """Which apps are used (tokens, logins) and which are not, with a chart of the busiest."""
    frame = data.tables.get("usage")
    if frame is None or frame.empty:
        return "<p>Usage is only known for org audits (OAuth tokens and logins).</p>"
    unused = frame.loc[frame["used"].eq(False), "app"].astype(str).tolist()  # NA: unknown, not unused
    busiest = frame.sort_values(["logins", "tokens"], ascending=False, na_position="last").head(top)
    known = busiest.dropna(subset=["logins"])
    chart = (
        bar_chart([(str(a), int(n)) for a, n in zip(known["app"], known["logins"], strict=True)],
                  title=f"Logins, top {len(known)} apps")
        if len(known) else "<p class='note'>Logins could not be read (see Problems).</p>"
    )
    cols = ["app", "tokens", "users", "inactive_user_tokens", "logins", "last_used"]
    table = people_table(busiest.rename(columns={"app": "name"}), ["name", *cols[1:]])
    return (f"<div class='charts'>{chart}</div>" + _table(table, links=(column_label("name"),)) +
            f"<div class='para'><b>{len(unused)} apps</b> had no token and no login in the window"
            + (f": {app_links(unused, 30)}" if unused else ".") + "</div>")


CARD_SETTINGS = (*REPORT_COLUMNS[1:], "session_timeout", "refresh_n", "refresh_unit", "contact_email")


def fix_command(changes: pd.DataFrame, app: str) -> str:
    """The dry-run bulk edit of one app's API-fixable findings (``python -m toolkit edit ... --set``).

    >>> fix_command(pd.DataFrame([{"field": "ip_relaxation", "value": "ENFORCE", "op": "="}]), "A B")
    "python -m toolkit edit --org ALIAS --apps 'A B' --set ip_relaxation=ENFORCE"
    """
    sets = " ".join(f"--set {shlex.quote(f'{c}{op}{v}')}"
                    for c, v, op in zip(changes["field"], changes["value"], changes["op"], strict=True))
    return f"python -m toolkit edit --org ALIAS --apps {shlex.quote(app)} {sets}"


def _seen(finding: dict[Any, Any]) -> str:
    """A finding's observed value as Setup shows it (``BYPASS`` → "Relax IP restrictions", booleans Yes/No).

    >>> _seen({"field": "ip_relaxation", "observed": "BYPASS"}), _seen({"field": "pkce", "observed": "False"})
    ('Relax IP restrictions', 'No')
    """
    value, field_id = finding.get("observed"), str(finding.get("field", ""))
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if str(value) in ("True", "true", "False", "false"):
        return "Yes" if str(value).lower() == "true" else "No"
    if field_id in catalog.CATALOG:
        return str(catalog.value_label(field_id, value))
    return str(value)


def app_cards(data: ReportData) -> str:
    """One card per app (id :func:`app_anchor`, linked from every table): a line (name, grade, score, failed
    findings, kind) that opens (``<details>``; a link to the card opens it) on its settings (Setup labels),
    its failed findings with the remedy, a dry-run bulk edit of what the API can fix, and its usage."""
    apps = data.tables["apps"].drop_duplicates("name")
    if apps.empty:
        return ""
    fails = failed(data.findings)
    by_app: dict[str, list[dict[Any, Any]]] = {}
    for f in fails.to_dict("records") if fails is not None else []:
        by_app.setdefault(str(f["app"]), []).append(f)
    changes_of: dict[str, pd.DataFrame] = {}
    if fails is not None:
        changes_of = {str(a): g for a, g in score.bulk_changes(fails).groupby("app", sort=False)}
    scores = (score.app_scores(data.findings, apps["name"].astype(str)).set_index("app").to_dict("index")
              if data.findings is not None else None)
    usage = data.tables.get("usage")
    used: dict[str, dict[Any, Any]] = {}
    if usage is not None and "app" in usage:
        shown_usage = people_table(usage.rename(columns={"app": "name"}),
                                   ["name", "tokens", "users", "inactive_user_tokens", "logins", "last_used"])
        used = {str(r.pop(column_label("name"))): r for r in shown_usage.to_dict("records")}
    settings = people_table(apps, ("name", *CARD_SETTINGS)).to_dict("records")
    mobile = people_table(apps, [f.id for f in mobile_fields()]).to_dict("records")
    cards = []
    kinds = list(apps["kind"]) if "kind" in apps else [""] * len(apps)
    for i, name in enumerate(apps["name"].astype(str)):
        rows = [(str(c), v) for c, v in list(settings[i].items())[1:]]
        rows += [(str(c), v) for c, v in mobile[i].items() if str(v) not in MARKERS]
        setting_rows = "".join(
            f"<tr><th>{_e(c)}</th>" + (f"<td class='marker'>{_e(v)}</td>" if str(v) in MARKERS
                                       else f"<td>{_breakable(v)}</td>") + "</tr>" for c, v in rows
        )
        group = by_app.get(name)
        kind = catalog.KIND_LABELS.get(str(kinds[i]), "")
        parts = [f"<details class='appcard' id='{app_anchor(name)}'><summary><b>{_breakable(name)}</b>"]
        if scores is not None:
            r = scores[name]
            parts.append(" " + grade_badge(str(r["grade"]), f"{int(r['score'])}/100")
                         + f" · {int(r['findings'])} failed findings")
        parts.append(f" · {_e(kind)}</summary><div class='cardcols'>")
        parts.append(f"<table class='kv'><tbody>{setting_rows}</tbody></table>")
        if group:
            frows = "".join(
                f"<tr><td>{severity_badge(str(f['severity']))}</td>"
                f"<td><a href='#{rule_anchor(str(f['rule']))}'>{_e(f['rule'])}</a> "
                f"{_e(f.get('title', ''))}</td>"
                f"<td>{_breakable(_seen(f))}</td>"
                f"<td>{_e(f.get('remedy', ''))}{' (API)' if bool(f.get('fixable_by_api')) else ''}</td></tr>"
                for f in group
            )
            parts.append("<div class='cardfindings'><table><thead><tr><th>Severity</th><th>Finding</th>"
                         f"<th>Seen</th><th>Fix</th></tr></thead><tbody>{frows}</tbody></table>")
            changes = changes_of.get(name)
            if changes is not None and len(changes):
                parts.append(f"<p class='note'>Fix by bulk edit (a dry run; add <code>--apply</code>): "
                             f"<code class='cmd'>{_breakable(fix_command(changes, name))}</code></p>")
            parts.append("</div>")
        elif data.findings is not None:
            parts.append("<p>No failed finding.</p>")
        u = used.get(name)
        if u is not None:
            urows = "".join(f"<tr><th>{_e(c)}</th><td>{_breakable(v)}</td></tr>" for c, v in u.items())
            parts.append(f"<table class='kv'><tbody>{urows}</tbody></table>")
        parts.append("</div><p class='note'><a href='#apps'>All apps</a> · <a href='#summary'>Summary</a>"
                     "</p></details>")
        cards.append("".join(parts))
    return "".join(cards)


def org_posture(data: ReportData) -> str:
    """The org-wide settings every app lives under (API Access Control, OAuth flows, PKCE, IP enforcement).

    Empty when the audit has no ``org`` table (a folder without settings files).

    >>> t = pd.DataFrame([{"label": "Require PKCE", "value": False, "source": "OauthOidc",
    ...                    "known": True, "reason": None, "detail": None},
    ...                   {"label": "Users with Use Any API Client", "value": None, "source": "SOQL",
    ...                    "known": False, "reason": "INVALID_FIELD", "detail": None}])
    >>> page = org_posture(ReportData(tables={"org": t}))
    >>> "<td>No</td>" in page and "(unknown)" in page and "INVALID_<wbr>FIELD" in page
    True
    """
    frame = data.tables.get("org")
    if frame is None or frame.empty:
        return ""
    rows = []
    for r in frame.to_dict("records"):
        known = bool(r.get("known")) and not pd.isna(r.get("known"))
        value = r.get("value")
        if not known:
            shown, note = UNKNOWN, str(r.get("reason") or "")
        elif value is None or (not isinstance(value, str) and pd.isna(value)):
            shown, note = NOT_SET, ""
        elif isinstance(value, bool) or str(value) in ("True", "False"):
            shown, note = ("Yes" if str(value) == "True" else "No"), ""
        else:
            shown, note = str(value), ""
        detail = r.get("detail")
        if isinstance(detail, str) and detail:
            note = f"{note}; {detail}" if note else detail
        rows.append({"Setting": r.get("label"), "Value": shown, "Note": note, "Where": r.get("source")})
    return _table(pd.DataFrame(rows))


def legend() -> str:
    """What the markers mean, and how booleans are shown."""
    items = "".join(f"<span><code>{_e(m)}</code> {_e(t)}</span>" for m, t in legend_items())
    return f"<p class='legend'>{items}<span><code>Yes</code>/<code>No</code> on or off</span></p>"


def problems(data: ReportData) -> str:
    frame = data.tables.get("problems")
    if frame is None or frame.empty:
        return "<p>None: every file and query could be read.</p>"
    return _table(frame.astype("string").fillna(NOT_SET).rename(columns=str.capitalize))


FLEET_INTRO = (
    "One row per org; then each app found in several orgs (matched by consumer key, then API name) and the "
    "settings that differ between them."
)


def fleet(data: ReportData, top: int = 50) -> str:
    """Several orgs in one run: one row per org (status, apps, failed findings by severity), then the same
    app across orgs with the settings that differ (the first ``top`` rows; all of them in same_app.csv).
    Empty for one org."""
    orgs = data.tables.get("fleet")
    if orgs is None:
        return ""
    wanted = ("org", "status", "score", "grade", "apps", "critical", "high", "failed_findings", "reason")
    cols = [c for c in wanted if c in orgs]
    parts = [_table(orgs[cols].astype("string").fillna(NOT_SET))]
    same = data.tables.get("same_app")
    if same is None or same.empty:
        parts.append("<p>No app is set differently between the orgs.</p>")
    else:
        shown = same.drop(columns=["field", "orgs"], errors="ignore").head(top).astype("string").fillna("")
        parts.append(f"<h3>The same app across orgs: {same['app'].nunique()} app(s) set differently</h3>")
        parts.append(_table(shown))
        if len(same) > top:
            parts.append(f"<p>{len(same) - top} more rows in same_app.csv.</p>")
    return "\n".join(parts)


def _breakable(value: Any, longest: int = 24) -> str:
    """Escaped text that may wrap after ``_`` (API names) and ``/`` (URLs), and inside a run longer than
    ``longest`` characters (so no value can widen the page), never elsewhere inside a word.

    >>> _breakable("Demo_JWT_<x>"), _breakable("x" * 30, 24).count("<wbr>")
    ('Demo_<wbr>JWT_<wbr>&lt;x&gt;', 1)
    >>> _breakable("Enforce IP restrictions, but relax for refresh tokens")
    'Enforce IP restrictions, but relax for refresh tokens'
    """
    out = []
    for part in (p for p in re.split(r"(?<=[_/])|(?=\s)", str(value)) if p):
        out.append("<wbr>".join(html.escape(part[i : i + longest]) for i in range(0, len(part), longest)))
    return "<wbr>".join(out).replace("<wbr> ", " ")


def _table(frame: pd.DataFrame, css: str = "", *, links: Sequence[str] = (), filters: Sequence[str] = (),
           cells: dict[str, Sequence[tuple[str, Any]]] | None = None, table_id: str = "") -> str:
    """``frame`` as a table: markers greyed, values wrappable; the ``links`` columns (app names) link to the
    apps' cards; ``filters`` columns get a filter in the browser (tables with class ``sortable``);
    ``cells[column]`` gives, per row, ready HTML and its sort key instead of the value."""
    head = "".join(f"<th{' data-filter' if c in filters else ''}>{_e(c)}</th>" for c in frame.columns)
    cells = cells or {}
    out = []
    for i, row in enumerate(frame.itertuples(index=False)):
        tds = []
        for column, v in zip(frame.columns, row, strict=True):
            if column in cells:
                markup, key = cells[column][i]
                tds.append(f"<td data-sort='{_e(key)}'>{markup}</td>")
            elif str(v) in MARKERS:
                tds.append(f"<td class='marker'>{_e(v)}</td>")
            elif column in links:
                tds.append(f"<td>{app_link(v)}</td>")
            else:
                tds.append(f"<td>{_breakable(v)}</td>")
        out.append("<tr>" + "".join(tds) + "</tr>")
    cls = f" class='{css}'" if css else ""
    ident = f" id='{table_id}'" if table_id else ""
    return f"<table{cls}{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(out)}</tbody></table>"


def section(title: str, body: str, intro: str = "") -> str:
    """A titled section; nothing at all when ``body`` is empty (e.g. no findings layer).

    >>> section("Findings", ""), section("Apps", "<p>x</p>", "All of them.")
    ('', "<h2 id='apps'>Apps</h2><p>All of them.</p><p>x</p>")
    """
    if not body:
        return ""
    return f"<h2 id='{anchor(title)}'>{_e(title)}</h2>" + (f"<p>{_e(intro)}</p>" if intro else "") + body
