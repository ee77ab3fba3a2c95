//! What a call to the engine caused: transitions, actions, retractions, merges, duplicates and
//! rejected touchpoints.

use crate::error::Error;
use crate::time::Timestamp;
use crate::value::Params;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use std::sync::Arc;

/// A customer moved from one stage to another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    /// The customer (see [`Engine::customer`](crate::Engine::customer) for how customers are named).
    pub customer: String,
    /// The stage left; `None` when the customer enters the initial stage at their first touchpoint.
    pub from: Option<Arc<str>>,
    /// The stage entered.
    pub to: Arc<str>,
    /// When (event time).
    pub at: Timestamp,
    /// The rule that fired; `None` for the entry into the initial stage.
    pub rule: Option<Arc<str>>,
    /// The channel of the touchpoint that caused it; `None` for timeouts.
    pub channel: Option<Arc<str>>,
}

/// Something for the host to do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    /// The customer.
    pub customer: String,
    /// The action's name.
    pub action: Arc<str>,
    /// The channel it contacts the customer on, if any.
    pub channel: Option<Arc<str>>,
    /// Parameters from the model.
    pub params: Arc<Params>,
    /// When (event time).
    pub at: Timestamp,
    /// The customer's stage after the rule fired.
    pub stage: Arc<str>,
    /// The rule that fired; `None` for `on_enter` actions of the initial stage.
    pub rule: Option<Arc<str>>,
    /// `true` when the channel's consent was not given: do not contact the customer.
    pub suppressed: bool,
}

/// Profiles became one (or a profile's name changed because it gained a preferred key).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Merge {
    /// The surviving customer id.
    pub into: String,
    /// Ids that now name `into`.
    pub from: Vec<String>,
    /// Event time of the touchpoint that caused it.
    pub at: Timestamp,
}

/// A touchpoint of a batch that was not accepted, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// Its position in the batch.
    pub index: usize,
    /// Why (the error's location names the index, and the line for JSON lines).
    pub error: Error,
}

impl Serialize for Rejected {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Rejected", 4)?;
        st.serialize_field("index", &self.index)?;
        st.serialize_field("code", self.error.code())?;
        st.serialize_field("path", &self.error.path())?;
        st.serialize_field("message", &self.error.to_string())?;
        st.end()
    }
}

/// What one call caused.
///
/// An outcome is a net delta: `retracted_*` list outputs of *earlier* calls that no longer hold
/// (a late touchpoint, a merge or a consent change in the past rewrote the customer's timeline);
/// an output emitted and retracted within one call appears in neither list. Every record names
/// customers by the ids current at the end of the call; `merges` lists, in order, how ids
/// reported earlier map to current ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Outcome {
    /// Stage transitions.
    pub transitions: Vec<Transition>,
    /// Actions (including suppressed ones).
    pub actions: Vec<Action>,
    /// Transitions reported earlier that no longer hold.
    pub retracted_transitions: Vec<Transition>,
    /// Actions reported earlier that no longer hold.
    pub retracted_actions: Vec<Action>,
    /// Profile merges and renames.
    pub merges: Vec<Merge>,
    /// Ids of touchpoints already ingested (nothing changed).
    pub duplicates: Vec<String>,
    /// Touchpoints of a batch that were not accepted.
    pub rejected: Vec<Rejected>,
}

impl Outcome {
    /// Whether nothing happened.
    pub fn is_empty(&self) -> bool {
        self.transitions.is_empty()
            && self.actions.is_empty()
            && self.retracted_transitions.is_empty()
            && self.retracted_actions.is_empty()
            && self.merges.is_empty()
            && self.duplicates.is_empty()
            && self.rejected.is_empty()
    }

    /// Appends another outcome (of a later call).
    pub fn extend(&mut self, other: Outcome) {
        self.transitions.extend(other.transitions);
        self.actions.extend(other.actions);
        self.retracted_transitions
            .extend(other.retracted_transitions);
        self.retracted_actions.extend(other.retracted_actions);
        self.merges.extend(other.merges);
        self.duplicates.extend(other.duplicates);
        self.rejected.extend(other.rejected);
    }
}

/// What `erase` removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Erasure {
    /// The customer erased.
    pub customer: String,
    /// Identity keys removed.
    pub keys: usize,
    /// Touchpoints removed.
    pub events: usize,
}
