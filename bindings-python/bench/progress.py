"""Cost of progress reporting: replay, attribution and simulate with progress=False against a
progress callable (the same polling path a tqdm bar uses), interleaved, best of 5 each.

    python bench/progress.py

Wall-clock: on a loaded machine compare the two columns of one run, not runs with each other.
"""

from __future__ import annotations

import time

import jornada as jd


def once(f) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def main() -> None:
    m = jd.Model.preset("ecommerce")
    log = jd.simulate(m, customers=200_000, seed=1, progress=False)
    print(log)
    calls: list = []
    cb = lambda done, total: calls.append(done)  # noqa: E731
    cases = [
        ("replay", lambda p: log.replay(m, progress=p)),
        ("attribution (last_touch, markov)",
         lambda p: log.attribution(conversion="purchase", models=["last_touch", "markov"], progress=p)),
        ("simulate 100,000 customers", lambda p: jd.simulate(m, customers=100_000, seed=2, progress=p)),
    ]
    for label, run in cases:
        off, on = [], []
        for _ in range(5):
            off.append(once(lambda: run(False)))
            calls.clear()
            on.append(once(lambda: run(cb)))
        print(f"{label}: progress=False {min(off):.3f} s, with progress {min(on):.3f} s "
              f"({len(calls)} updates in the last run)")


if __name__ == "__main__":
    main()
