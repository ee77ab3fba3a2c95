"""``.plot()`` of results with matplotlib (an optional dependency).

Each plot draws the figures of a result table as they are (nothing is recomputed) and returns
the matplotlib ``Axes``. The kind of chart follows the table's ``chart_kind``.
"""

from __future__ import annotations

from typing import Any, Dict, List

from ._html import chart_kind


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - exercised with matplotlib hidden
        raise ImportError(
            "plot() needs matplotlib, which is not installed: pip install matplotlib"
        ) from e
    return plt


def _axes(ax: Any, width: float = 7.0, height: float = 4.0) -> Any:
    if ax is not None:
        return ax
    plt = _pyplot()
    _, ax = plt.subplots(figsize=(width, height))
    return ax


def _num(x: Any) -> float:
    return float("nan") if x is None else float(x)


def plot_table(table: Any, ax: Any = None) -> Any:
    kind = chart_kind(table)
    if kind is None:
        raise ValueError(
            f"this table ({', '.join(table.column_names)}) has no chart; "
            "plot() draws funnel, attribution, retention, time-in-stage, transition, path and stage-count results"
        )
    _pyplot()  # the clear ImportError first
    return _PLOTS[kind](table.to_pydict(), ax)


def _funnel(d: Dict[str, List[Any]], ax: Any) -> Any:
    steps = [str(s) for s in d["step"]]
    n = [_num(x) for x in d["customers"]]
    ax = _axes(ax, height=0.5 * len(steps) + 1.5)
    y = list(range(len(steps)))
    ax.barh(y, n, color="#3b6fb6")
    ax.set_yticks(y, steps)
    ax.invert_yaxis()
    for i, (c, share) in enumerate(zip(n, d["conversion_from_first"])):
        ax.annotate(f" {c:,.0f} ({_num(share):.1%})", (c, i), va="center")
    ax.set_xlabel("customers")
    ax.set_title("Funnel")
    return ax


def _attribution(d: Dict[str, List[Any]], ax: Any) -> Any:
    models: List[str] = list(dict.fromkeys(str(m) for m in d["model"]))
    channels: List[str] = list(dict.fromkeys(str(c) for c in d["channel"]))
    credit = {(str(m), str(c)): _num(v) for m, c, v in zip(d["model"], d["channel"], d["conversions"])}
    ax = _axes(ax, width=8.0, height=0.35 * len(channels) * max(1, len(models)) / 2 + 2)
    h = 0.8 / max(1, len(models))
    for k, m in enumerate(models):
        ys = [i + k * h for i in range(len(channels))]
        ax.barh(ys, [credit.get((m, c), 0.0) for c in channels], height=h, label=m)
    ax.set_yticks([i + 0.4 - h / 2 for i in range(len(channels))], channels)
    ax.invert_yaxis()
    ax.set_xlabel("conversions credited")
    ax.set_title("Attribution by model")
    ax.legend(fontsize="small")
    return ax


def _retention(d: Dict[str, List[Any]], ax: Any) -> Any:
    cohorts = sorted(set(d["cohort"]))
    width = 1 + max(int(k) for k in d["offset"])
    row = {c: i for i, c in enumerate(cohorts)}
    grid = [[float("nan")] * width for _ in cohorts]
    for c, k, s in zip(d["cohort"], d["offset"], d["share"]):
        grid[row[c]][int(k)] = _num(s)
    ax = _axes(ax, width=min(12.0, 2 + 0.5 * width), height=min(10.0, 1.5 + 0.3 * len(cohorts)))
    im = ax.imshow(grid, aspect="auto", cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_yticks(range(len(cohorts)), [c.date().isoformat() if hasattr(c, "date") else str(c) for c in cohorts])
    ax.set_xlabel("periods since first touch")
    ax.set_ylabel("cohort")
    ax.set_title("Retention")
    ax.figure.colorbar(im, ax=ax, label="share active")
    return ax


def _time_in_stage(d: Dict[str, List[Any]], ax: Any) -> Any:
    keep = [i for i, n in enumerate(d["completed"]) if n and d["median_ms"][i] is not None]
    hours = 3_600_000.0
    stages = [str(d["stage"][i]) for i in keep]
    med = [_num(d["median_ms"][i]) / hours for i in keep]
    p90 = [_num(d["p90_ms"][i]) / hours for i in keep]
    mean = [_num(d["mean_ms"][i]) / hours for i in keep]
    ax = _axes(ax, height=0.45 * len(stages) + 1.5)
    y = list(range(len(stages)))
    ax.barh(y, p90, height=0.25, color="#3b6fb6", alpha=0.35, label="p90")
    ax.barh(y, med, height=0.6, color="#3b6fb6", label="median")
    ax.scatter(mean, y, marker="|", s=200, color="#c94c4c", label="mean", zorder=3)
    ax.set_yticks(y, stages)
    ax.invert_yaxis()
    ax.set_xlabel("hours in stage (completed stays)")
    ax.set_title("Time in stage")
    ax.legend(fontsize="small")
    return ax


def _matrix(labels: List[str], cells: Dict[Any, float], title: str, ax: Any) -> Any:
    index = {s: i for i, s in enumerate(labels)}
    grid = [[0.0] * len(labels) for _ in labels]
    for (a, b), n in cells.items():
        grid[index[a]][index[b]] += n
    ax = _axes(ax, width=min(12.0, 3 + 0.5 * len(labels)), height=min(10.0, 2 + 0.45 * len(labels)))
    im = ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("to")
    ax.set_ylabel("from")
    ax.set_title(title)
    ax.figure.colorbar(im, ax=ax, label="moves")
    return ax


def _transitions(d: Dict[str, List[Any]], ax: Any) -> Any:
    labels = list(dict.fromkeys(str(x) for pair in zip(d["from"], d["to"]) for x in pair))
    cells = {(str(a), str(b)): _num(n) for a, b, n in zip(d["from"], d["to"], d["count"])}
    return _matrix(labels, cells, "Directly-follows counts", ax)


def _stage_transitions(d: Dict[str, List[Any]], ax: Any) -> Any:
    labels = list(dict.fromkeys(str(s) for s in d["to_stage"]))
    cells: Dict[Any, float] = {}
    for a, b in zip(d["from_stage"], d["to_stage"]):
        if a is not None:
            cells[(str(a), str(b))] = cells.get((str(a), str(b)), 0.0) + 1.0
    return _matrix(labels, cells, "Stage transitions", ax)


def _bars(labels: List[Any], values: List[Any], title: str, xlabel: str, ax: Any) -> Any:
    labels, values = [str(x) for x in labels[:20]], [_num(v) for v in values[:20]]
    ax = _axes(ax, height=0.4 * len(labels) + 1.5)
    y = list(range(len(labels)))
    ax.barh(y, values, color="#3b6fb6")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return ax


def _paths(d: Dict[str, List[Any]], ax: Any) -> Any:
    return _bars(d["path"], d["customers"], "Most common paths", "customers", ax)


def _stage_counts(d: Dict[str, List[Any]], ax: Any) -> Any:
    return _bars(d["stage"], d["customers"], "Customers per stage", "customers", ax)


_PLOTS = {
    "funnel": _funnel,
    "attribution": _attribution,
    "retention": _retention,
    "time_in_stage": _time_in_stage,
    "stage_transitions": _stage_transitions,
    "transitions": _transitions,
    "paths": _paths,
    "stage_counts": _stage_counts,
}


def plot_replay(replay: Any, ax: Any = None) -> Any:
    """The stage flow of a replay (the core's transition matrix) as a matrix of moves."""
    from . import _jornada

    _pyplot()
    stages, links = _jornada.stage_flow(replay)
    cells = {(stages[a], stages[b]): float(n) for a, b, n in links}
    return _matrix(list(stages), cells, "Stage flow (moves between stages)", ax)


