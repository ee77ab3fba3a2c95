//! Attribution: textbook examples computed by hand, a naive reference implementation (journey
//! cutting, heuristics, Markov absorption by value iteration, Shapley values by brute force over
//! coalitions) against the fast one on random logs, Shapley axioms, log/paths equivalence,
//! determinism and errors.

use jornada::analytics::attribution::{
    attribute, attribute_paths, journey_paths, Attribution, AttributionConfig, AttributionModel,
    Dimension, ModelCredits, ShapleyGame, ShapleyOptions,
};
use jornada::analytics::EventLog;
use jornada::{Duration, PropValue, Timestamp};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const EPS: f64 = 1e-9;

fn close(a: f64, b: f64, eps: f64) -> bool {
    (a - b).abs() <= eps * (1.0 + a.abs().max(b.abs()))
}

fn assert_all_close(got: &[f64], want: &[f64], eps: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(close(*g, *w, eps), "{what}: got {got:?}, want {want:?}");
    }
}

fn model<'a>(r: &'a Attribution, name: &str) -> &'a ModelCredits {
    r.model(name).unwrap_or_else(|| panic!("no model {name}"))
}

fn markov_shapley(order: usize) -> AttributionModel {
    AttributionModel::Shapley(ShapleyOptions {
        game: ShapleyGame::Markov { order },
        ..Default::default()
    })
}

// ---------------------------------------------------------------------------------------------
// Textbook examples, by hand
// ---------------------------------------------------------------------------------------------

/// The classic example: C1 > C2 > C3 converts once, C1 and C2 > C3 are null paths.
fn classic() -> Attribution {
    let mut models = AttributionModel::path_defaults();
    models.push(markov_shapley(1));
    attribute_paths(
        &["C1 > C2 > C3", "C1", "C2 > C3"],
        &[1.0, 0.0, 0.0],
        Some(&[100.0, 0.0, 0.0]),
        Some(&[0.0, 1.0, 1.0]),
        ">",
        &models,
    )
    .unwrap()
}

#[test]
fn classic_example_markov_by_hand() {
    // Transitions: start → C1 2/3, → C2 1/3; C1 → C2 1/2, → null 1/2; C2 → C3 1;
    // C3 → conversion 1/2, → null 1/2.
    // P(conv) = 2/3·1/2·1·1/2 + 1/3·1·1/2 = 1/6 + 1/6 = 1/3.
    // Without C1: only start → C2 → C3 → conv remains: 1/3·1/2 = 1/6, RE = 1 - (1/6)/(1/3) = 1/2.
    // Without C2 (or C3) no walk converts: RE = 1.
    // Credits: 1 conversion × (1/2, 1, 1) / 2.5 = (0.2, 0.4, 0.4); value likewise × 100.
    let r = classic();
    assert_eq!(r.channels, ["C1", "C2", "C3"]);
    let m = model(&r, "markov");
    let d = m.markov.as_ref().unwrap();
    assert!(close(d.conversion_probability, 1.0 / 3.0, 1e-15));
    assert_all_close(
        &d.removal_effects,
        &[0.5, 1.0, 1.0],
        1e-15,
        "removal effects",
    );
    assert_all_close(&m.conversions, &[0.2, 0.4, 0.4], 1e-15, "credits");
    assert_all_close(&m.value, &[20.0, 40.0, 40.0], 1e-14, "value");
    // The transition matrix: each transient state's row sums to 1.
    let mut rows = vec![0.0; d.states.len()];
    for t in &d.transitions {
        rows[t.from] += t.probability;
    }
    assert_all_close(&rows[..4], &[1.0; 4], 1e-15, "row sums");
    assert_eq!(rows[4..], [0.0, 0.0]);
}

#[test]
fn classic_example_heuristics_and_shapley_by_hand() {
    let r = classic();
    assert_eq!(model(&r, "first_touch").conversions, [1.0, 0.0, 0.0]);
    assert_eq!(model(&r, "last_touch").conversions, [0.0, 0.0, 1.0]);
    assert_all_close(
        &model(&r, "linear").conversions,
        &[1.0 / 3.0; 3],
        1e-15,
        "linear",
    );
    assert_all_close(
        &model(&r, "position_based").conversions,
        &[0.4, 0.2, 0.4],
        1e-15,
        "position",
    );
    // Subsets game: the one converting path's conversion split by its 3 channels.
    let shapley: Vec<&ModelCredits> = r
        .models
        .iter()
        .filter(|m| m.model.name() == "shapley")
        .collect();
    assert_all_close(&shapley[0].conversions, &[1.0 / 3.0; 3], 1e-15, "subsets");
    assert!(shapley[0].shapley.unwrap().exact);
    // Markov game: v({C2,C3}) = 1/2, v(all) = 1, all other coalitions 0.
    // C1: added last to {C2,C3} (weight 1/3): 1/3·1/2 = 1/6.
    // C2: added to {C3} (weight 1/6): 1/6·1/2; added to {C1,C3} (weight 1/3): 1/3·1 → 5/12.
    assert_all_close(
        &shapley[1].conversions,
        &[1.0 / 6.0, 5.0 / 12.0, 5.0 / 12.0],
        1e-14,
        "markov game",
    );
    assert_all_close(
        &shapley[1].value,
        &[100.0 / 6.0, 500.0 / 12.0, 500.0 / 12.0],
        1e-13,
        "markov game value",
    );
}

#[test]
fn bryl_example_order_one() {
    // A second textbook case with a cycle and repeats: a > b > a converts twice, a > c once,
    // b null 3 times, c > a null once. Repeats are merged (no self-loops) but cycles stay.
    let r = attribute_paths(
        &["a > b > a", "a > c", "b", "c > a", "a > a > c"],
        &[2.0, 1.0, 0.0, 0.0, 1.0],
        None,
        Some(&[0.0, 0.0, 3.0, 1.0, 0.0]),
        ">",
        &[AttributionModel::Markov { order: 1 }],
    )
    .unwrap();
    // Counts (weights = journeys): start→a 4 (2+1+1), start→b 3, start→c 1;
    // a→b 2, a→c 2 (a>c, a>a>c), a→conv 2, a→null 1 (c > a): a total 7;
    // b→a 2, b→null 3: total 5; c→a 1, c→conv 2: total 3.
    // P(conv) = observed 4 / 8 = 1/2 (checked below), and the removal effects by hand:
    // x_a = 2/7 + 2/7 x_b + 2/7 x_c, x_b = 2/5 x_a, x_c = 1/3 x_a + 2/3.
    // → x_a (1 - 4/35 - 2/21) = 2/7 + 4/21 → x_a = (10/21) / (83/105) = 50/83.
    // Without a: x_b = 0, x_c = 2/3; P = 1/8·2/3 = 1/12 → RE = 1 - (1/12)/(1/2) = 5/6.
    // Without b: x_a = 2/7 + 2/7 x_c, x_c = 1/3 x_a + 2/3 → x_a (1 - 2/21) = 2/7 + 4/21 = 10/21
    //   → x_a = 10/19, x_c = 10/57 + 38/57 = 48/57; P = 4/8·10/19 + 1/8·48/57 = 5/19 + 2/19
    //   = 7/19 → RE = 1 - 14/19 = 5/19.
    // Without c: x_a = 2/7 + 2/7 x_b, x_b = 2/5 x_a → x_a = (2/7)/(1 - 4/35) = 10/31, x_b = 4/31;
    //   P = 4/8·10/31 + 3/8·4/31 = 10/62 + 3/62 = 13/62 → RE = 1 - 26/62 = 18/31.
    let d = model(&r, "markov").markov.clone().unwrap();
    assert!(close(d.conversion_probability, 0.5, 1e-14));
    assert_all_close(
        &d.removal_effects,
        &[5.0 / 6.0, 5.0 / 19.0, 18.0 / 31.0],
        1e-14,
        "removal effects",
    );
}

// ---------------------------------------------------------------------------------------------
// Logs: journey cutting and heuristics by hand
// ---------------------------------------------------------------------------------------------

const H: i64 = 3_600_000;
const D: i64 = 24 * H;

fn log_of(events: &[(&str, i64, &str, &str, Option<f64>)]) -> EventLog {
    let mut b = EventLog::builder();
    for &(c, t, ch, k, v) in events {
        b.push(c, Timestamp::from_millis(t), ch, k, v).unwrap();
    }
    b.finish().unwrap()
}

fn table(log: &EventLog, config: &AttributionConfig) -> Vec<(String, f64, f64, f64)> {
    let t = journey_paths(log, config, " > ").unwrap();
    (0..t.path.len())
        .map(|i| {
            (
                t.path[i].clone(),
                t.total_conversions[i],
                t.total_conversion_value[i],
                t.total_null[i],
            )
        })
        .collect()
}

#[test]
fn journeys_are_cut_per_conversion_within_the_lookback() {
    let log = log_of(&[
        ("ana", 0, "email", "open", None), // older than 7d before the 1st purchase
        ("ana", 2 * D, "web", "visit", None), // exactly 7d before: kept (inclusive)
        ("ana", 5 * D, "app", "visit", None),
        ("ana", 9 * D, "web", "purchase", Some(50.0)),
        ("ana", 9 * D, "sms", "visit", None), // same millisecond: counts for this purchase
        ("ana", 9 * D, "web", "purchase", Some(7.0)), // second purchase, same ms: unattributed
        ("ana", 10 * D, "store", "visit", None),
        ("ana", 11 * D, "web", "purchase", None), // value 0
        ("ana", 12 * D, "email", "open", None),   // after the last purchase: a null path
        ("bo", 0, "email", "open", None),         // null path anchored at bo's last touch:
        ("bo", 20 * D, "sms", "visit", None),     // the email is 20d older → dropped
        ("cy", D, "web", "purchase", Some(3.0)),  // no touch at all: unattributed
    ]);
    let mut config = AttributionConfig::new("purchase");
    config.lookback = Some(Duration::from_millis(7 * D));
    // Rows in order of first appearance (customers by key, then time); the second purchase
    // at 9d and cy's purchase have no touch.
    assert_eq!(
        table(&log, &config),
        [
            ("web > app > sms".to_string(), 1.0, 50.0, 0.0),
            ("store".into(), 1.0, 0.0, 0.0),
            ("email".into(), 0.0, 0.0, 1.0),
            ("sms".into(), 0.0, 0.0, 1.0),
        ]
    );
    let r = attribute(&log, &config).unwrap();
    assert_eq!(r.summary.conversions, 2.0);
    assert_eq!(r.summary.value, 50.0);
    assert_eq!(r.summary.unattributed_conversions, 2.0);
    assert_eq!(r.summary.unattributed_value, 10.0);
    assert_eq!(r.summary.null_paths, 2.0);
    // No lookback: ana's old email open counts, and so does bo's.
    config.lookback = None;
    let rows = table(&log, &config);
    assert!(
        rows.contains(&("email > web > app > sms".into(), 1.0, 50.0, 0.0)),
        "{rows:?}"
    );
    assert!(
        rows.contains(&("email > sms".into(), 0.0, 0.0, 1.0)),
        "{rows:?}"
    );
    // Without null paths.
    config.null_paths = false;
    assert!(table(&log, &config).iter().all(|r| r.3 == 0.0));
}

#[test]
fn touch_kinds_channels_and_property_dimension() {
    let mut b = EventLog::builder();
    let t = Timestamp::from_millis;
    let camp = |s: &str| [("campaign", PropValue::Str(s.into()))];
    b.push_with_props("a", t(1), "email", "open", None, &camp("spring"))
        .unwrap();
    b.push("a", t(2), "web", "view", None).unwrap(); // no campaign: not a touch by campaign
    b.push_with_props("a", t(3), "sms", "click", None, &camp("promo"))
        .unwrap();
    b.push("a", t(4), "web", "buy", Some(10.0)).unwrap();
    let log = b.finish().unwrap();
    let mut config = AttributionConfig::new("buy");
    assert_eq!(table(&log, &config)[0].0, "email > web > sms");
    config.touch_kinds = Some(vec!["open".into(), "view".into()]);
    assert_eq!(table(&log, &config)[0].0, "email > web");
    config.touch_kinds = None;
    config.touch_channels = Some(vec!["sms".into(), "web".into()]);
    assert_eq!(table(&log, &config)[0].0, "web > sms");
    config.touch_channels = None;
    config.dimension = Dimension::Property("campaign".into());
    assert_eq!(table(&log, &config)[0].0, "spring > promo");
    let r = attribute(&log, &config).unwrap();
    assert_eq!(r.channels, ["promo", "spring"]);
    assert_eq!(model(&r, "last_touch").value, [10.0, 0.0]);
}

#[test]
fn heuristics_by_hand_on_a_log() {
    // One conversion (value 100) after 4 touches: web at 0h, app at 24h, web at 48h, sms at 72h;
    // conversion at 96h. Half-life 24h.
    let log = log_of(&[
        ("a", 0, "web", "view", None),
        ("a", 24 * H, "app", "view", None),
        ("a", 48 * H, "web", "view", None),
        ("a", 72 * H, "sms", "click", None),
        ("a", 96 * H, "web", "buy", Some(100.0)),
    ]);
    let mut config = AttributionConfig::new("buy");
    config.models = vec![
        AttributionModel::FirstTouch,
        AttributionModel::LastTouch,
        AttributionModel::Linear,
        AttributionModel::PositionBased {
            first: 0.3,
            last: 0.5,
        },
        AttributionModel::TimeDecay {
            half_life: Duration::from_millis(24 * H),
        },
    ];
    let r = attribute(&log, &config).unwrap();
    assert_eq!(r.channels, ["app", "sms", "web"]);
    assert_eq!(model(&r, "first_touch").conversions, [0.0, 0.0, 1.0]);
    assert_eq!(model(&r, "last_touch").conversions, [0.0, 1.0, 0.0]);
    assert_all_close(
        &model(&r, "linear").conversions,
        &[0.25, 0.25, 0.5],
        1e-15,
        "linear",
    );
    // Position: web 0.3 + web (middle) 0.1, app (middle) 0.1, sms 0.5.
    assert_all_close(
        &model(&r, "position_based").value,
        &[10.0, 50.0, 40.0],
        1e-13,
        "position",
    );
    // Time decay: weights 2^-4, 2^-3, 2^-2, 2^-1 = 1/16, 2/16, 4/16, 8/16, sum 15/16.
    // web: (1 + 4)/15, app: 2/15, sms: 8/15.
    assert_all_close(
        &model(&r, "time_decay").conversions,
        &[2.0 / 15.0, 8.0 / 15.0, 5.0 / 15.0],
        1e-15,
        "time decay",
    );
}

#[test]
fn unknown_names_are_coded_errors_naming_the_option() {
    let log = log_of(&[("a", 0, "web", "view", None), ("a", 1, "web", "buy", None)]);
    let err = attribute(&log, &AttributionConfig::new("purchase")).unwrap_err();
    assert_eq!(err.code(), "unknown_event_kind");
    assert_eq!(err.path(), Some("conversion_kind"));
    let mut config = AttributionConfig::new("buy");
    config.touch_kinds = Some(vec!["view".into(), "click".into()]);
    let err = attribute(&log, &config).unwrap_err();
    assert_eq!(err.code(), "unknown_event_kind");
    assert_eq!(err.path(), Some("touch_kinds[1]"));
    let mut config = AttributionConfig::new("buy");
    config.touch_channels = Some(vec!["tv".into()]);
    let err = attribute(&log, &config).unwrap_err();
    assert_eq!(err.code(), "unknown_channel");
    assert_eq!(err.path(), Some("touch_channels[0]"));
    let mut config = AttributionConfig::new("buy");
    config.dimension = Dimension::Property("campaign".into());
    let err = attribute(&log, &config).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("invalid_value", Some("dimension"))
    );
    let mut config = AttributionConfig::new("buy");
    config.models = vec![
        AttributionModel::Linear,
        AttributionModel::PositionBased {
            first: 0.7,
            last: 0.5,
        },
    ];
    let err = attribute(&log, &config).unwrap_err();
    assert_eq!(err.path(), Some("models[1].last"));
    config.models = vec![AttributionModel::Markov { order: 0 }];
    assert_eq!(
        attribute(&log, &config).unwrap_err().path(),
        Some("models[0].order")
    );
    config.models = vec![AttributionModel::TimeDecay {
        half_life: Duration::from_millis(0),
    }];
    assert_eq!(
        attribute(&log, &config).unwrap_err().path(),
        Some("models[0].half_life")
    );
    config.lookback = Some(Duration::from_millis(-1));
    config.models = vec![];
    assert_eq!(
        attribute(&log, &config).unwrap_err().path(),
        Some("lookback")
    );
    // Time decay cannot run on aggregated paths.
    let err = attribute_paths(
        &["a"],
        &[1.0],
        None,
        None,
        ">",
        &[AttributionModel::TimeDecay {
            half_life: Duration::from_millis(1),
        }],
    )
    .unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("invalid_value", Some("models[0]"))
    );
}

#[test]
fn nothing_to_attribute() {
    let log = log_of(&[
        ("a", 0, "web", "view", None),
        ("b", 5, "web", "buy", Some(1.0)),
    ]);
    let r = attribute(&log, &AttributionConfig::new("buy")).unwrap();
    assert_eq!(r.channels, ["web"]);
    assert_eq!(r.summary.conversions, 0.0);
    assert_eq!(r.summary.unattributed_conversions, 1.0);
    for m in &r.models {
        assert!(
            m.conversions.iter().chain(&m.value).all(|&x| x == 0.0),
            "{m:?}"
        );
    }
    let empty: [&str; 0] = [];
    let r = attribute_paths(
        &empty,
        &[],
        None,
        None,
        ">",
        &AttributionModel::path_defaults(),
    )
    .unwrap();
    assert!(r.channels.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Shapley axioms
// ---------------------------------------------------------------------------------------------

#[test]
fn shapley_axioms() {
    // a and b are symmetric (every path containing one has a twin with the other in its place);
    // n appears only on a single-touch null path: a null player in both games.
    let paths = [
        "a > c",
        "b > c",
        "a > b",
        "b > a",
        "c",
        "n",
        "a",
        "b",
        "c > a > c",
        "c > b > c",
    ];
    let conv = [3.0, 3.0, 2.0, 2.0, 1.0, 0.0, 1.0, 1.0, 4.0, 4.0];
    let value = [30.0, 30.0, 20.0, 20.0, 5.0, 0.0, 9.0, 9.0, 8.0, 8.0];
    let nulls = [1.0, 1.0, 2.0, 2.0, 5.0, 7.0, 3.0, 3.0, 0.0, 0.0];
    for game in [ShapleyGame::Subsets, ShapleyGame::Markov { order: 1 }] {
        for max_exact in [15, 0] {
            let options = ShapleyOptions {
                game,
                max_exact_channels: max_exact,
                samples: 2000,
                seed: 3,
            };
            let r = attribute_paths(
                &paths,
                &conv,
                Some(&value),
                Some(&nulls),
                ">",
                &[AttributionModel::Shapley(options)],
            )
            .unwrap();
            assert_eq!(r.channels, ["a", "b", "c", "n"]);
            let m = &r.models[0];
            let details = m.shapley.unwrap();
            let sampled = game != ShapleyGame::Subsets && max_exact == 0;
            assert_eq!(details.exact, !sampled);
            assert_eq!(details.samples, if sampled { 2000 } else { 0 });
            // Efficiency: exact even when sampled.
            assert!(close(m.conversions.iter().sum(), 21.0, 1e-12), "{m:?}");
            assert!(close(m.value.iter().sum(), 139.0, 1e-12), "{m:?}");
            // Null player.
            assert!(
                m.conversions[3].abs() < 1e-12 && m.value[3].abs() < 1e-12,
                "{m:?}"
            );
            // Symmetry (exact only; sampling is close).
            let tol = if sampled { 0.05 } else { 1e-12 };
            assert!(
                close(m.conversions[0], m.conversions[1], tol),
                "{game:?} {m:?}"
            );
            assert!(close(m.value[0], m.value[1], tol), "{game:?} {m:?}");
        }
    }
}

#[test]
fn shapley_sampling_is_used_above_the_limit_and_is_deterministic() {
    let names: Vec<String> = (0..18).map(|i| format!("ch{i:02}")).collect();
    let mut paths = Vec::new();
    let mut conv = Vec::new();
    let mut nulls = Vec::new();
    for i in 0..18 {
        paths.push(format!("{} > {}", names[i], names[(i * 7 + 3) % 18]));
        conv.push((i % 4) as f64);
        nulls.push(((i * 5) % 3) as f64 + 1.0);
    }
    let run = || {
        attribute_paths(
            &paths,
            &conv,
            None,
            Some(&nulls),
            ">",
            &[AttributionModel::Shapley(ShapleyOptions {
                game: ShapleyGame::Markov { order: 1 },
                samples: 50,
                ..Default::default()
            })],
        )
        .unwrap()
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    let details = a.models[0].shapley.unwrap();
    assert!(!details.exact);
    assert_eq!(details.samples, 50);
    let total: f64 = conv.iter().sum();
    assert!(close(a.models[0].conversions.iter().sum(), total, 1e-12));
}

// ---------------------------------------------------------------------------------------------
// Naive reference implementation
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Ev {
    customer: String,
    t: i64,
    channel: String,
    kind: String,
    value: Option<f64>,
}

/// A converting journey: channels and times of its touches, its time and value.
#[derive(Debug, Clone)]
struct Journey {
    channels: Vec<String>,
    times: Vec<i64>,
    t: i64,
    value: f64,
}

#[derive(Debug, Default)]
struct Naive {
    conversions: Vec<Journey>,
    nulls: Vec<Vec<String>>,
    unattributed: f64,
    unattributed_value: f64,
}

/// The journey definition, written directly from the docs.
fn naive_cut(events: &[Ev], conv_kind: &str, lookback: Option<i64>, null_paths: bool) -> Naive {
    let mut out = Naive::default();
    let customers: BTreeSet<&str> = events.iter().map(|e| e.customer.as_str()).collect();
    for c in customers {
        let mut evs: Vec<&Ev> = events.iter().filter(|e| e.customer == c).collect();
        // The log's order: time, then kind name, then channel name, then input order.
        evs.sort_by(|a, b| (a.t, &a.kind, &a.channel).cmp(&(b.t, &b.kind, &b.channel)));
        let touches: Vec<&Ev> = evs
            .iter()
            .copied()
            .filter(|e| e.kind != conv_kind)
            .collect();
        let mut prev = i64::MIN;
        for e in evs.iter().filter(|e| e.kind == conv_kind) {
            let from = lookback.map_or(i64::MIN, |l| e.t - l);
            let path: Vec<&&Ev> = touches
                .iter()
                .filter(|x| x.t > prev && x.t <= e.t && x.t >= from)
                .collect();
            let value = e.value.unwrap_or(0.0);
            if path.is_empty() {
                out.unattributed += 1.0;
                out.unattributed_value += value;
            } else {
                out.conversions.push(Journey {
                    channels: path.iter().map(|x| x.channel.clone()).collect(),
                    times: path.iter().map(|x| x.t).collect(),
                    t: e.t,
                    value,
                });
            }
            prev = e.t;
        }
        let rest: Vec<&&Ev> = touches.iter().filter(|x| x.t > prev).collect();
        if let (true, Some(last)) = (null_paths, rest.last()) {
            let from = lookback.map_or(i64::MIN, |l| last.t - l);
            let path: Vec<String> = rest
                .iter()
                .filter(|x| x.t >= from)
                .map(|x| x.channel.clone())
                .collect();
            out.nulls.push(path);
        }
    }
    out
}

/// Credits per channel name.
type Credits = BTreeMap<String, (f64, f64)>;

fn naive_heuristic(journeys: &[Journey], model: &AttributionModel) -> Credits {
    let mut out = Credits::new();
    for j in journeys {
        let n = j.channels.len();
        let weights: Vec<f64> = match *model {
            AttributionModel::FirstTouch => (0..n).map(|i| f64::from(u8::from(i == 0))).collect(),
            AttributionModel::LastTouch => {
                (0..n).map(|i| f64::from(u8::from(i == n - 1))).collect()
            }
            AttributionModel::Linear => vec![1.0 / n as f64; n],
            AttributionModel::PositionBased { first, last } => match n {
                1 => vec![1.0],
                2 => vec![first / (first + last), last / (first + last)],
                _ => (0..n)
                    .map(|i| {
                        if i == 0 {
                            first
                        } else if i == n - 1 {
                            last
                        } else {
                            (1.0 - first - last) / (n - 2) as f64
                        }
                    })
                    .collect(),
            },
            AttributionModel::TimeDecay { half_life } => {
                let raw: Vec<f64> = j
                    .times
                    .iter()
                    .map(|&ti| 2f64.powf(-((j.t - ti) as f64) / half_life.millis() as f64))
                    .collect();
                let s: f64 = raw.iter().sum();
                raw.iter().map(|w| w / s).collect()
            }
            _ => unreachable!(),
        };
        for (ch, w) in j.channels.iter().zip(weights) {
            let e = out.entry(ch.clone()).or_default();
            e.0 += w;
            e.1 += w * j.value;
        }
    }
    out
}

/// Aggregated paths by name: path → (conversions, value, nulls).
type Paths = BTreeMap<Vec<String>, (f64, f64, f64)>;

fn aggregate(n: &Naive) -> Paths {
    let mut p = Paths::new();
    for j in &n.conversions {
        let e = p.entry(j.channels.clone()).or_default();
        e.0 += 1.0;
        e.1 += j.value;
    }
    for path in &n.nulls {
        p.entry(path.clone()).or_default().2 += 1.0;
    }
    p
}

/// Markov removal effects (conversion, value) by value iteration over an independently built
/// chain of strings.
fn naive_markov(paths: &Paths, order: usize) -> (f64, BTreeMap<String, (f64, f64)>) {
    const START: &str = "(start)";
    let mut counts: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut conv_at: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, &(c, v, z)) in paths {
        let windows: Vec<Vec<String>> = if path.len() <= order {
            vec![path.clone()]
        } else {
            path.windows(order).map(<[String]>::to_vec).collect()
        };
        let mut states: Vec<String> = vec![START.into()];
        for w in windows {
            let name = w.join("|");
            members.insert(name.clone(), w);
            if states.last() != Some(&name) {
                states.push(name);
            }
        }
        for pair in states.windows(2) {
            *counts
                .entry(pair[0].clone())
                .or_default()
                .entry(pair[1].clone())
                .or_default() += c + z;
        }
        let last = states.last().unwrap().clone();
        for (end, n) in [("(conv)", c), ("(null)", z)] {
            if n > 0.0 {
                *counts
                    .entry(last.clone())
                    .or_default()
                    .entry(end.into())
                    .or_default() += n;
            }
        }
        let e = conv_at.entry(last).or_default();
        e.0 += c;
        e.1 += v;
    }
    let channels: BTreeSet<String> = paths.keys().flatten().cloned().collect();
    // x(s) = p(s→conv)·r(s) + Σ p(s→t) x(t), iterated from 0 (monotone convergence).
    let solve = |removed: Option<&str>, value: bool| -> f64 {
        let dead = |s: &str| {
            removed.is_some_and(|r| members.get(s).is_some_and(|m| m.iter().any(|c| c == r)))
        };
        let mut x: BTreeMap<&str, f64> = counts.keys().map(|s| (s.as_str(), 0.0)).collect();
        for _ in 0..200_000 {
            let mut delta: f64 = 0.0;
            for (s, out) in &counts {
                if dead(s) {
                    continue;
                }
                let total: f64 = out.values().sum();
                let mut acc = 0.0;
                for (t, &n) in out {
                    let p = n / total;
                    if t == "(conv)" {
                        let (c, v) = conv_at[s];
                        acc += p * if value { v / c } else { 1.0 };
                    } else if t != "(null)" && !dead(t) {
                        acc += p * x[t.as_str()];
                    }
                }
                delta = delta.max((acc - x[s.as_str()]).abs());
                x.insert(s.as_str(), acc);
            }
            if delta < 1e-16 {
                break;
            }
        }
        x.get(START).copied().unwrap_or(0.0)
    };
    let (p, v) = (solve(None, false), solve(None, true));
    let mut effects = BTreeMap::new();
    for c in &channels {
        let pc = solve(Some(c), false);
        let vc = solve(Some(c), true);
        let re = if p > 0.0 { 1.0 - pc / p } else { 0.0 };
        let rv = if v > 0.0 { 1.0 - vc / v } else { 0.0 };
        effects.insert(c.clone(), (re.max(0.0), rv.max(0.0)));
    }
    (p, effects)
}

/// Shapley values of the subsets game by brute force over all coalitions.
fn naive_shapley_subsets(paths: &Paths) -> Credits {
    let channels: Vec<String> = paths
        .keys()
        .flatten()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let n = channels.len();
    let sets: Vec<(u32, f64, f64)> = paths
        .iter()
        .map(|(p, &(c, v, _))| {
            let mask = p.iter().fold(0u32, |m, ch| {
                m | 1 << channels.iter().position(|x| x == ch).unwrap()
            });
            (mask, c, v)
        })
        .collect();
    let v = |s: u32| -> (f64, f64) {
        sets.iter()
            .filter(|(m, _, _)| m & !s == 0)
            .fold((0.0, 0.0), |a, &(_, c, x)| (a.0 + c, a.1 + x))
    };
    let fact = |k: usize| (1..=k).map(|i| i as f64).product::<f64>();
    let mut out = Credits::new();
    for (i, ch) in channels.iter().enumerate() {
        let mut phi = (0.0, 0.0);
        for s in 0u32..(1 << n) {
            if s & (1 << i) != 0 {
                continue;
            }
            let k = s.count_ones() as usize;
            let w = fact(k) * fact(n - k - 1) / fact(n);
            let (a, b) = (v(s | 1 << i), v(s));
            phi.0 += w * (a.0 - b.0);
            phi.1 += w * (a.1 - b.1);
        }
        out.insert(ch.clone(), phi);
    }
    out
}

fn by_channel(r: &Attribution, m: &ModelCredits) -> Credits {
    r.channels
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clone(), (m.conversions[i], m.value[i])))
        .collect()
}

fn assert_credits(got: &Credits, want: &Credits, what: &str) {
    for (ch, &(c, v)) in got {
        let (wc, wv) = want.get(ch).copied().unwrap_or((0.0, 0.0));
        assert!(
            close(c, wc, EPS) && close(v, wv, EPS),
            "{what} {ch}: got {got:?}, want {want:?}"
        );
    }
    for ch in want.keys() {
        assert!(got.contains_key(ch), "{what}: {ch} missing from {got:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

fn events() -> impl Strategy<Value = Vec<Ev>> {
    let ev = (
        0..5usize,
        0..40i64,
        prop::sample::select(vec!["a", "b", "c", "d"]),
        prop::sample::select(vec!["view", "view", "click", "buy"]),
        prop::option::of(0..100u32),
    )
        .prop_map(|(c, t, ch, k, v)| Ev {
            customer: format!("u{c}"),
            t: t * 1000,
            channel: ch.into(),
            kind: k.into(),
            value: v.map(f64::from),
        });
    prop::collection::vec(ev, 0..40)
}

fn build(events: &[Ev]) -> EventLog {
    let mut b = EventLog::builder();
    for e in events {
        b.push(
            &e.customer,
            Timestamp::from_millis(e.t),
            &e.channel,
            &e.kind,
            e.value,
        )
        .unwrap();
    }
    b.finish().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn fast_matches_naive(
        evs in events(),
        lookback in prop::option::of(0..25i64),
        null_paths in any::<bool>(),
        order in 1..4usize,
    ) {
        let log = build(&evs);
        let mut config = AttributionConfig::new("buy");
        config.lookback = lookback.map(|l| Duration::from_millis(l * 1000));
        config.null_paths = null_paths;
        let half_life = Duration::from_millis(7_000);
        config.models = vec![
            AttributionModel::FirstTouch,
            AttributionModel::LastTouch,
            AttributionModel::Linear,
            AttributionModel::PositionBased { first: 0.35, last: 0.45 },
            AttributionModel::TimeDecay { half_life },
            AttributionModel::Markov { order },
            AttributionModel::Shapley(ShapleyOptions::default()),
        ];
        let result = attribute(&log, &config);
        if !evs.iter().any(|e| e.kind == "buy") {
            prop_assert_eq!(result.unwrap_err().code(), "unknown_event_kind");
            return Ok(());
        }
        let r = result.unwrap();
        let naive = naive_cut(&evs, "buy", lookback.map(|l| l * 1000), null_paths);
        let paths = aggregate(&naive);
        let channels: Vec<String> =
            paths.keys().flatten().cloned().collect::<BTreeSet<_>>().into_iter().collect();
        prop_assert_eq!(&r.channels, &channels);
        prop_assert_eq!(r.summary.conversions, naive.conversions.len() as f64);
        prop_assert_eq!(r.summary.null_paths, naive.nulls.len() as f64);
        prop_assert_eq!(r.summary.unattributed_conversions, naive.unattributed);
        prop_assert!(close(r.summary.unattributed_value, naive.unattributed_value, EPS));
        prop_assert_eq!(r.summary.distinct_paths, paths.len());
        for m in &r.models[..5] {
            let want = naive_heuristic(&naive.conversions, &m.model);
            assert_credits(&by_channel(&r, m), &want, m.model.name());
        }
        let (p, effects) = naive_markov(&paths, order);
        let d = r.models[5].markov.as_ref().unwrap();
        prop_assert!(close(d.conversion_probability, p, EPS), "{} vs {}", d.conversion_probability, p);
        for (i, ch) in r.channels.iter().enumerate() {
            let (re, rv) = effects[ch];
            prop_assert!(close(d.removal_effects[i], re, 1e-8), "{:?} vs {:?}", d.removal_effects, effects);
            prop_assert!(close(d.value_removal_effects[i], rv, 1e-8), "{:?} vs {:?}", d.value_removal_effects, effects);
        }
        // Credits sum to the conversions in every model.
        for m in &r.models {
            prop_assert!(close(m.conversions.iter().sum(), r.summary.conversions, EPS), "{:?}", m);
        }
        assert_credits(&by_channel(&r, &r.models[6]), &naive_shapley_subsets(&paths), "shapley");
    }

    #[test]
    fn log_and_paths_agree(evs in events(), order in 1..3usize) {
        prop_assume!(evs.iter().any(|e| e.kind == "buy"));
        let log = build(&evs);
        let mut config = AttributionConfig::new("buy");
        config.models = AttributionModel::path_defaults();
        config.models.push(AttributionModel::Markov { order });
        config.models.push(markov_shapley(order));
        let from_log = attribute(&log, &config).unwrap();
        let t = journey_paths(&log, &config, " > ").unwrap();
        let from_paths = attribute_paths(
            &t.path,
            &t.total_conversions,
            Some(&t.total_conversion_value),
            Some(&t.total_null),
            ">",
            &config.models,
        )
        .unwrap();
        prop_assert_eq!(&from_log.channels, &from_paths.channels);
        let mut summary = from_log.summary.clone();
        summary.unattributed_conversions = 0.0;
        summary.unattributed_value = 0.0;
        prop_assert_eq!(&summary, &from_paths.summary);
        for (a, b) in from_log.models.iter().zip(&from_paths.models) {
            // The same distinct paths in the same canonical order: identical results.
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn path_row_order_changes_nothing_but_rounding(
        rows in prop::collection::btree_map(
            prop::collection::vec(prop::sample::select(vec!["x", "y", "z"]), 1..5),
            (0..5u32, 0..50u32, 0..5u32),
            1..12,
        ),
        seed in any::<u64>(),
    ) {
        let mut rows: Vec<(String, f64, f64, f64)> = rows
            .into_iter()
            .map(|(p, (c, v, z))| (p.join(" > "), f64::from(c), if c == 0 { 0.0 } else { f64::from(v) }, f64::from(z)))
            .collect();
        let run = |rows: &[(String, f64, f64, f64)]| {
            let paths: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
            let c: Vec<f64> = rows.iter().map(|r| r.1).collect();
            let v: Vec<f64> = rows.iter().map(|r| r.2).collect();
            let z: Vec<f64> = rows.iter().map(|r| r.3).collect();
            let mut models = AttributionModel::path_defaults();
            models.push(AttributionModel::Markov { order: 2 });
            models.push(markov_shapley(1));
            attribute_paths(&paths, &c, Some(&v), Some(&z), ">", &models).unwrap()
        };
        let a = run(&rows);
        // A seeded shuffle.
        let mut s = seed;
        for i in (1..rows.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            rows.swap(i, (s >> 33) as usize % (i + 1));
        }
        let b = run(&rows);
        prop_assert_eq!(&a.channels, &b.channels);
        prop_assert_eq!(&a.summary, &b.summary);
        for (x, y) in a.models.iter().zip(&b.models) {
            assert_all_close(&x.conversions, &y.conversions, 1e-12, x.model.name());
            assert_all_close(&x.value, &y.value, 1e-12, x.model.name());
            if let (Some(p), Some(q)) = (&x.markov, &y.markov) {
                assert_all_close(&p.removal_effects, &q.removal_effects, 1e-12, "removal");
                prop_assert_eq!(&p.states, &q.states);
            }
        }
    }
}
