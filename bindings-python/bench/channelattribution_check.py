"""Cross-check of jornada's attribution against ChannelAttribution (PyPI, 2.2.5) on the same
aggregated paths:

    pip install ChannelAttribution==2.2.5          # into the binding's venv (builds C++)
    python bench/channelattribution_check.py [--customers 50000] [--seed 42]
        [--sims 100000,1000000,10000000] [--sim-seeds 0,1]

1. Simulates a log (`jd.simulate(ecommerce, customers, seed)`) and cuts its journeys with
   jornada's own `EventLog.attribution_paths(conversion="purchase")` (30-day lookback) into
   ChannelAttribution's path table: `path` ("web>app>web"), `total_conversions`,
   `total_conversion_value`, `total_null`. Checks that `jd.attribution_from_paths` on that table
   gives the log's `attribution` (the same journeys, so the same credits).
2. Heuristics: ChannelAttribution's `heuristic_models` against `jd.attribution_from_paths`,
   first touch, last touch, linear, conversions and value, per channel.
3. Markov (order 1): jornada solves the chain exactly; ChannelAttribution fits the same chain
   (`out_more=True` returns it) and estimates removal effects by simulating walks. Printed:
   jornada's removal effects; the same solved independently with numpy from ChannelAttribution's
   own transition matrix (must agree to rounding); ChannelAttribution's simulated ones at its
   defaults (`nsim_start=1e5`, `nfold=10`: the result is one fold of 10,000 walks) and with
   `nfold=1` (one run of `nsim_start` walks) at each of `--sims` for each of `--sim-seeds`; each
   difference also in standard errors (a removal effect is the share of converting walks that
   visit the channel: SE = sqrt(RE (1 - RE) / (walks x P(conv)))).
4. Markov credits (conversions and value) at the defaults and the largest `--sims`.

ChannelAttribution's definitions, read from its source (src/cypack/functions.cpp in the sdist):
linear gives each touch `1/n` of the path's conversions and value (repeats count); first/last
touch give everything to the first/last channel; heuristics ignore `total_null`. The Markov
chain merges consecutive repeats, adds `conversions + nulls` to each transition along the path
and `conversions` / `nulls` to the absorbing states; a walk that converts credits every channel
it visited; removal effect = converting walks through the channel / converting walks; a walk
longer than `max_step` (default: the longest path in the data) is dropped. Its
`total_conversions` / `total_null` columns must be integers.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import time

import numpy as np
import pandas as pd

import jornada as jd

with contextlib.redirect_stdout(io.StringIO()):  # its import prints an advertisement
    import ChannelAttribution as ca


def ca_paths(log: jd.EventLog) -> pd.DataFrame:
    """jornada's journeys as ChannelAttribution's input (integer counts, as it requires)."""
    df = log.attribution_paths(conversion="purchase", lookback="30d", sep=">").to_pandas()
    for c in ("total_conversions", "total_null"):
        assert (df[c] == df[c].round()).all(), c
        df[c] = df[c].astype("int64")
    return df


def exact_removal_effects(tm: pd.DataFrame, names: list[str]) -> dict[str, float]:
    """Removal effects solved with numpy from ChannelAttribution's fitted transition matrix
    (states `(start)`, channel codes `1..n` in the order of `names`, `(conversion)`, `(null)`):
    `1 - P(conv | channel removed) / P(conv)`, absorption probabilities from `(I - Q) x = r`."""
    states = sorted(set(tm.channel_from) - {"(conversion)", "(null)"})
    at = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    r = np.zeros(len(states))
    for f, t, p in tm.itertuples(index=False):
        if t == "(conversion)":
            r[at[f]] += p
        elif t != "(null)":
            q[at[f], at[t]] += p

    def p_conv(removed: str | None) -> float:
        keep = [at[s] for s in states if s != removed]
        x = np.linalg.solve(np.eye(len(keep)) - q[np.ix_(keep, keep)], r[keep])
        return float(x[keep.index(at["(start)"])])

    p = p_conv(None)
    return {name: 1.0 - p_conv(str(k + 1)) / p for k, name in enumerate(names)}


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(t: tuple[float, float]) -> str:
    """Wall and CPU seconds (all threads of this process) since `t`: the machine these figures
    come from is shared, and CPU time varies less with its load."""
    return f"{time.perf_counter() - t[0]:.2f} s ({time.process_time() - t[1]:.2f} s CPU)"


def ca_markov(df: pd.DataFrame, **kw):
    t = clock()
    m = ca.markov_model(
        df,
        "path",
        "total_conversions",
        var_value="total_conversion_value",
        var_null="total_null",
        out_more=True,
        verbose=False,
        flg_pro=False,
        **kw,
    )
    return m, since(t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--sims", default="100000,1000000,10000000", help="nsim_start values (nfold=1)")
    ap.add_argument("--sim-seeds", default="0,1", help="ChannelAttribution seeds")
    args = ap.parse_args()
    sims = [int(float(x)) for x in args.sims.split(",") if x]
    sim_seeds = [int(x) for x in args.sim_seeds.split(",") if x]

    log = jd.simulate(jd.Model.preset("ecommerce"), customers=args.customers, seed=args.seed, progress=False)
    df = ca_paths(log)
    details = log.attribution_details(conversion="purchase", models=["markov"])
    summary = details["summary"]
    print(
        f"ChannelAttribution {ca.__version__ if hasattr(ca, '__version__') else '2.2.5'}, jornada {jd.__version__}"
    )
    print(
        f"log: jd.simulate(ecommerce, customers={args.customers:,}, seed={args.seed}): {len(log):,} events; "
        f"{summary['conversions']:,.0f} attributed conversions, {summary['null_paths']:,.0f} null paths, "
        f"{len(df):,} distinct paths (longest {df.path.str.count('>').max() + 1} touches)"
    )

    # 1. The path table gives the log's own credits.
    t = clock()
    ours = jd.attribution_from_paths(df).to_pandas()
    t_ours = since(t)
    from_log = log.attribution(
        conversion="purchase", models=["first_touch", "last_touch", "linear", "position", "markov", "shapley"]
    ).to_pandas()
    gap = np.abs(ours[["conversions", "value"]].to_numpy() - from_log[["conversions", "value"]].to_numpy())
    rel = gap / np.maximum(1.0, np.abs(from_log[["conversions", "value"]].to_numpy()))
    print(f"attribution_from_paths(table) vs log.attribution: max relative difference {rel.max():.1e}")
    assert rel.max() < 1e-9
    jd_credit = ours.set_index(["model", "channel"])

    # 2. Heuristics.
    t = clock()
    h = ca.heuristic_models(df, "path", "total_conversions", var_value="total_conversion_value", flg_pro=False)
    t_h = since(t)
    h = h.set_index("channel_name").sort_index()
    channels = list(h.index)
    print("\nheuristics: jornada | ChannelAttribution (conversions; value)")
    pairs = [("first_touch", "first_touch"), ("last_touch", "last_touch"), ("linear", "linear_touch")]
    print(f"{'channel':<8}" + "".join(f"{m:>34}" for m, _ in pairs))
    worst = 0.0
    for c in channels:
        row = f"{c:<8}"
        for ours_name, theirs in pairs:
            a = jd_credit.loc[(ours_name, c)]
            bc, bv = h.loc[c, f"{theirs}_conversions"], h.loc[c, f"{theirs}_value"]
            worst = max(worst, abs(a.conversions - bc) / max(1.0, bc), abs(a.value - bv) / max(1.0, bv))
            row += f"{a.conversions:>10.3f} |{bc:>10.3f}{'':>1}; {a.value - bv:+.0e}"
        print(row)
    print(f"largest relative difference, conversions and value: {worst:.1e} (the last column: value difference)")

    # 3. Markov removal effects.
    re = details["removal_effects"].to_pandas().set_index("channel")
    p_conv = details["markov"].to_pandas().conversion_probability[0]
    m0, t_m0 = ca_markov(df)
    ca_names = list(m0["result"].channel_name)
    numpy_re = exact_removal_effects(m0["transition_matrix"], ca_names)
    runs = [("defaults (1e5, nfold 10)", m0, t_m0, None)]
    for n in sims:
        for s in sim_seeds:
            m, el = ca_markov(df, nsim_start=n, nfold=1, seed=s)
            runs.append((f"nfold=1, {n:.0e} walks, seed {s}", m, el, n))
    print(f"\nMarkov order 1, removal effects (P(conv) = {p_conv:.4f}); simulated: difference from exact")
    print(f"{'':<34}" + "".join(f"{c:>9}" for c in channels) + f"{'max |d|':>9}{'max z':>7}  time")
    print(f"{'jornada (exact)':<34}" + "".join(f"{re.loc[c, 'removal_effect']:>9.4f}" for c in channels))
    print(
        f"{'numpy on ChannelAttribution chain':<34}"
        + "".join(f"{numpy_re[c] - re.loc[c, 'removal_effect']:>+9.0e}" for c in channels)
    )
    assert max(abs(numpy_re[c] - re.loc[c, "removal_effect"]) for c in channels) < 1e-9
    for label, m, el, n in runs:
        r = m["removal_effects"].set_index("channel_name")["removal_effects_conversion"]
        d = {c: r[c] - re.loc[c, "removal_effect"] for c in channels}
        walks = (n if n else 100_000 // 10) * p_conv
        z = max(abs(d[c]) / math.sqrt(max(1e-12, re.loc[c, "removal_effect"] * (1 - re.loc[c, "removal_effect"])) / walks) for c in channels)
        print(
            f"{label:<34}"
            + "".join(f"{d[c]:>+9.4f}" for c in channels)
            + f"{max(abs(x) for x in d.values()):>9.4f}{z:>7.1f}  {el}"
        )

    big = runs[-len(sim_seeds)] if sims else runs[0]
    print("value removal effects (each conversion worth the mean value of those leaving its last state)")
    print(f"{'jornada (exact)':<34}" + "".join(f"{re.loc[c, 'value_removal_effect']:>9.4f}" for c in channels))
    for label, m, _, _ in (runs[0], big):
        r = m["removal_effects"].set_index("channel_name")["removal_effects_conversion_value"]
        d = [r[c] - re.loc[c, "value_removal_effect"] for c in channels]
        print(f"{label:<34}" + "".join(f"{x:>+9.4f}" for x in d) + f"{max(abs(x) for x in d):>9.4f}")

    # 4. Markov credits.
    print(f"\nMarkov credits: jornada (exact) | ChannelAttribution defaults | {big[0]}")
    print(f"{'channel':<8}{'conversions':>36}{'value':>40}")
    for c in channels:
        a = jd_credit.loc[("markov", c)]
        r0 = m0["result"].set_index("channel_name").loc[c]
        r1 = big[1]["result"].set_index("channel_name").loc[c]
        print(
            f"{c:<8}{a.conversions:>12.1f}{r0.total_conversions:>12.1f}{r1.total_conversions:>12.1f}"
            f"{a.value:>14.0f}{r0.total_conversion_value:>13.0f}{r1.total_conversion_value:>13.0f}"
        )

    print(
        f"\ntimes: jornada attribution_from_paths (6 models, exact Markov) {t_ours}; "
        f"ChannelAttribution heuristic_models {t_h}, markov_model defaults {t_m0}"
    )


if __name__ == "__main__":
    main()
