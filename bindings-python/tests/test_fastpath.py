"""`Engine.ingest(dict)` has a fast path (the usual dicts, converted straight into the core's
borrowed row) and a general one (every dict, read by the core's JSON rules). They must agree:
the same outcome or the same error (class, code, field, message), and the same final state
(snapshot bytes). `Engine._ingest_general` forces the general path.

The dicts: hand-written edge cases, then seeded random ones mixing usual and unusual values
(types, nulls, unknown fields, bad names, late events, properties of every kind)."""

from __future__ import annotations

import collections
import datetime as dt
import json
import random

import pytest

import jornada as jd

T0 = 1_772_359_200_000  # 2026-03-01T10:00:00Z


class Key(str):
    """A `str` subclass (the fast path leaves it to the general one)."""


def result(call, tp):
    """What a call gives: ("ok", outcome dict) or ("error", class, code, field, index, path, text)."""
    try:
        out = call(tp)
    except jd.JornadaError as e:
        return ("error", type(e).__name__, e.code, e.field, e.index, e.path, str(e))
    except Exception as e:  # a Python exception passed through (e.g. from isoformat)
        return ("raised", type(e).__name__, str(e))
    return ("ok", out.to_dict(), bool(out))


def compare(model, tps):
    fast, general = jd.Engine(model), jd.Engine(model)
    for i, tp in enumerate(tps):
        a = result(fast.ingest, tp)
        b = result(general._ingest_general, tp)
        assert a == b, f"touchpoint {i}: {tp!r}"
    assert fast.snapshot() == general.snapshot()
    return fast


def base(i=0, **kw):
    tp = {"customer_id": f"c{i}", "channel": "web", "kind": "page_view", "at": T0 + i * 1000}
    tp.update(kw)
    return tp


class Stamp(dt.datetime):
    """A datetime whose isoformat fails."""

    def isoformat(self, *a, **k):
        raise RuntimeError("no isoformat today")


EDGE = [
    base(0),
    base(1, kind="add_to_cart"),
    base(1, kind="purchase", value=59.9),
    base(1, kind="purchase", value=60),
    base(1, kind="purchase", value=None),
    base(2, at="2026-03-01T10:00:00Z"),
    base(2, at="2026-03-01T10:00:00.123456+02:00"),
    base(2, at="not a time"),
    base(2, at=""),
    base(3, at=dt.datetime(2026, 3, 1, 11, 0)),
    base(3, at=dt.datetime(2026, 3, 1, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3)))),
    base(3, at=Stamp(2026, 3, 1, 12)),
    base(3, at=dt.date(2026, 3, 1)),
    base(3, at=float(T0 + 5000)),
    base(3, at=T0 + 0.5),
    base(3, at=True),
    base(3, at=None),
    base(3, at=2**70),
    base(3, at=-(2**62)),
    base(3, at=10**16),
    base(4, channel="fax"),
    base(4, kind="teleport"),
    base(4, channel=None),
    base(4, channel=7),
    base(4, kind=["page_view"]),
    base(4, channel="x" * 300),
    {"channel": "web", "kind": "page_view", "at": T0},
    {"customer_id": "c5", "kind": "page_view", "at": T0},
    {"customer_id": "c5", "channel": "web", "at": T0},
    {"customer_id": "c5", "channel": "web", "kind": "page_view"},
    {},
    base(5, customer_id=""),
    base(5, customer_id="k" * 1025),
    base(5, customer_id=None),
    base(5, customer_id=12345),
    base(5, customer_id=2**64),
    base(5, customer_id=True),
    base(5, customer_id=1.5),
    base(6, email="a@example.com"),
    base(6, email="a@example.com", phone="+1555", cookie="ck", device="d1"),
    {"device": "shared-1", "channel": "app", "kind": "page_view", "at": T0},
    base(7, id="tp-1"),
    base(7, id="tp-1"),  # a duplicate id
    base(7, id=""),
    base(7, id=None),
    base(7, id=99),
    base(7, id=["x"]),
    base(8, value=float("nan")),
    base(8, value=float("inf")),
    base(8, value="12"),
    base(8, value=True),
    base(8, value=2**70),
    base(9, properties={"sku": "A1", "rating": 4, "coupon": None, "free": True, "n": 1.5}),
    base(9, properties={"sku": 5}),
    base(9, properties={"rating": "high"}),
    base(9, properties={"": 1}),
    base(9, properties={"x" * 1025: 1}),
    base(9, properties={"note": "y" * 70_000}),
    base(9, properties={"nested": {"a": 1}}),
    base(9, properties={"list": [1, 2]}),
    base(9, properties={1: "a"}),
    base(9, properties={"n": float("nan")}),
    base(9, properties={"big": 2**70}),
    base(9, properties={f"p{i}": i for i in range(300)}),
    base(9, properties=None),
    base(9, properties={}),
    base(9, properties=[("sku", "A1")]),
    base(9, properties=collections.OrderedDict(sku="A1")),
    base(10, colour="red"),
    {1: "a", **base(10)},
    {Key("customer_id"): "c10", "channel": "web", "kind": "page_view", "at": T0},
    collections.OrderedDict(base(10)),
    base(11, customer_id="c\ud800"),
    base(11, channel="w\udfffeb"),
    base(11, customer_id="cliente-ñ-東京", properties={"sku": "é"}),
    base(12, channel=Key("web")),
    # Late: far before the customer's latest touchpoint (a state error, not a row error).
    base(13, at=T0 + 10**10),
    base(13, at=T0),
    base(13, at=T0 + 10**10 + 1, kind="add_to_cart"),
]


def test_edge_cases_agree(ecommerce):
    engine = compare(ecommerce, EDGE)
    assert len(engine) > 10


def test_a_late_event_is_the_engines_error(ecommerce):
    engine = jd.Engine(ecommerce)
    engine.ingest(base(1, at=T0 + 10**10))
    with pytest.raises(jd.JornadaError) as e:
        engine.ingest(base(1, at=T0))
    assert e.value.code == "late_event"


def test_errors_name_the_first_bad_field_in_dict_order(ecommerce):
    # The core's row checks look at the keys before the channel; the JSON rules read the dict
    # in order. The fast path must report what the general path reports.
    engine = jd.Engine(ecommerce)
    with pytest.raises(jd.UnknownChannelError):
        engine.ingest({"channel": "fax", "customer_id": "", "kind": "page_view", "at": T0})
    with pytest.raises(jd.JornadaError) as e:
        engine.ingest({"customer_id": "", "channel": "fax", "kind": "page_view", "at": T0})
    assert (e.value.code, e.value.field) == ("invalid_value", "customer_id")
    assert len(engine) == 0


def scalar(rng):
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            -1,
            7,
            2**63,
            2**70,
            1.25,
            float("nan"),
            float("inf"),
            "",
            "web",
            "page_view",
            "x" * rng.choice([1, 80, 1025]),
            "ñ",
            [1],
            {"a": 1},
            dt.datetime(2026, 3, 1),
        ]
    )


def random_tp(rng, i, late_base):
    names = ["customer_id", "email", "phone", "cookie", "device"]
    tp = {}
    fields = []
    for name in rng.sample(names, rng.choice([0, 1, 1, 1, 2, 5])):
        fields.append((name, f"{name[:2]}{rng.randrange(40)}" if rng.random() < 0.85 else scalar(rng)))
    fields.append(("channel", rng.choice(["web", "app", "email", "store"]) if rng.random() < 0.9 else scalar(rng)))
    fields.append(("kind", rng.choice(["page_view", "product_view", "add_to_cart", "purchase", "checkout"]) if rng.random() < 0.9 else scalar(rng)))
    r = rng.random()
    if r < 0.5:
        at = late_base + i * 60_000
    elif r < 0.6:
        at = late_base - rng.randrange(10**9)  # maybe late
    elif r < 0.7:
        at = dt.datetime.fromtimestamp((late_base + i * 60_000) / 1000, dt.timezone.utc).isoformat()
    elif r < 0.75:
        at = dt.datetime.utcfromtimestamp((late_base + i * 60_000) / 1000)
    elif r < 0.8:
        at = float(late_base + i * 60_000)
    else:
        at = late_base + i * 60_000 if rng.random() < 0.5 else scalar(rng)
    if rng.random() < 0.95:
        fields.append(("at", at))
    if rng.random() < 0.3:
        fields.append(("value", rng.choice([9.5, 10, None, scalar(rng)])))
    if rng.random() < 0.2:
        fields.append(("id", rng.choice([f"id{rng.randrange(50)}", None, scalar(rng)])))
    if rng.random() < 0.3:
        props = {}
        for _ in range(rng.randrange(4)):
            name = rng.choice(["sku", "rating", "coupon", "category", "free", "n", ""])
            props[name] = rng.choice(["A1", 3, 4.5, True, None, scalar(rng)])
        fields.append(("properties", props if rng.random() < 0.9 else scalar(rng)))
    if rng.random() < 0.03:
        fields.append(("colour", "red"))
    rng.shuffle(fields)
    tp.update(fields)
    return tp


@pytest.mark.parametrize("seed", range(6))
def test_random_dicts_agree(ecommerce, seed):
    rng = random.Random(seed)
    tps = [random_tp(rng, i, T0) for i in range(400)]
    engine = compare(ecommerce, tps)
    assert len(engine) > 0


def test_json_loaded_dicts_agree_and_match_ingest_json(ecommerce):
    # Dicts from json.loads (keys not interned): the fast path compares key text; and the core's
    # own JSON reader gives the same state.
    rng = random.Random(42)
    lines = [json.dumps(base(rng.randrange(30), kind=rng.choice(["page_view", "add_to_cart", "purchase"]), at=T0 + i * 1000)) for i in range(300)]
    fast = compare(ecommerce, [json.loads(line) for line in lines])
    text = jd.Engine(ecommerce)
    for line in lines:
        text.ingest_json(line)
    assert fast.snapshot() == text.snapshot()


def test_another_model(ecommerce):
    model = jd.Model.preset("seven_phase")
    rng = random.Random(3)
    kinds = json.loads(model.to_json())["event_kinds"]
    kinds = [k if isinstance(k, str) else k["name"] for k in kinds]
    tps = []
    for i in range(300):
        tp = base(rng.randrange(20), kind=rng.choice(kinds), channel=rng.choice(["web", "phone", "chat", "fax"]), at=T0 + i * 500)
        if rng.random() < 0.2:
            tp["phone"] = f"+{rng.randrange(10)}"
        tps.append(tp)
    compare(model, tps)
