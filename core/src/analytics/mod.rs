//! Batch analytics over columnar event logs.
//!
//! Everything here starts from an [`EventLog`]: a sorted, dictionary-coded, columnar log of
//! touchpoints, built from Rust vectors ([`EventLog::builder`], [`EventLog::from_columns`]), from
//! Arrow record batches (feature `arrow`), or simulated from a model ([`simulate()`]).
//! [`replay()`] runs a journey model over a log with the engine's own state machine; [`stages`]
//! turns a replay into figures per stage. Each analysis is a function returning plain result
//! types, documented with its exact definition.

pub mod absorbing;
#[cfg(feature = "arrow")]
pub mod arrow;
pub mod event_log;
pub mod replay;
pub mod simulate;
pub mod stages;

#[cfg(feature = "arrow")]
pub use arrow::{ColumnNames, PropertyColumns};
pub use event_log::{Columns, EventLog, EventLogBuilder, PropColumn};
pub use replay::{
    replay, ActionColumns, OnUnknown, Replay, ReplayOptions, ReplayStats, TransitionColumns,
};
pub use simulate::{simulate, SimConfig};
