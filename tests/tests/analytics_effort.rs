//! Effort and experience: hand-computed customers and property tests against a naive
//! reference written from the definitions (episodes found by searching forward, issues by
//! splitting the contact list).

use jornada::analytics::{effort, CustomerEffort, EffortSpec, EventFilter, EventLog};
use jornada::{Duration, Timestamp};
use proptest::prelude::*;
use std::collections::BTreeSet;

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;

fn log_of(events: &[(&str, i64, &str, &str)]) -> EventLog {
    let mut b = EventLog::builder();
    for &(c, at, ch, k) in events {
        b.push(c, Timestamp::from_millis(at), ch, k, None).unwrap();
    }
    b.finish().unwrap()
}

#[test]
fn one_customer_by_hand() {
    let log = log_of(&[
        ("a", 0, "web", "page_view"),
        ("a", 5 * MIN, "web", "add_to_cart"),
        ("a", 10 * MIN, "web", "add_to_cart"), // joins the open episode
        ("a", 2 * 60 * MIN, "app", "page_view"), // episode abandoned (1 h passed)
        ("a", 3 * 60 * MIN, "app", "add_to_cart"), // second episode
        ("a", 3 * 60 * MIN + 20 * MIN, "app", "purchase"), // converts it, recovers the first
        ("a", DAY, "phone", "support_contact"),
        ("a", 3 * DAY, "chat", "support_contact"), // repeat (2 days), same issue
        ("a", 20 * DAY, "phone", "support_contact"), // new issue (17 days later)
        ("b", 0, "web", "page_view"),
        ("b", 30 * DAY, "web", "page_view"),
    ]);
    let r = effort(&log, &EffortSpec::default()).unwrap();
    let a = &r.customers[0];
    assert_eq!(
        *a,
        CustomerEffort {
            events: 9,
            touches_to_conversion: Some(5),
            time_to_conversion_ms: Some(200 * MIN),
            channels: 4,
            channel_switches: 4, // web→app, app→phone, phone→chat, chat→phone
            support_contacts: 3,
            repeat_contacts: 1,
            issues: 2,
            resolved_issues: 2, // the log ends 10 days after the last contact
            contacts_to_resolution: 3,
            resolution_ms: 2 * DAY,
            carts: 2,
            abandoned_carts: 1,
            recovered_carts: 1,
            sessions: 6, // 0-10m, 2h, 3h-3h20, 1d, 3d, 20d
            session_ms: 10 * MIN + 20 * MIN,
        }
    );
    let s = &r.summary;
    assert_eq!((s.customers, s.converters), (2, 1));
    assert_eq!(s.median_touches_to_conversion, Some(5));
    assert_eq!(s.multichannel_share, 0.5);
    assert_eq!(s.repeat_contact_rate, 1.0 / 3.0);
    assert_eq!(s.median_contacts_to_resolution, Some(1)); // issues of 2 and 1 contacts
    assert_eq!(s.median_resolution_ms, Some(0));
    assert_eq!(s.mean_channels_per_resolved_issue, 1.5); // phone+chat, phone
    assert_eq!((s.abandonment_rate, s.recovery_rate), (0.5, 1.0));
    assert_eq!(s.sessions, 8);

    // A recovery window of 2 hours: the purchase 3h20 after the first cart is too late.
    let spec = EffortSpec {
        recovery_within: Some(Duration::parse("2h").unwrap()),
        resolution_after: Duration::parse("12d").unwrap(),
        ..EffortSpec::default()
    };
    let r = effort(&log, &spec).unwrap();
    assert_eq!(r.customers[0].recovered_carts, 0);
    // With 12 days, the third contact is 17 days later (new issue) and the log ends 10 days
    // after it: that issue is open.
    assert_eq!(
        (r.customers[0].issues, r.customers[0].resolved_issues),
        (2, 1)
    );
}

#[test]
fn missing_kinds_are_errors_or_switched_off() {
    let log = log_of(&[("a", 0, "web", "visit")]);
    let err = effort(&log, &EffortSpec::default()).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("unknown_event_kind", Some("conversion.kinds[0]"))
    );
    let spec = EffortSpec {
        conversion: None,
        support: None,
        cart: None,
        ..EffortSpec::default()
    };
    let r = effort(&log, &spec).unwrap();
    assert_eq!(r.summary.converters, 0);
    assert_eq!(r.customers[0].sessions, 1);
    let spec: EffortSpec =
        serde_json::from_str(r#"{"conversion": {"kinds": ["visit"]}, "support": null, "cart": null, "session_timeout": "10m"}"#)
            .unwrap();
    assert_eq!(spec.session_timeout, Duration::parse("10m").unwrap());
    assert_eq!(effort(&log, &spec).unwrap().summary.converters, 1);
}

// ---------------------------------------------------------------------------------------------

const KINDS: [&str; 4] = ["view", "cart", "buy", "help"];
const CHANNELS: [&str; 3] = ["app", "phone", "web"];

fn reference(log: &EventLog, c: usize, w: (i64, i64, i64, Option<i64>, i64)) -> CustomerEffort {
    let (repeat_w, resolve_w, abandon_w, recover_w, timeout) = w;
    let at = log.at();
    let rows: Vec<usize> = log.customer_rows(c).collect();
    let kind = |r: usize| log.kind_name(log.kind_codes()[r]);
    let log_end = *at.iter().max().unwrap();
    let mut e = CustomerEffort {
        events: rows.len() as u32,
        ..Default::default()
    };
    if let Some(&conv) = rows.iter().find(|&&r| kind(r) == "buy") {
        e.touches_to_conversion = Some(rows.iter().filter(|&&r| at[r] < at[conv]).count() as u32);
        e.time_to_conversion_ms = Some(at[conv] - at[rows[0]]);
    }
    e.channels = rows
        .iter()
        .map(|&r| log.channel_codes()[r])
        .collect::<BTreeSet<_>>()
        .len() as u32;
    e.channel_switches = rows
        .windows(2)
        .filter(|w| log.channel_codes()[w[0]] != log.channel_codes()[w[1]])
        .count() as u32;
    // Sessions: split the time list at big gaps.
    let mut sessions: Vec<Vec<i64>> = vec![vec![at[rows[0]]]];
    for w in rows.windows(2) {
        if at[w[1]] - at[w[0]] > timeout {
            sessions.push(vec![]);
        }
        sessions.last_mut().unwrap().push(at[w[1]]);
    }
    e.sessions = sessions.len() as u32;
    e.session_ms = sessions.iter().map(|s| s[s.len() - 1] - s[0]).sum();
    // Support: split the contact list into issues.
    let contacts: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&r| kind(r) == "help")
        .collect();
    e.support_contacts = contacts.len() as u32;
    e.repeat_contacts = contacts
        .windows(2)
        .filter(|w| at[w[1]] - at[w[0]] <= repeat_w)
        .count() as u32;
    let mut issues: Vec<Vec<usize>> = Vec::new();
    for (i, &r) in contacts.iter().enumerate() {
        if i == 0 || at[r] - at[contacts[i - 1]] > resolve_w {
            issues.push(vec![]);
        }
        issues.last_mut().unwrap().push(r);
    }
    for (i, issue) in issues.iter().enumerate() {
        let last = at[*issue.last().unwrap()];
        let resolved = i + 1 < issues.len() || log_end - last >= resolve_w;
        e.issues += 1;
        if resolved {
            e.resolved_issues += 1;
            e.contacts_to_resolution += issue.len() as u32;
            e.resolution_ms += last - at[issue[0]];
        }
    }
    // Carts: find each episode's end by searching forward.
    let mut i = 0;
    while i < rows.len() {
        if kind(rows[i]) != "cart" {
            i += 1;
            continue;
        }
        let s = at[rows[i]];
        e.carts += 1;
        let conv =
            (i + 1..rows.len()).find(|&j| kind(rows[j]) == "buy" && at[rows[j]] - s <= abandon_w);
        match conv {
            Some(j) => i = j + 1,
            None => {
                let end = (i + 1..rows.len()).find(|&j| at[rows[j]] - s > abandon_w);
                if end.is_some() || log_end - s > abandon_w {
                    e.abandoned_carts += 1;
                    let recovered = (i + 1..rows.len()).any(|j| {
                        kind(rows[j]) == "buy"
                            && at[rows[j]] - s > abandon_w
                            && recover_w.is_none_or(|rw| at[rows[j]] - s <= rw)
                    });
                    e.recovered_carts += recovered as u32;
                }
                i = end.unwrap_or(rows.len());
            }
        }
    }
    e
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
    ))]

    #[test]
    fn effort_matches_reference(
        events in prop::collection::vec((0u8..6, 0i64..200, 0u8..4, 0u8..3), 1..60),
        windows in (0i64..30, 0i64..30, 0i64..30, prop::option::of(0i64..60), 0i64..20),
    ) {
        let mut b = EventLog::builder();
        for &(c, t, k, ch) in &events {
            b.push(&format!("c{c}"), Timestamp::from_millis(t), CHANNELS[ch as usize], KINDS[k as usize], None).unwrap();
        }
        for k in KINDS {
            b.push("zz", Timestamp::from_millis(0), "web", k, None).unwrap();
        }
        let log = b.finish().unwrap();
        let (rw, sw, aw, cw, to) = windows;
        let ms = Duration::from_millis;
        let spec = EffortSpec {
            conversion: Some(EventFilter::kind("buy")),
            support: Some(EventFilter::kind("help")),
            repeat_contact_within: ms(rw),
            resolution_after: ms(sw),
            cart: Some(EventFilter::kind("cart")),
            abandon_after: ms(aw),
            recovery_within: cw.map(ms),
            session_timeout: ms(to),
        };
        let r = effort(&log, &spec).unwrap();
        for c in 0..log.n_customers() {
            prop_assert_eq!(&r.customers[c], &reference(&log, c, (rw, sw, aw, cw, to)), "customer {}", c);
        }
        let sum = |f: fn(&CustomerEffort) -> u64| r.customers.iter().map(f).sum::<u64>();
        prop_assert_eq!(r.summary.carts, sum(|e| e.carts as u64));
        prop_assert_eq!(r.summary.resolved_issues, sum(|e| e.resolved_issues as u64));
        prop_assert_eq!(r.summary.sessions, sum(|e| e.sessions as u64));
    }
}
