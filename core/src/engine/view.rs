//! Read-only views of the engine's state.

use super::profile::*;
use super::State;
use crate::model::Compiled;
use crate::time::Timestamp;
use serde::Serialize;
use std::sync::Arc;

/// One stay in a stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageVisit {
    /// The stage.
    pub stage: Arc<str>,
    /// When the customer entered it.
    pub entered_at: Timestamp,
    /// The rule that moved them there (`None` for the initial stage).
    pub rule: Option<Arc<str>>,
    /// The channel of the touchpoint that did (`None` for timeouts).
    pub channel: Option<Arc<str>>,
}

/// A consent change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsentEntry {
    /// The channel.
    pub channel: Arc<str>,
    /// Granted (`true`) or withdrawn.
    pub granted: bool,
    /// From when.
    pub at: Timestamp,
}

/// A customer as the engine sees them now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerView {
    /// The customer's id.
    pub id: String,
    /// Current stage (`None` for a customer known only through consent).
    pub stage: Option<Arc<str>>,
    /// Since when.
    pub since: Option<Timestamp>,
    /// Identity keys `(kind, value)`, most preferred first.
    pub keys: Vec<(Arc<str>, String)>,
    /// Every stage entered, in order.
    pub history: Vec<StageVisit>,
    /// Number of touchpoints.
    pub touchpoints: usize,
    /// Time of the latest touchpoint.
    pub last_seen: Option<Timestamp>,
    /// Consent changes, in time order.
    pub consent: Vec<ConsentEntry>,
}

/// Bytes held by an engine, by part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MemoryUsage {
    /// Number of customers.
    pub customers: usize,
    /// Number of touchpoints held.
    pub touchpoints: usize,
    /// Profile slots.
    pub profiles: usize,
    /// Timelines (events and their extras).
    pub timelines: usize,
    /// Identity keys (arena, records, index).
    pub identities: usize,
    /// Touchpoint id index.
    pub ids: usize,
    /// Stage histories.
    pub history: usize,
    /// Timers (per-customer slots and the queue).
    pub timers: usize,
    /// Everything.
    pub total: usize,
}

impl MemoryUsage {
    /// Bytes per customer, all included.
    pub fn per_customer(&self) -> f64 {
        self.total as f64 / self.customers.max(1) as f64
    }
    /// Bytes per customer without the stage history.
    pub fn per_customer_excluding_history(&self) -> f64 {
        (self.total - self.history) as f64 / self.customers.max(1) as f64
    }
}

/// Heap bytes of a `ThinVec` with `cap` elements of `T` (header included).
fn thin<T>(cap: usize) -> usize {
    if cap == 0 {
        0
    } else {
        16 + cap * std::mem::size_of::<T>()
    }
}

impl State {
    pub(crate) fn view(&self, m: &Compiled, pid: u32) -> CustomerView {
        let p = self.profiles[pid as usize].as_ref().expect("live profile");
        CustomerView {
            id: self.display_id(m, &p.keys),
            stage: p.stage().map(|s| m.stages[s as usize].name.clone()),
            since: p.history.last().map(|h| Timestamp(h.at)),
            keys: p
                .keys
                .iter()
                .map(|&k| {
                    (
                        m.identities[self.keys.kind(k) as usize].name.clone(),
                        self.keys.value(k).to_string(),
                    )
                })
                .collect(),
            history: p
                .history
                .iter()
                .map(|h| StageVisit {
                    stage: m.stages[h.stage as usize].name.clone(),
                    entered_at: Timestamp(h.at),
                    rule: (h.rule != NONE_U16).then(|| m.rules[h.rule as usize].name.clone()),
                    channel: (h.channel != NONE_U8)
                        .then(|| m.channels[h.channel as usize].name.clone()),
                })
                .collect(),
            touchpoints: p.events.len(),
            last_seen: self
                .timelines
                .get(p.events)
                .last()
                .map(|e| Timestamp(e.at())),
            consent: p
                .consent
                .iter()
                .map(|c| ConsentEntry {
                    channel: m.channels[c.channel as usize].name.clone(),
                    granted: c.granted,
                    at: Timestamp(c.at),
                })
                .collect(),
        }
    }

    pub(crate) fn memory_usage(&self) -> MemoryUsage {
        let mut u = MemoryUsage {
            customers: self.live,
            profiles: self.profiles.heap_bytes() + self.free.capacity() * 4,
            identities: self.keys.heap_bytes(),
            ids: self.ids.allocation_size(),
            timers: self.queue.capacity() * std::mem::size_of::<super::Due>(),
            timelines: self.timelines.heap_bytes(),
            ..Default::default()
        };
        for p in self.profiles.iter().flatten() {
            u.touchpoints += p.events.len();
            u.timelines += thin::<Extra>(p.extras.capacity());
            for x in &p.extras {
                u.timelines += thin::<(u16, crate::PropValue)>(x.props.capacity());
                u.timelines += x.id.as_ref().map_or(0, |id| id.len() + 16);
                for (_, v) in x.props.iter() {
                    if let crate::PropValue::Str(s) = v {
                        u.timelines += s.len();
                    }
                }
            }
            u.identities += p.keys.heap_bytes();
            u.history += thin::<StageEntry>(p.history.capacity());
            u.timers += p.timers.heap_bytes() + thin::<ConsentChange>(p.consent.capacity());
        }
        u.total = u.profiles + u.timelines + u.identities + u.ids + u.history + u.timers;
        u
    }
}
