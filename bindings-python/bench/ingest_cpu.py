"""`engine.ingest(dict)` rate by CPU time, which a busy machine disturbs less than wall time:
`python bench/ingest_cpu.py [N]` (default 300,000 touchpoints, the bench.py mix, best of 3)."""

from __future__ import annotations

import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import bench  # noqa: E402

import jornada as jd  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
tps = bench.dicts(bench.workload(n, max(1, n // 10)))
best = float("inf")
for _ in range(3):
    engine = jd.Engine(jd.Model.preset("ecommerce"))
    ingest = engine.ingest
    c0 = time.process_time()
    for tp in tps:
        ingest(tp)
    best = min(best, time.process_time() - c0)
print(f"engine.ingest(dict): {n / best / 1e6:.3f} M/s by CPU time ({best / n * 1e9:.0f} ns of CPU each)")
