"""The example notebook (examples/analysis.ipynb) runs top to bottom without an error, and its
results display with their inline SVG charts."""

from __future__ import annotations

import pathlib
import time

import pytest

NOTEBOOK = pathlib.Path(__file__).resolve().parents[1] / "examples" / "analysis.ipynb"


def test_example_notebook_runs():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    start = time.monotonic()
    # Raises CellExecutionError (failing the test) as soon as any cell raises.
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    elapsed = time.monotonic() - start
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    html = [o["data"]["text/html"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if o.output_type == "execute_result" and "text/html" in o.get("data", {})]
    charts = sum(h.count("<svg") for h in html)
    # Replay Sankey, time in stage, funnel, paths, transitions, 5 attribution models, retention.
    assert charts >= 11, charts
    assert all("<script" not in h for h in html)
    assert elapsed < 60, elapsed  # about 10 s on a quiet machine; generous for a loaded one
