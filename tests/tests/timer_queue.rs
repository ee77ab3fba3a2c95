//! The timer queue stays bounded when timers are pushed back over and over (`restart_on`), and
//! compacting it changes no output.

use jornada::{Engine, Model, Timestamp, Touchpoint};

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;

#[test]
fn restarted_timers_keep_the_queue_small_and_fire_once() {
    let mut engine = Engine::new(Model::preset("ecommerce").unwrap());
    let tp =
        |kind: &str, at: i64| Touchpoint::new("app", kind, Timestamp(at)).key("customer_id", "c1");
    engine.ingest(&tp("purchase", 0)).unwrap();
    engine.ingest(&tp("review", MIN)).unwrap(); // cancels the review request, keeps the 90-day lapse
                                                // Every app_open restarts the 90-day lapse timer: 5,000 due-time changes, one live timer.
    for i in 0..5_000 {
        engine.ingest(&tp("app_open", 2 * MIN + i * MIN)).unwrap();
    }
    let last = 2 * MIN + 4_999 * MIN;
    let usage = engine.memory_usage();
    assert!(
        usage.timers < 64 * 1024,
        "timer queue holds stale entries: {} bytes",
        usage.timers
    );

    let mut restored = Engine::restore(&engine.snapshot()).unwrap();
    let before = engine.advance_to(Timestamp(last + 90 * DAY - 1));
    assert!(before.is_empty(), "{before:?}");
    let out = engine.advance_to(Timestamp(last + 200 * DAY));
    assert_eq!(out.transitions.len(), 1);
    assert_eq!(&*out.transitions[0].to, "lapsed");
    assert_eq!(out.transitions[0].at, Timestamp(last + 90 * DAY));
    assert_eq!(out.actions.len(), 1);
    assert_eq!(&*out.actions[0].action, "win_back_offer");

    // A restored engine (whose queue was rebuilt from scratch) reports the same.
    let again = restored.advance_to(Timestamp(last + 200 * DAY));
    assert_eq!(again, out);
}
