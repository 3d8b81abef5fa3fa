"""The form library: widgets generated from the field catalog, not written form by form.

:func:`field_widget` maps one catalog field to an input: an enum becomes a dropdown of Setup labels, a boolean
a checkbox, an integer a bounded integer box, a URL/e-mail/text a text box, a list (callback URLs, scopes) a
text area with one item per line. :class:`FieldInput` adds the "change this setting" switch, the inline
validation message and the read-only state (disabled, with the catalog's reason); :class:`FieldForm` is a set
of them that turns into edit changes (``{field id: canonical value}``) and back.

>>> form = FieldForm(["ip_relaxation", "pkce", "pin_length"], kinds=["ConnectedApp"])
>>> form.inputs["ip_relaxation"].input.options[1]
('Enforce IP restrictions, but relax for refresh tokens', 'ENFORCE_RELAXREFRESH')
>>> form.inputs["pin_length"].read_only, form.inputs["pin_length"].include.disabled
(True, True)
>>> form.set_changes({"ip_relaxation": "BYPASS", "pkce": True}); form.changes()
{'ip_relaxation': 'BYPASS', 'pkce': True}
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

import ipywidgets as widgets

from ..model import catalog

# Integer settings with documented bounds (others: 0 .. INT_MAX)
INT_BOUNDS = {"id_token_validity": (1, 720), "refresh_n": (1, 999_999), "session_timeout": (1, 999_999)}
INT_MAX = 999_999
# types a form can take: secrets and certificates are never typed into a form, records need their own editor
FORM_TYPES = frozenset({"string", "url", "email", "boolean", "integer", "enum", "list"})
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ERROR_STYLE = "color:#b00020"


def form_fields(kind: str | None = None, *, writable: bool | None = True) -> list[catalog.Field]:
    """Catalog fields a form can edit (of a kind of app; writable ones by default).

    >>> ids = [f.id for f in form_fields("ConnectedApp")]
    >>> "ip_relaxation" in ids, "consumer_secret" in ids, "pin_length" in ids
    (True, False, False)
    """
    return [
        f for f in catalog.fields(kind=kind, writable=writable)
        if f.type in FORM_TYPES and not f.secret and not f.masked
    ]


def _numeric(allowed: Iterable[str]) -> bool:
    values = list(allowed)
    return bool(values) and all(v.isdigit() for v in values)


def field_widget(f: catalog.Field) -> widgets.Widget:
    """The input widget for one field (its description is the Setup label).

    >>> field_widget(catalog.field("pkce")).description
    'Require Proof Key for Code Exchange (PKCE)'
    >>> type(field_widget(catalog.field("callback_urls"))).__name__
    'Textarea'
    """
    style = {"description_width": "initial"}
    layout = widgets.Layout(width="auto")
    if f.type == "enum":
        options = [
            (catalog.value_label(f, v), int(v) if _numeric(f.allowed) else v) for v in f.allowed
        ]
        # nothing chosen at first: choosing any value (the first one too) marks the setting for change
        return widgets.Dropdown(description=f.label, options=options, value=None, style=style, layout=layout)
    if f.type == "boolean":
        return widgets.Checkbox(description=f.label, value=False, indent=False, layout=layout)
    if f.type == "integer":
        low, high = INT_BOUNDS.get(f.id, (0, INT_MAX))
        return widgets.BoundedIntText(description=f.label, min=low, max=high, value=low, style=style)
    if f.type == "list":
        hint = "one per line" + (f"; allowed: {', '.join(f.allowed[:6])}…" if f.allowed else "")
        return widgets.Textarea(description=f.label, placeholder=hint, rows=3, style=style, layout=layout)
    placeholder = {"url": "https://…", "email": "name@example.com"}.get(f.type, "")
    return widgets.Text(description=f.label, placeholder=placeholder, style=style, layout=layout)


def check_value(f: catalog.Field, value: Any) -> str:
    """The problem with a value for a field, in words ("" when it is fine).

    >>> check_value(catalog.field("info_url"), "not a url")
    "Info URL: 'not a url' is not a URL (scheme://host…)"
    >>> check_value(catalog.field("scopes"), ["Api", "Nope"])[:38]
    "Selected OAuth Scopes: 'Nope' is not a"
    >>> check_value(catalog.field("callback_urls"), ["myapp://cb"])
    ''
    """
    if f.type == "list":
        items = list(value or [])
        if not items:
            return f"{f.label}: give at least one value"
        for item in items:
            if f.allowed and item not in f.allowed:
                return f"{f.label}: {item!r} is not a scope Salesforce knows; allowed: {', '.join(f.allowed)}"
            if f.id == "callback_urls" and not _URL.match(item):
                return f"{f.label}: {item!r} is not a URL (scheme://host…)"
        return ""
    if f.type == "url" and value and not _URL.match(str(value)):
        return f"{f.label}: {value!r} is not a URL (scheme://host…)"
    if f.type == "email" and value and not _EMAIL.match(str(value)):
        return f"{f.label}: {value!r} is not an e-mail address"
    if f.type == "integer":
        low, high = INT_BOUNDS.get(f.id, (0, INT_MAX))
        if not isinstance(value, int) or not low <= value <= high:
            return f"{f.label}: {value!r} is not a whole number from {low} to {high}"
    if f.type == "enum" and value is None:
        return f"{f.label}: choose a value"
    if f.type == "enum" and str(value) not in f.allowed:
        return f"{f.label}: {value!r} is not allowed; allowed: {', '.join(f.allowed)}"
    return ""


class FieldInput(widgets.HBox):  # type: ignore[misc]
    """One setting in a form: "change it" switch, the input, an inline message.

    A setting no API can write for any of ``kinds`` is shown disabled with the catalog's reason; one that only
    some kinds can take stays enabled, with a note naming the others and why (the edit plan refuses them).

    >>> row = FieldInput("logo_url")
    >>> row.input.value = "nope"
    >>> row.include.value, "is not a URL" in row.message.value
    (True, True)
    """

    def __init__(self, field_id: str, kinds: Iterable[str] = (catalog.CA, catalog.ECA)) -> None:
        self.field = catalog.field(field_id)
        self.kinds = [k for k in kinds if self.field.binding(k) is not None] or list(kinds)
        self.include = widgets.Checkbox(value=False, indent=False, description="", tooltip="change it",
                                        layout=widgets.Layout(width="28px"))
        self.input = field_widget(self.field)
        self.message = widgets.HTML()
        blocked = [k for k in self.kinds if not self.field.writable(k)]
        self.read_only = len(blocked) == len(self.kinds)  # no kind of app can take it
        # a setting only some kinds can take stays usable; the note says which (the plan refuses the others)
        self.note = "; ".join(
            f"not on {catalog.KIND_LABELS.get(k, k).lower()}s: {self.field.why_not_writable(k)}"
            for k in blocked
        )
        if self.read_only:
            self.include.disabled = self.input.disabled = True
            reason = self.field.why_not_writable(blocked[0])
            self.message.value = f"<span class='ca-note'>read-only: {html.escape(reason)}</span>"
        elif self.note:
            self.message.value = f"<span class='ca-note'>{html.escape(self.note)}</span>"
        self.input.observe(self._edited, names="value")
        self.include.observe(lambda _c: self.validate(), names="value")
        super().__init__([self.include, self.input, self.message])

    @property
    def value(self) -> Any:
        """The canonical value typed in (a list for list fields)."""
        raw = self.input.value
        if self.field.type == "list":
            return [line.strip() for line in str(raw).splitlines() if line.strip()]
        if self.field.type in ("string", "url", "email"):
            return str(raw).strip()
        return raw

    @value.setter
    def value(self, value: Any) -> None:
        if self.field.type == "list":
            value = "\n".join(value if isinstance(value, list | tuple) else catalog.split_lines(value))
        elif self.field.type == "enum" and _numeric(self.field.allowed):
            value = int(value)
        self.input.value = value
        self.include.value = not self.read_only

    def _edited(self, _change: Any) -> None:
        if not self.read_only:
            self.include.value = True
        self.validate()

    def validate(self) -> str:
        """Check the value (only when the setting is to be changed); show and return the problem."""
        if self.read_only:
            return ""
        problem = check_value(self.field, self.value) if self.include.value else ""
        note = f"<span class='ca-note'>{html.escape(self.note)}</span>" if self.note else ""
        self.message.value = f"<span style='{ERROR_STYLE}'>{html.escape(problem)}</span>" if problem else note
        return problem


class FieldForm(widgets.VBox):  # type: ignore[misc]
    """Several settings as one form: ``changes()`` are the ticked settings' values, ``problems()`` what is
    wrong with them. ``add(field_id)`` / ``remove(field_id)`` change which settings are shown."""

    def __init__(self, field_ids: Iterable[str] = (), *, kinds: Iterable[str] = (catalog.CA, catalog.ECA)):
        self.kinds = list(kinds)
        self.inputs: dict[str, FieldInput] = {}
        super().__init__([])
        for fid in field_ids:
            self.add(fid)

    def add(self, field_id: str) -> FieldInput:
        """Show one more setting (the same one twice is shown once)."""
        if field_id not in self.inputs:
            self.inputs[field_id] = FieldInput(field_id, self.kinds)
            self.children = tuple(self.inputs.values())
        return self.inputs[field_id]

    def remove(self, field_id: str) -> None:
        self.inputs.pop(field_id, None)
        self.children = tuple(self.inputs.values())

    def changes(self) -> dict[str, Any]:
        """``{field id: canonical value}`` of every setting ticked for change."""
        return {fid: row.value for fid, row in self.inputs.items() if row.include.value}

    def set_changes(self, changes: Mapping[str, Any]) -> None:
        """Fill the form from changes (adding the settings it does not show yet)."""
        for fid, value in changes.items():
            self.add(fid).value = value

    def problems(self) -> list[str]:
        """Every problem of the ticked settings (each also shown next to its input)."""
        return [p for p in (row.validate() for row in self.inputs.values()) if p]
