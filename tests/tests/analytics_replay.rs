//! Batch replay against the engine: the same events fed one by one through `jornada::Engine`
//! (per customer, one identity key each) must give the same stage histories, final stages,
//! transitions and actions as `analytics::replay`. Plus hand-computed cases, the error cases and
//! determinism across thread counts.

use jornada::analytics::{replay, EventLog, OnUnknown, ReplayOptions};
use jornada::{PropValue, Timestamp};
use jornada_tests::analytics::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn replay_equals_the_engine_ecommerce(events in prop::collection::vec(ev_strategy(Mk::Ecom), 0..40)) {
        check_against_engine(&model(Mk::Ecom), &events, None);
    }

    #[test]
    fn replay_equals_the_engine_small_model(events in prop::collection::vec(ev_strategy(Mk::Small), 0..40)) {
        check_against_engine(&model(Mk::Small), &events, None);
    }

    #[test]
    fn replay_equals_the_engine_with_until(
        events in prop::collection::vec(ev_strategy(Mk::Small), 1..30),
        cut in 0..(120 * DAY),
    ) {
        check_against_engine(&model(Mk::Small), &events, Some(BASE + cut));
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-computed cases
// ---------------------------------------------------------------------------------------------

fn ev(customer: &str, at: i64, channel: &'static str, kind: &'static str) -> Ev {
    Ev {
        customer: customer.into(),
        at: BASE + at,
        channel,
        kind,
        value: None,
        props: vec![],
    }
}

#[test]
fn hand_computed_ecommerce_journey() {
    let model = model(Mk::Ecom);
    let mut review = ev("a", 3 * DAY, "web", "review");
    review.props.push(("rating", PropValue::Num(5.0)));
    let events = vec![
        ev("a", 0, "web", "product_view"),
        ev("a", MIN, "web", "add_to_cart"),
        ev("a", 2 * HOUR, "app", "purchase"), // cart timed out at 1h01 first
        review,
        ev("b", 0, "store", "store_visit"),
        ev("b", 10 * DAY, "web", "page_view"), // the log ends here (until)
    ];
    let log = build_log(&events);
    let r = replay(&model, &log, &ReplayOptions::default()).unwrap();
    assert_eq!(r.until(), Some(Timestamp(BASE + 10 * DAY)));
    let a = r.history(0);
    let stages: Vec<(&str, i64)> = a
        .clone()
        .map(|i| {
            (
                r.stage_name(r.transitions().to[i]),
                r.transitions().at[i] - BASE,
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            ("visitor", 0),
            ("browsing", 0),
            ("cart", MIN),
            ("abandoned_cart", MIN + HOUR),
            ("customer", 2 * HOUR),
            ("advocate", 3 * DAY),
        ]
    );
    assert_eq!(r.final_stage(0), Some("advocate"));
    assert_eq!(r.final_stage(1), Some("visitor"));
    let acts = r.actions();
    let names: Vec<&str> = r
        .customer_actions(0)
        .map(|i| r.action_name(acts.action[i]))
        .collect();
    // The review came before the 7-day review request was due: no request.
    assert_eq!(names, ["abandoned_cart_sms", "thank_you"]);
    assert!(r.customer_actions(0).all(|i| acts.suppressed[i]));
    assert_eq!(r.stats().events, 6);
    check_against_engine(&model, &events, None);
}

#[test]
fn simultaneous_events_follow_model_order_not_names() {
    // `purchase` comes before `review` in the model, and also by name; `add_to_cart` comes
    // before `purchase` in the model (and by name): use kinds whose name order differs from the
    // model order: `search` (model 1) vs `page_view` (model 0) vs `add_to_cart` (model 3).
    let model = model(Mk::Ecom);
    let events = vec![
        ev("a", 0, "web", "search"),
        ev("a", 0, "web", "add_to_cart"),
        ev("a", 0, "web", "page_view"),
        ev("a", 0, "app", "purchase"),
    ];
    check_against_engine(&model, &events, None);
    let log = build_log(&events);
    let r = replay(&model, &log, &ReplayOptions::default()).unwrap();
    let order: Vec<&str> = r
        .history(0)
        .map(|i| r.stage_name(r.transitions().to[i]))
        .collect();
    // page_view (visitor), search → browsing, add_to_cart → cart, purchase → customer.
    assert_eq!(order, ["visitor", "browsing", "cart", "customer"]);
}

#[test]
fn until_cuts_events_and_fires_timers() {
    let model = model(Mk::Ecom);
    let events = vec![
        ev("a", 0, "web", "add_to_cart"),
        ev("a", 5 * HOUR, "web", "purchase"),
    ];
    let log = build_log(&events);
    let opts = ReplayOptions {
        until: Some(Timestamp(BASE + 2 * HOUR)),
        ..Default::default()
    };
    let r = replay(&model, &log, &opts).unwrap();
    assert_eq!(r.final_stage(0), Some("abandoned_cart"));
    assert_eq!(r.stats().after_until, 1);
    assert_eq!(r.stats().events, 1);
    // Exactly at the due time: the timer fires (inclusive).
    let opts = ReplayOptions {
        until: Some(Timestamp(BASE + HOUR)),
        ..Default::default()
    };
    let r = replay(&model, &log, &opts).unwrap();
    assert_eq!(r.final_stage(0), Some("abandoned_cart"));
    let opts = ReplayOptions {
        until: Some(Timestamp(BASE + HOUR - 1)),
        ..Default::default()
    };
    let r = replay(&model, &log, &opts).unwrap();
    assert_eq!(r.final_stage(0), Some("cart"));
    // Before the first event: nothing replayed, no stage.
    let opts = ReplayOptions {
        until: Some(Timestamp(BASE - 1)),
        ..Default::default()
    };
    let r = replay(&model, &log, &opts).unwrap();
    assert_eq!(r.final_stage(0), None);
    assert!(r.history(0).is_empty());
    assert_eq!(r.stats().after_until, 2);
}

#[test]
fn unknown_kinds_and_channels_error_or_are_skipped() {
    let model = model(Mk::Ecom);
    let mut b = EventLog::builder();
    b.push("z", Timestamp(BASE + 5), "web", "page_view", None)
        .unwrap(); // row 0
    b.push("a", Timestamp(BASE + 9), "fax", "page_view", None)
        .unwrap(); // row 1: unknown channel
    b.push("b", Timestamp(BASE + 1), "web", "teleport", None)
        .unwrap(); // row 2: unknown kind
    b.push("a", Timestamp(BASE + 1), "fax", "teleport", None)
        .unwrap(); // row 3: both
    let log = b.finish().unwrap();
    let err = replay(&model, &log, &ReplayOptions::default()).unwrap_err();
    assert_eq!(err.code(), "unknown_channel");
    assert_eq!(
        err.to_string(),
        "unknown channel `fax` at event 1, field `channel`"
    );

    let opts = ReplayOptions {
        on_unknown: OnUnknown::Skip,
        ..Default::default()
    };
    let r = replay(&model, &log, &opts).unwrap();
    let s = r.stats();
    assert_eq!(
        (s.events, s.skipped_unknown_kind, s.skipped_unknown_channel),
        (1, 2, 1)
    );
    assert_eq!(
        r.final_stage(log.customer_code("z").unwrap() as usize),
        Some("visitor")
    );
    assert_eq!(
        r.final_stage(log.customer_code("a").unwrap() as usize),
        None
    );

    let mut b = EventLog::builder();
    b.push("a", Timestamp(BASE), "web", "page_view", None)
        .unwrap();
    b.push("a", Timestamp(BASE), "web", "teleport", None)
        .unwrap();
    let err = replay(&model, &b.finish().unwrap(), &ReplayOptions::default()).unwrap_err();
    assert_eq!(err.code(), "unknown_event_kind");
    assert_eq!(
        err.to_string(),
        "unknown event kind `teleport` at event 1, field `kind`"
    );
}

#[test]
fn property_of_the_wrong_type_is_an_error() {
    let model = model(Mk::Ecom);
    let mut b = EventLog::builder();
    b.push("a", Timestamp(BASE), "web", "page_view", None)
        .unwrap();
    b.push_with_props(
        "a",
        Timestamp(BASE + 1),
        "web",
        "review",
        None,
        &[("rating", PropValue::from("five"))],
    )
    .unwrap();
    let err = replay(&model, &b.finish().unwrap(), &ReplayOptions::default()).unwrap_err();
    assert_eq!(err.code(), "wrong_type");
    assert!(
        err.to_string()
            .contains("event 1, field `properties.rating`"),
        "{err}"
    );
}

#[test]
fn empty_log() {
    let r = replay(
        &model(Mk::Ecom),
        &EventLog::builder().finish().unwrap(),
        &ReplayOptions::default(),
    )
    .unwrap();
    assert_eq!(r.n_customers(), 0);
    assert_eq!(r.until(), None);
    assert!(r.transitions().is_empty());
}

#[test]
fn same_output_with_one_or_many_threads() {
    use jornada::analytics::simulate::{simulate, SimConfig};
    let model = model(Mk::Ecom);
    let log = simulate(
        &model,
        &SimConfig {
            customers: 5_000,
            seed: 11,
            ..Default::default()
        },
    );
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| replay(&model, &log, &ReplayOptions::default()).unwrap())
    };
    let one = run(1);
    let four = run(4);
    assert_eq!(one.final_stages(), four.final_stages());
    assert_eq!(one.history_offsets(), four.history_offsets());
    assert_eq!(one.transitions(), four.transitions());
    assert_eq!(one.actions(), four.actions());
    assert_eq!(one.stats(), four.stats());
}

/// The fitted scoring table carries exactly `scoring_table`'s figures for the stages customers
/// entered, survives the model's JSON round trip, and the browser score reads it back.
#[test]
fn scoring_spec_matches_scoring_table_and_round_trips() {
    use jornada::analytics::{replay, simulate, stages, ReplayOptions, SimConfig};
    let model = jornada::Model::preset("ecommerce").unwrap();
    let log = simulate(
        &model,
        &SimConfig {
            customers: 800,
            seed: 3,
            ..Default::default()
        },
    );
    let r = replay(&model, &log, &ReplayOptions::default()).unwrap();
    let table = stages::scoring_table(&r, "customer").unwrap();
    let spec = stages::scoring_spec(&r, "customer", "test").unwrap();
    let m = stages::transition_matrix(&r);
    for (row, stays) in table.iter().zip(&m.stays) {
        match spec.stages.get(&row.stage) {
            Some(s) => {
                assert!(*stays > 0);
                assert_eq!(s.p_convert, row.p);
                let want = row
                    .expected_ms
                    .map(|ms| jornada::Duration::from_millis(ms.round() as i64).to_string());
                assert_eq!(s.expected_time, want);
            }
            None => assert_eq!(*stays, 0, "{} was entered but has no figures", row.stage),
        }
    }
    let scored = model.with_scoring(spec.clone()).unwrap();
    let back = jornada::Model::from_json(&scored.to_json()).unwrap();
    assert_eq!(back.spec().scoring.as_ref(), Some(&spec));
    assert_eq!(
        stages::scoring_spec(&r, "nope", "").unwrap_err().code(),
        "invalid_value"
    );
}
