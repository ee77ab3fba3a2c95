"""The analyses bound on EventLog (simulate, replay, time in stage, funnel), checked against small
logs whose figures are worked out by hand from the core's documented definitions."""

from __future__ import annotations

import pytest

import jornada as jd

MIN = 60_000
HOUR = 60 * MIN


def log_of(rows):
    cols = {"customer": [], "at": [], "channel": [], "kind": []}
    for c, at, ch, k in rows:
        cols["customer"].append(c)
        cols["at"].append(at)
        cols["channel"].append(ch)
        cols["kind"].append(k)
    pa = pytest.importorskip("pyarrow")
    return jd.EventLog.from_frame(pa.table(cols), value=None), cols


# c1 browses, fills a cart and buys within 20 minutes; c2 only views a page (stays a visitor);
# c3 searches (browsing). Everything within an hour: no timeout fires before the last event.
JOURNEYS = [
    ("c1", 0, "web", "product_view"),
    ("c1", 10 * MIN, "web", "add_to_cart"),
    ("c1", 20 * MIN, "web", "purchase"),
    ("c2", 0, "web", "page_view"),
    ("c3", 5 * MIN, "app", "search"),
]


def test_replay_final_stages_and_transitions(ecommerce):
    log, _ = log_of(JOURNEYS)
    r = log.replay(ecommerce)
    assert len(r) == 3
    t = r.table.to_pydict()
    assert t["customer"] == ["c1", "c2", "c3"]
    assert t["stage"] == ["customer", "visitor", "browsing"]
    assert t["transitions"] == [3, 0, 1]
    ms = [int(x.timestamp() * 1000) for x in t["entered_at"]]
    assert ms == [20 * MIN, 0, 5 * MIN]
    tr = r.transitions.to_pydict()
    assert tr["customer"] == ["c1"] * 4 + ["c2"] + ["c3"] * 2
    assert tr["from_stage"][:4] == [None, "visitor", "browsing", "cart"]
    assert tr["to_stage"][:4] == ["visitor", "browsing", "cart", "customer"]
    assert tr["rule"][:4] == [None, "started_browsing", "cart_filled", "first_purchase"]
    acts = r.actions.to_pydict()
    assert "thank_you" in [a for c, a in zip(acts["customer"], acts["action"]) if c == "c1"]
    assert dict(r.stats)["events"] == 5
    assert r.to_pandas()["stage"].tolist() == ["customer", "visitor", "browsing"]
    assert "<" in r._repr_html_()


def test_time_in_stage(ecommerce):
    log, _ = log_of(JOURNEYS)
    t = log.time_in_stage(ecommerce).to_pydict()
    row = {s: i for i, s in enumerate(t["stage"])}
    # visitor: c1 and c3 leave it at once (0 ms), c2 stays (open).
    v = row["visitor"]
    assert (t["completed"][v], t["open"][v], t["mean_ms"][v], t["median_ms"][v]) == (2, 1, 0.0, 0.0)
    b = row["browsing"]
    assert (t["completed"][b], t["open"][b], t["mean_ms"][b]) == (1, 1, 10.0 * MIN)
    c = row["cart"]
    assert (t["completed"][c], t["open"][c], t["p90_ms"][c]) == (1, 0, 10.0 * MIN)
    k = row["customer"]
    assert (t["completed"][k], t["open"][k], t["mean_ms"][k]) == (0, 1, None)
    assert log.replay(ecommerce).time_in_stage().to_pydict() == t


FUNNEL = [
    ("c1", 0, "web", "page_view"),
    ("c1", HOUR, "web", "product_view"),
    ("c1", 2 * HOUR, "web", "purchase"),
    ("c2", 0, "web", "page_view"),
    ("c2", HOUR, "app", "product_view"),
    ("c3", 0, "web", "page_view"),
    ("c3", HOUR, "web", "purchase"),
]
STEPS = ["page_view", "product_view", "purchase"]


def test_funnel_counts_by_hand():
    log, _ = log_of(FUNNEL)
    f = log.funnel(STEPS, window="7d").to_pydict()
    assert f["step"] == STEPS
    assert f["customers"] == [3, 2, 1]
    assert f["drop_off"] == [0, 1, 1]
    assert f["conversion_from_first"] == pytest.approx([1.0, 2 / 3, 1 / 3])
    assert f["conversion_from_previous"] == pytest.approx([1.0, 2 / 3, 1 / 2])
    assert f["median_from_previous_ms"] == [None, HOUR, HOUR]
    # A 90-minute window: c1's purchase (2 h after its first step) is outside it.
    assert log.funnel(STEPS, window="90m").to_pydict()["customers"] == [3, 2, 0]
    # strict_order: c3's purchase right after page_view is a step out of order, which ends its
    # chain at step 1 as before; c1 and c2 have no event between their steps.
    assert log.funnel(STEPS, window="7d", mode="strict_order").to_pydict()["customers"] == [3, 2, 1]


def test_funnel_bad_arguments():
    log, _ = log_of(FUNNEL)
    with pytest.raises(jd.InvalidDurationError):
        log.funnel(STEPS, window="soon")
    with pytest.raises(ValueError):
        log.funnel(STEPS, mode="sideways")


def test_funnel_same_from_pandas_polars_pyarrow():
    pa = pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    _, cols = log_of(FUNNEL)
    results = [
        jd.EventLog.from_frame(frame, value=None).funnel(STEPS, window="7d").to_pydict()
        for frame in (pa.table(cols), pd.DataFrame(cols), pl.DataFrame(cols))
    ]
    assert results[0] == results[1] == results[2]
    assert results[0]["customers"] == [3, 2, 1]


def test_simulate_is_deterministic_and_replays(ecommerce):
    a = jd.simulate(ecommerce, customers=200, seed=7)
    b = jd.simulate(ecommerce, customers=200, seed=7)
    c = jd.simulate(ecommerce, customers=200, seed=8)
    assert a.to_pydict() == b.to_pydict()
    assert a.to_pydict() != c.to_pydict()
    assert 0 < a.n_customers <= 200
    assert set(a.kinds) <= set(ecommerce.event_kinds)
    r = a.replay(ecommerce)
    assert len(r) == a.n_customers
    assert set(r.table.to_pydict()["stage"]) <= set(ecommerce.stages)
    # Every customer's first transition is the entry into the initial stage.
    tr = r.transitions.to_pydict()
    assert tr["from_stage"].count(None) == a.n_customers


def test_attribution_from_paths_by_hand():
    paths = {
        "path": ["email > web", "web", "email > sms"],
        "total_conversions": [3, 1, 0],
        "total_conversion_value": [300.0, 50.0, 0.0],
        "total_null": [7, 9, 10],
    }
    t = jd.attribution_from_paths(paths, models=["first_touch", "last_touch", "linear", "position", "markov"])
    d = t.to_pydict()
    got = {(m, c): (v, x) for m, c, v, x in zip(d["model"], d["channel"], d["conversions"], d["value"])}
    assert got[("first_touch", "email")] == (3.0, 300.0)
    assert got[("first_touch", "web")] == (1.0, 50.0)
    assert got[("last_touch", "web")] == (4.0, 350.0)
    assert got[("linear", "email")] == (1.5, 150.0)
    assert got[("position_based", "web")] == (2.5, 200.0)
    assert sum(v for (m, _), (v, _) in got.items() if m == "markov") == pytest.approx(4.0)
    pd = pytest.importorskip("pandas")
    assert jd.attribution_from_paths(pd.DataFrame(paths), models=["linear"]).to_pydict()["conversions"] == [1.5, 0.0, 2.5]
    with pytest.raises(jd.InvalidValueError):
        jd.attribution_from_paths(paths, models=["time_decay"])


def test_log_attribution_by_hand():
    # c1: email then web, then buys; c2: web, then buys; c3 never buys (a null path).
    log, _ = log_of([
        ("c1", 0, "email", "email_click"),
        ("c1", HOUR, "web", "page_view"),
        ("c1", 2 * HOUR, "web", "purchase"),
        ("c2", 0, "web", "page_view"),
        ("c2", HOUR, "web", "purchase"),
        ("c3", 0, "app", "page_view"),
    ])
    d = log.attribution(conversion="purchase", lookback="30d", models=["first_touch", "last_touch", "linear"]).to_pydict()
    got = {(m, c): v for m, c, v in zip(d["model"], d["channel"], d["conversions"])}
    assert got[("first_touch", "email")] == 1.0 and got[("first_touch", "web")] == 1.0
    assert got[("last_touch", "web")] == 2.0 and got[("last_touch", "email")] == 0.0
    assert got[("linear", "email")] == 0.5 and got[("linear", "web")] == 1.5
    with pytest.raises(jd.InvalidDurationError):
        log.attribution(conversion="purchase", lookback="a while")


def test_transitions_and_paths_by_hand():
    log, _ = log_of(FUNNEL)
    d = log.transitions().to_pydict()
    edges = {(f, t): (n, p) for f, t, n, p in zip(d["from"], d["to"], d["count"], d["probability"])}
    # page_view is followed by product_view twice (c1, c2) and purchase once (c3).
    assert edges[("page_view", "product_view")] == (2, pytest.approx(2 / 3))
    assert edges[("page_view", "purchase")] == (1, pytest.approx(1 / 3))
    assert edges[("product_view", "purchase")] == (1, 1.0)
    assert len(edges) == 3
    ch = log.transitions(by="channel").to_pydict()
    assert sorted(zip(ch["from"], ch["to"], ch["count"])) == [("web", "app", 1), ("web", "web", 3)]
    p = log.paths(top=20).to_pydict()
    assert sorted(zip(p["path"], p["customers"])) == [
        ("page_view > product_view", 1),
        ("page_view > product_view > purchase", 1),
        ("page_view > purchase", 1),
    ]
    assert sum(p["share"]) == pytest.approx(1.0)


def test_retention_by_hand():
    pa = pytest.importorskip("pyarrow")
    # The core's documented case: a visits on Monday 2 March 2026 (ISO week 10) and the next
    # week; b visits in week 10 and never again.
    t = pa.table({
        "customer": ["a", "a", "b"],
        "at": ["2026-03-02T12:00:00Z", "2026-03-10T12:00:00Z", "2026-03-04T12:00:00Z"],
        "channel": ["web"] * 3,
        "kind": ["visit"] * 3,
    })
    r = jd.EventLog.from_frame(t, value=None).retention(period="week").to_pydict()
    assert [c.isoformat() for c in r["cohort"]] == ["2026-03-02T00:00:00+00:00"] * 2
    assert r["customers"] == [2, 2]
    assert r["offset"] == [0, 1]
    assert r["active"] == [2, 1]
    assert r["share"] == [1.0, 0.5]


def test_effort_by_hand():
    log, _ = log_of(FUNNEL)
    with pytest.raises(jd.UnknownEventKindError):
        log.effort()  # no support_contact in this log
    e = log.effort(support=None, cart=None).to_pydict()
    assert e["customer"] == ["c1", "c2", "c3"]
    assert e["events"] == [3, 2, 2]
    assert e["channels"] == [1, 2, 1]
    assert e["channel_switches"] == [0, 1, 0]
    assert e["support_contacts"] == [0, 0, 0]
    assert e["carts"] == [0, 0, 0]
    # Events an hour apart: each is its own 30-minute session.
    assert e["sessions"] == [3, 2, 2]
    assert e["touches_to_conversion"][1] is None
