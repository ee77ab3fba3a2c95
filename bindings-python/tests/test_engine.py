"""The engine API from Python: time inputs, queries, consent, erasure, snapshots, pickling,
reprs and notebook HTML, the GIL, and the docstring examples."""

from __future__ import annotations

import datetime as dt
import doctest
import pickle
import threading
import time

import pandas as pd
import pyarrow as pa
import pytest

import jornada as jd

UTC = dt.timezone.utc


def tp(customer="c1", kind="add_to_cart", at="2026-03-01T10:00:00Z", **extra):
    return {"customer_id": customer, "channel": "web", "kind": kind, "at": at, **extra}


@pytest.mark.parametrize(
    "at",
    [
        "2026-03-01T10:00:00Z",
        "2026-03-01T11:00:00+01:00",
        1_772_359_200_000,
        dt.datetime(2026, 3, 1, 10, tzinfo=UTC),
        dt.datetime(2026, 3, 1, 11, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        dt.datetime(2026, 3, 1, 10),  # naive = UTC
        pd.Timestamp("2026-03-01T10:00:00Z"),
        pd.Timestamp("2026-03-01T10:00:00"),
    ],
)
def test_every_time_form_means_the_same_instant(engine, at):
    out = engine.ingest(tp(at=at))
    assert out.transitions[0].at == dt.datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert out.transitions[0].at_ms == 1_772_359_200_000
    engine.advance_to(at)
    assert engine.now == dt.datetime(2026, 3, 1, 10, tzinfo=UTC)


def test_sub_millisecond_times_are_cut(engine):
    engine.ingest(tp(at=dt.datetime(2026, 3, 1, 10, 0, 0, 999_999, tzinfo=UTC)))
    assert engine.customer("c1").since == dt.datetime(2026, 3, 1, 10, 0, 0, 999_000, tzinfo=UTC)


def test_journey_queries_consent_and_erasure(engine):
    out = engine.ingest(tp())
    assert [(t.from_, t.to, t.rule) for t in out.transitions] == [(None, "visitor", None), ("visitor", "cart", "cart_filled")]
    assert bool(out) and not engine.advance_to("2026-03-01T10:30:00Z")
    engine.set_consent("c1", "sms", True, "2026-03-01T09:00:00Z")
    out = engine.advance_to(dt.datetime(2026, 3, 1, 11, tzinfo=UTC))
    (action,) = out.actions
    assert (action.action, action.channel, action.suppressed, action.params) == ("abandoned_cart_sms", "sms", False, {"template": "cart_reminder"})
    assert action.stage == "abandoned_cart" and action.rule == "abandoned_cart"
    view = engine.customer("c1")
    assert view.stage == "abandoned_cart"
    assert [h.stage for h in view.history] == ["visitor", "cart", "abandoned_cart"]
    assert view.keys == [("customer_id", "c1")]
    assert view.touchpoints == 1
    assert view.last_seen == dt.datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert [(c.channel, c.granted) for c in view.consent] == [("sms", True)]
    assert engine.customer_by_key("customer_id", "c1") == view
    assert engine.customer("nobody") is None
    assert engine.customer_ids() == ["c1"] and len(engine) == 1
    # A retroactive withdrawal retracts the action and reports it again, suppressed.
    out = engine.set_consent("c1", "sms", False, "2026-03-01T09:30:00Z")
    assert [a.suppressed for a in out.retracted_actions] == [False]
    assert [a.suppressed for a in out.actions] == [True]
    erased = engine.erase("c1")
    assert (erased.customer, erased.keys, erased.events) == ("c1", 1, 1)
    assert engine.customer("c1") is None and len(engine) == 0


def test_merges_duplicates_and_json(engine):
    engine.ingest(tp(customer="c1", id="e1"))
    out = engine.ingest(tp(customer="c1", id="e1"))
    assert out.duplicates == ["e1"]
    engine.ingest({"email": "ana@example.com", "channel": "email", "kind": "email_open", "at": "2026-03-01T10:01:00Z"})
    out = engine.ingest({"customer_id": "c1", "email": "ana@example.com", "channel": "web", "kind": "page_view", "at": "2026-03-01T10:02:00Z"})
    (merge,) = out.merges
    assert merge.into == "c1" and merge.from_ == ["email:ana@example.com"]
    assert "Merge(into='c1'" in repr(merge)
    out = engine.ingest_json('{"customer_id": "c2", "channel": "app", "kind": "search", "at": 0}')
    assert out.transitions[0].customer == "c2"
    out = engine.ingest_json_lines(b'{"customer_id": "c3", "channel": "app", "kind": "search", "at": 0}\n\nnot json\n')
    assert [(r.index, r.line, r.code) for r in out.rejected] == [(1, 3, "invalid_json")]


def test_snapshot_restore_and_pickle(engine):
    engine.ingest(tp())
    engine.set_consent("c1", "sms", True, 0)
    again = jd.Engine.restore(engine.snapshot())
    assert again.customer("c1") == engine.customer("c1")
    assert again.model == engine.model
    for copy in (pickle.loads(pickle.dumps(engine)), again):
        out = copy.advance_to("2026-03-01T11:00:00Z")
        assert [a.suppressed for a in out.actions] == [False]
    model = pickle.loads(pickle.dumps(jd.Model.preset("seven_phase")))
    assert model == jd.Model.preset("seven_phase") and model != jd.Model.preset("ecommerce")


def test_model_api(tmp_path):
    m = jd.Model.preset("ecommerce")
    assert sorted(jd.Model.presets()) == ["ecommerce", "five_stage_loyalty", "five_stage_retention", "seven_phase"]
    assert m.name == "ecommerce" and m.stages[0] == "visitor"
    assert "sms" in m.channels and "purchase" in m.event_kinds and m.identity_kinds[0] == "customer_id"
    assert m.rules and isinstance(m.allowed_lateness_ms, int) and isinstance(m.warnings, list)
    path = tmp_path / "m.json"
    path.write_text(m.to_json())
    assert jd.Model.from_file(path) == m == jd.Model.from_file(str(path))
    assert m.to_dict()["name"] == "ecommerce"
    assert repr(m) == 'Model("ecommerce": 9 stages, 9 rules)'


def test_reprs_and_notebook_html(engine):
    out = engine.ingest(tp(value=19.5, properties={"sku": "<b>A1</b>"}))
    out2 = engine.advance_to("2026-03-01T12:00:00Z")
    assert repr(out) == "Outcome(2 transitions)"
    assert repr(out2) == "Outcome(1 transition, 1 action)"
    assert repr(engine.advance_to(0)) == "Outcome(nothing happened)"
    assert repr(out.transitions[1]) == (
        "Transition(customer='c1', from_='visitor', to='cart', at='2026-03-01T10:00:00Z', rule='cart_filled', channel='web')"
    )
    assert repr(out2.actions[0]).startswith("Action(customer='c1', action='abandoned_cart_sms', channel='sms'")
    assert repr(engine.customer("c1")).startswith("CustomerView(id='c1', stage='abandoned_cart'")
    assert repr(engine).startswith('Engine(model="ecommerce", customers=1')
    assert repr(engine.stage_counts()).startswith("Table(9 rows: stage, customers)")
    for obj in (jd.Model.preset("ecommerce"), out, out2, engine.customer("c1"), engine.stage_counts(), engine):
        h = obj._repr_html_()
        assert h.startswith("<div") and "<table" in h and "<script" not in h.lower()
    model_html = jd.Model.preset("ecommerce")._repr_html_()
    assert "abandoned_cart" in model_html and "timeout" in model_html
    hostile = jd.Engine(jd.Model.preset("ecommerce"))
    hostile.ingest(tp(customer="<script>alert(1)</script>"))
    assert "<script>" not in hostile.customer("<script>alert(1)</script>")._repr_html_()
    assert out.transitions_table().num_rows == 2


def test_records_compare_and_convert(engine):
    a = engine.ingest(tp()).transitions
    b = jd.Engine(jd.Model.preset("ecommerce")).ingest(tp()).transitions
    assert a == b and a[0] != a[1]
    assert a[1].to_dict() == {"customer": "c1", "from": "visitor", "to": "cart", "at": "2026-03-01T10:00:00Z", "rule": "cart_filled", "channel": "web"}
    assert engine.memory_usage()["customers"] == 1


def test_ingest_many_releases_the_gil():
    n = 300_000
    t = pa.table(
        {
            "customer_id": [f"c{i % 5000}" for i in range(n)],
            "channel": ["web"] * n,
            "kind": ["product_view"] * n,
            "at": pa.array(range(n), pa.int64()),
        }
    )
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    th = threading.Thread(target=ticker)
    th.start()
    t0 = time.perf_counter()
    engine.ingest_many(t)
    t1 = time.perf_counter()
    stop.set()
    th.join()
    during = [x for x in ticks if t0 < x < t1]
    # With the GIL held for the whole call the other thread could not tick at all.
    assert t1 - t0 < 0.05 or len(during) >= 3, (t1 - t0, len(during))
    assert len(engine) == 5000


def test_docstring_examples():
    import jornada._convert
    import jornada._errors

    tried = 0
    for module in (jd, jd._errors if hasattr(jd, "_errors") else jornada._errors, jornada._convert):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
        tried += result.attempted
    assert tried >= 15


def test_year_zero_times_stay_usable(engine):
    out = engine.ingest(tp(at="0000-06-01T00:00:00Z"))
    t = out.transitions[0]
    assert t.at_ms < -62_000_000_000_000
    assert "0000-06-01T00:00:00Z" in repr(t)
    with pytest.raises(jd.InvalidTimestampError):
        t.at
