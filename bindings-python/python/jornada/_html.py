"""Notebook display: ``_repr_html_`` of models, outcomes, customers, engines and tables.

Plain inline HTML (no JavaScript, no external styles), every value escaped.
"""

from __future__ import annotations

import html as _html
import json
from typing import Any, List, Sequence

_MAX_ROWS = 20
_STYLE = "border-collapse:collapse;font-size:12px"
_CELL = "border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top"


def _esc(value: Any) -> str:
    if value is None:
        return '<span style="color:#999">—</span>'
    if hasattr(value, "isoformat"):
        value = value.isoformat().replace("+00:00", "Z")
    return _html.escape(str(value))


def _grid(headers: Sequence[str], rows: Sequence[Sequence[Any]], total: int = -1) -> str:
    head = "".join(f'<th style="{_CELL}">{_html.escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CELL}">{_esc(v)}</td>' for v in row) + "</tr>"
        for row in rows
    )
    more = ""
    if total > len(rows):
        more = f'<tr><td style="{_CELL}" colspan="{len(headers)}">… {total - len(rows)} more rows</td></tr>'
    return f'<table style="{_STYLE}"><thead><tr>{head}</tr></thead><tbody>{body}{more}</tbody></table>'


def _title(text: str) -> str:
    return f'<div style="font-weight:bold;margin:4px 0">{_html.escape(text)}</div>'


def _shape(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def table_repr(table: Any) -> str:
    cols = table.column_names
    data = table.to_pydict()
    n = table.num_rows
    lines = [f"Table({_shape(n, 'row')}: {', '.join(cols)})"]
    for i in range(min(n, 10)):
        lines.append("  " + ", ".join(f"{c}={_plain(data[c][i])}" for c in cols))
    if n > 10:
        lines.append(f"  … {n - 10} more rows")
    return "\n".join(lines)


def _plain(v: Any) -> str:
    if hasattr(v, "isoformat"):
        return v.isoformat().replace("+00:00", "Z")
    return repr(v)


def table_html(table: Any) -> str:
    cols: List[str] = table.column_names
    n = table.num_rows
    data = table.to_pydict()
    rows = [[data[c][i] for c in cols] for i in range(min(n, _MAX_ROWS))]
    return _title(f"Table: {_shape(n, 'row')}") + _grid(cols, rows, n)


def model_html(model: Any) -> str:
    spec = model.to_dict()
    stages = []
    for s in spec.get("stages", []):
        if isinstance(s, str):
            stages.append([s, None])
        else:
            acts = ", ".join(a.get("action", "") for a in s.get("on_enter", []))
            stages.append([s.get("name"), acts or None])
    rules = []
    for r in spec.get("rules", []):
        kind = r.get("type", "transition")
        if kind == "timeout":
            trigger = f"no {', '.join(r.get('none_of', [])) or 'event'} within {r.get('within')}"
            origin = r.get("in")
        else:
            trigger = r.get("on")
            origin = r.get("from")
        acts = ", ".join(a.get("action", "") for a in r.get("actions", []))
        rules.append(
            [
                r.get("name"),
                kind,
                _list(origin),
                _list(trigger),
                r.get("to"),
                acts or None,
            ]
        )
    head = _title(
        f"Model {spec.get('name')!r}: {_shape(len(stages), 'stage')}, {_shape(len(rules), 'rule')}, "
        f"channels {', '.join(model.channels)}"
    )
    return (
        head
        + _grid(["stage", "on_enter actions"], stages)
        + "<br>"
        + _grid(["rule", "type", "from / in", "on / timeout", "to", "actions"], rules)
    )


def _list(v: Any) -> Any:
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    return v


def outcome_html(out: Any) -> str:
    parts = [_title(repr(out))]
    for name in ("transitions", "retracted_transitions"):
        items = getattr(out, name)
        if items:
            rows = [[t.customer, t.from_, t.to, t.at, t.rule, t.channel] for t in items[:_MAX_ROWS]]
            parts.append(_title(name.replace("_", " ")))
            parts.append(_grid(["customer", "from", "to", "at", "rule", "channel"], rows, len(items)))
    for name in ("actions", "retracted_actions"):
        items = getattr(out, name)
        if items:
            rows = [
                [a.customer, a.action, a.channel, a.at, a.stage, a.rule, a.suppressed, json.dumps(a.params)]
                for a in items[:_MAX_ROWS]
            ]
            parts.append(_title(name.replace("_", " ")))
            parts.append(
                _grid(
                    ["customer", "action", "channel", "at", "stage", "rule", "suppressed", "params"],
                    rows,
                    len(items),
                )
            )
    if out.merges:
        parts.append(_title("merges"))
        parts.append(_grid(["into", "from", "at"], [[m.into, ", ".join(m.from_), m.at] for m in out.merges]))
    if out.duplicates:
        parts.append(_title("duplicates"))
        parts.append(_grid(["id"], [[d] for d in out.duplicates[:_MAX_ROWS]], len(out.duplicates)))
    if out.rejected:
        rows = [[r.index, r.code, r.path, r.message] for r in out.rejected[:_MAX_ROWS]]
        parts.append(_title("rejected"))
        parts.append(_grid(["index", "code", "field", "message"], rows, len(out.rejected)))
    return "".join(parts)


def customer_html(c: Any) -> str:
    head = _title(f"Customer {c.id!r}: {c.stage or 'no stage'} ({_shape(c.touchpoints, 'touchpoint')})")
    keys = _grid(["identity", "key"], [list(k) for k in c.keys])
    history = _grid(
        ["stage", "entered at", "rule", "channel"],
        [[h.stage, h.entered_at, h.rule, h.channel] for h in c.history],
    )
    parts = [head, keys, "<br>", history]
    if c.consent:
        parts += ["<br>", _grid(["channel", "granted", "at"], [[e.channel, e.granted, e.at] for e in c.consent])]
    return "".join(parts)


def engine_html(engine: Any) -> str:
    return _title(repr(engine)) + table_html(engine.stage_counts())


def event_log_html(log: Any) -> str:
    return _title(repr(log)) + table_html(log.to_table())
