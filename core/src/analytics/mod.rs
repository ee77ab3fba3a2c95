//! Batch analytics over columnar event logs.
//!
//! Everything here starts from an [`EventLog`]: a sorted, dictionary-coded, columnar log of
//! touchpoints, built from Rust vectors ([`EventLog::builder`], [`EventLog::from_columns`]).
//! Each analysis is a function returning plain result types, documented with its exact
//! definition:
//!
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

pub mod absorbing;
pub mod effort;
pub mod event_log;
pub mod funnel;
pub mod paths;
pub mod retention;
pub mod select;

pub use effort::{effort, CustomerEffort, EffortReport, EffortSpec, EffortSummary};
pub use event_log::{Columns, EventLog, EventLogBuilder, PropColumn};
pub use funnel::{
    funnel, funnel_customers, Breakdown, CustomerFunnel, Exclusion, FunnelGroup, FunnelOrder,
    FunnelReport, FunnelSpec, FunnelStep, StepStats,
};
pub use paths::{
    directly_follows, sankey, step_matrix, top_paths, DirectlyFollows, Edge, PathLabel, PathSpec,
    PathVariant, Sankey, SankeyLink, SankeyNode, StepMatrix, TopPaths,
};
pub use retention::{
    retention, Cohort, OffsetTotal, Period, RepeatPurchase, Retention, RetentionSpec,
};
pub use select::EventFilter;
