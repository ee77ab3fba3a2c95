"""Notebook display: ``_repr_html_`` of models, outcomes, customers, engines and tables.

Plain inline HTML (no JavaScript, no external styles), every value escaped. Analysis results
show a chart above the table: inline SVG drawn by the Rust report crate (the same charts as
``jornada report``), through the ``svg_*`` functions of the extension module.
"""

from __future__ import annotations

import html as _html
import json
from collections import Counter
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

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
    chart = chart_svg(table, data)
    return _chart_block(chart) + _title(f"Table: {_shape(n, 'row')}") + _grid(cols, rows, n)


def _chart_block(svg: Optional[str]) -> str:
    if not svg:
        return ""
    # Charts scale down (they have a viewBox) to fit a narrow notebook column.
    svg = svg.replace("<svg ", '<svg style="max-width:100%;height:auto" ')
    return f'<div style="display:flex;flex-wrap:wrap;gap:8px;margin:4px 0">{svg}</div>'


def _short(label: str, width: int = 22) -> str:
    """A long label shortened in the middle to fit a chart's label column."""
    if len(label) <= width:
        return label
    keep = (width - 1) // 2
    return label[:keep] + "…" + label[-(width - 1 - keep) :]


# Which result a table holds, from the columns the analyses give it (first match wins).
_KINDS: List[Tuple[str, Tuple[str, ...]]] = [
    ("funnel", ("step", "customers", "conversion_from_previous")),
    ("attribution", ("model", "channel", "conversions")),
    ("retention", ("cohort", "offset", "share")),
    ("time_in_stage", ("stage", "completed", "mean_ms", "median_ms", "p90_ms")),
    ("stage_transitions", ("customer", "from_stage", "to_stage")),
    ("transitions", ("from", "to", "count")),
    ("paths", ("path", "customers")),
    ("stage_counts", ("stage", "customers")),
]

# The largest table that gets a chart of all its rows (a chart aggregates in Python).
_MAX_CHART_ROWS = 200_000
_MAX_BARS = 20
_MAX_LINKS = 40
_MAX_COHORTS = 20
_MAX_OFFSETS = 16


def chart_kind(table: Any) -> Optional[str]:
    """The kind of result `table` holds (``"funnel"``, ``"attribution"``, ...), or ``None``."""
    cols = set(table.column_names)
    for kind, needed in _KINDS:
        if cols.issuperset(needed):
            return kind
    return None


def chart_svg(table: Any, data: Optional[Dict[str, List[Any]]] = None) -> Optional[str]:
    """The inline SVG chart(s) of a result table, or ``None`` for tables without one."""
    kind = chart_kind(table)
    if kind is None or table.num_rows == 0 or table.num_rows > _MAX_CHART_ROWS:
        return None
    if data is None:
        data = table.to_pydict()
    return _CHARTS[kind](data)


def _ext() -> Any:
    from . import _jornada

    return _jornada


def _funnel_svg(d: Dict[str, List[Any]]) -> str:
    prev = [None if i == 0 else v for i, v in enumerate(d["conversion_from_previous"])]
    return _ext().svg_funnel_chart("Funnel", list(map(str, d["step"])), _floats(d["customers"]), prev)


def _attribution_svg(d: Dict[str, List[Any]]) -> str:
    by_model: Dict[str, List[Tuple[str, float]]] = {}
    for m, c, v in zip(d["model"], d["channel"], d["conversions"]):
        by_model.setdefault(str(m), []).append((str(c), float(v or 0.0)))
    return "".join(
        _ext().svg_bar_chart(f"Conversions credited, {m}", [c for c, _ in items], [v for _, v in items])
        for m, items in by_model.items()
    )


def _retention_svg(d: Dict[str, List[Any]]) -> str:
    cohorts: Dict[Any, Dict[int, float]] = {}
    sizes: Dict[Any, int] = {}
    for c, n, k, share in zip(d["cohort"], d.get("customers", [None] * len(d["cohort"])), d["offset"], d["share"]):
        cohorts.setdefault(c, {})[int(k)] = share
        sizes[c] = n
    keys = sorted(cohorts, key=lambda c: (c is None, c))[:_MAX_COHORTS]
    width = min(_MAX_OFFSETS, 1 + max((max(cohorts[c]) for c in keys if cohorts[c]), default=0))
    rows = [_cohort_label(c, sizes[c]) for c in keys]
    cols = [f"+{k}" for k in range(width)]
    cells = [[cohorts[c].get(k) for k in range(width)] for c in keys]
    more = len(cohorts) - len(keys)
    title = "Retention: share of each cohort active, by period since first touch"
    if more > 0:
        title += f" (first {len(keys)} cohorts of {len(cohorts)})"
    return _ext().svg_heatmap(title, rows, cols, cells)


def _cohort_label(c: Any, n: Any) -> str:
    text = c.date().isoformat() if hasattr(c, "date") else str(c)
    return text if n is None else f"{text} ({n:,})"


def _time_in_stage_svg(d: Dict[str, List[Any]]) -> Optional[str]:
    keep = [i for i, n in enumerate(d["completed"]) if n and d["median_ms"][i] is not None]
    if not keep:
        return None
    pick = lambda col: [d[col][i] for i in keep]  # noqa: E731
    return _ext().svg_range_chart(
        "Time in stage (completed stays): median, p90 (thin bar), mean (tick)",
        [str(s) for s in pick("stage")],
        _floats(pick("median_ms")),
        _floats(pick("p90_ms")),
        _floats(pick("mean_ms")),
        [int(n) for n in pick("completed")],
    )


def _sankey(title: str, pairs: Sequence[Tuple[Any, Any, float]]) -> Optional[str]:
    """A Sankey of `(from, to, count)` moves; nodes ordered by first appearance."""
    moves = [(str(a), str(b), float(c)) for a, b, c in pairs if a is not None and b is not None and a != b]
    if not moves:
        return None
    total = len(moves)
    if total > _MAX_LINKS:
        moves = sorted(moves, key=lambda m: -m[2])[:_MAX_LINKS]
        title += f" (the {_MAX_LINKS} largest of {total} moves)"
    index: Dict[str, int] = {}
    for a, b, _ in moves:
        index.setdefault(a, len(index))
        index.setdefault(b, len(index))
    links = [(index[a], index[b], c) for a, b, c in moves]
    return _ext().svg_sankey(title, list(index), links)


def _transitions_svg(d: Dict[str, List[Any]]) -> Optional[str]:
    return _sankey("Directly-follows flow", list(zip(d["from"], d["to"], _floats(d["count"]))))


def _stage_transitions_svg(d: Dict[str, List[Any]]) -> Optional[str]:
    order: Dict[str, int] = {}
    for s in d["to_stage"]:
        order.setdefault(s, len(order))
    counts = Counter(zip(d["from_stage"], d["to_stage"]))
    pairs = sorted(
        ((a, b, float(n)) for (a, b), n in counts.items() if a is not None),
        key=lambda m: (order.get(m[0], 0), order.get(m[1], 0)),
    )
    return _sankey("Stage flow", pairs)


def _bars(title: str, labels: List[Any], values: List[Any]) -> str:
    labels, values = labels[:_MAX_BARS], values[:_MAX_BARS]
    return _ext().svg_bar_chart(title, [str(x) for x in labels], _floats(values))


def _paths_svg(d: Dict[str, List[Any]]) -> str:
    return _bars("Customers by path", [_short(str(p)) for p in d["path"]], d["customers"])


def _stage_counts_svg(d: Dict[str, List[Any]]) -> str:
    return _bars("Customers per stage", d["stage"], d["customers"])


def _floats(xs: Sequence[Any]) -> List[float]:
    return [float("nan") if x is None else float(x) for x in xs]


_CHARTS: Dict[str, Callable[[Dict[str, List[Any]]], Optional[str]]] = {
    "funnel": _funnel_svg,
    "attribution": _attribution_svg,
    "retention": _retention_svg,
    "time_in_stage": _time_in_stage_svg,
    "stage_transitions": _stage_transitions_svg,
    "transitions": _transitions_svg,
    "paths": _paths_svg,
    "stage_counts": _stage_counts_svg,
}


def replay_html(replay: Any) -> str:
    """A replay: the stage flow (the core's transition matrix) as a Sankey, over the table."""
    stages, links = _ext().stage_flow(replay)
    svg = None
    if links:
        # Only the stages some customer moved into or out of, in model order.
        used = sorted({i for a, b, _ in links for i in (a, b)})
        at = {s: k for k, s in enumerate(used)}
        svg = _ext().svg_sankey(
            f"Stage flow: {sum(c for _, _, c in links):,} moves between stages",
            [stages[i] for i in used],
            [(at[a], at[b], float(c)) for a, b, c in links],
        )
    return _title(repr(replay)) + _chart_block(svg) + table_html(replay.table)


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
