//! Batch analytics over columnar event logs.
//!
//! Everything here starts from an [`EventLog`]: a sorted, dictionary-coded, columnar log of
//! touchpoints, built from Rust vectors ([`EventLog::builder`], [`EventLog::from_columns`]).
//! Each analysis is a function returning plain result types, documented with its exact
//! definition.

pub mod absorbing;
pub mod attribution;
pub mod event_log;

pub use event_log::{Columns, EventLog, EventLogBuilder, PropColumn};
