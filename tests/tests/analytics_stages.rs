//! Stage figures against independent calculations: a naive loop over the engine's customer
//! histories (the engine fed the same events) on random logs, hand-computed cases, value
//! iteration and Monte-Carlo for the absorbing chain.

use jornada::analytics::simulate::{simulate, SimConfig};
use jornada::analytics::stages::{self, TransitionMatrix};
use jornada::analytics::{replay, ReplayOptions};
use jornada::{Engine, Model, Timestamp, Touchpoint};
use jornada_tests::analytics::*;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The engine's stage histories for the events (until the last event), by customer.
fn engine_histories(model: &Model, events: &[Ev]) -> (Engine, Vec<Vec<(String, i64)>>) {
    let mut engine = Engine::new(model.clone());
    let mut sorted: Vec<&Ev> = events.iter().collect();
    sorted.sort_by_key(|e| e.at);
    for e in &sorted {
        let mut tp = Touchpoint::new(e.channel, e.kind, Timestamp(e.at))
            .key("customer_id", e.customer.as_str());
        if let Some(v) = e.value {
            tp = tp.value(v);
        }
        for (k, v) in &e.props {
            tp = tp.property(*k, v.clone());
        }
        engine.ingest(&tp).unwrap();
    }
    if let Some(last) = sorted.last() {
        engine.advance_to(Timestamp(last.at));
    }
    let histories = engine
        .customer_ids()
        .iter()
        .map(|id| {
            engine
                .customer(id)
                .unwrap()
                .history
                .iter()
                .map(|h| (h.stage.to_string(), h.entered_at.millis()))
                .collect()
        })
        .collect();
    (engine, histories)
}

fn nearest_rank(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.max(1) - 1])
}

fn check_stages(model: &Model, events: &[Ev]) {
    let log = build_log(events);
    let r = replay(model, &log, &ReplayOptions::default()).unwrap();
    let (engine, histories) = engine_histories(model, events);
    let names: Vec<String> = model.stage_names().map(String::from).collect();

    // Customers per stage now.
    let now: Vec<(Arc<str>, u64)> = stages::customers_per_stage(&r)
        .into_iter()
        .map(|s| (s.stage, s.customers))
        .collect();
    assert_eq!(now, engine.stage_counts());

    // Time in stage, naively.
    let mut durations: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    let mut open: BTreeMap<&str, u64> = BTreeMap::new();
    for h in &histories {
        for (i, (s, at)) in h.iter().enumerate() {
            match h.get(i + 1) {
                Some((_, next)) => durations.entry(s).or_default().push(next - at),
                None => *open.entry(s).or_default() += 1,
            }
        }
    }
    for t in stages::time_in_stage(&r) {
        let mut d = durations.get(&*t.stage).cloned().unwrap_or_default();
        d.sort_unstable();
        assert_eq!(t.completed, d.len() as u64, "{}", t.stage);
        assert_eq!(t.open, open.get(&*t.stage).copied().unwrap_or(0));
        assert_eq!(t.median_ms, nearest_rank(&d, 0.5));
        assert_eq!(t.p90_ms, nearest_rank(&d, 0.9));
        let mean = (!d.is_empty()).then(|| d.iter().sum::<i64>() as f64 / d.len() as f64);
        match (t.mean_ms, mean) {
            (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0)),
            (a, b) => assert_eq!(a, b),
        }
    }

    // The transition matrix, naively.
    let m = stages::transition_matrix(&r);
    let ix = |s: &str| names.iter().position(|n| n == s).unwrap();
    let n = names.len();
    let mut counts = vec![0u64; n * n];
    let mut stays = vec![0u64; n];
    let mut customers = vec![0u64; n];
    for h in &histories {
        let mut seen = vec![false; n];
        for (i, (s, _)) in h.iter().enumerate() {
            stays[ix(s)] += 1;
            seen[ix(s)] = true;
            if let Some((t, _)) = h.get(i + 1) {
                counts[ix(s) * n + ix(t)] += 1;
            }
        }
        for (c, s) in customers.iter_mut().zip(seen) {
            *c += s as u64;
        }
    }
    assert_eq!(m.counts, counts);
    assert_eq!(m.stays, stays);
    assert_eq!(m.customers, customers);
    for i in 0..n {
        let row: f64 = (0..n).map(|j| m.probability(i, j)).sum::<f64>() + m.stay_probability(i);
        assert!(m.stays[i] == 0 || (row - 1.0).abs() < 1e-12);
    }

    // A funnel over the first, third and second stages, naively.
    let steps = [names[0].as_str(), names[2].as_str(), names[1].as_str()];
    let f = stages::funnel(&r, &steps).unwrap();
    let mut reached = [0u64; 3];
    for h in &histories {
        let mut k = 0;
        for (s, _) in h {
            if k < 3 && s == steps[k] {
                reached[k] += 1;
                k += 1;
            }
        }
    }
    let got: Vec<u64> = f.iter().map(|s| s.customers).collect();
    assert_eq!(got, reached);

    // Reach probabilities and times against value iteration.
    for target in 0..n {
        check_reach(&m, target);
    }
}

/// Value iteration: `h ← P h` with `h(target) = 1`, then `g ← Σ P (d h + g)`; independent of
/// the exact solver.
fn iterate_reach(m: &TransitionMatrix, target: usize) -> Vec<(f64, Option<f64>)> {
    let n = m.n();
    let p = |i: usize, j: usize| m.probability(i, j);
    let d = |i: usize, j: usize| {
        let c = m.counts[i * n + j];
        if c == 0 {
            0.0
        } else {
            m.duration_ms[i * n + j] / c as f64
        }
    };
    let mut h = vec![0.0; n];
    h[target] = 1.0;
    for _ in 0..20_000 {
        let mut next = h.clone();
        for i in (0..n).filter(|&i| i != target) {
            next[i] = (0..n).map(|j| p(i, j) * h[j]).sum();
        }
        let delta: f64 = next.iter().zip(&h).map(|(a, b)| (a - b).abs()).sum();
        h = next;
        if delta < 1e-15 {
            break;
        }
    }
    let mut g = vec![0.0; n];
    for _ in 0..20_000 {
        let mut next = g.clone();
        for i in (0..n).filter(|&i| i != target) {
            next[i] = (0..n)
                .map(|j| p(i, j) * (d(i, j) * h[j] + if j == target { 0.0 } else { g[j] }))
                .sum();
        }
        let delta: f64 = next.iter().zip(&g).map(|(a, b)| (a - b).abs()).sum();
        g = next;
        if delta < 1e-9 {
            break;
        }
    }
    (0..n)
        .map(|i| (h[i], (h[i] > 1e-12).then(|| g[i] / h[i])))
        .collect()
}

fn check_reach(m: &TransitionMatrix, target: usize) {
    let exact = m.reach(target);
    let iterated = iterate_reach(m, target);
    for (i, ((p, t), (q, u))) in exact.iter().zip(&iterated).enumerate() {
        assert!((p - q).abs() < 1e-9, "stage {i} → {target}: {p} vs {q}");
        match (t, u) {
            (Some(a), Some(b)) => assert!(
                (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                "stage {i} → {target}: {a} vs {b}"
            ),
            (None, None) => {}
            (a, b) => panic!("stage {i} → {target}: {a:?} vs {b:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn stage_figures_match_a_naive_reference_ecommerce(events in prop::collection::vec(ev_strategy(Mk::Ecom), 0..60)) {
        check_stages(&model(Mk::Ecom), &events);
    }

    #[test]
    fn stage_figures_match_a_naive_reference_small_model(events in prop::collection::vec(ev_strategy(Mk::Small), 0..60)) {
        check_stages(&model(Mk::Small), &events);
    }
}

#[test]
fn reach_on_a_simulated_shop_matches_value_iteration() {
    let model = model(Mk::Ecom);
    let log = simulate(
        &model,
        &SimConfig {
            customers: 5_000,
            seed: 3,
            ..Default::default()
        },
    );
    let r = replay(&model, &log, &ReplayOptions::default()).unwrap();
    let m = stages::transition_matrix(&r);
    for target in 0..m.n() {
        check_reach(&m, target);
    }
    let table = stages::scoring_table(&r, "customer").unwrap();
    assert_eq!(table.len(), m.n());
    assert_eq!(table[5].stage, "customer");
    assert_eq!((table[5].p, table[5].expected_ms), (1.0, Some(0.0)));
    assert!(
        table[3].p > table[0].p,
        "a cart is closer to a purchase than a visit"
    );
    assert_eq!(
        stages::scoring_table(&r, "nope").unwrap_err().to_string(),
        "invalid value at field `target`: unknown stage `nope`"
    );
}

/// A matrix built by hand: stages A, B, T, X (4). From A: 2 to B (10 ms each), 1 to X (5 ms),
/// 1 stays. From B: 1 back to A (20 ms), 2 to T (30 ms each), 1 stays. X stays.
fn hand_matrix() -> TransitionMatrix {
    let n = 4;
    let mut counts = vec![0u64; n * n];
    let mut dur = vec![0.0; n * n];
    let mut set = |i: usize, j: usize, c: u64, d: f64| {
        counts[i * n + j] = c;
        dur[i * n + j] = c as f64 * d;
    };
    set(0, 1, 2, 10.0);
    set(0, 3, 1, 5.0);
    set(1, 0, 1, 20.0);
    set(1, 2, 2, 30.0);
    TransitionMatrix {
        stages: ["A", "B", "T", "X"].iter().map(|&s| Arc::from(s)).collect(),
        counts,
        duration_ms: dur,
        stays: vec![4, 4, 3, 1],
        open: vec![1, 1, 3, 1],
        customers: vec![4, 4, 3, 1],
    }
}

#[test]
fn hand_solved_chain() {
    // h_A = ½ h_B and h_B = ¼ h_A + ½, so h_A = 2/7 and h_B = 4/7.
    // g_A = ½(10 h_B + g_B) and g_B = ¼(20 h_A + g_A) + ½·30.
    let m = hand_matrix();
    let r = m.reach(2);
    let (ha, hb) = (2.0 / 7.0, 4.0 / 7.0);
    assert!((r[0].0 - ha).abs() < 1e-12 && (r[1].0 - hb).abs() < 1e-12);
    // g_A = 5 h_B + ½ g_B; g_B = 5 h_A + ¼ g_A + 15 → g_A = 5 h_B + 2.5 h_A + g_A/8 + 7.5.
    let ga = (5.0 * hb + 2.5 * ha + 7.5) / (1.0 - 1.0 / 8.0);
    let gb = 5.0 * ha + 0.25 * ga + 15.0;
    assert!((r[0].1.unwrap() - ga / ha).abs() < 1e-9, "{:?}", r[0]);
    assert!((r[1].1.unwrap() - gb / hb).abs() < 1e-9, "{:?}", r[1]);
    assert_eq!(r[2], (1.0, Some(0.0)));
    assert_eq!(r[3], (0.0, None));
    check_reach(&m, 2);
}

#[test]
fn monte_carlo_agrees_with_the_exact_solution() {
    let m = hand_matrix();
    let exact = m.reach(2);
    // Walk the chain: from i, go to j with P(i → j), else stop; each move takes d(i, j).
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let n = m.n();
    let walks = 200_000;
    let (mut hits, mut time) = (0u64, 0.0);
    for _ in 0..walks {
        let (mut i, mut t) = (0usize, 0.0);
        loop {
            if i == 2 {
                hits += 1;
                time += t;
                break;
            }
            let x = uniform();
            let mut acc = 0.0;
            let mut next = None;
            for j in 0..n {
                acc += m.probability(i, j);
                if x < acc {
                    next = Some(j);
                    break;
                }
            }
            let Some(j) = next else { break };
            t += m.duration_ms[i * n + j] / m.counts[i * n + j] as f64;
            i = j;
        }
    }
    let p = hits as f64 / walks as f64;
    let mean = time / hits as f64;
    assert!((p - exact[0].0).abs() < 0.01, "{p} vs {:?}", exact[0]);
    let want = exact[0].1.unwrap();
    assert!((mean - want).abs() < 0.02 * want, "{mean} vs {want}");
}

#[test]
fn funnel_and_errors() {
    let model = model(Mk::Ecom);
    let ev = |c: &str, at: i64, kind: &'static str| Ev {
        customer: c.into(),
        at: BASE + at,
        channel: "web",
        kind,
        value: None,
        props: vec![],
    };
    let events = vec![
        ev("a", 0, "product_view"),
        ev("a", MIN, "add_to_cart"),
        ev("a", 2 * MIN, "purchase"),
        ev("b", 0, "add_to_cart"), // skips browsing
        ev("c", 0, "search"),
    ];
    let r = replay(&model, &build_log(&events), &ReplayOptions::default()).unwrap();
    let f = stages::funnel(&r, &["visitor", "browsing", "cart", "customer"]).unwrap();
    let got: Vec<(u64, Option<f64>)> = f.iter().map(|s| (s.customers, s.conversion)).collect();
    assert_eq!(
        got,
        [
            (3, None),
            (2, Some(2.0 / 3.0)),
            (1, Some(0.5)),
            (1, Some(1.0))
        ]
    );
    assert_eq!(f[3].of_first, Some(1.0 / 3.0));
    let e = stages::funnel(&r, &["visitor", "carts"]).unwrap_err();
    assert_eq!(e.code(), "invalid_value");
    assert_eq!(
        e.to_string(),
        "invalid value at field `steps[1]`: unknown stage `carts`"
    );
    assert!(stages::funnel(&r, &[]).is_err());
}
