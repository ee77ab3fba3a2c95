"""Engine.score: the same figures as the core's (and the browser binding's) scoring, by hand."""

import datetime as dt
import json

import jornada as jd

T0 = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.timezone.utc)
SCORING = {
    "target": "customer",
    "stages": {
        "browsing": {"p_convert": 0.08, "expected_time": "3d"},
        "cart": {"p_convert": 0.35, "expected_time": "2h"},
    },
}


def scored_model():
    spec = json.loads(jd.Model.preset("ecommerce").to_json())
    spec["scoring"] = SCORING
    return jd.Model.from_json(json.dumps(spec))


def test_score_by_hand():
    engine = jd.Engine(scored_model())
    assert engine.score("nobody") is None
    engine.ingest({"customer_id": "c1", "channel": "web", "kind": "product_view", "at": T0,
                   "properties": {"sku": "A1"}})
    s = engine.score("c1")
    # ecommerce stages: visitor, browsing, interested, cart, ..., customer (index 5): 1/5 of the way.
    assert (s["stage"], s["stage_index"], s["entered_at"]) == ("browsing", 1, T0)
    assert s["progress"] == 0.2
    assert s["probability_to_convert"] == 0.08
    assert s["expected_time_to_convert"] == dt.timedelta(days=3)
    assert [n["rule"] for n in s["next_actions"]] == ["first_purchase", "cart_filled", "became_interested"]
    assert s["effort"] == {"touches": 1, "channels": 1, "channel_switches": 0, "elapsed": dt.timedelta(0)}

    engine.ingest({"customer_id": "c1", "channel": "app", "kind": "add_to_cart",
                   "at": T0 + dt.timedelta(minutes=1)})
    s = engine.score("c1")
    assert (s["stage"], s["probability_to_convert"]) == ("cart", 0.35)
    assert s["expected_time_to_convert"] == dt.timedelta(hours=2)
    timeout = s["next_actions"][0]
    assert timeout["trigger"] == "timeout"
    assert timeout["due"] == T0 + dt.timedelta(minutes=61)  # the 1h abandoned-cart timeout
    assert s["effort"]["channel_switches"] == 1
    assert s["effort"]["elapsed"] == dt.timedelta(minutes=1)
    # A snapshot keeps everything the score reads.
    assert jd.Engine.restore(engine.snapshot()).score("c1") == s


def test_without_scoring_table_no_probability():
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    engine.ingest({"customer_id": "c1", "channel": "web", "kind": "search", "at": T0})
    s = engine.score("c1")
    assert s["probability_to_convert"] is None and s["expected_time_to_convert"] is None
    assert s["stage"] == "browsing"
