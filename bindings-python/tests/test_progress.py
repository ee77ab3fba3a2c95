"""Progress of long analyses: the core counts customers done per block (4,096 customers) and the
binding forwards the count to a tqdm bar or a callable, while the work runs with the GIL
released. The counts must add up to the log's customers and the results must not change."""

from __future__ import annotations

import sys
import threading
import time

import pytest

import jornada as jd
from jornada import _progress

BLOCK = 4096


@pytest.fixture(scope="module")
def big():
    model = jd.Model.preset("ecommerce")
    return model, jd.simulate(model, customers=6 * BLOCK + 7, seed=3, days=60, events_per_customer=12.0)


def test_simulate_reports_every_customer(ecommerce):
    calls = []
    n = 3 * BLOCK + 100
    log = jd.simulate(ecommerce, customers=n, seed=5, days=30, progress=lambda done, total: calls.append((done, total)))
    assert calls, "the callable was called"
    assert all(total == n for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(set(done)) == len(done)  # only growth is reported
    assert done[-1] == n
    # Every count is a sum of whole blocks (the core reports 4,096 customers or the rest).
    assert all(d % BLOCK in (0, n % BLOCK) or d == n for d in done)
    same = jd.simulate(ecommerce, customers=n, seed=5, days=30, progress=False)
    assert log.to_pydict() == same.to_pydict()


def test_replay_and_time_in_stage_report_every_customer(big):
    model, log = big
    calls = []
    r = log.replay(model, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (log.n_customers, log.n_customers)
    plain = log.replay(model)
    assert r.table.to_pydict() == plain.table.to_pydict()
    assert r.transitions.to_pydict() == plain.transitions.to_pydict()
    seen = []
    t = log.time_in_stage(model, progress=lambda d, n: seen.append(d))
    assert seen[-1] == log.n_customers
    assert t.to_pydict() == log.time_in_stage(model, progress=False).to_pydict()


def test_progress_with_tqdm(big, capsys):
    pytest.importorskip("tqdm")
    model, log = big
    r = log.replay(model, progress=True)
    assert len(r) == log.n_customers
    err = capsys.readouterr().err
    assert "replay" in err and "customers" in err


def test_progress_true_without_tqdm_says_how_to_install(big, monkeypatch):
    model, log = big
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match="pip install tqdm"):
        log.replay(model, progress=True)
    # Automatic progress without tqdm: no bar, no error.
    monkeypatch.setattr(_progress, "_interactive", lambda: True)
    monkeypatch.setattr(_progress, "AUTO_CUSTOMERS", 1)
    assert _progress.start(None, "replay", 10, 10) is None


def test_bad_progress_argument(big):
    model, log = big
    with pytest.raises(TypeError, match="progress: expected None, True, False or a callable"):
        log.replay(model, progress="yes")


def test_an_error_in_the_callable_is_raised_after_the_work(big):
    model, log = big
    calls = []

    def boom(done, total):
        calls.append(done)
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        log.replay(model, progress=boom)
    assert len(calls) == 1  # not called again after it failed


def test_automatic_progress_only_for_large_logs_in_interactive_sessions(monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(_progress, "_interactive", lambda: False)
    assert _progress.start(None, "replay", 10**6, 10**8) is None  # not interactive
    monkeypatch.setattr(_progress, "_interactive", lambda: True)
    assert _progress.start(None, "replay", 1000, 20_000) is None  # small
    bar = _progress.start(None, "replay", _progress.AUTO_CUSTOMERS, 0)
    assert bar is not None and bar.total == _progress.AUTO_CUSTOMERS
    bar.close()
    bar = _progress.start(None, "replay", 10, _progress.AUTO_EVENTS)
    assert bar is not None
    bar.close()
    assert _progress.start(None, "replay", 0, 10**9) is None  # nothing to do
    assert _progress.start(False, "replay", 10**6, 10**8) is None


def test_gil_is_released_while_a_replay_with_progress_runs(big):
    model, log = big
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    th = threading.Thread(target=ticker)
    th.start()
    t0 = time.perf_counter()
    log.replay(model, progress=lambda d, n: None)
    t1 = time.perf_counter()
    stop.set()
    th.join()
    during = [x for x in ticks if t0 < x < t1]
    assert t1 - t0 < 0.05 or len(during) >= 3, (t1 - t0, len(during))
