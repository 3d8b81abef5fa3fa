"""The report's sections as HTML fragments: executive summary, findings, mobile matrix, apps, usage, legend.

Every fragment is escaped, labelled from the field catalog and shows missing values with the markers of
:mod:`toolkit.analysis.display`; charts are inline SVG (no script, nothing fetched). Wide content is split so
a 1,400 px window needs no sideways scroll: the mobile matrix shows :data:`APPS_PER_BLOCK` apps per block.

>>> import pandas as pd
>>> from toolkit.reports.data import ReportData
>>> apps = pd.DataFrame({"name": ["A"], "kind": ["ConnectedApp"], "coverage": ["metadata"],
...                      "ip_relaxation": ["BYPASS"], "has_oauth": [True]})
>>> "Relax IP restrictions" in summary(ReportData({"apps": apps}, org_name="Acme"))
True
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..analysis.compare import compare_mobile, mobile_fields
from ..analysis.counts import app_counts
from ..analysis.display import REPORT_COLUMNS, display_value, legend_items, people_table
from ..analysis.markers import NOT_APPLICABLE, NOT_SET, UNKNOWN
from ..model import catalog
from .data import ReportData

APPS_PER_BLOCK = 7
MAX_NAMES = 12
SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_COLORS = {"critical": "#7f1d1d", "high": "#b91c1c", "medium": "#d97706", "low": "#2563eb",
                   "info": "#6b7280"}
BAR_COLOR = "#3b6ea5"
RELAXED = ("BYPASS", "BYPASS_2FACTOR")
MARKERS = (NOT_SET, NOT_APPLICABLE, UNKNOWN)
POLICY_TYPES = ("enum", "boolean", "integer")  # settings where a different value is a deviation

CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2933;margin:0;background:#fff}
main{max-width:1280px;margin:0 auto;padding:24px 32px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid #e4e7eb}
h3{font-size:15px;margin:20px 0 6px}
p,li{max-width:100ch}
table{border-collapse:collapse;margin:8px 0 16px;font-size:12.5px;max-width:100%}
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
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


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
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top + row_h * len(items) + 8}" '
        f'role="img" aria-label="{_e(title)}"><title>{_e(title)}</title>',
        f'<text x="0" y="16" font-size="13" font-weight="600" fill="#1f2933">{_e(title)}</text>',
    ]
    for i, (label, n) in enumerate(items):
        y = top + i * row_h
        w = max(1, round(bar_w * n / scale)) if n else 0
        color = colors[i] if i < len(colors) else BAR_COLOR
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" font-size="12" text-anchor="end" fill="#1f2933">'
            f"{_e(short)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row_h - 8}" fill="{color}"/>'
            f'<text x="{label_w + w + 5}" y="{y + 15}" font-size="12" fill="#1f2933">{n}</text>'
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


def summary(data: ReportData) -> str:
    """The executive summary: title, origin and date, counts, findings by severity, the key charts."""
    apps = data.tables["apps"]
    cards: list[tuple[str, Any]] = [("apps", len(apps)), *((k, n) for k, n in app_counts(apps).items())]
    usage = data.tables.get("usage")
    if usage is not None and "used" in usage:
        # an app whose usage could not be read (NA) is not counted as unused
        cards.append(("not used in the window", int(usage["used"].eq(False).sum())))
    if "ip_relaxation" in apps:
        cards.append(("relax IP restrictions", int(apps["ip_relaxation"].isin(RELAXED).sum())))
    if "refresh_policy" in apps:
        infinite = int((apps["refresh_policy"] == "infinite").sum())
        cards.append(("refresh tokens valid until revoked", infinite))
    fails = failed(data.findings)
    if fails is not None:
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
    parts.append(_cards(cards))
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
    groups = frame.groupby("rule", sort=False)
    ordered = sorted(groups, key=lambda g: (rank.get(str(g[1]["severity"].iloc[0]).lower(), 99), -len(g[1])))
    for rule, group in ordered:
        first = group.iloc[0]
        sev = str(first["severity"]).lower()
        apps = sorted({str(a) for a in group["app"]})
        shown = ", ".join(apps[:MAX_NAMES]) + (f" and {len(apps) - MAX_NAMES} more" if len(apps) > MAX_NAMES
                                               else "")
        label = str(first.get("title") or "")
        if not label and str(first.get("field")) in catalog.CATALOG:
            label = catalog.CATALOG[str(first["field"])].label
        fixable = "Yes" if bool(group.get("fixable_by_api", pd.Series([False])).any()) else "No"
        rows.append(
            f"<tr><td><span class='sev' style='background:{SEVERITY_COLORS.get(sev, BAR_COLOR)}'>"
            f"{_e(sev)}</span></td><td><b>{_e(rule)}</b>{'<br>' + _e(label) if label else ''}</td>"
            f"<td class='num'>{len(apps)}</td><td>{_e(shown)}</td><td>{_e(first.get('remedy', ''))}</td>"
            f"<td>{fixable}</td></tr>"
        )
    return (
        "<table class='wide findings'><thead><tr><th>Severity</th><th>Rule</th><th>Apps</th>"
        "<th>Affected apps</th><th>Remedy</th><th>Fixable by API</th></tr></thead><tbody>"
        + "".join(rows) + "</tbody></table><p class='note'>Every finding, one row per app: findings.csv and "
        "the Findings sheet of the workbook.</p>" + note
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
        head = "".join(f"<th>{_breakable(names[i])}</th>" for i in cols)
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
    """The curated apps table (Setup labels, value labels, markers); every column is in apps.csv."""
    table = people_table(data.tables["apps"], columns)
    return _table(table, css="wide words") + (
        "<p class='note'>The other settings of every app: apps.csv and the Apps sheet of the workbook.</p>"
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
    listed = ", ".join(unused[:30]) + (f" and {len(unused) - 30} more" if len(unused) > 30 else "")
    return (f"<div class='charts'>{chart}</div>" + _table(table) +
            f"<p><b>{len(unused)} apps</b> had no token and no login in the window"
            + (f": {_e(listed)}." if unused else ".") + "</p>")


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


def _table(frame: pd.DataFrame, css: str = "") -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(
            f"<td class='marker'>{_e(v)}</td>" if str(v) in MARKERS else f"<td>{_breakable(v)}</td>"
            for v in row
        ) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    cls = f" class='{css}'" if css else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def section(title: str, body: str, intro: str = "") -> str:
    """A titled section; nothing at all when ``body`` is empty (e.g. no findings layer).

    >>> section("Findings", ""), section("Apps", "<p>x</p>", "All of them.")
    ('', '<h2>Apps</h2><p>All of them.</p><p>x</p>')
    """
    if not body:
        return ""
    return f"<h2>{_e(title)}</h2>" + (f"<p>{_e(intro)}</p>" if intro else "") + body
