"""Every Python snippet of bindings-python/README.md runs."""

from __future__ import annotations

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_snippets_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "the README has Python snippets"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    printed = capsys.readouterr().out
    assert "Transition(customer='c1'" in printed


ROOT_README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_root_readme_python_quickstart_runs(capsys):
    """The Python quickstart of the repository's README.md runs as written."""
    blocks = re.findall(r"```python\n(.*?)```", ROOT_README.read_text(), re.S)
    assert len(blocks) == 1, "the root README has one Python quickstart"
    exec(compile(blocks[0], str(ROOT_README), "exec"), {})
    printed = capsys.readouterr().out.strip()
    # The funnel's customers per step: page views, then fewer carts, then fewer purchases.
    counts = [int(x) for x in printed.strip("[]").split(",")]
    assert len(counts) == 3 and counts[0] > counts[1] > counts[2] > 0, printed
