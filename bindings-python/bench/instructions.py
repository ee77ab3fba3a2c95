"""One workload under one mode, for bench/instructions.sh (instruction counts with callgrind).

`python bench/instructions.py MODE N`: builds N touchpoints (the bench.py mix, 10 per customer on
average) as JSON lines, dicts or a pyarrow table, then ingests them by MODE: `none` (setup only),
`dict` (`ingest` per touchpoint, dicts from `json.loads`), `literal` (`ingest` per touchpoint,
dicts built in Python as `ingest_cpu.py` does: interned keys), `json` (`ingest_json` per
touchpoint), `lines` (one `ingest_json_lines`: the core alone), `many` (one `ingest_many` of the
dicts), `table` (one `ingest_many` of a pyarrow table).
"""

from __future__ import annotations

import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import bench  # noqa: E402

import jornada as jd  # noqa: E402

mode, n = sys.argv[1], int(sys.argv[2])
rows = bench.workload(n, max(1, n // 10))
lines = [json.dumps(d) for d in bench.dicts(rows)]
tps = [json.loads(line) for line in lines]
literal = bench.dicts(rows)
import pyarrow as pa  # noqa: E402

table = pa.table(rows)  # in every mode, so that `none` is the baseline of all
engine = jd.Engine(jd.Model.preset("ecommerce"))
if mode == "dict":
    for tp in tps:
        engine.ingest(tp)
elif mode == "literal":
    for tp in literal:
        engine.ingest(tp)
elif mode == "json":
    for line in lines:
        engine.ingest_json(line)
elif mode == "lines":
    engine.ingest_json_lines("\n".join(lines))
elif mode == "many":
    engine.ingest_many(tps)
elif mode == "table":
    engine.ingest_many(table)
