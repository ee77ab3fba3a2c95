//! Node.js binding of jornada (napi-rs). Converts and delegates: every rule lives in the core.
//!
//! - [`model`]: `Model` (presets, JSON, files).
//! - [`engine`]: `Engine` (ingest, async batches, time, consent, erasure, snapshots).
//! - [`outcome`]: what calls return, as typed JavaScript objects.
//! - [`to_json`] and [`batch`]: JavaScript touchpoints to the core's canonical JSON form.
//! - [`errors`]: `Error` objects with stable codes; panics caught at the boundary.
#![deny(clippy::all)]

mod args;
mod batch;
pub mod engine;
pub mod errors;
pub mod model;
pub mod outcome;
mod to_json;
