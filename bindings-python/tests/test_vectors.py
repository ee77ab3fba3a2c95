"""The shared test vectors (tests/vectors/*.json) through the Python API.

Same rules as the Rust runner (tests/tests/vectors.rs, described in tests/vectors/README.md).
Each vector runs twice: touchpoints as dicts (`Engine.ingest`, `Engine.ingest_many` of a list)
and as JSON text (`Engine.ingest_json`, `Engine.ingest_json_lines` for batches).
"""

from __future__ import annotations

import json
from typing import Any, List

import pytest

import jornada as jd

from conftest import VECTORS

MIN_VECTORS = 20
OUTCOME_KEYS = [
    "transitions",
    "actions",
    "retracted_transitions",
    "retracted_actions",
    "merges",
    "duplicates",
    "rejected",
]
OPS = ["ingest", "ingest_batch", "ingest_json_lines", "advance_to", "consent", "erase", "snapshot_restore"]
FILES = sorted(VECTORS.glob("*.json"))


def json_eq(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value (5 == 5.0), objects regardless of key order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_eq(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_eq(a[k], b[k]) for k in a)
    return a == b


def run_op(engine: jd.Engine, op: str, arg: Any, mode: str) -> Any:
    if op == "ingest":
        return engine.ingest(arg) if mode == "dict" else engine.ingest_json(json.dumps(arg))
    if op == "ingest_batch":
        if mode == "dict":
            return engine.ingest_many(arg)
        return engine.ingest_json_lines("\n".join(json.dumps(tp) for tp in arg))
    if op == "ingest_json_lines":
        return engine.ingest_json_lines(arg)
    if op == "advance_to":
        return engine.advance_to(arg)
    if op == "consent":
        return engine.set_consent(arg["customer"], arg["channel"], arg["granted"], arg["at"])
    if op == "erase":
        return engine.erase(arg)
    raise AssertionError(f"unknown op {op}")


def check_expect(op: str, produced: Any, expect: dict) -> List[str]:
    diffs = []
    if op == "snapshot_restore":
        return [] if not expect else ["snapshot_restore has no outcome to expect"]
    if op == "erase":
        if "erased" in expect and not json_eq(expect["erased"], produced.to_dict()):
            diffs.append(f"erased: expected {expect['erased']}, got {produced.to_dict()}")
        return diffs
    for k in expect:
        if k not in OUTCOME_KEYS:
            diffs.append(f"unknown expect key {k}")
    actual = produced.to_dict()
    for key in OUTCOME_KEYS:
        want = expect.get(key, [])
        got = actual.get(key, [])
        if key == "rejected":
            ok = len(want) == len(got) and all(
                all(json_eq(v, g.get(k)) for k, v in w.items()) for w, g in zip(want, got)
            )
        else:
            ok = json_eq(want, got)
        if not ok:
            diffs.append(
                f"{key} differs:\n  expected {json.dumps(want, indent=1)}\n  actual {json.dumps(got, indent=1)}"
            )
    return diffs


def check_final(engine: jd.Engine, fin: dict) -> List[str]:
    diffs = []
    for cid, want in fin.get("customers", {}).items():
        view = engine.customer(cid)
        if view is None:
            diffs.append(f"customer {cid}: not found")
            continue
        got = view.to_dict()
        for field, w in want.items():
            if not json_eq(w, got.get(field)):
                diffs.append(f"customers.{cid}.{field}: expected {w}, got {got.get(field)}")
    for cid in fin.get("absent", []):
        if engine.customer(cid) is not None:
            diffs.append(f"customer {cid} should be absent")
    if "stage_counts" in fin:
        table = engine.stage_counts().to_pydict()
        counts = dict(zip(table["stage"], table["customers"]))
        for stage, n in fin["stage_counts"].items():
            if counts.get(stage) != n:
                diffs.append(f"stage_counts.{stage}: expected {n}, got {counts.get(stage)}")
    if "customer_ids" in fin and engine.customer_ids() != fin["customer_ids"]:
        diffs.append(f"customer_ids: expected {fin['customer_ids']}, got {engine.customer_ids()}")
    return diffs


def run_vector(v: dict, mode: str) -> List[str]:
    m = v["model"]
    model = jd.Model.preset(m) if isinstance(m, str) else jd.Model.from_json(json.dumps(m))
    engine = jd.Engine(model)
    failures = []
    for i, step in enumerate(v["steps"]):
        ops = [op for op in OPS if op in step]
        assert len(ops) == 1, f"step {i}: needs exactly one operation"
        for k in step:
            assert k in OPS or k in ("expect", "error", "comment"), f"step {i}: unknown key {k}"
        op = ops[0]
        assert not ("expect" in step and "error" in step), f"step {i}: expect and error"
        if op == "snapshot_restore":
            engine = jd.Engine.restore(engine.snapshot())
            produced: Any = None
        else:
            try:
                produced = run_op(engine, op, step[op], mode)
            except jd.JornadaError as e:
                want = step.get("error")
                if want is None:
                    failures.append(f"step {i}: {op} failed unexpectedly: [{e.code}] {e}")
                elif e.code != want["code"]:
                    failures.append(f"step {i}: expected error {want['code']}, got {e.code}: {e}")
                elif "path" in want and (e.path or "") != want["path"]:
                    failures.append(f"step {i}: expected error path {want['path']!r}, got {e.path!r}")
                continue
        if "error" in step:
            failures.append(f"step {i}: expected error {step['error']}, the step succeeded")
            continue
        if "expect" in step:
            failures += [f"step {i}: {d}" for d in check_expect(op, produced, step["expect"])]
    if "final" in v:
        failures += [f"final: {d}" for d in check_final(engine, v["final"])]
    return failures


def test_enough_vectors():
    runnable = [f for f in FILES if "known_bug" not in json.loads(f.read_text())]
    assert len(runnable) >= MIN_VECTORS, f"only {len(runnable)} vectors"


@pytest.mark.parametrize("mode", ["dict", "json"])
@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_vector(path, mode):
    v = json.loads(path.read_text())
    assert v["name"] == path.stem
    if "known_bug" in v:
        pytest.skip(f"known bug: {v['known_bug']}")
    failures = run_vector(v, mode)
    assert not failures, f"{path.stem} ({mode}):\n" + "\n\n".join(failures)
