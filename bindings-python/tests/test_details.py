"""Details of the analyses (funnel gaps, exclusions and breakdowns; Sankey links and the step
matrix; repeat purchases; Markov and Shapley details of attribution), checked against small logs
worked out by hand from the core's documented definitions."""

from __future__ import annotations

import pytest

import jornada as jd

pa = pytest.importorskip("pyarrow")

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
MAR2 = 1_772_409_600_000  # 2026-03-02T00:00:00Z, a Monday


def log_of(rows, **extra):
    cols = {"customer": [], "at": [], "channel": [], "kind": []}
    for c, at, ch, k in rows:
        cols["customer"].append(c)
        cols["at"].append(MAR2 + at)
        cols["channel"].append(ch)
        cols["kind"].append(k)
    cols.update(extra)
    return jd.EventLog.from_frame(pa.table(cols), value=None, properties=list(extra) or None)


# a: view (web, src=ad) -> cart 10 min later -> buy; b: view (app) -> support -> cart 2 h later;
# c: view (web, src=ad) -> cart 3 days later.
JOURNEYS = [
    ("a", 0, "web", "view"),
    ("a", 10 * MIN, "app", "cart"),
    ("a", 20 * MIN, "web", "buy"),
    ("b", 0, "app", "view"),
    ("b", 5 * MIN, "web", "support"),
    ("b", 2 * HOUR, "web", "cart"),
    ("c", 0, "web", "view"),
    ("c", 3 * DAY, "web", "cart"),
]
SRC = ["ad", None, None, None, None, None, "ad", None]


@pytest.fixture
def journeys():
    return log_of(JOURNEYS, src=SRC)


def customers(table):
    return table.to_pydict()["customers"]


def test_funnel_gaps(journeys):
    assert customers(journeys.funnel(["view", "cart"])) == [3, 3]
    # c's cart is 3 days after the view: beyond a 1-day max gap.
    assert customers(journeys.funnel(["view", {"kinds": ["cart"], "max_gap": "1d"}])) == [3, 2]
    # a's cart is 10 minutes after: under a 30-minute min gap.
    t = journeys.funnel(["view", {"kinds": ["cart"], "min_gap": "30m", "name": "late cart"}]).to_pydict()
    assert t["customers"] == [3, 2]
    assert t["step"] == ["view", "late cart"]
    # Step dicts can name channels: carts on the app are a's only.
    assert customers(journeys.funnel(["view", {"kinds": ["cart"], "channels": ["app"]}])) == [3, 1]


def test_funnel_exclusion(journeys):
    # b contacted support between the view and the cart.
    t = journeys.funnel(["view", "cart"], exclude=[{"kinds": ["support"], "from_step": 0, "to_step": 1}])
    assert customers(t) == [3, 2]
    with pytest.raises(jd.InvalidValueError) as info:
        journeys.funnel(["view", "cart"], exclude=[{"kinds": ["support"], "from": 0}])
    assert info.value.field == "exclude[0]"


def rows_by_group(table):
    d = table.to_pydict()
    out = {}
    for g, step, n in zip(d["group"], d["step"], d["customers"]):
        out.setdefault(g, []).append((step, n))
    return out


def test_funnel_breakdowns(journeys):
    steps = ["view", "cart", "buy"]
    # By the channel of the step-1 event: a and c viewed on the web, b on the app.
    t = journeys.funnel(steps, breakdown="channel")
    assert t.column_names[0] == "group"
    assert rows_by_group(t) == {
        "app": [("view", 1), ("cart", 1), ("buy", 0)],
        "web": [("view", 2), ("cart", 2), ("buy", 1)],
    }
    assert rows_by_group(journeys.funnel(steps, breakdown="first_touch_channel")) == rows_by_group(t)
    # By a property of the step-1 event: a and c have src=ad, b none.
    assert rows_by_group(journeys.funnel(steps, breakdown="src")) == {
        "ad": [("view", 2), ("cart", 2), ("buy", 1)],
        None: [("view", 1), ("cart", 1), ("buy", 0)],
    }
    # Cohorts: the caller's map; c is in none.
    assert rows_by_group(journeys.funnel(steps, breakdown={"a": "x", "b": "x"})) == {
        "x": [("view", 2), ("cart", 2), ("buy", 1)],
    }
    # The core's own form.
    assert rows_by_group(journeys.funnel(steps, breakdown={"by": "channel"})) == rows_by_group(t)


def test_sankey_and_step_matrix(journeys):
    # Paths by kind: a view>cart>buy, b view>support>cart, c view>cart.
    s = journeys.sankey(max_steps=3).to_pydict()
    links = sorted(zip(s["step"], s["from"], s["to"], s["customers"]))
    assert links == [(0, "view", "cart", 2), (0, "view", "support", 1), (1, "cart", "buy", 1), (1, "support", "cart", 1)]
    m = journeys.step_matrix(max_steps=3).to_pydict()
    cells = sorted(zip(m["step"], m["label"], m["customers"], m["share"]))
    assert cells == [
        (0, "view", 3, 1.0),
        (1, "cart", 2, pytest.approx(2 / 3)),
        (1, "support", 1, pytest.approx(1 / 3)),
        (2, "buy", 1, pytest.approx(1 / 3)),
        (2, "cart", 1, pytest.approx(1 / 3)),
    ]
    # By channel: a web>app>web, b app>web>web, c web>web.
    s = journeys.sankey(by="channel", max_steps=2).to_pydict()
    assert sorted(zip(s["from"], s["to"], s["customers"])) == [("app", "web", 1), ("web", "app", 1), ("web", "web", 1)]


def test_repeat_purchase():
    # x buys on day 0 and 3, y on day 0 and 40, z once, w never; all first seen in March.
    log = log_of(
        [
            ("x", 0, "web", "purchase"),
            ("x", 3 * DAY, "web", "purchase"),
            ("y", 0, "web", "purchase"),
            ("y", 40 * DAY, "web", "purchase"),
            ("z", 0, "web", "purchase"),
            ("w", 0, "web", "view"),
        ]
    )
    assert log.repeat_purchase() == {"buyers": 3, "repeat_buyers": 2, "rate": pytest.approx(2 / 3)}
    assert log.repeat_purchase("purchase", within="30d") == {"buyers": 3, "repeat_buyers": 1, "rate": pytest.approx(1 / 3)}
    r = log.retention(period="month", repeat="purchase").to_pydict()
    # One cohort (March): 4 customers; offset 1 (April): y only.
    assert r["offset"] == [0, 1]
    assert r["active"] == [4, 1]
    assert r["buyers"] == [3, 3]
    assert r["repeat_buyers"] == [2, 2]
    assert r["repeat_rate"] == [pytest.approx(2 / 3)] * 2
    assert "buyers" not in log.retention(period="month").column_names
    with pytest.raises(jd.UnknownEventKindError):
        log.repeat_purchase("refund")


def test_attribution_details():
    # u: an email touch, then a purchase; v: a web touch, no purchase (a null path).
    log = log_of([("u", 0, "email", "email_open"), ("u", HOUR, "email", "purchase"), ("v", 0, "web", "page_view")])
    d = log.attribution_details(conversion="purchase", models=["markov", "shapley", "last_touch"])
    assert set(d) == {"credits", "summary", "removal_effects", "markov", "transition_matrix", "shapley"}
    assert d["summary"]["conversions"] == 1.0 and d["summary"]["null_paths"] == 1.0
    assert d["credits"].to_pydict() == log.attribution(conversion="purchase", models=["markov", "shapley", "last_touch"]).to_pydict()
    # Chain: (start) -> email 1/2, -> web 1/2; email -> (conversion); web -> (null). P(conv) = 1/2.
    # Without email nothing converts (effect 1); without web still 1/2 (effect 0).
    e = d["removal_effects"].to_pydict()
    assert list(zip(e["model"], e["channel"], e["removal_effect"])) == [("markov", "email", 1.0), ("markov", "web", 0.0)]
    assert e["value_removal_effect"] == [0.0, 0.0]  # no values in this log
    assert d["markov"].to_pydict() == {"model": ["markov"], "order": [1], "conversion_probability": [0.5]}
    m = d["transition_matrix"].to_pydict()
    assert list(zip(m["from"], m["to"], m["probability"])) == [
        ("(start)", "email", 0.5),
        ("(start)", "web", 0.5),
        ("email", "(conversion)", 1.0),
        ("web", "(null)", 1.0),
    ]
    s = d["shapley"].to_pydict()
    assert s["model"] == ["shapley"] and s["exact"] == [True] and s["samples"] == [0]
    # No Markov model asked for: empty detail tables.
    d = log.attribution_details(conversion="purchase", models=["first_touch"])
    assert len(d["removal_effects"]) == 0 and len(d["transition_matrix"]) == 0


def test_details_same_from_pandas_polars_pyarrow():
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    cols = {"customer": [], "at": [], "channel": [], "kind": []}
    for c, at, ch, k in JOURNEYS:
        cols["customer"].append(c)
        cols["at"].append(MAR2 + at)
        cols["channel"].append(ch)
        cols["kind"].append(k)
    cols["src"] = SRC
    cols["value"] = [None] * len(SRC)  # all None: an Arrow `null` column from pandas, no values
    logs = [jd.EventLog.from_frame(f, properties=["src"]) for f in (pa.table(cols), pd.DataFrame(cols), pl.DataFrame(cols))]

    def results(log):
        steps = ["view", {"kinds": ["cart"], "max_gap": "1d"}, "buy"]
        return (
            log.funnel(steps, breakdown="src").to_pydict(),
            log.funnel(steps, exclude=[{"kinds": ["support"], "from_step": 0, "to_step": 1}]).to_pydict(),
            log.sankey().to_pydict(),
            log.step_matrix().to_pydict(),
            log.retention(period="week", repeat="cart").to_pydict(),
            log.repeat_purchase("cart"),
            {k: v if isinstance(v, dict) else v.to_pydict() for k, v in log.attribution_details(conversion="buy").items()},
        )

    ref = results(logs[0])
    assert logs[0].to_pydict()["value"] == [None] * len(SRC)
    for log in logs[1:]:
        assert results(log) == ref


def test_attribution_paths_is_channelattribution_input():
    # u: email, web, purchase 80, then sms (a null path); v: web only (null); w: email, web,
    # purchase 20 (merges with u's path); x: sms, purchase 5 forty days later (outside 30 days:
    # unattributed, no row; with no lookback its path is `sms`).
    rows = [
        ("u", 0, "email", "email_open", None),
        ("u", HOUR, "web", "page_view", None),
        ("u", 2 * HOUR, "web", "purchase", 80.0),
        ("u", 3 * HOUR, "sms", "sms_click", None),
        ("v", 0, "web", "page_view", None),
        ("w", 0, "email", "email_open", None),
        ("w", HOUR, "web", "page_view", None),
        ("w", 2 * HOUR, "web", "purchase", 20.0),
        ("x", 0, "sms", "sms_click", None),
        ("x", 40 * DAY, "web", "purchase", 5.0),
    ]
    cols = {
        "customer": [r[0] for r in rows],
        "at": [MAR2 + r[1] for r in rows],
        "channel": [r[2] for r in rows],
        "kind": [r[3] for r in rows],
        "value": [r[4] for r in rows],
    }
    log = jd.EventLog.from_frame(pa.table(cols))
    t = log.attribution_paths(conversion="purchase")
    assert t.to_pydict() == {
        "path": ["email>web", "sms", "web"],
        "total_conversions": [2.0, 0.0, 0.0],
        "total_conversion_value": [100.0, 0.0, 0.0],
        "total_null": [0.0, 1.0, 1.0],
    }
    t = log.attribution_paths(conversion="purchase", lookback=None, sep=" > ")
    assert t.to_pydict() == {
        "path": ["email > web", "sms", "web"],
        "total_conversions": [2.0, 1.0, 0.0],
        "total_conversion_value": [100.0, 5.0, 0.0],
        "total_null": [0.0, 1.0, 1.0],
    }
    # The table gives the log's own attribution (every model but time decay).
    models = ["first_touch", "last_touch", "linear", "position", "markov", "shapley"]
    assert (
        jd.attribution_from_paths(t, sep=">", models=models).to_pydict()
        == log.attribution(conversion="purchase", lookback=None, models=models).to_pydict()
    )
    with pytest.raises(jd.UnknownEventKindError):
        log.attribution_paths(conversion="refund")
    with pytest.raises(jd.InvalidDurationError):
        log.attribution_paths(conversion="purchase", lookback="soon")
    # A separator the paths could not be split back by (empty, or in a channel's name).
    for sep in ("", "e"):
        with pytest.raises(jd.InvalidValueError, match="separator"):
            log.attribution_paths(conversion="purchase", sep=sep)
