"""Notebook charts: the inline SVG of `_repr_html_` (drawn by the Rust report crate) and
`.plot()` (matplotlib, Agg backend). Every drawn size is checked against the result's figures,
recomputed here independently (bar widths proportional to counts, Sankey link widths to the
number of moves counted from the replay's transitions, heatmap cells equal to the shares)."""

from __future__ import annotations

import doctest
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

import jornada as jd
from jornada import _jornada

SVG = "{http://www.w3.org/2000/svg}"
MIN = 60_000
HOUR = 60 * MIN


@pytest.fixture(scope="module")
def shop():
    model = jd.Model.preset("ecommerce")
    log = jd.simulate(model, customers=600, seed=11, days=60)
    return model, log


def svgs(html):
    """Every <svg> element of an HTML fragment, parsed (so each is well-formed XML)."""
    found = re.findall(r"<svg.*?</svg>", html, re.S)
    return [ET.fromstring(s) for s in found]


def rects(svg):
    return [r for r in svg.iter(SVG + "rect")]


def texts(svg):
    return ["".join(t.itertext()) for t in svg.iter(SVG + "text")]


def close(a, b, tol=0.11):
    return abs(a - b) <= tol


# ---- the chart functions themselves ------------------------------------------------------


def test_chart_functions_docstring_examples():
    names = ["svg_bar_chart", "svg_funnel_chart", "svg_sankey", "svg_heatmap", "svg_range_chart",
             "duration_label", "stage_flow"]
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tried = 0
    for name in names:
        f = getattr(_jornada, name)
        for test in finder.find(f, name, globs=dict(vars(_jornada))):
            runner.run(test)
            tried += len(test.examples)
    assert runner.failures == 0
    assert tried >= 12


def test_bar_widths_are_proportional_and_labels_escaped():
    svg = ET.fromstring(_jornada.svg_bar_chart("t", ["<b>a</b>", "b", "c"], [10.0, 5.0, 2.5]))
    w = [float(r.get("width")) for r in rects(svg)]
    assert close(w[0], 2 * w[1]) and close(w[1], 2 * w[2])
    assert "<b>a</b>" in texts(svg)  # text content, escaped in the markup
    pct = _jornada.svg_bar_chart("t", ["a"], [0.25], percent=True)
    assert "25.0%" in pct


def test_chart_functions_reject_mismatched_input():
    with pytest.raises(ValueError, match="values: expected 2"):
        _jornada.svg_bar_chart("t", ["a", "b"], [1.0])
    with pytest.raises(ValueError, match="from_previous"):
        _jornada.svg_funnel_chart("t", ["a"], [1.0], [])
    with pytest.raises(ValueError, match=r"links\[1\]: node index out of range"):
        _jornada.svg_sankey("t", ["a", "b"], [(0, 1, 1.0), (0, 2, 1.0)])
    with pytest.raises(ValueError, match=r"cells\[0\]"):
        _jornada.svg_heatmap("t", ["r"], ["c"], [[0.1, 0.2]])
    with pytest.raises(ValueError, match="count"):
        _jornada.svg_range_chart("t", ["a"], [1.0], [2.0], [1.5], [])
    with pytest.raises(TypeError):
        _jornada.svg_bar_chart("t", ["a"], ["x"])


def test_sankey_columns_follow_the_flow():
    # a → b → c, c → b (back), a → c: c sits right of b, b right of a.
    svg = ET.fromstring(_jornada.svg_sankey("t", ["a", "b", "c"], [(0, 1, 4.0), (1, 2, 2.0), (2, 1, 1.0), (0, 2, 1.0), (1, 1, 9.0)]))
    x = {t.split(" (")[0]: float(r.get("x")) for r, t in zip(
        [r for r in rects(svg)], [t for t in texts(svg)[1:]])}
    assert x["a"] < x["b"] < x["c"]
    # The self-loop is left out: 4 links drawn.
    assert len(list(svg.iter(SVG + "path"))) == 4
    explicit = ET.fromstring(_jornada.svg_sankey("t", ["a", "b"], [(0, 1, 1.0)], columns=[1, 0]))
    xs = [float(r.get("x")) for r in rects(explicit)]
    assert xs[0] > xs[1]


def test_duration_labels():
    assert [_jornada.duration_label(ms) for ms in (45_000, 30 * MIN, 5 * HOUR, 3 * 24 * HOUR)] == [
        "45 s", "30 min", "5.0 h", "3.0 d"]


# ---- charts of results ---------------------------------------------------------------------


def test_funnel_chart_in_repr_html(shop):
    _, log = shop
    t = log.funnel(["page_view", "product_view", "add_to_cart", "purchase"], window="30d")
    assert t.chart_kind == "funnel"
    html = t._repr_html_()
    assert html.index("<svg") < html.index("<table")  # the chart, then the table
    (svg,) = svgs(html)
    d = t.to_pydict()
    widths = [float(r.get("width")) for r in rects(svg)]
    first = d["customers"][0]
    assert first > 0
    for w, n in zip(widths, d["customers"]):
        assert close(w / widths[0], n / first, 0.01)
    labels = " ".join(texts(svg))
    for step, conv in zip(d["step"][1:], d["conversion_from_previous"][1:]):
        assert step in labels
        assert f"{conv * 100:.1f}% of previous" in labels


def test_attribution_bars_per_model(shop):
    _, log = shop
    t = log.attribution(conversion="purchase", models=["last_touch", "linear"])
    assert t.chart_kind == "attribution"
    charts = svgs(t._repr_html_())
    assert len(charts) == 2
    d = t.to_pydict()
    for svg, model in zip(charts, ["last_touch", "linear"]):
        assert model in texts(svg)[0]
        credit = [c for m, c in zip(d["model"], d["conversions"]) if m == model]
        widths = [float(r.get("width")) for r in rects(svg)]
        top = max(credit)
        for w, c in zip(widths, credit):
            assert close(w, 360.0 * c / top)


def test_retention_heatmap_cells_are_the_shares(shop):
    _, log = shop
    t = log.retention(period="week", periods=4)
    assert t.chart_kind == "retention"
    (svg,) = svgs(t._repr_html_())
    d = t.to_pydict()
    # Cell labels row by row (cohorts in time order, offsets left to right).
    cells = [x for x in texts(svg) if x.endswith("%")]
    expected = [f"{s * 100:.0f}%" for _, _, s in sorted(zip(d["cohort"], d["offset"], d["share"]))]
    assert cells == expected
    assert "+0" in texts(svg) and "+3" in texts(svg)


def test_time_in_stage_range_chart(shop):
    model, log = shop
    t = log.time_in_stage(model)
    assert t.chart_kind == "time_in_stage"
    (svg,) = svgs(t._repr_html_())
    d = t.to_pydict()
    labels = texts(svg)[1:]  # after the title: per row, the stage, then its figures
    rows = dict(zip(labels[::2], labels[1::2]))
    drawn = [s for s, n in zip(d["stage"], d["completed"]) if n]
    assert list(rows) == drawn
    for stage, n, med, p90 in zip(d["stage"], d["completed"], d["median_ms"], d["p90_ms"]):
        if n:
            line = rows[stage]
            assert line.startswith(f"median {_jornada.duration_label(med)} · p90 {_jornada.duration_label(p90)}")
            assert line.endswith(f"n={n:,}")


def test_replay_sankey_counts_the_moves(shop):
    model, log = shop
    r = log.replay(model)
    html = r._repr_html_()
    (svg,) = svgs(html)
    # Independently: count (from, to) pairs in the replay's transition table.
    tr = r.transitions.to_pydict()
    moves = Counter((a, b) for a, b in zip(tr["from_stage"], tr["to_stage"]) if a is not None and a != b)
    stages, links = _jornada.stage_flow(r)
    assert stages == model.stages
    assert {(stages[a], stages[b]): n for a, b, n in links} == dict(moves)
    widths = {}
    for p in svg.iter(SVG + "path"):
        title = "".join(p.find(SVG + "title").itertext())
        pair = tuple(title.split(":")[0].split(" → "))
        widths[pair] = float(p.get("stroke-width"))
    assert set(widths) == set(moves)
    big = max(moves, key=moves.get)
    for pair, n in moves.items():
        assert close(widths[pair] / widths[big], n / moves[big], 0.02) or widths[pair] == 0.5
    assert f"{sum(moves.values()):,} moves" in html
    assert "<table" in html


def test_transitions_paths_and_stage_counts_charts(shop):
    model, log = shop
    t = log.transitions(by="channel")
    assert t.chart_kind == "transitions"
    (svg,) = svgs(t._repr_html_())
    d = t.to_pydict()
    drawn = len(list(svg.iter(SVG + "path")))
    assert drawn == min(40, sum(1 for a, b in zip(d["from"], d["to"]) if a != b))
    p = log.paths(top=5)
    assert p.chart_kind == "paths"
    (svg,) = svgs(p._repr_html_())
    assert len(rects(svg)) == len(p)
    engine = jd.Engine(model)
    engine.ingest({"customer_id": "c1", "channel": "web", "kind": "page_view", "at": 0})
    counts = engine.stage_counts()
    assert counts.chart_kind == "stage_counts"
    assert svgs(counts._repr_html_())
    sc = r_tr = log.replay(model).transitions
    assert sc.chart_kind == "stage_transitions"
    assert svgs(r_tr._repr_html_())


def test_tables_without_a_chart_render_as_before(shop):
    _, log = shop
    t = log.effort()
    assert t.chart_kind is None
    assert "<svg" not in t._repr_html_()
    assert "<svg" not in log.to_table()._repr_html_()
    with pytest.raises(ValueError, match="has no chart"):
        t.plot()


def test_no_scripts_or_urls_in_charts(shop):
    model, log = shop
    html = log.replay(model)._repr_html_() + log.funnel(["page_view", "purchase"])._repr_html_()
    assert "<script" not in html
    assert html.count("http") == html.count("http://www.w3.org/2000/svg")


# ---- .plot() -------------------------------------------------------------------------------


@pytest.fixture
def plt():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plot_funnel_bars_are_the_counts(shop, plt):
    _, log = shop
    t = log.funnel(["page_view", "product_view", "purchase"], window="30d")
    ax = t.plot()
    assert [p.get_width() for p in ax.patches] == [float(n) for n in t.to_pydict()["customers"]]
    assert [x.get_text() for x in ax.get_yticklabels()] == ["page_view", "product_view", "purchase"]


def test_plot_into_given_axes_and_every_kind(shop, plt):
    model, log = shop
    _, ax = plt.subplots()
    assert log.paths(top=3).plot(ax=ax) is ax
    att = log.attribution(conversion="purchase", models=["first_touch", "markov"])
    ax = att.plot()
    d = att.to_pydict()
    assert sorted(p.get_width() for p in ax.patches) == pytest.approx(sorted(d["conversions"]))
    ret = log.retention(periods=3)
    ax = ret.plot()
    grid = ax.images[0].get_array()
    cohorts = sorted(set(ret.to_pydict()["cohort"]))
    for c, k, s in zip(*(ret.to_pydict()[x] for x in ("cohort", "offset", "share"))):
        assert grid[cohorts.index(c)][k] == pytest.approx(s)
    tis = log.time_in_stage(model)
    ax = tis.plot()
    d = tis.to_pydict()
    medians = [m / HOUR for m, n in zip(d["median_ms"], d["completed"]) if n]
    assert [p.get_width() for p in ax.patches][len(medians):] == pytest.approx(medians)
    r = log.replay(model)
    ax = r.plot()
    stages, links = _jornada.stage_flow(r)
    grid = ax.images[0].get_array()
    for a, b, n in links:
        assert grid[a][b] == n
    assert log.transitions().plot() is not None
    assert log.replay(model).transitions.plot() is not None


def test_plot_without_matplotlib_says_how_to_install(shop, monkeypatch):
    _, log = shop
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        log.paths(top=3).plot()


def test_tiny_and_empty_results_still_render(ecommerce):
    pa = pytest.importorskip("pyarrow")
    log = jd.EventLog.from_frame(
        pa.table({"customer": ["c1", "c2"], "at": [0, 0], "channel": ["web", "web"], "kind": ["page_view", "purchase"]}),
        value=None)
    results = [
        log.funnel(["purchase", "page_view"]),  # nobody reaches the second step
        log.attribution(conversion="purchase"),  # a conversion without a touch before it
        log.retention(),
        log.time_in_stage(ecommerce),
        log.transitions(),  # no edges
        log.paths(),
        log.effort(support=None, cart=None),
        log.replay(ecommerce),
    ]
    for r in results:
        html = r._repr_html_()
        assert "<table" in html
        for svg in svgs(html):
            assert svg.tag == SVG + "svg"
    # No completed stay: no time-in-stage chart, the table alone.
    one = jd.EventLog.from_frame(pa.table({"customer": ["c1"], "at": [0], "channel": ["web"], "kind": ["page_view"]}), value=None)
    html = one.time_in_stage(ecommerce)._repr_html_()
    assert "<svg" not in html and "<table" in html
    assert "<svg" not in one.replay(ecommerce)._repr_html_()  # no moves between stages
