//! Paths: hand-computed directly-follows graphs, variants, Sankey and step matrices, and
//! property tests against a naive reference (each customer's label sequence as a vector).

use jornada::analytics::{
    directly_follows, sankey, step_matrix, top_paths, EventFilter, EventLog, PathLabel, PathSpec,
};
use jornada::Timestamp;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn log_of(events: &[(&str, i64, &str, &str)]) -> EventLog {
    let mut b = EventLog::builder();
    for &(c, t, ch, k) in events {
        b.push(c, Timestamp::from_millis(t), ch, k, None).unwrap();
    }
    b.finish().unwrap()
}

fn sample() -> EventLog {
    log_of(&[
        ("a", 0, "web", "view"),
        ("a", 10, "web", "view"),
        ("a", 30, "app", "cart"),
        ("a", 60, "app", "buy"),
        ("b", 0, "web", "view"),
        ("b", 20, "web", "cart"),
        ("b", 25, "web", "view"),
        ("c", 5, "sms", "view"),
    ])
}

#[test]
fn directly_follows_by_hand() {
    let log = sample();
    let g = directly_follows(&log, &PathSpec::default()).unwrap();
    assert_eq!(g.labels, ["buy", "cart", "view"]);
    // a: view view cart buy; b: view cart view; c: view.
    assert_eq!(g.count("view", "view"), 1);
    assert_eq!(g.count("view", "cart"), 2);
    assert_eq!(g.count("cart", "buy"), 1);
    assert_eq!(g.count("cart", "view"), 1);
    assert_eq!(g.count("buy", "view"), 0);
    assert_eq!(g.edge("view", "cart").unwrap().median_ms, 20); // gaps 20 (a), 20 (b)
    assert_eq!(g.edge("cart", "view").unwrap().median_ms, 5);
    // Out of view: view→view 1, view→cart 2.
    assert_eq!(g.edge("view", "cart").unwrap().probability, 2.0 / 3.0);
    assert_eq!(g.edge("cart", "buy").unwrap().probability, 0.5);
    assert_eq!(g.occurrences, [1, 2, 5]);
    assert_eq!(g.starts, [0, 0, 3]);
    assert_eq!(g.ends, [1, 0, 2]);

    // Collapsed: a's two views are one (the first, at 0): view→cart is then 30 for a.
    let spec = PathSpec {
        collapse_repeats: true,
        ..PathSpec::default()
    };
    let g = directly_follows(&log, &spec).unwrap();
    assert_eq!(g.count("view", "view"), 0);
    assert_eq!(g.edge("view", "cart").unwrap().median_ms, 20); // 30 (a) and 20 (b): lower middle
    assert_eq!(g.occurrences, [1, 2, 4]);

    // By channel: a web web app app; b web web web; c sms.
    let spec = PathSpec {
        label: PathLabel::Channel,
        ..PathSpec::default()
    };
    let g = directly_follows(&log, &spec).unwrap();
    assert_eq!(g.labels, ["app", "sms", "web"]);
    assert_eq!(g.count("web", "web"), 3);
    assert_eq!(g.count("web", "app"), 1);
    assert_eq!(g.count("app", "app"), 1);
}

#[test]
fn gaps_beyond_32_bits() {
    // 60 days is more than 2^32 ms: medians stay exact.
    let day = 86_400_000i64;
    let log = log_of(&[
        ("a", 0, "web", "x"),
        ("a", 60 * day, "web", "y"),
        ("b", 0, "web", "x"),
        ("b", 70 * day, "web", "y"),
        ("c", 0, "web", "x"),
        ("c", 1, "web", "y"),
    ]);
    let g = directly_follows(&log, &PathSpec::default()).unwrap();
    assert_eq!(g.edge("x", "y").unwrap().median_ms, 60 * day);
    let log = log_of(&[
        ("a", 0, "web", "x"),
        ("a", 60 * day, "web", "y"),
        ("c", 0, "web", "x"),
        ("c", 1, "web", "y"),
        ("d", 0, "web", "x"),
        ("d", 2, "web", "y"),
    ]);
    let g = directly_follows(&log, &PathSpec::default()).unwrap();
    assert_eq!(g.edge("x", "y").unwrap().median_ms, 2);
}

#[test]
fn limits_are_errors_not_crashes() {
    let log = sample();
    let spec = PathSpec {
        max_steps: 1_000_000,
        ..PathSpec::default()
    };
    assert_eq!(
        top_paths(&log, &spec).unwrap_err().path(),
        Some("max_steps")
    );
    // 100,000 labels: counted sparsely.
    let spec = PathSpec {
        label: PathLabel::Custom {
            names: (0..100_000).map(|i| i.to_string()).collect(),
            codes: (0..log.len() as u32).map(|r| r * 9_999).collect(),
        },
        max_steps: 3,
        ..PathSpec::default()
    };
    assert_eq!(directly_follows(&log, &spec).unwrap().edges.len(), 5);
    assert_eq!(sankey(&log, &spec).unwrap().links.len(), 4);
    let m = PathSpec {
        max_steps: 1000,
        ..spec
    };
    assert_eq!(
        step_matrix(&log, &m).unwrap_err().code(),
        "capacity_exceeded"
    );
}

#[test]
fn custom_labels() {
    let log = sample();
    // Rows in log order: a(0..4), b(4..7), c(7).
    let codes = vec![0, 0, 1, 2, 0, 1, u32::MAX, 0];
    let spec = PathSpec {
        label: PathLabel::Custom {
            names: vec!["browsing".into(), "cart".into(), "customer".into()],
            codes,
        },
        collapse_repeats: true,
        ..PathSpec::default()
    };
    let g = directly_follows(&log, &spec).unwrap();
    assert_eq!(g.count("browsing", "cart"), 2);
    assert_eq!(g.count("cart", "customer"), 1);
    assert_eq!(g.ends, [1, 1, 1]);
    let bad = PathSpec {
        label: PathLabel::Custom {
            names: vec!["x".into()],
            codes: vec![0; 3],
        },
        ..PathSpec::default()
    };
    let err = directly_follows(&log, &bad).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("invalid_value", Some("label.codes"))
    );
    let bad = PathSpec {
        label: PathLabel::Custom {
            names: vec!["x".into()],
            codes: vec![0, 0, 0, 0, 0, 0, 0, 1],
        },
        ..PathSpec::default()
    };
    assert!(directly_follows(&log, &bad)
        .unwrap_err()
        .to_string()
        .contains("event 7"));
}

#[test]
fn top_paths_sankey_and_step_matrix_by_hand() {
    let log = sample();
    let spec = PathSpec {
        max_steps: 2,
        conversion: Some(EventFilter::kind("buy")),
        ..PathSpec::default()
    };
    let top = top_paths(&log, &spec).unwrap();
    // Paths (2 steps, before buy): a view view (converted), b view cart, c view.
    let got: Vec<(Vec<String>, u64, u64)> = top
        .variants
        .iter()
        .map(|v| (v.steps.clone(), v.customers, v.converted))
        .collect();
    let s = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        [
            (s(&["view"]), 1, 0),
            (s(&["view", "cart"]), 1, 0),
            (s(&["view", "view"]), 1, 1)
        ]
    );
    assert_eq!(top.distinct, 3);
    let top1 = top_paths(
        &log,
        &PathSpec {
            top: 1,
            ..spec.clone()
        },
    )
    .unwrap();
    assert_eq!((top1.other_customers, top1.other_converted), (2, 1));

    let sk = sankey(&log, &spec).unwrap();
    let nodes: Vec<(usize, &str, u64)> = sk
        .nodes
        .iter()
        .map(|n| (n.step, sk.labels[n.label].as_str(), n.customers))
        .collect();
    assert_eq!(nodes, [(0, "view", 3), (1, "cart", 1), (1, "view", 1)]);
    let links: Vec<(usize, &str, &str, u64)> = sk
        .links
        .iter()
        .map(|l| {
            (
                l.step,
                sk.labels[l.from].as_str(),
                sk.labels[l.to].as_str(),
                l.customers,
            )
        })
        .collect();
    assert_eq!(links, [(0, "view", "cart", 1), (0, "view", "view", 1)]);

    let m = step_matrix(&log, &spec).unwrap();
    assert_eq!(m.customers, 3);
    assert_eq!(m.counts, [vec![0, 0, 3], vec![0, 1, 1]]);
    assert_eq!(m.shares[1][1], 1.0 / 3.0);
}

// ---------------------------------------------------------------------------------------------
// Reference
// ---------------------------------------------------------------------------------------------

const KINDS: [&str; 4] = ["a", "b", "c", "d"];
const CHANNELS: [&str; 3] = ["app", "sms", "web"];

#[derive(Debug, Clone)]
struct Case {
    events: Vec<(u8, i64, u8, u8)>,
    label: u8, // 0 kind, 1 channel, 2 custom, 3 custom with many names (sparse counting)
    custom: Vec<u8>,
    collapse: bool,
    max_steps: usize,
    top: usize,
    conversion: Option<u8>,
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec((0u8..6, 0i64..40, 0u8..4, 0u8..3), 0..50),
        0u8..4,
        prop::collection::vec(0u8..4, 60),
        any::<bool>(),
        0usize..5,
        0usize..6,
        prop::option::of(0u8..4),
    )
        .prop_map(
            |(events, label, custom, collapse, max_steps, top, conversion)| Case {
                events,
                label,
                custom,
                collapse,
                max_steps,
                top,
                conversion,
            },
        )
}

fn build(c: &Case) -> (EventLog, PathSpec) {
    let mut b = EventLog::builder();
    for &(cu, t, k, ch) in &c.events {
        b.push(
            &format!("c{cu}"),
            Timestamp::from_millis(t),
            CHANNELS[ch as usize],
            KINDS[k as usize],
            None,
        )
        .unwrap();
    }
    for k in KINDS {
        b.push("zz", Timestamp::from_millis(0), "web", k, None)
            .unwrap();
    }
    let log = b.finish().unwrap();
    let label = match c.label {
        0 => PathLabel::Kind,
        1 => PathLabel::Channel,
        l => {
            let (n, spread) = if l == 2 { (3, 1) } else { (100, 33) };
            PathLabel::Custom {
                names: (0..n).map(|i| format!("s{i:03}")).collect(),
                codes: (0..log.len())
                    .map(|r| match c.custom[r % c.custom.len()] {
                        3 => u32::MAX,
                        x => x as u32 * spread,
                    })
                    .collect(),
            }
        }
    };
    let spec = PathSpec {
        label,
        collapse_repeats: c.collapse,
        max_steps: c.max_steps,
        top: c.top,
        conversion: c.conversion.map(|k| EventFilter::kind(KINDS[k as usize])),
    };
    (log, spec)
}

/// Per customer: the (label, time) sequence.
fn sequences(log: &EventLog, spec: &PathSpec) -> Vec<Vec<(u32, i64)>> {
    (0..log.n_customers())
        .map(|c| {
            let mut seq: Vec<(u32, i64)> = Vec::new();
            for r in log.customer_rows(c) {
                let l = match &spec.label {
                    PathLabel::Kind => log.kind_codes()[r] as u32,
                    PathLabel::Channel => log.channel_codes()[r] as u32,
                    PathLabel::Custom { codes, .. } => codes[r],
                };
                if l == u32::MAX {
                    continue;
                }
                if spec.collapse_repeats && seq.last().is_some_and(|p| p.0 == l) {
                    continue;
                }
                seq.push((l, log.at()[r]));
            }
            seq
        })
        .collect()
}

/// The path: labels of the sequence from rows before the first conversion, at most k.
fn path_of(log: &EventLog, spec: &PathSpec, c: usize) -> (Vec<u32>, bool) {
    let conv = spec.conversion.as_ref().and_then(|f| {
        log.customer_rows(c)
            .find(|&r| log.kind_name(log.kind_codes()[r]) == f.kinds[0])
    });
    let end = conv.unwrap_or(log.customer_rows(c).end);
    let mut out: Vec<u32> = Vec::new();
    let mut prev = u32::MAX;
    for r in log.customer_rows(c).start..end {
        let l = match &spec.label {
            PathLabel::Kind => log.kind_codes()[r] as u32,
            PathLabel::Channel => log.channel_codes()[r] as u32,
            PathLabel::Custom { codes, .. } => codes[r],
        };
        if l == u32::MAX || (spec.collapse_repeats && l == prev) {
            continue;
        }
        prev = l;
        out.push(l);
    }
    out.truncate(spec.max_steps);
    (out, conv.is_some())
}

fn lower_median(mut v: Vec<i64>) -> i64 {
    v.sort();
    v[v.len().div_ceil(2) - 1]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
    ))]

    #[test]
    fn directly_follows_matches_reference(c in case_strategy()) {
        let (log, spec) = build(&c);
        let g = directly_follows(&log, &spec).unwrap();
        let nl = g.labels.len();
        let mut edges: BTreeMap<(usize, usize), Vec<i64>> = BTreeMap::new();
        let mut occ = vec![0u64; nl];
        let mut starts = vec![0u64; nl];
        let mut ends = vec![0u64; nl];
        for seq in sequences(&log, &spec) {
            for w in seq.windows(2) {
                edges.entry((w[0].0 as usize, w[1].0 as usize)).or_default().push(w[1].1 - w[0].1);
            }
            for &(l, _) in &seq {
                occ[l as usize] += 1;
            }
            if let (Some(f), Some(l)) = (seq.first(), seq.last()) {
                starts[f.0 as usize] += 1;
                ends[l.0 as usize] += 1;
            }
        }
        let out: Vec<u64> = (0..nl)
            .map(|a| edges.iter().filter(|((f, _), _)| *f == a).map(|(_, v)| v.len() as u64).sum())
            .collect();
        let expected: Vec<(usize, usize, u64, f64, i64)> = edges
            .into_iter()
            .map(|((f, t), v)| (f, t, v.len() as u64, v.len() as f64 / out[f] as f64, lower_median(v)))
            .collect();
        let got: Vec<(usize, usize, u64, f64, i64)> =
            g.edges.iter().map(|e| (e.from, e.to, e.count, e.probability, e.median_ms)).collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(g.occurrences, occ);
        prop_assert_eq!(g.starts, starts);
        prop_assert_eq!(g.ends, ends);
    }

    #[test]
    fn paths_match_reference(c in case_strategy()) {
        let (log, spec) = build(&c);
        let mut variants: BTreeMap<Vec<u32>, (u64, u64)> = BTreeMap::new();
        let nl = match &spec.label {
            PathLabel::Kind => log.kinds().len(),
            PathLabel::Channel => log.channels().len(),
            PathLabel::Custom { names, .. } => names.len(),
        };
        let k = spec.max_steps;
        let mut nodes = vec![vec![0u64; nl]; k];
        let mut links: BTreeMap<(usize, u32, u32), u64> = BTreeMap::new();
        let mut non_empty = 0;
        for cu in 0..log.n_customers() {
            let (p, conv) = path_of(&log, &spec, cu);
            let e = variants.entry(p.clone()).or_default();
            e.0 += 1;
            e.1 += conv as u64;
            non_empty += !p.is_empty() as u64;
            for (i, &l) in p.iter().enumerate() {
                nodes[i][l as usize] += 1;
                if i + 1 < p.len() {
                    *links.entry((i, l, p[i + 1])).or_default() += 1;
                }
            }
        }
        let mut sorted: Vec<(Vec<u32>, (u64, u64))> = variants.into_iter().collect();
        sorted.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
        let top = top_paths(&log, &spec).unwrap();
        prop_assert_eq!(top.distinct as usize, sorted.len());
        let names: Vec<String> = directly_follows(&log, &spec).unwrap().labels;
        let expected: Vec<(Vec<String>, u64, u64)> = sorted
            .iter()
            .take(spec.top)
            .map(|(p, (c, v))| (p.iter().map(|&l| names[l as usize].clone()).collect(), *c, *v))
            .collect();
        let got: Vec<(Vec<String>, u64, u64)> =
            top.variants.iter().map(|v| (v.steps.clone(), v.customers, v.converted)).collect();
        prop_assert_eq!(got, expected);
        let rest: u64 = sorted.iter().skip(spec.top).map(|x| x.1.0).sum();
        prop_assert_eq!(top.other_customers, rest);

        let m = step_matrix(&log, &spec).unwrap();
        prop_assert_eq!(&m.counts, &nodes);
        prop_assert_eq!(m.customers, non_empty);
        let sk = sankey(&log, &spec).unwrap();
        let got_links: Vec<(usize, u32, u32, u64)> =
            sk.links.iter().map(|l| (l.step, l.from as u32, l.to as u32, l.customers)).collect();
        let exp_links: Vec<(usize, u32, u32, u64)> =
            links.into_iter().map(|((i, f, t), c)| (i, f, t, c)).collect();
        prop_assert_eq!(got_links, exp_links);
        let node_total: u64 = sk.nodes.iter().map(|n| n.customers).sum();
        prop_assert_eq!(node_total, nodes.iter().flatten().sum::<u64>());
    }
}
