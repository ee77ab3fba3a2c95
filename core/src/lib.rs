//! # jornada
//!
//! An embeddable customer-journey engine. Customers, identities, channels and touchpoints go in;
//! a journey model (stages and rules) turns them, in event time, into each customer's stage,
//! stage transitions and actions to take (send the abandoned-cart SMS, offer the first-purchase
//! discount). Deterministic, no I/O, no clock of its own.
//!
//! - [`Model`]: a journey model, from JSON ([`model::spec`]) or a preset ([`model::presets`]).
//! - [`Touchpoint`]: one event, with its canonical JSON form.
//! - [`Engine`]: ingest, advance time, query, consent, erase, snapshot and restore.
//! - [`Score`]: a customer's journey scored: stage, progress, probability to convert, next
//!   actions, effort ([`score`]).
//! - [`Journey`]: one visitor's journey (an engine holding one customer), saved as text.
//! - [`Error`]: every error, with a stable [`code`](Error::code) ([`error_codes`]).
//!
//! ```
//! use jornada::{Engine, Model};
//! let mut engine = Engine::new(Model::preset("ecommerce")?);
//! let out = engine.ingest_json(r#"{"customer_id": "c1", "channel": "web", "kind": "product_view", "at": "2026-03-01T10:00:00Z"}"#)?;
//! assert_eq!(out.transitions.len(), 2); // entered `visitor`, then moved to `browsing`
//! assert_eq!(engine.customer("c1").unwrap().stage.as_deref(), Some("browsing"));
//! # Ok::<(), jornada::Error>(())
//! ```
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod analytics;
pub mod batch;
mod bytes;
pub mod engine;
pub mod error;
pub mod journey;
pub mod model;
pub mod score;
pub mod time;
pub mod touchpoint;
pub mod value;

pub use batch::TouchpointBatch;
pub use engine::{
    Action, ConsentEntry, CustomerView, Engine, Erasure, MemoryUsage, Merge, Outcome, Rejected,
    StageVisit, Transition,
};
pub use error::{error_codes, Error, Location, Problem, Result};
pub use journey::Journey;
pub use model::Model;
pub use score::Score;
pub use time::{Duration, Timestamp};
pub use touchpoint::Touchpoint;
pub use value::{Params, PropType, PropValue};

/// The README's examples, run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
