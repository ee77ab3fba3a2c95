"""Benchmarks of the Python binding: `python bench/bench.py [--rows N] [--single N]`.

- `ingest` of single dicts, one call each (touchpoints per second), and the same touchpoints
  through `ingest_json` and through the core alone (`ingest_many` of the same dicts, one call);
- `ingest_many` of an N-row pyarrow table (default 1,000,000 rows), and the same table as
  pandas and Polars frames;
- `EventLog.from_frame` of the same table.

The workload is a seeded e-commerce mix (views, carts, purchases, reviews) over many customers,
in time order. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import time

import jornada as jd

KINDS = [
    ("product_view", 0.55),
    ("page_view", 0.15),
    ("add_to_cart", 0.12),
    ("search", 0.08),
    ("purchase", 0.05),
    ("email_open", 0.03),
    ("review", 0.02),
]
CHANNELS = ["web", "app", "email", "store"]
START = 1_772_359_200_000  # 2026-03-01T10:00:00Z


def workload(n: int, customers: int, seed: int = 1):
    rng = random.Random(seed)
    kinds = [k for k, _ in KINDS]
    weights = [w for _, w in KINDS]
    at = START
    rows = {"customer_id": [], "channel": [], "kind": [], "at": [], "value": []}
    for _ in range(n):
        at += rng.randint(0, 40)
        kind = rng.choices(kinds, weights)[0]
        rows["customer_id"].append(f"c{rng.randrange(customers)}")
        rows["channel"].append(rng.choice(CHANNELS))
        rows["kind"].append(kind)
        rows["at"].append(at)
        rows["value"].append(round(rng.uniform(5, 200), 2) if kind == "purchase" else None)
    return rows


def dicts(rows):
    out = []
    for c, ch, k, at, v in zip(rows["customer_id"], rows["channel"], rows["kind"], rows["at"], rows["value"]):
        d = {"customer_id": c, "channel": ch, "kind": k, "at": at}
        if v is not None:
            d["value"] = v
        out.append(d)
    return out


def best(f, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--single", type=int, default=300_000, help="touchpoints for the one-call-each runs")
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of the table runs")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    model = jd.Model.preset("ecommerce")

    rows = workload(a.single, customers=max(1, a.single // 10))
    tps = dicts(rows)
    texts = [json.dumps(d) for d in tps]

    def single():
        engine = jd.Engine(model)
        ingest = engine.ingest
        for d in tps:
            ingest(d)

    def single_json():
        engine = jd.Engine(model)
        ingest = engine.ingest_json
        for t in texts:
            ingest(t)

    def batch_dicts():
        jd.Engine(model).ingest_many(tps)

    def loop_only():
        f = len
        for d in tps:
            f(d)

    print(f"jornada {jd.__version__}, ecommerce preset, best of {a.repeat}")
    print(f"\n{a.single:,} touchpoints, {a.single // 10:,} customers, one call each")
    for name, f in [
        ("engine.ingest(dict)", single),
        ("engine.ingest_json(text)", single_json),
        ("engine.ingest_many(list of dicts)", batch_dicts),
        ("python loop alone (len(d))", loop_only),
    ]:
        t = best(f, a.repeat)
        print(f"  {name:38s} {a.single / t / 1e6:6.3f} M/s  ({t * 1e9 / a.single:6.0f} ns each)")

    import pyarrow as pa

    big = workload(a.rows, customers=max(1, a.rows // 10), seed=2)
    table = pa.table(big).set_column(3, "at", pa.array(big["at"], pa.timestamp("ms", "UTC")))
    frames = {"pyarrow": table}
    try:
        frames["pandas"] = table.to_pandas()
    except ImportError:
        pass
    try:
        import polars as pl

        frames["polars"] = pl.from_arrow(table)
    except ImportError:
        pass
    print(f"\n{a.rows:,}-row table, {a.rows // 10:,} customers")
    for name, data in frames.items():
        holder = {}

        def many():
            engine = jd.Engine(model)
            holder["out"] = engine.ingest_many(data)

        t = best(many, a.repeat)
        out = holder["out"]
        print(
            f"  ingest_many({name:7s})            {a.rows / t / 1e6:6.3f} M rows/s ({t:5.2f} s; "
            f"{len(out.transitions):,} transitions, {len(out.rejected)} rejected)"
        )
    t = best(lambda: jd.EventLog.from_frame(table, customer="customer_id"), a.repeat)
    print(f"  EventLog.from_frame(pyarrow)        {a.rows / t / 1e6:6.3f} M rows/s ({t:5.2f} s)")


if __name__ == "__main__":
    main()
