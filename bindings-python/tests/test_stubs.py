"""The type stubs (`_jornada.pyi`) match the built extension module (mypy.stubtest), and the
package type-checks as a user would use it."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=HERE)


def test_stubs_match_the_extension_module():
    pytest.importorskip("mypy")
    r = run("mypy.stubtest", "jornada._jornada", "--ignore-missing-stub", "--concise")
    assert r.returncode == 0, r.stdout + r.stderr


def test_typed_usage_checks(tmp_path):
    pytest.importorskip("mypy")
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import jornada as jd\n"
        "m = jd.Model.preset('ecommerce')\n"
        "e = jd.Engine(m)\n"
        "o = e.ingest({'customer_id': 'c1', 'channel': 'web', 'kind': 'page_view', 'at': 0})\n"
        "t: list[jd.Transition] = o.transitions\n"
        "v = e.customer('c1')\n"
        "s: str | None = v.stage if v else None\n"
        "n: int = len(e.stage_counts())\n"
        "try:\n"
        "    e.advance_to('x')\n"
        "except jd.InvalidTimestampError as err:\n"
        "    code: str = err.code\n"
        "log = jd.simulate(m, customers=10, progress=False)\n"
        "kind: str | None = log.funnel(['page_view']).chart_kind\n"
        "r = log.replay(m, progress=lambda done, total: None)\n"
        "svg: str = jd._jornada.svg_bar_chart('t', ['a'], [1.0], percent=True)\n"
        "flow: tuple[list[str], list[tuple[int, int, int]]] = jd._jornada.stage_flow(r)\n"
    )
    r = run("mypy", "--strict", "--no-incremental", "--python-version", "3.11", str(sample))
    assert r.returncode == 0, r.stdout + r.stderr
