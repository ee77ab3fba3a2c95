//! Batch analytics over columnar event logs.
//!
//! Everything here starts from an [`EventLog`]: a sorted, dictionary-coded, columnar log of
//! touchpoints, built from Rust vectors ([`EventLog::builder`], [`EventLog::from_columns`]), from
//! Arrow record batches (feature `arrow`), or simulated from a model ([`simulate()`]).
//! Each analysis is a function returning plain result types, documented with its exact
//! definition:
//!
//! - [`replay()`] runs a journey model over a log with the engine's own state machine;
//!   [`stages`] turns a replay into figures per stage (time in stage, transition matrix,
//!   probability to reach a target stage).
//! - [`attribution`]: credit for conversions per channel: first/last touch, linear, position,
//!   time decay, Markov removal effects (any order, exact) and Shapley values.
//! - [`funnel`](funnel::funnel): ordered steps within a window, ClickHouse `windowFunnel`
//!   semantics, exclusions, gaps, breakdowns.
//! - [`paths`]: directly-follows graphs, top paths and their conversion, Sankey links, the
//!   step matrix.
//! - [`retention`](retention::retention): first-touch cohorts by day, ISO week or month, the
//!   share active in each later period, repeat-purchase rates.
//! - [`effort`](effort::effort): touches and time to conversion, channel switching, repeated
//!   support contacts and contacts to resolution, abandoned and recovered carts, sessions.
//!
//! Analyses split their work by customer over rayon's pool with the `parallel` feature (on by
//! default); results are identical with and without it.
//!
//! The two longest, [`simulate()`] and [`replay()`], have `_with_progress` variants
//! ([`simulate_with_progress`], [`replay_with_progress`]) that call a callback with the number
//! of customers finished, block by block, for progress bars.

pub mod absorbing;
#[cfg(feature = "arrow")]
pub mod arrow;
pub mod attribution;
pub mod effort;
pub mod event_log;
pub mod funnel;
pub mod json_lines;
pub mod names;
pub mod paths;
pub mod replay;
pub mod retention;
pub mod select;
pub mod simulate;
pub mod stages;

pub use effort::{effort, CustomerEffort, EffortReport, EffortSpec, EffortSummary};
pub use event_log::{Columns, EventLog, EventLogBuilder, PropColumn};
pub use funnel::{
    funnel, funnel_customers, Breakdown, CustomerFunnel, Exclusion, FunnelGroup, FunnelOrder,
    FunnelReport, FunnelSpec, FunnelStep, StepStats,
};
pub use names::{ColumnNames, PropertyColumns};
pub use paths::{
    directly_follows, sankey, step_matrix, top_paths, DirectlyFollows, Edge, PathLabel, PathSpec,
    PathVariant, Sankey, SankeyLink, SankeyNode, StepMatrix, TopPaths,
};
pub use replay::{
    replay, replay_with_progress, ActionColumns, OnUnknown, Replay, ReplayOptions, ReplayStats,
    TransitionColumns,
};
pub use retention::{
    retention, Cohort, OffsetTotal, Period, RepeatPurchase, Retention, RetentionSpec,
};
pub use select::EventFilter;
pub use simulate::{simulate, simulate_with_progress, SimConfig};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Duration, PropValue, Timestamp};

    /// A random log over more customers than one unit of work, with ties in time.
    fn random_log() -> EventLog {
        let kinds = ["view", "cart", "buy", "help", "mail"];
        let channels = ["web", "app", "store"];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut b = EventLog::builder();
        for c in 0..9_000 {
            let mut t = next(1_000) as i64 * 60_000;
            for _ in 0..next(12) + 1 {
                t += next(4) as i64 * 3_600_000 + next(3) as i64;
                let k = kinds[next(5) as usize];
                let ch = channels[next(3) as usize];
                let props = [("sku", PropValue::from(["a", "b"][next(2) as usize]))];
                b.push_with_props(&format!("c{c}"), Timestamp(t), ch, k, None, &props)
                    .unwrap();
            }
        }
        b.finish().unwrap()
    }

    /// Every analysis, as text.
    fn all(log: &EventLog) -> String {
        let steps = ["view", "cart", "buy"].map(FunnelStep::kind);
        let f = FunnelSpec::new(steps.clone(), Duration::parse("1d").unwrap())
            .breakdown(Breakdown::Property { name: "sku".into() });
        let x = FunnelSpec::new(steps, Duration::parse("1d").unwrap()).exclude(Exclusion::new(
            EventFilter::kind("help"),
            0,
            2,
        ));
        let p = PathSpec {
            conversion: Some(EventFilter::kind("buy")),
            ..PathSpec::default()
        };
        let e = EffortSpec {
            conversion: Some(EventFilter::kind("buy")),
            support: Some(EventFilter::kind("help")),
            cart: Some(EventFilter::kind("cart")),
            ..EffortSpec::default()
        };
        format!(
            "{:?}",
            (
                funnel(log, &f).unwrap(),
                funnel(log, &x).unwrap(),
                directly_follows(log, &p).unwrap(),
                top_paths(log, &p).unwrap(),
                step_matrix(log, &p).unwrap(),
                retention(log, &RetentionSpec::new(Period::Day)).unwrap(),
                effort(log, &e).unwrap(),
            )
        )
    }

    fn fnv(s: &str) -> u64 {
        s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        })
    }

    #[cfg(feature = "parallel")]
    #[test]
    fn results_do_not_depend_on_threads() {
        let log = random_log();
        assert!(log.n_customers() > 2 * select::CHUNK);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| all(&log))
        };
        assert_eq!(run(1), run(3));
    }

    /// The same digest with and without the `parallel` feature (`cargo test -p jornada
    /// --no-default-features` runs this too). A deliberate change to any result changes it.
    #[test]
    fn results_do_not_depend_on_the_parallel_feature() {
        assert_eq!(fnv(&all(&random_log())), DIGEST);
    }

    const DIGEST: u64 = 8_217_766_096_681_448_397;
}
