"""Progress bars of long analyses (``replay``, ``time_in_stage``, ``attribution``, ``simulate``).

The Rust side counts the customers done (the core reports each block of 4,096) and calls
``update(n)`` on what ``start`` returns, from the calling thread, every 50 ms while the work
runs with the GIL released on other threads.

``progress=None`` (the default) shows a tqdm bar when tqdm is installed, the output is a notebook
or a terminal, and the log is large (``AUTO_EVENTS`` rows or ``AUTO_CUSTOMERS`` customers);
``True`` always shows one (tqdm needed); ``False`` never; a callable ``f(done, total)`` is called
with the customers done so far instead of a bar.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Optional

AUTO_EVENTS = 2_000_000
AUTO_CUSTOMERS = 200_000


class _Callback:
    """Adapts a user's ``f(done, total)`` to the bar protocol (``update``, ``close``)."""

    def __init__(self, f: Callable[[int, int], Any], total: int) -> None:
        self.f, self.total, self.done = f, total, 0

    def update(self, n: int) -> None:
        self.done += n
        self.f(self.done, self.total)

    def close(self) -> None:
        pass


def _interactive() -> bool:
    if "ipykernel" in sys.modules:  # a notebook kernel
        return True
    err = getattr(sys, "stderr", None)
    try:
        return bool(err is not None and err.isatty())
    except ValueError:  # a closed stream
        return False


def _tqdm(what: str, total: int) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=what, unit=" customers", unit_scale=True, leave=False)


def start(progress: Any, what: str, total: int, events: int) -> Optional[Any]:
    """The bar for `total` customers of a log of `events` rows, or ``None`` for none."""
    if progress is None:
        if total == 0 or (events < AUTO_EVENTS and total < AUTO_CUSTOMERS) or not _interactive():
            return None
        try:
            return _tqdm(what, total)
        except ImportError:
            return None
    if progress is True:
        try:
            return _tqdm(what, total)
        except ImportError as e:
            raise ImportError("progress=True needs tqdm, which is not installed: pip install tqdm") from e
    if progress is False:
        return None
    if callable(progress):
        return _Callback(progress, total)
    raise TypeError(f"progress: expected None, True, False or a callable f(done, total), got {type(progress).__name__}")
