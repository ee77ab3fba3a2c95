//! Funnels: ClickHouse `windowFunnel`'s documented example and its test suite
//! (`00632_aggregation_window_funnel`), hand-computed cases for exclusions, gaps, breakdowns and
//! the any order, and property tests of the fast implementation against simple references: a
//! literal port of ClickHouse's scan over a materialized, sorted entry list; a brute force over
//! every chain; a brute force over every window.

use jornada::analytics::{
    funnel, funnel_customers, Breakdown, EventFilter, EventLog, Exclusion, FunnelOrder,
    FunnelReport, FunnelSpec, FunnelStep,
};
use jornada::{Duration, PropValue, Timestamp};
use proptest::prelude::*;
use std::collections::BTreeMap;

const S: i64 = 1000;

fn ms(x: i64) -> Duration {
    Duration::from_millis(x)
}

/// A log from `(customer, seconds, kind)`, all on `web`.
fn log_of(events: &[(&str, i64, &str)]) -> EventLog {
    let mut b = EventLog::builder();
    for &(c, t, k) in events {
        b.push(c, Timestamp::from_millis(t * S), "web", k, None)
            .unwrap();
    }
    b.finish().unwrap()
}

fn steps(kinds: &[&str]) -> Vec<FunnelStep> {
    kinds.iter().map(|k| FunnelStep::kind(k)).collect()
}

/// Levels by customer key.
fn levels(log: &EventLog, spec: &FunnelSpec) -> BTreeMap<String, u8> {
    funnel_customers(log, spec)
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(c, f)| (log.customers()[c].to_string(), f.level))
        .collect()
}

fn level(log: &EventLog, spec: &FunnelSpec) -> u8 {
    let l = levels(log, spec);
    assert_eq!(l.len(), 1);
    *l.values().next().unwrap()
}

fn spec(kinds: &[&str], window_s: i64, order: FunnelOrder) -> FunnelSpec {
    FunnelSpec::new(steps(kinds), ms(window_s * S)).order(order)
}

// ---------------------------------------------------------------------------------------------
// ClickHouse's documentation and tests
// ---------------------------------------------------------------------------------------------

/// The example of the `windowFunnel` documentation: login (1003), order (1009), search (1007),
/// order again (1010), with a window of 6048000000000000 seconds: level 4.
#[test]
fn clickhouse_documentation_example() {
    let t = |s: &str| Timestamp::parse(s).unwrap();
    let mut b = EventLog::builder();
    for (at, id) in [
        ("2019-01-29T10:00:00Z", "1003"),
        ("2019-01-31T09:00:00Z", "1007"),
        ("2019-01-30T08:00:00Z", "1009"),
        ("2019-02-01T08:00:00Z", "1010"),
    ] {
        b.push("1", t(at), "web", id, None).unwrap();
    }
    let log = b.finish().unwrap();
    let spec = FunnelSpec::new(
        steps(&["1003", "1009", "1007", "1010"]),
        ms(6_048_000_000_000_000 / 1000 * 1000),
    );
    assert_eq!(level(&log, &spec), 4);
    let report = funnel(&log, &spec).unwrap();
    assert_eq!(report.steps[3].customers, 1);
}

/// `funnel_test`: events 1000..1008 at seconds 0..8.
#[test]
fn clickhouse_funnel_test() {
    let ev: Vec<(&str, i64, String)> = (0..9).map(|i| ("1", i, format!("{}", 1000 + i))).collect();
    let ev: Vec<(&str, i64, &str)> = ev.iter().map(|(c, t, k)| (*c, *t, k.as_str())).collect();
    let log = log_of(&ev);
    let d = FunnelOrder::Default;
    assert_eq!(level(&log, &spec(&["1000"], 10000, d)), 1);
    assert_eq!(level(&log, &spec(&["1000", "1001"], 10000, d)), 2);
    assert_eq!(level(&log, &spec(&["1000", "1001", "1002"], 10000, d)), 3);
    assert_eq!(
        level(&log, &spec(&["1000", "1001", "1002", "1008"], 10000, d)),
        4
    );
    assert_eq!(level(&log, &spec(&["1000"], 1, d)), 1);
    let five = ["1003", "1004", "1005", "1006", "1007"];
    assert_eq!(level(&log, &spec(&five, 2, d)), 3);
    assert_eq!(level(&log, &spec(&five, 3, d)), 4);
    assert_eq!(level(&log, &spec(&five, 4, d)), 5);
}

/// `funnel_test2`: events 1001..1008 at seconds 1..8, including conditions that overlap
/// (`event <= 1007, event >= 1002, event <= 1006, event >= 1004` within 4 s: level 4).
#[test]
fn clickhouse_funnel_test2_overlapping_conditions() {
    let mut b = EventLog::builder();
    for i in 1..=8 {
        b.push_with_props(
            "1",
            Timestamp::from_millis(i * S),
            "web",
            &format!("{}", 1000 + i),
            None,
            &[("event", PropValue::Num((1000 + i) as f64))],
        )
        .unwrap();
    }
    let log = b.finish().unwrap();
    let d = FunnelOrder::Default;
    let five = ["1003", "1004", "1005", "1006", "1007"];
    assert_eq!(level(&log, &spec(&five, 4, d)), 5);
    assert_eq!(level(&log, &spec(&["1001", "1008"], 10000, d)), 2);
    assert_eq!(level(&log, &spec(&["1008", "1001"], 10000, d)), 1);
    let cond = |op: &str, v: i64| {
        FunnelStep::from(EventFilter::any())
            .when_json(&format!(
                r#"{{"prop": "event", "op": "{op}", "value": {v}}}"#
            ))
            .unwrap()
    };
    let s = FunnelSpec::new(
        [
            cond("<=", 1007),
            cond(">=", 1002),
            cond("<=", 1006),
            cond(">=", 1004),
        ],
        ms(4 * S),
    );
    assert_eq!(level(&log, &s), 4);
}

/// `funnel_test_strict`: `strict_deduplication` stops at the repeated 1005 (level 6, else 7).
#[test]
fn clickhouse_strict_deduplication() {
    let ev: Vec<(i64, &str)> = vec![
        (0, "1000"),
        (10, "1001"),
        (20, "1002"),
        (30, "1003"),
        (40, "1004"),
        (50, "1005"),
        (51, "1005"),
        (60, "1006"),
        (70, "1007"),
        (80, "1008"),
    ];
    let log = log_of(&ev.iter().map(|(t, k)| ("1", *t, *k)).collect::<Vec<_>>());
    let seven = ["1000", "1001", "1002", "1003", "1004", "1005", "1006"];
    let mut s = spec(&seven, 10000, FunnelOrder::Default);
    assert_eq!(level(&log, &s), 7);
    s.strict_deduplication = true;
    assert_eq!(level(&log, &s), 6);

    // Issue 27469: a b c b d with strict_deduplication: 3.
    let log = log_of(&[
        ("1", 1, "a"),
        ("1", 2, "b"),
        ("1", 3, "c"),
        ("1", 4, "b"),
        ("1", 5, "d"),
    ]);
    let mut s = spec(&["a", "b", "c", "d"], 86400, FunnelOrder::Default);
    s.strict_deduplication = true;
    assert_eq!(level(&log, &s), 3);
}

fn strict_order_table() -> EventLog {
    let users: [(&str, &str); 7] = [
        ("1", "abc"),
        ("2", "adbc"),
        ("3", "aabbcc"),
        ("4", "aaaabbcc"),
        ("5", "aabbdcc"),
        ("6", "ccbbaa"),
        ("7", "acb"),
    ];
    let mut ev = Vec::new();
    for (u, seq) in users {
        for (i, ch) in seq.chars().enumerate() {
            ev.push((u, i as i64 + 1, ch));
        }
    }
    let kinds: Vec<String> = ev.iter().map(|e| e.2.to_string()).collect();
    log_of(
        &ev.iter()
            .zip(&kinds)
            .map(|(e, k)| (e.0, e.1, k.as_str()))
            .collect::<Vec<_>>(),
    )
}

/// `funnel_test_strict_order`: the default, `strict_order`, and `strict_deduplication` with
/// `strict_order` (users 1 to 6), and user 7 with a 10 s window.
#[test]
fn clickhouse_strict_order() {
    let log = strict_order_table();
    let abc = ["a", "b", "c"];
    let six = |l: BTreeMap<String, u8>| l.into_iter().take(6).map(|(_, v)| v).collect::<Vec<_>>();
    assert_eq!(
        six(levels(&log, &spec(&abc, 86400, FunnelOrder::Default))),
        [3, 3, 3, 3, 3, 1]
    );
    assert_eq!(
        six(levels(&log, &spec(&abc, 86400, FunnelOrder::StrictOrder))),
        [3, 1, 3, 3, 2, 1]
    );
    let mut s = spec(&abc, 86400, FunnelOrder::StrictOrder);
    s.strict_deduplication = true;
    assert_eq!(six(levels(&log, &s)), [3, 1, 2, 2, 2, 1]);
    assert_eq!(
        levels(&log, &spec(&abc, 10, FunnelOrder::StrictOrder))["7"],
        1
    );
    // Only step events count for `strict_order_steps`: user 2's `d` and user 5's `d` no longer
    // break the chain.
    assert_eq!(
        six(levels(
            &log,
            &spec(&abc, 86400, FunnelOrder::StrictOrderSteps)
        )),
        [3, 3, 3, 3, 3, 1]
    );
}

/// `funnel_test_non_null`: conditions on properties that may be missing (`COALESCE(a, '') =
/// 'a1'` is `a = 'a1'`; `a is null` is `not exists`).
#[test]
fn clickhouse_missing_properties() {
    let mut b = EventLog::builder();
    let rows: [(&str, i64, Option<&str>, Option<&str>); 8] = [
        ("1", 1, Some("a1"), Some("b1")),
        ("1", 2, Some("a2"), Some("b2")),
        ("2", 1, Some("a1"), None),
        ("2", 2, Some("a2"), None),
        ("3", 1, None, None),
        ("4", 1, None, Some("b1")),
        ("4", 2, Some("a2"), None),
        ("4", 3, None, Some("b3")),
    ];
    for (u, t, a, bb) in rows {
        let mut props = Vec::new();
        if let Some(a) = a {
            props.push(("a", PropValue::from(a)));
        }
        if let Some(x) = bb {
            props.push(("b", PropValue::from(x)));
        }
        b.push_with_props(u, Timestamp::from_millis(t * S), "web", "e", None, &props)
            .unwrap();
    }
    let log = b.finish().unwrap();
    let step = |json: &str| {
        FunnelStep::from(EventFilter::any())
            .when_json(json)
            .unwrap()
    };
    let eq = |p: &str, v: &str| step(&format!(r#"{{"prop": "{p}", "op": "=", "value": "{v}"}}"#));
    let null = |p: &str| step(&format!(r#"{{"not": {{"prop": "{p}", "op": "exists"}}}}"#));
    let run = |s: Vec<FunnelStep>, order| {
        levels(&log, &FunnelSpec::new(s, ms(86400 * S)).order(order))
            .into_values()
            .collect::<Vec<_>>()
    };
    let d = FunnelOrder::Default;
    assert_eq!(run(vec![eq("a", "a1"), eq("a", "a2")], d), [2, 2, 0, 0]);
    assert_eq!(run(vec![eq("a", "a1"), eq("b", "b2")], d), [2, 1, 0, 0]);
    let both_null = step(
        r#"{"all": [{"not": {"prop": "a", "op": "exists"}}, {"not": {"prop": "b", "op": "exists"}}]}"#,
    );
    assert_eq!(run(vec![both_null], d), [0, 0, 1, 0]);
    assert_eq!(run(vec![null("a"), eq("b", "b3")], d), [0, 0, 1, 2]);
    assert_eq!(
        run(vec![null("a"), eq("b", "b3")], FunnelOrder::StrictOrder),
        [0, 0, 1, 1]
    );
}

/// `funnel_test_strict_increase`: events 1000 at 0 s, 1001, 1002, 1003 at 1 s, 1004 at 2 s.
#[test]
fn clickhouse_strict_increase() {
    let log = log_of(&[
        ("1", 0, "1000"),
        ("1", 1, "1001"),
        ("1", 1, "1002"),
        ("1", 1, "1003"),
        ("1", 2, "1004"),
    ]);
    let five = ["1000", "1001", "1002", "1003", "1004"];
    let mut s = spec(&five, 10000, FunnelOrder::Default);
    assert_eq!(level(&log, &s), 5);
    s.strict_increase = true;
    assert_eq!(level(&log, &s), 2);
    let mut s = spec(&["1004", "1004", "1004"], 10000, FunnelOrder::Default);
    assert_eq!(level(&log, &s), 3, "one event stands for several steps");
    s.strict_increase = true;
    assert_eq!(level(&log, &s), 1);
}

/// `funnel_test_reentry`: `allow_reentry` skips out-of-order steps under `strict_order`.
#[test]
fn clickhouse_allow_reentry() {
    let log = log_of(&[
        ("1", 10, "a"),
        ("1", 20, "a"),
        ("1", 30, "b"),
        ("1", 40, "a"),
        ("1", 50, "c"),
        ("2", 10, "a"),
        ("2", 20, "c"),
        ("2", 30, "b"),
        ("2", 40, "c"),
        ("3", 10, "a"),
        ("3", 20, "c"),
    ]);
    let so = FunnelOrder::StrictOrder;
    let abac = spec(&["a", "b", "a", "c"], 100, so);
    assert_eq!(levels(&log, &abac)["1"], 1);
    let mut r = abac.clone();
    r.allow_reentry = true;
    assert_eq!(levels(&log, &r)["1"], 4);
    let abc = spec(&["a", "b", "c"], 100, so);
    assert_eq!(levels(&log, &abc)["2"], 1);
    let mut r = abc.clone();
    r.allow_reentry = true;
    assert_eq!(levels(&log, &r)["2"], 3);
    assert_eq!(levels(&log, &r)["3"], 1);
}

// ---------------------------------------------------------------------------------------------
// Hand-computed cases
// ---------------------------------------------------------------------------------------------

#[test]
fn report_figures_by_hand() {
    // a→b→c funnel, 10 s window.
    // u1: a@0 b@2 c@5 (3 steps; gaps 2, 3); u2: a@0 b@4 (2; gap 4); u3: a@0 b@20 (1; outside);
    // u4: b@0 (0); u5: a@0 a@10 b@11 c@30 (c is 20 s after a@10: 2 steps, gap b−a@10 = 1).
    let log = log_of(&[
        ("u1", 0, "a"),
        ("u1", 2, "b"),
        ("u1", 5, "c"),
        ("u2", 0, "a"),
        ("u2", 4, "b"),
        ("u3", 0, "a"),
        ("u3", 20, "b"),
        ("u4", 0, "b"),
        ("u5", 0, "a"),
        ("u5", 10, "a"),
        ("u5", 11, "b"),
        ("u5", 30, "c"),
    ]);
    let r = funnel(&log, &spec(&["a", "b", "c"], 10, FunnelOrder::Default)).unwrap();
    assert_eq!(r.customers, 5);
    let c: Vec<u64> = r.steps.iter().map(|s| s.customers).collect();
    assert_eq!(c, [4, 3, 1]);
    assert_eq!(r.steps[1].conversion_from_first, 0.75);
    assert_eq!(r.steps[2].conversion_from_previous, 1.0 / 3.0);
    assert_eq!(r.steps[1].drop_off, 1);
    assert_eq!(r.steps[2].drop_off, 2);
    assert_eq!(r.steps[0].drop_off, 0);
    assert_eq!(r.steps[0].median_from_previous_ms, None);
    // Gaps a→b: 2, 4, 1 → median 2, p90 4.
    assert_eq!(r.steps[1].median_from_previous_ms, Some(2 * S));
    assert_eq!(r.steps[1].p90_from_previous_ms, Some(4 * S));
    assert_eq!(r.steps[2].median_from_previous_ms, Some(3 * S));
    assert_eq!(r.steps[0].name, "a");
}

#[test]
fn chain_timestamps_follow_the_scan() {
    // a@0 b@1 a@2 b@3, 3 steps (no c): the chain first reaching level 2 is a@0 → b@1.
    let log = log_of(&[
        ("u", 0, "a"),
        ("u", 1, "b"),
        ("u", 2, "a"),
        ("u", 3, "b"),
        ("v", 0, "c"),
    ]);
    let out = funnel_customers(&log, &spec(&["a", "b", "c"], 100, FunnelOrder::Default)).unwrap();
    assert_eq!(out[0].level, 2);
    assert_eq!(out[0].rows, [0, 1]);
    // a@0 a@5 b@6: the latest a before b.
    let log = log_of(&[("u", 0, "a"), ("u", 5, "a"), ("u", 6, "b")]);
    let out = funnel_customers(&log, &spec(&["a", "b"], 100, FunnelOrder::Default)).unwrap();
    assert_eq!(out[0].rows, [1, 2]);
}

#[test]
fn exclusions_break_chains() {
    let c = |seq: &[(i64, &str)]| {
        let ev: Vec<(&str, i64, &str)> = seq.iter().map(|(t, k)| ("u", *t, *k)).collect();
        let mut ev = ev;
        ev.push(("z", 0, "x")); // every kind present in every log
        ev.push(("z", 0, "a"));
        ev.push(("z", 0, "b"));
        ev.push(("z", 0, "c"));
        let log = log_of(&ev);
        let s = spec(&["a", "b", "c"], 100, FunnelOrder::Default).exclude(Exclusion::new(
            EventFilter::kind("x"),
            0,
            1,
        ));
        levels(&log, &s)["u"]
    };
    assert_eq!(c(&[(0, "a"), (1, "b"), (2, "c")]), 3);
    assert_eq!(c(&[(0, "a"), (1, "x"), (2, "b"), (3, "c")]), 1);
    // A new a after the x starts a clean chain.
    assert_eq!(c(&[(0, "a"), (1, "x"), (2, "a"), (3, "b")]), 2);
    // At the same instant as a step is not between.
    assert_eq!(c(&[(0, "a"), (0, "x"), (2, "b")]), 2);
    assert_eq!(c(&[(0, "a"), (2, "x"), (2, "b")]), 2);
    // Between b and c is not covered by a 0→1 exclusion.
    assert_eq!(c(&[(0, "a"), (1, "b"), (2, "x"), (3, "c")]), 3);

    // A span over the whole funnel (0 → 2).
    let log = log_of(&[
        ("u", 0, "a"),
        ("u", 1, "b"),
        ("u", 2, "x"),
        ("u", 3, "c"),
        ("v", 0, "a"),
        ("v", 1, "b"),
        ("v", 3, "c"),
        ("v", 4, "x"),
        ("w", 0, "a"),
        ("w", 1, "x"),
        ("w", 2, "b"),
        ("w", 3, "c"),
    ]);
    let s = spec(&["a", "b", "c"], 100, FunnelOrder::Default).exclude(Exclusion::new(
        EventFilter::kind("x"),
        0,
        2,
    ));
    let l = levels(&log, &s);
    // w: the x between a and c does not stop w reaching b (step 1 is inside the span).
    assert_eq!((l["u"], l["v"], l["w"]), (2, 3, 2));
}

#[test]
fn gaps_bound_time_between_steps() {
    // a@0 a@5 b@6 with b at least 3 s after a: the older a qualifies.
    let log = log_of(&[("u", 0, "a"), ("u", 5, "a"), ("u", 6, "b")]);
    let s = FunnelSpec::new(
        vec![
            FunnelStep::kind("a"),
            FunnelStep::kind("b").min_gap(ms(3 * S)),
        ],
        ms(100 * S),
    );
    let out = funnel_customers(&log, &s).unwrap();
    assert_eq!((out[0].level, out[0].rows.clone()), (2, vec![0, 2]));
    // At most 2 s: only a@5.
    let s = FunnelSpec::new(
        vec![
            FunnelStep::kind("a"),
            FunnelStep::kind("b").max_gap(ms(2 * S)),
        ],
        ms(100 * S),
    );
    let out = funnel_customers(&log, &s).unwrap();
    assert_eq!(out[0].rows, [1, 2]);
    // Between 2 and 4 s: neither.
    let s = FunnelSpec::new(
        vec![
            FunnelStep::kind("a"),
            FunnelStep::kind("b").min_gap(ms(2 * S)).max_gap(ms(4 * S)),
        ],
        ms(100 * S),
    );
    assert_eq!(funnel_customers(&log, &s).unwrap()[0].level, 1);
}

#[test]
fn any_order_funnel() {
    // u: c@0 b@1 a@2 within 5 s → 3; v: b@0 a@10 (window 5) → 1 (a alone), w: c b → 0.
    let log = log_of(&[
        ("u", 0, "c"),
        ("u", 1, "b"),
        ("u", 2, "a"),
        ("v", 0, "b"),
        ("v", 10, "a"),
        ("w", 0, "c"),
        ("w", 1, "b"),
    ]);
    let s = spec(&["a", "b", "c"], 5, FunnelOrder::Any);
    let l = levels(&log, &s);
    assert_eq!((l["u"], l["v"], l["w"]), (3, 1, 0));
    let r = funnel(&log, &s).unwrap();
    assert_eq!(r.steps[1].median_from_previous_ms, None);
}

#[test]
fn breakdowns() {
    let mut b = EventLog::builder();
    let t = |s: i64| Timestamp::from_millis(s * S);
    // c1: first touch on app, a on web (sku A), then b. c2: a on app (sku B). c3: a on web, no sku.
    b.push("c1", t(0), "app", "visit", None).unwrap();
    b.push_with_props(
        "c1",
        t(1),
        "web",
        "a",
        None,
        &[("sku", PropValue::from("A"))],
    )
    .unwrap();
    b.push("c1", t(2), "web", "b", None).unwrap();
    b.push_with_props(
        "c2",
        t(0),
        "app",
        "a",
        None,
        &[("sku", PropValue::from("B"))],
    )
    .unwrap();
    b.push("c3", t(0), "web", "a", None).unwrap();
    let log = b.finish().unwrap();
    let base = spec(&["a", "b"], 10, FunnelOrder::Default);
    let groups = |r: FunnelReport| {
        r.breakdown
            .into_iter()
            .map(|g| {
                (
                    g.label,
                    g.steps.iter().map(|s| s.customers).collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>()
    };
    let s = |x: &str| Some(x.to_string());
    let r = funnel(&log, &base.clone().breakdown(Breakdown::Channel)).unwrap();
    assert_eq!(groups(r), [(s("app"), vec![1, 0]), (s("web"), vec![2, 1])]);
    let r = funnel(&log, &base.clone().breakdown(Breakdown::FirstTouchChannel)).unwrap();
    assert_eq!(groups(r), [(s("app"), vec![2, 1]), (s("web"), vec![1, 0])]);
    let r = funnel(
        &log,
        &base
            .clone()
            .breakdown(Breakdown::Property { name: "sku".into() }),
    )
    .unwrap();
    assert_eq!(
        groups(r),
        [
            (s("A"), vec![1, 1]),
            (s("B"), vec![1, 0]),
            (None, vec![1, 0])
        ]
    );
    let cohorts: BTreeMap<String, String> =
        [("c1", "x"), ("c3", "x"), ("c2", "y"), ("nobody", "z")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
    let r = funnel(&log, &base.breakdown(Breakdown::Cohort { groups: cohorts })).unwrap();
    assert_eq!(groups(r), [(s("x"), vec![2, 1]), (s("y"), vec![1, 0])]);
}

#[test]
fn configuration_errors_are_coded() {
    let log = log_of(&[("u", 0, "a"), ("u", 1, "b")]);
    let err = funnel(&log, &spec(&["a", "nope"], 1, FunnelOrder::Default)).unwrap_err();
    assert_eq!(err.code(), "unknown_event_kind");
    assert_eq!(err.path(), Some("steps[1].kinds[0]"));
    let err = funnel(
        &log,
        &FunnelSpec::new(vec![FunnelStep::kind("a").on_channels(["fax"])], ms(1)),
    )
    .unwrap_err();
    assert_eq!(err.code(), "unknown_channel");
    assert_eq!(err.path(), Some("steps[0].channels[0]"));
    let mut s = spec(&["a", "b"], 1, FunnelOrder::Default);
    s.allow_reentry = true;
    assert_eq!(funnel(&log, &s).unwrap_err().path(), Some("allow_reentry"));
    let s = spec(&["a", "b"], 1, FunnelOrder::StrictOrder).exclude(Exclusion::new(
        EventFilter::kind("a"),
        0,
        1,
    ));
    assert_eq!(funnel(&log, &s).unwrap_err().path(), Some("exclusions"));
    let s = spec(&["a", "b"], 1, FunnelOrder::Default).exclude(Exclusion::new(
        EventFilter::kind("a"),
        1,
        1,
    ));
    assert_eq!(
        funnel(&log, &s).unwrap_err().path(),
        Some("exclusions[0].to_step")
    );
    assert_eq!(
        funnel(&log, &FunnelSpec::new(vec![], ms(1)))
            .unwrap_err()
            .code(),
        "invalid_value"
    );
}

#[test]
fn spec_from_json() {
    let s: FunnelSpec = serde_json::from_str(
        r#"{"steps": [{"kinds": ["a"]}, {"kinds": ["b"], "channels": ["web"], "max_gap": "1h"}],
            "window": "7d", "order": "strict_order", "breakdown": {"by": "property", "name": "sku"}}"#,
    )
    .unwrap();
    assert_eq!(s.window, Duration::parse("7d").unwrap());
    assert_eq!(s.order, FunnelOrder::StrictOrder);
    assert_eq!(s.steps[1].max_gap, Some(Duration::parse("1h").unwrap()));
    assert!(
        serde_json::from_str::<FunnelSpec>(r#"{"steps": [], "window": "1d", "x": 1}"#).is_err()
    );
}

// ---------------------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Case {
    events: Vec<(u8, i64, u8, u8)>, // customer, ms, kind, channel
    steps: Vec<(u8, Option<u8>)>,   // kind, channel
    window: i64,
}

const KINDS: [&str; 4] = ["a", "b", "c", "d"];
const CHANNELS: [&str; 2] = ["app", "web"];

fn case_log(c: &Case) -> EventLog {
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
    // Every kind and channel exists.
    for k in KINDS {
        for ch in CHANNELS {
            b.push("zz", Timestamp::from_millis(0), ch, k, None)
                .unwrap();
        }
    }
    b.finish().unwrap()
}

fn case_steps(c: &Case) -> Vec<FunnelStep> {
    c.steps
        .iter()
        .map(|&(k, ch)| {
            let s = FunnelStep::kind(KINDS[k as usize]);
            match ch {
                Some(ch) => s.on_channels([CHANNELS[ch as usize]]),
                None => s,
            }
        })
        .collect()
}

fn step_matches(log: &EventLog, c: &Case, row: usize, j: usize) -> bool {
    let (k, ch) = c.steps[j];
    log.kind_name(log.kind_codes()[row]) == KINDS[k as usize]
        && ch.is_none_or(|ch| log.channel_name(log.channel_codes()[row]) == CHANNELS[ch as usize])
}

#[derive(Clone, Copy, Debug)]
struct Modes {
    order: FunnelOrder,
    strict_increase: bool,
    dedup: bool,
    reentry: bool,
}

/// ClickHouse's `getEventLevel`, ported line by line, over the customer's entries materialized
/// and stable-sorted by (time, condition); rows break ties (ClickHouse cannot tell equal
/// entries apart). Tracks the rows of each kept chain.
fn clickhouse_reference(log: &EventLog, c: &Case, customer: usize, m: Modes) -> (usize, Vec<u32>) {
    let n = c.steps.len();
    let strict_order = matches!(
        m.order,
        FunnelOrder::StrictOrder | FunnelOrder::StrictOrderSteps
    );
    let mut list: Vec<(i64, usize, u32)> = Vec::new();
    for row in log.customer_rows(customer) {
        let mut has = false;
        for j in 0..n {
            if step_matches(log, c, row, j) {
                list.push((log.at()[row], j + 1, row as u32));
                has = true;
            }
        }
        if m.order == FunnelOrder::StrictOrder && !has {
            list.push((log.at()[row], 0, row as u32));
        }
    }
    if list.is_empty() {
        return (0, vec![]);
    }
    list.sort();
    if !strict_order && n == 1 {
        return (1, vec![list[0].2]);
    }
    let window = c.window;
    let mut et: Vec<Option<(i64, i64, Vec<u32>)>> = vec![None; n];
    let mut best: Vec<u32> = Vec::new();
    let mut first_event = false;
    let level = |et: &Vec<Option<(i64, i64, Vec<u32>)>>| {
        (0..n).rev().find(|&e| et[e].is_some()).map_or(0, |e| e + 1)
    };
    for &(timestamp, cond, row) in &list {
        let idx = cond as i64 - 1;
        if strict_order && idx == -1 {
            if first_event {
                break;
            }
            continue;
        }
        let idx = idx as usize;
        if idx == 0 {
            et[0] = Some((timestamp, timestamp, vec![row]));
            if best.is_empty() {
                best = vec![row];
            }
            first_event = true;
        } else if m.dedup && et[idx].is_some() {
            return (level(&et), best);
        } else if strict_order && first_event && et[idx - 1].is_none() {
            if m.reentry {
                continue;
            }
            let first_none = (0..n).find(|&e| et[e].is_none()).unwrap();
            return (first_none, best);
        } else if let Some((first, last, rows)) = et[idx - 1].clone() {
            let mut time_matched = timestamp <= first + window;
            if m.strict_increase {
                time_matched = time_matched && last < timestamp;
            }
            if time_matched {
                let mut rows = rows;
                rows.push(row);
                if et[idx].is_none() && best.len() < idx + 1 {
                    best = rows.clone();
                }
                et[idx] = Some((first, timestamp, rows));
                if idx + 1 == n {
                    return (n, best);
                }
            }
        }
    }
    (level(&et), best)
}

/// Every chain (default order with exclusions and gaps): the longest valid chain; among the
/// longest, the one whose last event is first, then the latest previous events.
#[allow(clippy::too_many_arguments)]
fn chains_reference(
    log: &EventLog,
    c: &Case,
    customer: usize,
    gaps: &[(i64, i64)],
    excl: &[(u8, usize, usize)],
) -> (usize, Vec<u32>) {
    let rows: Vec<usize> = log.customer_rows(customer).collect();
    let at = log.at();
    let n = c.steps.len();
    let mut all: Vec<Vec<usize>> = Vec::new();
    fn extend(
        chain: &mut Vec<usize>,
        rows: &[usize],
        ok: &dyn Fn(&[usize], usize) -> bool,
        n: usize,
        all: &mut Vec<Vec<usize>>,
    ) {
        all.push(chain.clone());
        if chain.len() == n {
            return;
        }
        for &r in rows {
            if ok(chain, r) {
                chain.push(r);
                extend(chain, rows, ok, n, all);
                chain.pop();
            }
        }
    }
    let ok = |chain: &[usize], r: usize| -> bool {
        let j = chain.len();
        if !step_matches(log, c, r, j) {
            return false;
        }
        if j == 0 {
            return true;
        }
        let prev = chain[j - 1];
        if at[r] < at[prev] || at[r] - at[chain[0]] > c.window {
            return false;
        }
        let gap = at[r] - at[prev];
        if gap < gaps[j].0 || gap > gaps[j].1 {
            return false;
        }
        for &(k, from, to) in excl {
            if to == j {
                let lo = at[chain[from]];
                let hi = at[r];
                if rows.iter().any(|&x| {
                    log.kind_name(log.kind_codes()[x]) == KINDS[k as usize]
                        && lo < at[x]
                        && at[x] < hi
                }) {
                    return false;
                }
            }
        }
        true
    };
    extend(&mut Vec::new(), &rows, &ok, n, &mut all);
    let level = all.iter().map(|c| c.len()).max().unwrap_or(0);
    if level == 0 {
        return (0, vec![]);
    }
    let best = all
        .iter()
        .filter(|c| c.len() == level)
        .max_by(|a, b| {
            // First: earliest last event (the reverse of larger); then latest previous.
            b[level - 1].cmp(&a[level - 1]).then_with(|| {
                let ka: Vec<usize> = a[..level - 1].iter().rev().copied().collect();
                let kb: Vec<usize> = b[..level - 1].iter().rev().copied().collect();
                ka.cmp(&kb)
            })
        })
        .unwrap();
    (level, best.iter().map(|&r| r as u32).collect())
}

/// Any order: for each event in scan order, the window of events at most `window` before it;
/// the level is the number of leading steps present; the first window reaching the maximum.
fn any_order_reference(log: &EventLog, c: &Case, customer: usize) -> (usize, Vec<u32>) {
    let rows: Vec<usize> = log.customer_rows(customer).collect();
    let at = log.at();
    let n = c.steps.len();
    let mut best = (0usize, vec![]);
    for (i, &r) in rows.iter().enumerate() {
        let win: Vec<usize> = rows[..=i]
            .iter()
            .copied()
            .filter(|&x| at[r] - at[x] <= c.window)
            .collect();
        let level = (0..n)
            .take_while(|&j| win.iter().any(|&x| step_matches(log, c, x, j)))
            .count();
        if level > best.0 {
            let chain = (0..level)
                .map(|j| *win.iter().find(|&&x| step_matches(log, c, x, j)).unwrap() as u32)
                .collect();
            best = (level, chain);
        }
    }
    best
}

/// Report figures from per-customer outcomes, computed naively.
fn naive_report(
    log: &EventLog,
    outcomes: &[(usize, Vec<u32>)],
    n: usize,
    timed: bool,
) -> Vec<(u64, Option<i64>, Option<i64>)> {
    (0..n)
        .map(|j| {
            let reached: Vec<&Vec<u32>> = outcomes
                .iter()
                .filter(|(l, _)| *l > j)
                .map(|(_, c)| c)
                .collect();
            let mut gaps: Vec<i64> = if timed && j > 0 {
                reached
                    .iter()
                    .map(|c| log.at()[c[j] as usize] - log.at()[c[j - 1] as usize])
                    .collect()
            } else {
                vec![]
            };
            gaps.sort();
            let pct = |p: usize| {
                (!gaps.is_empty()).then(|| gaps[(gaps.len() * p).div_ceil(100).max(1) - 1])
            };
            (reached.len() as u64, pct(50), pct(90))
        })
        .collect()
}

fn report_figures(r: &FunnelReport) -> Vec<(u64, Option<i64>, Option<i64>)> {
    r.steps
        .iter()
        .map(|s| {
            (
                s.customers,
                s.median_from_previous_ms,
                s.p90_from_previous_ms,
            )
        })
        .collect()
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec((0u8..5, 0i64..30, 0u8..4, 0u8..2), 0..40),
        prop::collection::vec((0u8..4, prop::option::weighted(0.25, 0u8..2)), 1..5),
        0i64..25,
    )
        .prop_map(|(events, steps, window)| Case {
            events,
            steps,
            window,
        })
}

fn modes_strategy() -> impl Strategy<Value = Modes> {
    (0u8..3, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(o, si, dd, re)| {
        let order = [
            FunnelOrder::Default,
            FunnelOrder::StrictOrder,
            FunnelOrder::StrictOrderSteps,
        ][o as usize];
        Modes {
            order,
            strict_increase: si,
            dedup: dd,
            reentry: re && order != FunnelOrder::Default,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
    ))]

    /// The ordered modes against the ClickHouse port: levels, chains and report figures.
    #[test]
    fn ordered_modes_match_clickhouse(c in case_strategy(), m in modes_strategy()) {
        let log = case_log(&c);
        let mut spec = FunnelSpec::new(case_steps(&c), ms(c.window)).order(m.order);
        spec.strict_increase = m.strict_increase;
        spec.strict_deduplication = m.dedup;
        spec.allow_reentry = m.reentry;
        let fast = funnel_customers(&log, &spec).unwrap();
        let mut outcomes = Vec::new();
        for (cu, f) in fast.iter().enumerate() {
            let (level, chain) = clickhouse_reference(&log, &c, cu, m);
            prop_assert_eq!(f.level as usize, level, "customer {}", cu);
            prop_assert_eq!(&f.rows, &chain, "customer {}", cu);
            outcomes.push((level, chain));
        }
        let report = funnel(&log, &spec).unwrap();
        prop_assert_eq!(report_figures(&report), naive_report(&log, &outcomes, c.steps.len(), true));
    }

    /// Exclusions and gaps against the brute force over every chain; with neither (an
    /// exclusion that never matches), the same as ClickHouse's default.
    #[test]
    fn chains_match_brute_force(
        c in case_strategy(),
        gaps in prop::collection::vec((prop::option::of(0i64..6), prop::option::of(0i64..12)), 4),
        excl in prop::collection::vec((0u8..4, 0usize..3, 1usize..4), 0..3),
    ) {
        let log = case_log(&c);
        let n = c.steps.len();
        let mut steps = case_steps(&c);
        let mut bounds = vec![(0i64, i64::MAX); n];
        for j in 1..n {
            let (lo, hi) = gaps[j];
            if let Some(lo) = lo { steps[j] = steps[j].clone().min_gap(ms(lo)); bounds[j].0 = lo; }
            if let Some(hi) = hi {
                let hi = hi.max(bounds[j].0);
                steps[j] = steps[j].clone().max_gap(ms(hi));
                bounds[j].1 = hi;
            }
        }
        let excl: Vec<(u8, usize, usize)> = excl
            .into_iter()
            .filter(|&(_, f, t)| f < t && t < n)
            .collect();
        let mut spec = FunnelSpec::new(steps, ms(c.window));
        for &(k, f, t) in &excl {
            spec = spec.exclude(Exclusion::new(EventFilter::kind(KINDS[k as usize]), f, t));
        }
        if spec.exclusions.is_empty() && bounds.iter().all(|b| *b == (0, i64::MAX)) {
            // Force the chain engine with an exclusion that never matches.
            if n >= 2 {
                spec = spec.exclude(
                    Exclusion::new(EventFilter::any().when_json(r#"{"prop": "none", "op": "exists"}"#).unwrap(), 0, 1),
                );
            }
            let fast = funnel_customers(&log, &spec).unwrap();
            let m = Modes { order: FunnelOrder::Default, strict_increase: false, dedup: false, reentry: false };
            for (cu, f) in fast.iter().enumerate() {
                let (level, chain) = clickhouse_reference(&log, &c, cu, m);
                prop_assert_eq!((f.level as usize, &f.rows), (level, &chain), "customer {}", cu);
            }
        }
        let fast = funnel_customers(&log, &spec).unwrap();
        let mut outcomes = Vec::new();
        for (cu, f) in fast.iter().enumerate() {
            let (level, chain) = chains_reference(&log, &c, cu, &bounds, &excl);
            prop_assert_eq!(f.level as usize, level, "customer {}", cu);
            prop_assert_eq!(&f.rows, &chain, "customer {}", cu);
            outcomes.push((level, chain));
        }
        let report = funnel(&log, &spec).unwrap();
        prop_assert_eq!(report_figures(&report), naive_report(&log, &outcomes, n, true));
    }

    /// The any order against the brute force over every window.
    #[test]
    fn any_order_matches_brute_force(c in case_strategy()) {
        let log = case_log(&c);
        let spec = FunnelSpec::new(case_steps(&c), ms(c.window)).order(FunnelOrder::Any);
        let fast = funnel_customers(&log, &spec).unwrap();
        let mut outcomes = Vec::new();
        for (cu, f) in fast.iter().enumerate() {
            let (level, chain) = any_order_reference(&log, &c, cu);
            prop_assert_eq!((f.level as usize, &f.rows), (level, &chain), "customer {}", cu);
            outcomes.push((level, chain));
        }
        let report = funnel(&log, &spec).unwrap();
        prop_assert_eq!(report_figures(&report), naive_report(&log, &outcomes, c.steps.len(), false));
    }

    /// Breakdown by channel: each group is the naive report over its customers.
    #[test]
    fn breakdown_groups_partition_customers(c in case_strategy()) {
        let log = case_log(&c);
        let spec = FunnelSpec::new(case_steps(&c), ms(c.window)).breakdown(Breakdown::Channel);
        let report = funnel(&log, &spec).unwrap();
        let m = Modes { order: FunnelOrder::Default, strict_increase: false, dedup: false, reentry: false };
        let outcomes: Vec<(usize, Vec<u32>)> =
            (0..log.n_customers()).map(|cu| clickhouse_reference(&log, &c, cu, m)).collect();
        let mut expected = Vec::new();
        for (code, name) in log.channels().iter().enumerate() {
            let group: Vec<(usize, Vec<u32>)> = outcomes
                .iter()
                .filter(|(l, ch)| *l > 0 && log.channel_codes()[ch[0] as usize] as usize == code)
                .cloned()
                .collect();
            if !group.is_empty() {
                expected.push((Some(name.to_string()), naive_report(&log, &group, c.steps.len(), true)));
            }
        }
        let got: Vec<_> = report.breakdown.iter().map(|g| (g.label.clone(), report_figures(&FunnelReport {
            customers: 0, steps: g.steps.clone(), breakdown: vec![] }))).collect();
        prop_assert_eq!(got, expected);
    }
}
