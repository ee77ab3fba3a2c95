"""jornada's attribution against ChannelAttribution (PyPI, the reference implementation of the
Markov model jornada follows) on the same aggregated paths. Skipped when ChannelAttribution is not
installed. The full side-by-side report: bench/channelattribution_check.py."""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest

import jornada as jd

pd = pytest.importorskip("pandas")
with contextlib.redirect_stdout(io.StringIO()):  # its import prints an advertisement
    ca = pytest.importorskip("ChannelAttribution")

WALKS = 200_000  # ChannelAttribution's simulated walks (one fold)


@pytest.fixture(scope="module")
def data():
    log = jd.simulate(jd.Model.preset("ecommerce"), customers=3_000, seed=7, progress=False)
    df = log.attribution_paths(conversion="purchase").to_pandas()
    for c in ("total_conversions", "total_null"):  # ChannelAttribution takes integer counts
        assert (df[c] == df[c].round()).all()
        df[c] = df[c].astype("int64")
    assert df.total_conversions.sum() > 500 and df.total_null.sum() > 500 and df.path.str.contains(">").any()
    return log, df


def credits(df, model):
    t = jd.attribution_from_paths(df, models=[model]).to_pandas()
    return t.set_index("channel")


def test_heuristics_equal(data):
    _, df = data
    h = ca.heuristic_models(df, "path", "total_conversions", var_value="total_conversion_value", flg_pro=False)
    h = h.set_index("channel_name")
    for ours, theirs in [("first_touch", "first_touch"), ("last_touch", "last_touch"), ("linear", "linear_touch")]:
        c = credits(df, ours)
        assert sorted(c.index) == sorted(h.index)
        for ch in c.index:
            if ours != "linear":  # whole conversions: exactly equal
                assert c.loc[ch, "conversions"] == h.loc[ch, f"{theirs}_conversions"], (ours, ch)
            # sums of fractions taken in another order: equal to rounding
            assert c.loc[ch, "conversions"] == pytest.approx(h.loc[ch, f"{theirs}_conversions"], rel=1e-12, abs=1e-9)
            assert c.loc[ch, "value"] == pytest.approx(h.loc[ch, f"{theirs}_value"], rel=1e-12, abs=1e-9)


def exact_removal_effects(chain, names):
    """`1 - P(conv | c removed) / P(conv)` for each channel, absorption probabilities solved
    with numpy from `chain` ({(from, to): probability}); and P(conv)."""
    states = sorted({f for f, _ in chain})
    at = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    r = np.zeros(len(states))
    for (f, t), p in chain.items():
        if t == "(conversion)":
            r[at[f]] += p
        elif t != "(null)":
            q[at[f], at[t]] += p

    def solve(removed=None):
        keep = [at[s] for s in states if s != removed]
        x = np.linalg.solve(np.eye(len(keep)) - q[np.ix_(keep, keep)], r[keep])
        return float(x[keep.index(at["(start)"])])

    p = solve()
    return {c: 1 - solve(c) / p for c in names}, p


@pytest.mark.parametrize("with_nulls", [True, False])
def test_markov_same_chain_and_simulated_removal_effects_within_sampling_error(data, with_nulls):
    log, df = data
    nulls = "total_null" if with_nulls else None  # without: it drops paths with no conversion
    m = ca.markov_model(
        df,
        "path",
        "total_conversions",
        var_value="total_conversion_value",
        var_null=nulls,
        out_more=True,
        nsim_start=WALKS,
        nfold=1,  # one run of WALKS walks (its default, 10, reports one fold of a tenth of them)
        max_step=10_000,  # walks are dropped past this: make that negligible
        seed=0,
        verbose=False,
        flg_pro=False,
    )
    names = list(m["result"].channel_name)  # its state `k` is names[k - 1]
    name = {str(k + 1): n for k, n in enumerate(names)}
    name.update({s: s for s in ("(start)", "(conversion)", "(null)")})
    chain = {(name[f], name[t]): p for f, t, p in m["transition_matrix"].itertuples(index=False)}
    re, p_conv = exact_removal_effects(chain, names)
    conversions = df.total_conversions.sum()

    # Our credits are conversions x RE / sum(RE) of that chain, solved independently.
    ours = jd.attribution_from_paths(df, nulls=nulls, models=["markov"]).to_pandas().set_index("channel")
    assert sorted(ours.index) == sorted(names)
    for ch in names:
        assert ours.loc[ch, "conversions"] == pytest.approx(conversions * re[ch] / sum(re.values()), rel=1e-9), ch
    if with_nulls:
        # The log's details: its fitted chain is ChannelAttribution's, transition by transition.
        d = log.attribution_details(conversion="purchase", models=["markov"])
        t = d["transition_matrix"].to_pandas()
        mine = {(f, to): p for f, to, p in zip(t["from"], t["to"], t["probability"])}
        assert mine.keys() == chain.keys()
        for k in mine:
            assert mine[k] == pytest.approx(chain[k], rel=1e-12), k
        assert d["markov"].to_pandas().conversion_probability[0] == pytest.approx(p_conv, rel=1e-12)
        e = d["removal_effects"].to_pandas().set_index("channel")["removal_effect"]
        for ch in names:
            assert e[ch] == pytest.approx(re[ch], abs=1e-12), ch
    else:
        assert p_conv == pytest.approx(1.0, rel=1e-12)

    # Its removal effect is the share of converting walks that visit the channel, a binomial
    # proportion over about WALKS * P(conv) walks: within 5 standard errors of the exact value
    # (a fixed seed, so this is deterministic; a correct estimator misses it with probability
    # under 1e-6 per channel).
    sim = m["removal_effects"].set_index("channel_name")["removal_effects_conversion"]
    walks = WALKS * p_conv
    se = {ch: math.sqrt(re[ch] * (1 - re[ch]) / walks) for ch in names}
    for ch in names:
        assert abs(sim[ch] - re[ch]) <= 5 * se[ch] + 1e-12, (ch, sim[ch], re[ch], se[ch])
    # Credits = conversions x RE / sum(RE): the relative errors of numerator and sum add up.
    total_se = sum(se.values()) / sum(re.values())
    theirs = m["result"].set_index("channel_name")["total_conversions"]
    for ch in names:
        assert theirs[ch] == pytest.approx(ours.loc[ch, "conversions"], rel=5 * (se[ch] / re[ch] + total_se)), ch
    assert theirs.sum() == pytest.approx(conversions, rel=1e-12)
