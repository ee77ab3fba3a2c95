//! The progress hooks of `simulate_with_progress` and `replay_with_progress`: the reported
//! counts add up to the customers, in blocks (4,096 customers for the simulator, 1,024 for
//! replay), for any thread count, and the results are the plain functions' results.

use jornada::analytics::{
    replay, replay_with_progress, simulate, simulate_with_progress, EventLog, ReplayOptions,
    SimConfig,
};
use jornada::{Model, Timestamp};
use std::sync::Mutex;

fn cfg(customers: usize) -> SimConfig {
    SimConfig {
        customers,
        seed: 11,
        ..Default::default()
    }
}

/// Runs `f` with a recorder; returns the calls' arguments, sorted.
fn record<T>(f: impl FnOnce(&(dyn Fn(usize) + Sync)) -> T) -> (T, Vec<usize>) {
    let calls = Mutex::new(Vec::new());
    let out = f(&|k| calls.lock().unwrap().push(k));
    let mut calls = calls.into_inner().unwrap();
    calls.sort_unstable();
    (out, calls)
}

/// The blocks expected for `n` customers, sorted: full blocks of `size` and the rest.
fn blocks(n: usize, size: usize) -> Vec<usize> {
    let mut v = vec![size; n / size];
    if !n.is_multiple_of(size) {
        v.insert(0, n % size);
    }
    v
}

#[test]
fn simulate_reports_every_customer_once_and_gives_the_same_log() {
    let model = Model::preset("ecommerce").unwrap();
    for n in [0, 1, 4096, 10_000] {
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let (log, calls) =
                pool.install(|| record(|p| simulate_with_progress(&model, &cfg(n), p)));
            assert_eq!(calls, blocks(n, 4096), "{n} customers, {threads} threads");
            assert_eq!(calls.iter().sum::<usize>(), n);
            let plain = simulate(&model, &cfg(n));
            assert_eq!(log.at(), plain.at());
            assert_eq!(log.kind_codes(), plain.kind_codes());
            assert_eq!(log.customers(), plain.customers());
        }
    }
}

#[test]
fn replay_reports_every_customer_once_and_gives_the_same_replay() {
    let model = Model::preset("ecommerce").unwrap();
    let log = simulate(&model, &cfg(9_000));
    let opts = ReplayOptions::default();
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let (r, calls) = pool.install(|| record(|p| replay_with_progress(&model, &log, &opts, p)));
        let r = r.unwrap();
        assert_eq!(calls, blocks(9_000, 1024), "{threads} threads");
        let plain = replay(&model, &log, &opts).unwrap();
        assert_eq!(r.final_stages(), plain.final_stages());
        assert_eq!(r.transitions().at, plain.transitions().at);
        assert_eq!(r.actions().len(), plain.actions().len());
    }
}

#[test]
fn replay_rejecting_its_input_reports_nothing() {
    let model = Model::preset("ecommerce").unwrap();
    let mut b = EventLog::builder();
    b.push("c1", Timestamp::from_millis(0), "web", "teleport", None)
        .unwrap();
    let log = b.finish().unwrap();
    let (r, calls) = record(|p| replay_with_progress(&model, &log, &ReplayOptions::default(), p));
    assert_eq!(r.unwrap_err().code(), "unknown_event_kind");
    assert!(calls.is_empty(), "{calls:?}");
}
