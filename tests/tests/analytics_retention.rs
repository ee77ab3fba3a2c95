//! Retention: hand-computed cohorts (UTC days, ISO weeks from Monday, months) and property
//! tests against a reference that derives periods from the dates' text.

use jornada::analytics::{retention, EventFilter, EventLog, Period, RetentionSpec};
use jornada::{Duration, Timestamp};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn log_of(events: &[(&str, &str, &str)]) -> EventLog {
    let mut b = EventLog::builder();
    for &(c, at, k) in events {
        b.push(c, t(at), "web", k, None).unwrap();
    }
    b.finish().unwrap()
}

#[test]
fn weekly_cohorts_by_hand() {
    // Week of Mon 2026-03-02: a (Sun 03-08 is still that week), b. Week of 03-09: c.
    let log = log_of(&[
        ("a", "2026-03-02T00:00:00Z", "visit"),
        ("a", "2026-03-08T23:59:59Z", "visit"),
        ("a", "2026-03-16T10:00:00Z", "purchase"),
        ("b", "2026-03-04T10:00:00Z", "visit"),
        ("b", "2026-03-10T10:00:00Z", "purchase"),
        ("b", "2026-03-11T10:00:00Z", "purchase"),
        ("c", "2026-03-09T00:00:00Z", "visit"),
        ("c", "2026-03-17T10:00:00Z", "visit"),
    ]);
    let mut spec = RetentionSpec::new(Period::Week);
    spec.repeat = Some(EventFilter::kind("purchase"));
    let r = retention(&log, &spec).unwrap();
    assert_eq!(r.cohorts.len(), 2);
    let c0 = &r.cohorts[0];
    assert_eq!(c0.start, t("2026-03-02T00:00:00Z"));
    assert_eq!(c0.customers, 2);
    assert_eq!(c0.active, [2, 1, 1]); // week 0: a, b; week 1: b; week 2: a
    assert_eq!(c0.share, [1.0, 0.5, 0.5]);
    assert_eq!((c0.buyers, c0.repeat_buyers, c0.repeat_rate), (2, 1, 0.5));
    let c1 = &r.cohorts[1];
    assert_eq!(c1.start, t("2026-03-09T00:00:00Z"));
    assert_eq!(c1.active, [1, 1]);
    assert_eq!(r.total.len(), 3);
    assert_eq!((r.total[1].customers, r.total[1].active), (3, 2));
    assert_eq!((r.total[2].customers, r.total[2].active), (2, 1));
    let rep = r.repeat.unwrap();
    assert_eq!((rep.buyers, rep.repeat_buyers), (2, 1));

    // Only purchases are activity; at most 2 offsets; repeat within 12 hours: b's second
    // purchase is 24 h later, so no repeat.
    spec.active = Some(EventFilter::kind("purchase"));
    spec.periods = Some(2);
    spec.repeat_within = Some(Duration::parse("12h").unwrap());
    let r = retention(&log, &spec).unwrap();
    assert_eq!(r.cohorts[0].active, [0, 1]);
    assert_eq!(r.cohorts[0].repeat_buyers, 0);
}

#[test]
fn daily_and_monthly_cohorts_and_cohort_event() {
    let log = log_of(&[
        ("a", "2026-01-31T23:00:00Z", "visit"),
        ("a", "2026-02-01T01:00:00Z", "signup"),
        ("a", "2026-03-15T00:00:00Z", "visit"),
        ("b", "2026-02-10T00:00:00Z", "visit"),
    ]);
    let r = retention(&log, &RetentionSpec::new(Period::Month)).unwrap();
    let starts: Vec<String> = r.cohorts.iter().map(|c| c.start.to_string()).collect();
    assert_eq!(starts, ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"]);
    assert_eq!(r.cohorts[0].active, [1, 1, 1]);
    assert_eq!(r.cohorts[1].active, [1, 0]);
    // Cohorts by signup: a joins February's, its January visit is before the cohort event.
    let mut spec = RetentionSpec::new(Period::Day);
    spec.cohort_event = Some(EventFilter::kind("signup"));
    let r = retention(&log, &spec).unwrap();
    assert_eq!(r.cohorts.len(), 1);
    assert_eq!(r.cohorts[0].start, t("2026-02-01T00:00:00Z"));
    assert_eq!(r.cohorts[0].active.len(), 43); // Feb 1 to Mar 15
    assert_eq!(r.cohorts[0].active[42], 1);
    assert_eq!(r.cohorts[0].active[1], 0);
    let err = retention(
        &log,
        &RetentionSpec {
            active: Some(EventFilter::kind("nope")),
            ..RetentionSpec::new(Period::Day)
        },
    )
    .unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("unknown_event_kind", Some("active.kinds[0]"))
    );
}

#[test]
fn huge_tables_are_errors_not_crashes() {
    let log = log_of(&[
        ("a", "1900-01-01T00:00:00Z", "visit"),
        ("b", "2026-01-01T00:00:00Z", "visit"),
    ]);
    let err = retention(&log, &RetentionSpec::new(Period::Day)).unwrap_err();
    assert_eq!(err.code(), "capacity_exceeded");
    // Capped to 10 offsets, or by month, it fits.
    let spec = RetentionSpec {
        periods: Some(10),
        ..RetentionSpec::new(Period::Day)
    };
    assert_eq!(retention(&log, &spec).unwrap().cohorts[0].active.len(), 10);
    let r = retention(&log, &RetentionSpec::new(Period::Month)).unwrap();
    assert_eq!(r.cohorts[0].active.len(), 126 * 12 + 1);
}

// ---------------------------------------------------------------------------------------------

/// (year, month, day) from the timestamp's text.
fn ymd(ms: i64) -> (i64, i64, i64) {
    let s = Timestamp::from_millis(ms).to_string();
    (
        s[0..4].parse().unwrap(),
        s[5..7].parse().unwrap(),
        s[8..10].parse().unwrap(),
    )
}

/// Day of the week, 0 = Sunday (Sakamoto).
fn dow(y: i64, m: i64, d: i64) -> i64 {
    let t = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = if m < 3 { y - 1 } else { y };
    (y + y / 4 - y / 100 + y / 400 + t[(m - 1) as usize] + d) % 7
}

/// The period start (as ms) and a number such that consecutive periods differ by one.
fn period_of(p: Period, ms: i64) -> (i64, i64) {
    let day = 86_400_000i64;
    let (y, m, d) = ymd(ms);
    let midnight = ms.div_euclid(day) * day;
    match p {
        Period::Day => (midnight, midnight / day),
        Period::Week => {
            let monday = midnight - ((dow(y, m, d) + 6) % 7) * day;
            (monday, monday / day / 7)
        }
        Period::Month => {
            let first = midnight - (d - 1) * day;
            (first, y * 12 + m)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
    ))]

    #[test]
    fn retention_matches_reference(
        events in prop::collection::vec((0u8..8, 0i64..120 * 24, 0u8..3), 1..60),
        period in 0u8..3,
        cohort_kind in prop::option::of(0u8..3),
        active_kind in prop::option::of(0u8..3),
        cap in prop::option::of(0usize..6),
        within_h in prop::option::of(0i64..100),
    ) {
        let kinds = ["a", "b", "c"];
        let base = Timestamp::parse("2025-12-20T00:00:00Z").unwrap().0;
        let mut b = EventLog::builder();
        for &(c, h, k) in &events {
            b.push(&format!("c{c}"), Timestamp::from_millis(base + h * 3_600_000 + 1234), "web", kinds[k as usize], None).unwrap();
        }
        for k in kinds {
            b.push("zz", Timestamp::from_millis(base), "web", k, None).unwrap();
        }
        let log = b.finish().unwrap();
        let p = [Period::Day, Period::Week, Period::Month][period as usize];
        let spec = RetentionSpec {
            period: p,
            cohort_event: cohort_kind.map(|k| EventFilter::kind(kinds[k as usize])),
            active: active_kind.map(|k| EventFilter::kind(kinds[k as usize])),
            periods: cap,
            repeat: Some(EventFilter::kind("b")),
            repeat_within: within_h.map(|h| Duration::from_millis(h * 3_600_000)),
        };
        let r = retention(&log, &spec).unwrap();

        let at = log.at();
        let kind_is = |r: usize, k: Option<u8>| k.is_none_or(|k| log.kind_name(log.kind_codes()[r]) == kinds[k as usize]);
        let last = period_of(p, *at.iter().max().unwrap()).1;
        let mut cohorts: BTreeMap<i64, (u64, Vec<u64>, u64, u64)> = BTreeMap::new();
        let (mut buyers, mut repeaters) = (0u64, 0u64);
        for c in 0..log.n_customers() {
            let rows: Vec<usize> = log.customer_rows(c).collect();
            let purchases: Vec<i64> = rows.iter().filter(|&&r| kind_is(r, Some(1))).map(|&r| at[r]).collect();
            let bought = !purchases.is_empty();
            let again = bought && purchases.iter().any(|&x| x > purchases[0]
                && within_h.is_none_or(|h| x - purchases[0] <= h * 3_600_000));
            buyers += bought as u64;
            repeaters += again as u64;
            let Some(i0) = rows.iter().position(|&r| kind_is(r, cohort_kind)) else { continue };
            let (start, n0) = period_of(p, at[rows[i0]]);
            let span = ((last - n0 + 1) as usize).min(cap.unwrap_or(usize::MAX));
            let offsets: BTreeSet<i64> = rows[i0..]
                .iter()
                .filter(|&&r| kind_is(r, active_kind))
                .map(|&r| period_of(p, at[r]).1 - n0)
                .collect();
            let e = cohorts.entry(start).or_insert((0, vec![0; span], 0, 0));
            e.0 += 1;
            e.2 += bought as u64;
            e.3 += again as u64;
            for k in offsets {
                if (k as usize) < span {
                    e.1[k as usize] += 1;
                }
            }
        }
        let got: Vec<(i64, u64, Vec<u64>, u64, u64)> = r.cohorts.iter()
            .map(|c| (c.start.0, c.customers, c.active.clone(), c.buyers, c.repeat_buyers)).collect();
        let exp: Vec<(i64, u64, Vec<u64>, u64, u64)> = cohorts.iter()
            .map(|(s, (n, a, bb, rr))| (*s, *n, a.clone(), *bb, *rr)).collect();
        prop_assert_eq!(got, exp);
        let rep = r.repeat.unwrap();
        prop_assert_eq!((rep.buyers, rep.repeat_buyers), (buyers, repeaters));
        for (k, tot) in r.total.iter().enumerate() {
            let n: u64 = cohorts.values().filter(|c| c.1.len() > k).map(|c| c.0).sum();
            let a: u64 = cohorts.values().filter(|c| c.1.len() > k).map(|c| c.1[k]).sum();
            prop_assert_eq!((tot.customers, tot.active), (n, a));
        }
    }
}
