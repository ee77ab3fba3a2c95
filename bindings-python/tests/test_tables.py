"""Tables in (pandas, Polars, pyarrow through the Arrow PyCapsule interface) and out."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import jornada as jd

ROWS = {
    "customer_id": ["c1", "c2", "c1", "c1", "c3", "c2", "c1"],
    "channel": ["web", "app", "web", "web", "store", "app", "email"],
    "kind": ["product_view", "add_to_cart", "add_to_cart", "purchase", "store_visit", "product_view", "review"],
    "at": [
        "2026-03-01T10:00:00Z",
        "2026-03-01T10:01:00Z",
        "2026-03-01T10:02:00Z",
        "2026-03-01T10:30:00Z",
        "2026-03-01T11:00:00Z",
        "2026-03-01T12:00:00Z",
        "2026-03-05T09:00:00.250Z",
    ],
    "value": [None, None, None, 59.9, None, None, None],
    "rating": [None, None, None, None, None, None, 5],
}


def pa_table() -> pa.Table:
    t = pa.table(ROWS)
    at = pa.array([dt.datetime.fromisoformat(s.replace("Z", "+00:00")) for s in ROWS["at"]], pa.timestamp("us", "UTC"))
    return t.set_column(3, "at", at)


def frames():
    t = pa_table()
    return {
        "pyarrow": t,
        "pandas": t.to_pandas(),
        "polars": pl.from_arrow(t),
        "pyarrow-strings": pa.table(ROWS),
        "pyarrow-batch": t.to_batches()[0],
        "pyarrow-chunked": pa.concat_tables([t.slice(0, 3), t.slice(3)]),
    }


def run(data) -> dict:
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    out = engine.ingest_many(data, properties=["rating"])
    out2 = engine.advance_to("2026-03-10T00:00:00Z")
    return {
        "out": out.to_dict(),
        "out2": out2.to_dict(),
        "counts": engine.stage_counts().to_pydict(),
        "customers": {c: engine.customer(c).to_dict() for c in engine.customer_ids()},
    }


def test_pandas_polars_pyarrow_give_identical_results():
    results = {name: run(data) for name, data in frames().items()}
    reference = results["pyarrow"]
    assert reference["out"]["rejected"] == []
    assert len(reference["out"]["transitions"]) >= 5
    for name, r in results.items():
        assert r == reference, name


def test_table_gives_what_dicts_give():
    dicts = []
    for i in range(len(ROWS["at"])):
        d = {k: ROWS[k][i] for k in ("customer_id", "channel", "kind", "at")}
        if ROWS["value"][i] is not None:
            d["value"] = ROWS["value"][i]
        if ROWS["rating"][i] is not None:
            d["properties"] = {"rating": ROWS["rating"][i]}
        dicts.append(d)
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    out = engine.ingest_many(dicts)
    out2 = engine.advance_to("2026-03-10T00:00:00Z")
    assert {"out": out.to_dict(), "out2": out2.to_dict()} == {
        k: v for k, v in run(pa_table()).items() if k in ("out", "out2")
    }


def test_column_names_by_keyword_and_categoricals():
    df = pd.DataFrame(
        {
            "user": ["u1", "u2", "u1"],
            "ch": pd.Categorical(["web", "app", "web"]),
            "event": pd.Categorical(["add_to_cart", "product_view", "purchase"]),
            "ts": pd.to_datetime(["2026-03-01 10:00", "2026-03-01 10:01", "2026-03-01 10:02"]),
            "amount": [None, None, 12.5],
            "mail": ["a@x", None, "a@x"],
        }
    )
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    out = engine.ingest_many(df, customer="user", channel="ch", kind="event", at="ts", value="amount", identities={"email": "mail"})
    assert out.rejected == []
    view = engine.customer("u1")
    assert view.stage == "customer"
    assert ("email", "a@x") in view.keys
    assert engine.customer("u2").keys == [("customer_id", "u2")]
    # A naive pandas timestamp is UTC.
    assert view.since == dt.datetime(2026, 3, 1, 10, 2, tzinfo=dt.timezone.utc)
    # Polars categoricals too.
    engine2 = jd.Engine(jd.Model.preset("ecommerce"))
    pdf = pl.from_pandas(df).with_columns(pl.col("ch").cast(pl.Categorical), pl.col("event").cast(pl.Enum(["add_to_cart", "product_view", "purchase"])))
    out2 = engine2.ingest_many(pdf, customer="user", channel="ch", kind="event", at="ts", value="amount", identities={"email": "mail"})
    assert out2.to_dict() == out.to_dict()


def test_time_columns_of_every_kind():
    base = dt.datetime(2026, 3, 1, 10, tzinfo=dt.timezone.utc)
    ms = int(base.timestamp() * 1000)
    cols = {
        "ms-int": pa.array([ms], pa.int64()),
        "s": pa.array([ms // 1000], pa.timestamp("s")),
        "ms": pa.array([ms], pa.timestamp("ms", "UTC")),
        "us-tz": pa.array([ms * 1000], pa.timestamp("us", "Europe/Lisbon")),
        "ns": pa.array([ms * 1_000_000], pa.timestamp("ns")),
        "date32": pa.array([dt.date(2026, 3, 1)], pa.date32()),
        "text": pa.array(["2026-03-01T11:00:00+01:00"]),
        "large-text": pa.array(["2026-03-01T10:00:00Z"], pa.large_string()),
        "float": pa.array([float(ms)], pa.float64()),
    }
    for name, at in cols.items():
        t = pa.table({"customer_id": ["c"], "channel": ["web"], "kind": ["product_view"], "at": at})
        engine = jd.Engine(jd.Model.preset("ecommerce"))
        out = engine.ingest_many(t)
        assert out.rejected == [], name
        want = dt.datetime(2026, 3, 1, 0 if name == "date32" else 10, tzinfo=dt.timezone.utc)
        assert engine.customer("c").since == want, name


def test_integer_keys_are_decimal_text():
    t = pa.table({"customer_id": pa.array([42, 7], pa.int32()), "channel": ["web", "web"], "kind": ["product_view"] * 2, "at": [0, 1]})
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    engine.ingest_many(t)
    assert engine.customer_ids() == ["42", "7"]


def test_stage_counts_and_outcome_tables_convert():
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    out = engine.ingest_many(pa_table(), properties=["rating"])
    counts = engine.stage_counts()
    assert counts.column_names == ["stage", "customers"]
    assert len(counts) == 9
    assert list(counts.to_pandas()["stage"])[:2] == ["visitor", "browsing"]
    assert counts.to_polars()["customers"].sum() == len(engine)
    assert counts.to_arrow().schema.field("customers").type == pa.uint64()
    assert counts.to_pylist()[0] == {"stage": "visitor", "customers": 1}
    assert pa.table(counts).num_rows == 9
    tt = out.transitions_table().to_arrow()
    assert tt.column_names == ["customer", "from", "to", "at", "rule", "channel"]
    assert tt.num_rows == len(out.transitions)
    assert tt.schema.field("at").type == pa.timestamp("ms", "UTC")
    at = out.actions_table().to_pandas()
    assert list(at.columns) == ["customer", "action", "channel", "at", "stage", "rule", "suppressed", "params"]
    assert len(at) == len(out.actions)


def test_event_log_from_every_frame_library():
    t = pa.table(
        {
            "user_id": ["u2", "u1", "u1", "u3"],
            "ts": pa.array([3000, 1000, 2000, 500], pa.timestamp("ms", "UTC")),
            "channel": ["web", "web", "app", "sms"],
            "event": ["view", "view", "buy", "click"],
            "revenue": [None, None, 30.0, None],
            "sku": [None, "A", "B", None],
            "vip": [True, None, False, None],
        }
    )
    logs = [
        jd.EventLog.from_frame(data, customer="user_id", at="ts", kind="event", value="revenue", properties=["sku", "vip"])
        for data in (t, t.to_pandas(), pl.from_arrow(t))
    ]
    ref = logs[0].to_pydict()
    assert ref["customer"] == ["u1", "u1", "u2", "u3"]
    assert ref["kind"] == ["view", "buy", "view", "click"]
    assert ref["value"] == [None, 30.0, None, None]
    assert ref["sku"] == ["A", "B", None, None]
    assert ref["vip"] == [None, False, True, None]
    for log in logs:
        assert log.to_pydict() == ref
        assert len(log) == 4
        assert log.customers == ["u1", "u2", "u3"]
        assert log.n_customers == 3
        assert log.channels == ["app", "sms", "web"]
        assert log.kinds == ["buy", "click", "view"]
        assert log.properties == ["sku", "vip"]
    assert logs[0].to_arrow().num_rows == 4
    assert list(logs[0].to_pandas()["customer"]) == ref["customer"]
    assert logs[0].to_polars().height == 4
    assert "EventLog(4 events" in repr(logs[0])
    assert "<table" in logs[0]._repr_html_()


def test_event_log_defaults_and_dictionary_columns():
    df = pd.DataFrame(
        {
            "customer": pd.Categorical(["b", "a", "b"]),
            "at": ["2026-03-01T10:00:00Z", "2026-03-01T09:00:00Z", "2026-03-01T11:00:00Z"],
            "channel": pd.Categorical(["web", "web", "app"]),
            "kind": ["view", "view", "buy"],
        }
    )
    log = jd.EventLog.from_frame(df)
    assert log.customers == ["a", "b"]
    assert log.to_pydict()["at"][0] == dt.datetime(2026, 3, 1, 9, tzinfo=dt.timezone.utc)


def test_missing_optional_libraries_say_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("polars"):
            raise ImportError("no polars")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.delitem(__import__("sys").modules, "polars", raising=False)
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    with pytest.raises(ImportError, match="pip install polars"):
        engine.stage_counts().to_polars()


def test_event_log_through_the_core_reader():
    # Integer customer keys are their decimal text; properties can be renamed; errors name the
    # caller's column and the field it feeds.
    t = pa.table(
        {
            "uid": pa.array([12, 7, 12], pa.int32()),
            "ts": pa.array([2000, 1000, 1000], pa.timestamp("ms")),
            "ch": ["web", "app", "web"],
            "event": ["buy", "view", "view"],
            "product": ["B", None, "A"],
        }
    )
    kw = dict(customer="uid", at="ts", channel="ch", kind="event", value=None)
    log = jd.EventLog.from_frame(t, properties={"sku": "product"}, **kw)
    assert log.customers == ["12", "7"]
    d = log.to_pydict()
    assert d["customer"] == ["12", "12", "7"]
    assert d["kind"] == ["view", "buy", "view"]
    assert d["sku"] == ["A", "B", None]
    assert log.properties == ["sku"]
    bad = t.set_column(2, "ch", pa.array(["web", None, "web"]))
    with pytest.raises(jd.MissingFieldError) as info:
        jd.EventLog.from_frame(bad, **kw)
    assert (info.value.index, info.value.field) == (1, "channel")
    assert "column `ch`" in str(info.value)
    with pytest.raises(jd.WrongTypeError) as info:
        jd.EventLog.from_frame(t.set_column(4, "product", pa.array([[1], [2], [3]])), properties={"sku": "product"}, **kw)
    assert info.value.field == "properties.sku" and "column `product`" in str(info.value)
    with pytest.raises(jd.InvalidValueError):
        jd.EventLog.from_frame(t, properties={"ch": "product"}, **kw)
    # Several record batches: rows are numbered across them.
    two = pa.Table.from_batches(t.to_batches() + bad.to_batches())
    with pytest.raises(jd.MissingFieldError) as info:
        jd.EventLog.from_frame(two, **kw)
    assert info.value.index == 4


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_read_events(tmp_path, suffix):
    import pyarrow.csv
    import pyarrow.parquet

    t = pa.table(
        {
            "user": ["u2", "u1", "u1"],
            "at": ["2026-03-01T10:00:00Z", "2026-03-01T09:00:00Z", "2026-03-01T11:00:00Z"],
            "channel": ["web", "web", "app"],
            "kind": ["view", "view", "buy"],
            "value": [None, None, 30.5],
        }
    )
    p = tmp_path / ("events" + suffix)
    if suffix == ".parquet":
        pyarrow.parquet.write_table(t, p)
    elif suffix == ".csv":
        pyarrow.csv.write_csv(t, p)
    else:
        import json

        p.write_text("".join(json.dumps(r) + "\n" for r in t.to_pylist()))
    log = jd.read_events(p, customer="user")
    want = jd.EventLog.from_frame(t, customer="user").to_pydict()
    assert log.to_pydict() == want
    assert want["value"] == [None, 30.5, None]


def test_read_events_errors(tmp_path):
    with pytest.raises(jd.InvalidValueError, match="format"):
        jd.read_events(tmp_path / "events.xlsx")
    with pytest.raises(jd.IoError):
        jd.read_events(tmp_path / "missing.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(jd.JornadaError):
        jd.read_events(bad)


def test_all_null_columns_from_every_library():
    # Polars exports all-null columns in a layout the extension's Arrow reader refuses; they are
    # re-read through pyarrow. pandas' all-None columns arrive as Arrow `null`: no values.
    base = {
        "customer_id": ["a", "b"],
        "at": [0, 1],
        "channel": ["web", "web"],
        "kind": ["product_view", "product_view"],
        "value": [None, None],
    }
    logs = []
    for frame in (pa.table(base), pd.DataFrame(base), pl.DataFrame(base)):
        log = jd.EventLog.from_frame(frame, customer="customer_id")
        assert log.to_pydict()["value"] == [None, None]
        logs.append(log.to_pydict())
        out = jd.Engine(jd.Model.preset("ecommerce")).ingest_many(frame)
        assert out.rejected == [] and len(out.transitions) == 4
    assert logs[0] == logs[1] == logs[2]


def test_from_json_lines_is_the_core_reader():
    text = (
        '{"customer": "c1", "at": "2026-03-01T10:00:00Z", "channel": "web", "kind": "view", "sku": "A1"}\n'
        "\n"
        '{"customer": 7, "at": 1772362800000, "channel": "app", "kind": "buy", "value": 30, '
        '"properties": {"sku": "B2", "rating": 5}}\n'
    )
    log = jd.EventLog.from_json_lines(text, properties="*")
    d = log.to_pydict()
    # Sorted by customer then time: "7" (an integer key kept as its text) before "c1".
    assert d["customer"] == ["7", "c1"]
    assert d["kind"] == ["buy", "view"]
    assert d["value"] == [30.0, None]
    assert sorted(log.properties) == ["rating", "sku"]
    assert d["sku"] == ["B2", "A1"]
    only = jd.EventLog.from_json_lines(text.encode(), properties=["rating"])
    assert only.properties == ["rating"]
    assert jd.EventLog.from_json_lines(text).properties == []
    with pytest.raises(jd.MissingFieldError) as info:
        jd.EventLog.from_json_lines(text + '{"customer": "c2", "channel": "web", "kind": "view"}\n')
    assert (info.value.index, info.value.line) == (2, 4)
    with pytest.raises(jd.WrongTypeError):
        jd.EventLog.from_json_lines(text, properties=3)
