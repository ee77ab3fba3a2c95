//! A customer profile: identity keys, the event timeline, consent, and derived journey state.
//!
//! Events are stored compactly (12 bytes each); the rarer parts of an event (id, value,
//! properties) live in a side list, one entry per event that has any, in timeline order.

use crate::model::condition::PropKey;
use crate::model::{ChannelId, KindId, RuleId, StageId};
use crate::value::PropValue;
use smallvec::SmallVec;
use std::cmp::Ordering;
use std::sync::Arc;
use thin_vec::ThinVec;

/// Index of an identity key in the key store.
pub(crate) type KeyId = u32;

/// Marks an event that has an entry in the profile's extras.
pub(crate) const HAS_EXTRA: u8 = 1;

/// One event of a customer's timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, packed(4))]
pub(crate) struct Event {
    pub at: i64,
    pub kind: KindId,
    pub channel: ChannelId,
    pub flags: u8,
}

impl Event {
    #[inline]
    pub fn has_extra(&self) -> bool {
        self.flags & HAS_EXTRA != 0
    }
}

/// The optional parts of an event.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Extra {
    pub id: Option<Arc<str>>,
    pub value: Option<f64>,
    pub props: Box<[(PropKey, PropValue)]>,
}

/// A consent change for one channel, at a point in event time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ConsentChange {
    pub at: i64,
    pub channel: ChannelId,
    pub granted: bool,
}

/// No rule / no channel, in compact records.
pub(crate) const NONE_U16: u16 = u16::MAX;
pub(crate) const NONE_U8: u8 = u8::MAX;

/// One entry of the stage history: the customer entered `stage` at `at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StageEntry {
    pub at: i64,
    pub stage: StageId,
    pub rule: RuleId,
    pub channel: ChannelId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimerState {
    Pending,
    Fired,
    Off,
}

/// The state of one timeout rule during the current stay (parallel to the stage's timeouts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerSlot {
    pub due: i64,
    pub state: TimerState,
}

/// The timers of a stay: stages have few timeouts (most none or one), so one slot lives inline
/// in the profile and only more spill to the heap.
pub(crate) type Timers = SmallVec<[TimerSlot; 1]>;

/// A profile's identity keys: almost every customer has one or two, kept inline (up to four).
pub(crate) type Keys = SmallVec<[KeyId; 4]>;

/// A customer profile.
#[derive(Debug, Default)]
pub(crate) struct Profile {
    /// Identity keys sorted by (kind order, value); the first names the customer.
    pub keys: Keys,
    /// Timeline, in event order (see [`event_order`]).
    pub events: ThinVec<Event>,
    /// Extras of the events flagged [`HAS_EXTRA`], in timeline order.
    pub extras: ThinVec<Extra>,
    /// Consent changes, sorted.
    pub consent: ThinVec<ConsentChange>,
    /// Derived: the stages entered, in order.
    pub history: ThinVec<StageEntry>,
    /// Derived: timers of the current stay.
    pub timers: Timers,
    /// The due time of this profile's live entry in the engine's timer queue (`i64::MAX`: none).
    pub scheduled: i64,
}

impl Profile {
    pub fn new() -> Self {
        Profile {
            scheduled: i64::MAX,
            ..Default::default()
        }
    }

    pub fn stage(&self) -> Option<StageId> {
        self.history.last().map(|h| h.stage)
    }

    /// Earliest pending timer.
    pub fn next_due(&self) -> Option<i64> {
        self.timers
            .iter()
            .filter(|t| t.state == TimerState::Pending)
            .map(|t| t.due)
            .min()
    }
}

/// The order of a customer's timeline: by time, then (for simultaneous events) by kind and
/// channel in model order, then id, value and properties (by name). Arrival order never matters.
pub(crate) fn event_order(
    a: &Event,
    ax: Option<&Extra>,
    b: &Event,
    bx: Option<&Extra>,
    prop_name: &dyn Fn(PropKey) -> Arc<str>,
) -> Ordering {
    let (a_at, b_at) = (a.at, b.at);
    let (a_kind, b_kind) = (a.kind, b.kind);
    a_at.cmp(&b_at)
        .then(a_kind.cmp(&b_kind))
        .then(a.channel.cmp(&b.channel))
        .then_with(|| match (ax, bx) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => {
                x.id.cmp(&y.id)
                    .then_with(|| match (x.value, y.value) {
                        (None, None) => Ordering::Equal,
                        (None, Some(_)) => Ordering::Less,
                        (Some(_), None) => Ordering::Greater,
                        (Some(p), Some(q)) => p.total_cmp(&q),
                    })
                    .then_with(|| {
                        let (sx, sy) = (sorted_props(x, prop_name), sorted_props(y, prop_name));
                        for ((kx, vx), (ky, vy)) in sx.iter().zip(&sy) {
                            let o = kx.cmp(ky).then_with(|| vx.total_cmp(vy));
                            if o != Ordering::Equal {
                                return o;
                            }
                        }
                        sx.len().cmp(&sy.len())
                    })
            }
        })
}

fn sorted_props<'e>(
    e: &'e Extra,
    prop_name: &dyn Fn(PropKey) -> Arc<str>,
) -> Vec<(Arc<str>, &'e PropValue)> {
    let mut v: Vec<(Arc<str>, &PropValue)> =
        e.props.iter().map(|(k, v)| (prop_name(*k), v)).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.total_cmp(b.1)));
    v
}
