"""Errors: one exception class per core code, clear errors for bad input, never a panic."""

from __future__ import annotations

import datetime as dt
import json
import math
import random

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import jornada as jd

GOOD = {"customer_id": "c1", "channel": "web", "kind": "product_view", "at": "2026-03-01T10:00:00Z"}


def test_every_core_code_has_its_own_class():
    codes = [code for code, _ in jd.error_codes()]
    assert len(codes) == len(set(codes)) >= 19
    for code in codes:
        cls = jd.error_class(code)
        assert cls is not jd.JornadaError, f"no class for {code}"
        assert issubclass(cls, jd.JornadaError)
        assert cls.code == code
        assert getattr(jd, cls.__name__) is cls
    assert set(jd.ERROR_CLASSES) == set(codes)
    assert all(desc for _, desc in jd.error_codes())
    assert ("unknown_stage" in dict(jd.problem_codes()))


def bad(tp_update=None, drop=None):
    tp = dict(GOOD)
    tp.update(tp_update or {})
    for k in drop or []:
        tp.pop(k)
    return tp


@pytest.mark.parametrize(
    "tp, cls, field",
    [
        (bad(drop=["channel"]), jd.MissingFieldError, "channel"),
        (bad(drop=["customer_id"]), jd.MissingIdentityError, None),
        (bad({"colour": "red"}), jd.UnknownFieldError, "colour"),
        (bad({"channel": "fax"}), jd.UnknownChannelError, "channel"),
        (bad({"kind": "teleport"}), jd.UnknownEventKindError, "kind"),
        (bad({"at": "yesterday"}), jd.InvalidTimestampError, "at"),
        (bad({"at": "2026-02-30T10:00:00Z"}), jd.InvalidTimestampError, "at"),
        (bad({"at": 10**30}), jd.InvalidTimestampError, "at"),
        (bad({"at": True}), jd.InvalidTimestampError, "at"),
        (bad({"at": dt.date(2026, 3, 1)}), jd.WrongTypeError, "at"),
        (bad({"at": None}), jd.InvalidTimestampError, "at"),
        (bad({"value": float("nan")}), jd.InvalidValueError, "value"),
        (bad({"value": float("inf")}), jd.InvalidValueError, "value"),
        (bad({"value": "12"}), jd.WrongTypeError, "value"),
        (bad({"channel": 3}), jd.WrongTypeError, "channel"),
        (bad({"channel": None}), jd.WrongTypeError, "channel"),
        (bad({"customer_id": ""}), jd.InvalidValueError, "customer_id"),
        (bad({"customer_id": 1.5}), jd.WrongTypeError, "customer_id"),
        (bad({"customer_id": ["c1"]}), jd.WrongTypeError, "customer_id"),
        (bad({"customer_id": 10**40}), jd.WrongTypeError, "customer_id"),
        (bad({"properties": [1, 2]}), jd.WrongTypeError, "properties"),
        (bad({"properties": {"rating": {"x": 1}}}), jd.WrongTypeError, "properties.rating"),
        (bad({"properties": {"rating": "five"}}), jd.WrongTypeError, "properties.rating"),
        (bad({"properties": {"rating": float("nan")}}), jd.InvalidValueError, "properties.rating"),
        (bad({"properties": {"sku": {1, 2}}}), jd.WrongTypeError, "properties.sku"),
        (bad({"properties": {"sku": b"bytes"}}), jd.WrongTypeError, "properties.sku"),
        (bad({"properties": {1: "x"}}), jd.WrongTypeError, "properties"),
        (bad({"id": object()}), jd.WrongTypeError, "id"),
    ],
)
def test_bad_touchpoint_dicts(engine, tp, cls, field):
    with pytest.raises(cls) as info:
        engine.ingest(tp)
    e = info.value
    assert e.code == cls.code
    assert e.field == field
    assert str(e)
    assert len(engine) == 0


@pytest.mark.parametrize("obj", [None, "text", 3, ["c1"], (1, 2)])
def test_ingest_needs_a_dict(engine, obj):
    with pytest.raises(jd.WrongTypeError, match="a dict of touchpoint fields"):
        engine.ingest(obj)


def test_batch_of_dicts_rejects_by_index(engine):
    out = engine.ingest_many([GOOD, "not a dict", bad({"at": "x"}), bad({"properties": {"sku": {1}}}), bad({"customer_id": "c2"})])
    assert [(r.index, r.code, r.path) for r in out.rejected] == [
        (1, "wrong_type", None),
        (2, "invalid_timestamp", "at"),
        (3, "wrong_type", "properties.sku"),
    ]
    assert engine.customer_ids() == ["c1", "c2"]
    r = out.rejected[1]
    assert isinstance(r.error, jd.InvalidTimestampError) and r.error.index == 2
    assert "Rejected(index=2, code='invalid_timestamp'" in repr(r)


def test_engine_call_errors(engine):
    engine.ingest(GOOD)
    with pytest.raises(jd.InvalidTimestampError):
        engine.advance_to("yesterday")
    with pytest.raises(jd.WrongTypeError):
        engine.advance_to(1.5)
    with pytest.raises(jd.WrongTypeError):
        engine.advance_to(True)
    with pytest.raises(jd.InvalidTimestampError):
        engine.advance_to(10**30)
    with pytest.raises(jd.UnknownChannelError):
        engine.set_consent("c1", "fax", True, 0)
    with pytest.raises(jd.UnknownCustomerError):
        engine.erase("nobody")
    with pytest.raises(jd.InvalidJsonError):
        engine.ingest_json("{")
    with pytest.raises(jd.WrongTypeError):
        engine.ingest_json_lines(42)
    late = jd.Engine(jd.Model.preset("ecommerce"))
    late.ingest(bad({"at": "2026-03-02T10:00:00Z"}))
    with pytest.raises(jd.LateEventError) as info:
        late.ingest(bad({"at": "2026-03-01T10:00:00Z"}))
    assert info.value.code == "late_event"


def test_model_errors(tmp_path):
    with pytest.raises(jd.UnknownPresetError, match="presets are"):
        jd.Model.preset("nope")
    with pytest.raises(jd.InvalidModelError) as info:
        jd.Model.from_json("{")
    assert info.value.problems[0].code == "parse"
    spec = json.loads(jd.Model.preset("ecommerce").to_json())
    spec["rules"][0]["to"] = "nowhere"
    spec["channels"].append("web")
    with pytest.raises(jd.InvalidModelError) as info:
        jd.Model.from_json(json.dumps(spec))
    problems = info.value.problems
    assert len(problems) >= 2
    assert {p.code for p in problems} >= {"unknown_stage", "duplicate_name"}
    assert problems[0].path and info.value.path == problems[0].path
    with pytest.raises(jd.IoError):
        jd.Model.from_file(tmp_path / "missing.json")
    with pytest.raises(OSError):
        jd.Model.from_file(tmp_path / "missing.json")


def test_snapshot_errors():
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    engine.ingest(GOOD)
    blob = engine.snapshot()
    with pytest.raises(jd.CorruptSnapshotError):
        jd.Engine.restore(b"garbage")
    with pytest.raises(jd.CorruptSnapshotError):
        jd.Engine.restore(blob[:-1])
    flipped = bytearray(blob)
    flipped[len(flipped) // 2] ^= 0xFF
    with pytest.raises(jd.CorruptSnapshotError):
        jd.Engine.restore(bytes(flipped))
    assert jd.Engine.restore(bytearray(blob)).customer("c1") is not None
    versioned = bytearray(blob)
    versioned[8] = 99
    with pytest.raises(jd.SnapshotVersionError):
        jd.Engine.restore(bytes(versioned))


TABLE = {
    "customer_id": ["c1", "c2", "c3"],
    "channel": ["web", "web", "app"],
    "kind": ["product_view", "add_to_cart", "search"],
    "at": ["2026-03-01T10:00:00Z", "2026-03-01T10:01:00Z", "2026-03-01T10:02:00Z"],
}


def table(**changes):
    cols = dict(TABLE)
    for k, v in changes.items():
        if v is None:
            cols.pop(k)
        else:
            cols[k] = v
    return cols


@pytest.mark.parametrize("lib", ["pyarrow", "pandas", "polars"])
def test_missing_and_mistyped_columns(lib):
    make = {"pyarrow": pa.table, "pandas": pd.DataFrame, "polars": pl.DataFrame}[lib]
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    with pytest.raises(jd.MissingFieldError, match="no column `channel`") as info:
        engine.ingest_many(make(table(channel=None)))
    assert info.value.field == "channel"
    with pytest.raises(jd.MissingFieldError, match="no column `chan`"):
        engine.ingest_many(make(TABLE), channel="chan")
    with pytest.raises(jd.MissingIdentityError, match="identity column"):
        engine.ingest_many(make(table(customer_id=None)))
    with pytest.raises(jd.WrongTypeError, match="column `channel`") as info:
        engine.ingest_many(make(table(channel=[1, 2, 3])))
    assert info.value.field == "channel"
    with pytest.raises(jd.WrongTypeError, match="column `at`"):
        engine.ingest_many(make(table(at=[True, False, True])))
    with pytest.raises(jd.WrongTypeError, match="column `value`"):
        engine.ingest_many(make(table(value=["1", "2", "3"])))
    with pytest.raises(jd.WrongTypeError, match="column `customer_id`"):
        engine.ingest_many(make(table(customer_id=[1.5, 2.5, 3.5])))
    with pytest.raises(jd.UnknownIdentityKindError):
        engine.ingest_many(make(TABLE), identities={"passport": "customer_id"})
    with pytest.raises(jd.MissingFieldError):
        engine.ingest_many(make(TABLE), properties=["nope"])
    assert len(engine) == 0


@pytest.mark.parametrize("lib", ["pyarrow", "pandas", "polars"])
def test_bad_rows_are_rejected_with_row_and_field(lib):
    make = {"pyarrow": pa.table, "pandas": pd.DataFrame, "polars": pl.DataFrame}[lib]
    data = make(
        {
            "customer_id": ["c1", None, "c3", "c4", "c5", "c6"],
            "channel": ["web", "web", None, "web", "web", "web"],
            "kind": ["product_view", "product_view", "product_view", "teleport", "product_view", "product_view"],
            "at": ["2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z", "soon", None],
        }
    )
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    out = engine.ingest_many(data)
    assert [(r.index, r.code, r.path) for r in out.rejected] == [
        (1, "missing_identity", None),
        (2, "wrong_type", "channel"),
        (3, "unknown_event_kind", "kind"),
        (4, "invalid_timestamp", "at"),
        (5, "invalid_timestamp", "at"),
    ]
    assert engine.customer_ids() == ["c1"]


def test_nan_and_infinite_values_are_rejected():
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    data = pl.DataFrame({**TABLE, "value": [1.0, float("nan"), float("inf")]})
    out = engine.ingest_many(data)
    assert [(r.index, r.code, r.path) for r in out.rejected] == [(1, "invalid_value", "value"), (2, "invalid_value", "value")]
    # pandas marks missing numbers with NaN: through Arrow they are nulls, i.e. no value.
    engine2 = jd.Engine(jd.Model.preset("ecommerce"))
    assert engine2.ingest_many(pd.DataFrame({**TABLE, "value": [1.0, float("nan"), 2.0]})).rejected == []


@pytest.mark.parametrize("obj", [None, 42, "text", {"a": 1}, object()])
def test_not_a_table(engine, obj):
    with pytest.raises(jd.WrongTypeError, match="a table"):
        engine.ingest_many(obj)


def test_event_log_errors():
    base = {"customer": ["a", "b"], "at": [0, 1], "channel": ["web", "web"], "kind": ["v", "v"]}
    with pytest.raises(jd.MissingFieldError, match="no column `customer`"):
        jd.EventLog.from_frame(pa.table({k: v for k, v in base.items() if k != "customer"}))
    with pytest.raises(jd.MissingFieldError) as info:
        jd.EventLog.from_frame(pa.table({**base, "customer": ["a", None]}))
    assert info.value.index == 1 and info.value.field == "customer"
    with pytest.raises(jd.InvalidTimestampError) as info:
        jd.EventLog.from_frame(pa.table({**base, "at": ["2026-03-01T10:00:00Z", "later"]}))
    assert info.value.index == 1
    with pytest.raises(jd.InvalidTimestampError):
        jd.EventLog.from_frame(pa.table({**base, "at": [0, 2**62]}))
    with pytest.raises(jd.InvalidValueError) as info:
        jd.EventLog.from_frame(pa.table({**base, "value": [1.0, math.inf]}))
    assert info.value.index is not None
    with pytest.raises(jd.WrongTypeError, match="column `kind`"):
        jd.EventLog.from_frame(pa.table({**base, "kind": [1, 2]}))
    with pytest.raises(jd.WrongTypeError):
        jd.EventLog.from_frame([1, 2, 3])
    # NaN (Polars) and null (pandas) values both mean "no value" in a log.
    log = jd.EventLog.from_frame(pl.DataFrame({**base, "value": [float("nan"), 2.0]}))
    assert log.to_pydict()["value"] == [None, 2.0]


def random_value(rng: random.Random, depth: int = 0):
    choices = [
        lambda: None,
        lambda: rng.choice([True, False]),
        lambda: rng.randint(-(2**70), 2**70),
        lambda: rng.randint(-5, 2**45),
        lambda: rng.uniform(-1e20, 1e20),
        lambda: rng.choice([float("nan"), float("inf"), -0.0]),
        lambda: "".join(rng.choice("ab\u00e9\U0001f600:Z-T0123456789 \x00") for _ in range(rng.randint(0, 30))),
        lambda: "2026-03-0%dT10:00:00Z" % rng.randint(0, 9),
        lambda: dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=rng.randint(0, 99999)),
        lambda: b"\xff\x00",
        lambda: {1, 2},
        lambda: object(),
    ]
    if depth < 2:
        choices.append(lambda: [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))])
        choices.append(lambda: {rng.choice(["sku", "rating", "x", 1]): random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))})
    return rng.choice(choices)()


def test_hostile_dicts_never_crash():
    rng = random.Random(7)
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    fields = ["customer_id", "email", "device", "channel", "kind", "at", "value", "id", "properties", "other"]
    accepted = 0
    for _ in range(3000):
        tp = dict(GOOD) if rng.random() < 0.5 else {}
        for f in rng.sample(fields, rng.randint(0, 4)):
            tp[f] = random_value(rng)
        try:
            engine.ingest(tp)
            accepted += 1
        except jd.JornadaError as e:
            assert e.code in jd.ERROR_CLASSES
    assert accepted > 0
    batch = [{f: random_value(rng) for f in rng.sample(fields, 4)} for _ in range(300)]
    out = engine.ingest_many(batch)
    assert len(out.rejected) <= 300


def test_hostile_text_and_bytes_never_crash():
    rng = random.Random(11)
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    engine.ingest(GOOD)
    blob = engine.snapshot()
    for i in range(500):
        text = "".join(rng.choice('{}[]":,0123456789abcdeflnrstu\\ \n') for _ in range(rng.randint(0, 60)))
        try:
            engine.ingest_json(text)
        except jd.JornadaError:
            pass
        engine.ingest_json_lines(text.encode())
        damaged = bytearray(blob)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        try:
            jd.Engine.restore(bytes(damaged[: rng.randint(0, len(damaged))] if i % 2 else damaged))
        except jd.JornadaError:
            pass
        try:
            jd.Model.from_json(text)
        except jd.JornadaError:
            pass


def test_hostile_tables_never_crash():
    rng = random.Random(3)
    columns = [
        pa.array(["c1", None, ""]),
        pa.array([1, None, -(2**63)], pa.int64()),
        pa.array([2**64 - 1, 0, None], pa.uint64()),
        pa.array([1.5, float("nan"), None]),
        pa.array([True, None, False]),
        pa.array([None, None, None], pa.null()),
        pa.array([0, 2**62, None], pa.timestamp("s")),
        pa.array([-(2**62), 0, None], pa.timestamp("ns")),
        pa.array(["web", "web", None]).dictionary_encode(),
        pa.DictionaryArray.from_arrays(pa.array([None, None, None], pa.int8()), pa.array([], pa.string())),
        pa.array([[1], None, []], pa.list_(pa.int64())),
        pa.array([{"a": 1}, None, {"a": 2}]),
        pa.array([b"x", None, b"y"], pa.binary()),
        pa.array(["product_view", "nope", "purchase"], pa.large_string()),
        pa.array(["2026-03-01T10:00:00Z", "bad", None], pa.string_view()),
        pa.array([1, 2, 3], pa.int8()),
        pa.array([1.0, 2.0, 3.0], pa.float32()),
    ]
    names = ["customer_id", "email", "channel", "kind", "at", "value", "id", "customer", "p"]
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    for _ in range(400):
        chosen = rng.sample(names, rng.randint(0, len(names)))
        t = pa.table({n: rng.choice(columns) for n in chosen}) if chosen else pa.table({"x": [1]})
        props = ["p"] if "p" in chosen and rng.random() < 0.5 else None
        try:
            engine.ingest_many(t, properties=props)
        except jd.JornadaError:
            pass
        try:
            jd.EventLog.from_frame(t, properties=props)
        except jd.JornadaError:
            pass
