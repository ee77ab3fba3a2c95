//! Shared helpers for jornada's integration tests.

pub mod analytics;
