//! Node.js binding of jornada (napi-rs). Converts and delegates: every rule lives in the core.
//!
//! - [`model`]: `Model` (presets, JSON, files).
//! - [`analytics`]: `EventLog`, `Replay`, `simulate`, `attributionFromPaths` (batch analytics).
//! - [`engine`]: `Engine` (ingest, async batches, time, consent, erasure, snapshots).
//! - [`outcome`]: what calls return, as typed JavaScript objects.
//! - [`fast`]: lists of touchpoint objects as core batches (`ingestMany`).
//! - [`to_json`] and [`batch`]: JavaScript touchpoints to the core's canonical JSON form.
//! - [`errors`]: `Error` objects with stable codes; panics caught at the boundary.
#![deny(clippy::all)]

/// The addon's own allocations (engines, batches, results) use mimalloc, tuned for ingest when
/// the addon loads ([`jornada_alloc`]; README, Benchmarks).
#[global_allocator]
static ALLOC: jornada_alloc::MiMalloc = jornada_alloc::MiMalloc;

#[napi_derive::module_init]
fn init() {
    jornada_alloc::tune();
}

pub mod analytics;
mod args;
mod batch;
mod columns;
pub mod engine;
pub mod errors;
mod fast;
pub mod model;
pub mod outcome;
mod read;
mod to_json;
