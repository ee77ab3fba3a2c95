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
//!
//! Analyses split their work by customer over rayon's pool with the `parallel` feature (on by
//! default); results are identical with and without it.

pub mod absorbing;
pub mod event_log;
pub mod funnel;
pub mod paths;
pub mod select;

pub use event_log::{Columns, EventLog, EventLogBuilder, PropColumn};
pub use funnel::{
    funnel, funnel_customers, Breakdown, CustomerFunnel, Exclusion, FunnelGroup, FunnelOrder,
    FunnelReport, FunnelSpec, FunnelStep, StepStats,
};
pub use paths::{
    directly_follows, sankey, step_matrix, top_paths, DirectlyFollows, Edge, PathLabel, PathSpec,
    PathVariant, Sankey, SankeyLink, SankeyNode, StepMatrix, TopPaths,
};
pub use select::EventFilter;
