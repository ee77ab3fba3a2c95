"""Batch analytics from Python on a 10M-event Arrow table, to compare with the core's own bench
binaries on the same data and thread count:

    python bench/analytics.py replay [--customers 500000] [--runs 3]
        jd.simulate(ecommerce, customers, seed=7) -- the log `bench-replay` simulates -- exported
        as a pyarrow table, read back with EventLog.from_frame, then log.replay(model).
        Compare: cargo run --release -p jornada-benches --bin bench-replay -- 500000 3

    python bench/analytics.py funnel --cache target/bench-cache/ecommerce-500000-10000000-42.cols
        The log `bench-funnel` generates and caches (run it once first), read from its cache
        file into a pyarrow table (dictionary-encoded strings, as a Parquet file would give),
        EventLog.from_frame, then log.funnel(5 steps, window="7d").
        Compare: cargo run --release -p jornada-benches --bin bench-funnel -- 500000 10000000 3 funnel

Prints the best wall time of `runs` runs (after one warm-up call that is not counted) and
the best CPU time of the process (all threads), which a busy machine disturbs less.
"""

from __future__ import annotations

import argparse
import struct
import time

import numpy as np
import pyarrow as pa

import jornada as jd

STEPS = ["page_view", "product_view", "add_to_cart", "checkout", "purchase"]


CPU = [0.0]  # the best run's CPU time (all threads), next to its wall time


def best(f, runs):
    times = []
    cpus = []
    out = None
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    CPU[0] = min(cpus)
    return min(times), out


def read_cache(path: str) -> pa.Table:
    """The column cache of bench-funnel (`JRNDCOL1`: string dictionaries and little-endian
    columns) as a pyarrow table; strings stay dictionary-encoded."""
    data = memoryview(open(path, "rb").read())
    assert bytes(data[:8]) == b"JRNDCOL1", "not a bench-funnel column cache"
    pos = 8

    def u64():
        nonlocal pos
        (x,) = struct.unpack_from("<Q", data, pos)
        pos += 8
        return x

    def strs():
        nonlocal pos
        out = []
        for _ in range(u64()):
            n = u64()
            out.append(bytes(data[pos : pos + n]).decode())
            pos += n
        return out

    def col(dtype):
        nonlocal pos
        n = u64()
        size = np.dtype(dtype).itemsize
        a = np.frombuffer(data, dtype=dtype, count=n, offset=pos)
        pos += n * size
        return a

    def dict_col(values, codes):
        mask = codes == 0xFFFFFFFF  # the log's null code
        keys = pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask if mask.any() else None)
        return pa.DictionaryArray.from_arrays(keys, pa.array(values, pa.string()))

    customers = strs()
    customer = col("<u4")
    at = col("<i8")
    channels = strs()
    channel = col("<u4")
    kinds = strs()
    kind = col("<u4")
    value = col("<f8")
    cols = {
        "customer": dict_col(customers, customer),
        "at": pa.array(at, pa.timestamp("ms", "UTC")),
        "channel": dict_col(channels, channel),
        "kind": dict_col(kinds, kind),
        "value": pa.array(value, from_pandas=True),  # NaN = no value
    }
    for _ in range(u64()):
        (name,) = strs()
        tag = data[pos]
        pos += 1
        if tag == 0:
            values = strs()
            cols[name] = dict_col(values, col("<u4"))
        elif tag == 1:
            cols[name] = pa.array(col("<f8"), from_pandas=True)
        else:
            b = col("u1")
            cols[name] = pa.array(b == 1, mask=b == 2)
    return pa.table(cols)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["replay", "funnel"])
    ap.add_argument("--customers", type=int, default=500_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cache", help="bench-funnel's column cache (funnel)")
    a = ap.parse_args()
    model = jd.Model.preset("ecommerce")

    if a.what == "replay":
        t0 = time.perf_counter()
        table = jd.simulate(model, customers=a.customers, seed=7).to_arrow()
        print(f"simulated and exported {table.num_rows:,} events in {time.perf_counter() - t0:.1f} s")
    else:
        assert a.cache, "--cache PATH (run bench-funnel once to create it)"
        t0 = time.perf_counter()
        table = read_cache(a.cache)
        print(f"read the cache: {table.num_rows:,} events in {time.perf_counter() - t0:.1f} s")

    props = [c for c in table.column_names if c not in ("customer", "at", "channel", "kind", "value")]
    secs, log = best(lambda: jd.EventLog.from_frame(table, properties=props), 1)
    print(f"properties: {props}")
    print(f"from_frame  {secs:7.3f} s (CPU {CPU[0]:.3f} s)  ({len(log) / secs / 1e6:.1f} M rows/s)  {log!r}")
    del table

    if a.what == "replay":
        log.replay(model)  # warm-up
        secs, r = best(lambda: log.replay(model), a.runs)
        print(f"replay      best {secs:7.3f} s of {a.runs} (CPU {CPU[0]:.3f} s)  ({len(log) / secs / 1e6:.1f} M events/s)  {len(r)} customers, "
            f"{len(r.transitions)} transitions, {len(r.actions)} actions")
    else:
        log.funnel(STEPS, window="7d")  # warm-up
        secs, f = best(lambda: log.funnel(STEPS, window="7d"), a.runs)
        print(f"funnel      best {secs:7.3f} s of {a.runs} (CPU {CPU[0]:.3f} s)  customers per step {f.to_pydict()['customers']}")


if __name__ == "__main__":
    main()
