//! A customer profile: identity keys, the event timeline, consent, and derived journey state.
//!
//! Events are stored compactly (10 bytes each); the rarer parts of an event (id, value,
//! properties) live in a side list, one entry per event that has any, in timeline order.

use crate::model::condition::PropKey;
use crate::model::{ChannelId, KindId, RuleId, StageId};
use crate::value::PropValue;
use std::cmp::Ordering;
use std::sync::Arc;
use thin_vec::ThinVec;

/// Index of an identity key in the key store.
pub(crate) type KeyId = u32;

/// Marks an event that has an entry in the profile's extras.
pub(crate) const HAS_EXTRA: u8 = 1;

/// One event of a customer's timeline, packed into 10 bytes: time (49 bits, as an offset from
/// the earliest valid time, year 0000, in the top bits), the extra flag and the channel share
/// one `u64`, the kind follows. Lossless for every valid event: times are within years 0000 to 9999
/// ([`Timestamp::from_millis_checked`](crate::Timestamp::from_millis_checked)), which spans
/// less than 2^49 milliseconds.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C, packed(2))]
pub(crate) struct Event {
    /// `(at - MIN_MILLIS) << 15 | flags << 8 | channel`.
    bits: u64,
    pub kind: KindId,
}

const AT_BITS: u32 = 49;
const AT_MASK: u64 = (1 << AT_BITS) - 1;
const TIME_SHIFT: u32 = 64 - AT_BITS;
const _: () = assert!(
    ((crate::time::MAX_MILLIS - crate::time::MIN_MILLIS) as u64) < (1 << AT_BITS),
    "valid times fit in the event's time field"
);

impl Event {
    /// A placeholder for unused places of the timeline store.
    pub const ZERO: Event = Event { bits: 0, kind: 0 };

    /// An event; `at` must be a valid time (years 0000 to 9999) and `flags` 0 or [`HAS_EXTRA`].
    #[inline]
    pub fn new(at: i64, kind: KindId, channel: ChannelId, flags: u8) -> Event {
        debug_assert!(flags <= HAS_EXTRA);
        let t = (at.wrapping_sub(crate::time::MIN_MILLIS) as u64) & AT_MASK;
        Event {
            bits: (t << TIME_SHIFT) | ((flags as u64) << 8) | channel as u64,
            kind,
        }
    }

    /// When it happened (epoch milliseconds).
    #[inline]
    pub fn at(&self) -> i64 {
        (self.bits >> TIME_SHIFT) as i64 + crate::time::MIN_MILLIS
    }

    /// A key for comparing times cheaply: `e.before(Event::time_key(t))` is `e.at() < t`.
    #[inline]
    pub fn time_key(t: i64) -> u64 {
        match t.checked_sub(crate::time::MIN_MILLIS) {
            _ if t <= crate::time::MIN_MILLIS => 0,
            Some(off) if (off as u64) <= AT_MASK => (off as u64) << TIME_SHIFT,
            // Later than any event can be (the low bits of events are never all ones).
            _ => u64::MAX,
        }
    }

    /// Whether the event happened before the time of `key` (see [`time_key`](Self::time_key)).
    #[inline]
    pub fn before(&self, key: u64) -> bool {
        self.bits < key
    }

    #[inline]
    pub fn channel(&self) -> ChannelId {
        self.bits as u8
    }

    #[inline]
    pub fn flags(&self) -> u8 {
        (self.bits >> 8) as u8 & HAS_EXTRA
    }

    #[inline]
    pub fn has_extra(&self) -> bool {
        self.bits & ((HAS_EXTRA as u64) << 8) != 0
    }
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = self.kind;
        f.debug_struct("Event")
            .field("at", &self.at())
            .field("kind", &kind)
            .field("channel", &self.channel())
            .field("flags", &self.flags())
            .finish()
    }
}

/// The optional parts of an event.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Extra {
    pub id: Option<Arc<str>>,
    pub value: Option<f64>,
    /// Properties (no allocation when there are none: most extras are a value or an id).
    pub props: ThinVec<(PropKey, PropValue)>,
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
/// Packed to 12 bytes so that one slot fits inline in [`Timers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, packed(4))]
pub(crate) struct TimerSlot {
    pub due: i64,
    pub state: TimerState,
}

/// The timers of a stay: stages have few timeouts (most none or one), so one slot lives inline
/// in the profile (16 bytes in all) and only more spill to the heap.
#[derive(Clone, Debug)]
pub(crate) enum Timers {
    Inline { len: u8, slot: TimerSlot },
    Heap(ThinVec<TimerSlot>),
}

impl Default for Timers {
    fn default() -> Self {
        Timers::new()
    }
}

impl Timers {
    pub const fn new() -> Self {
        Timers::Inline {
            len: 0,
            slot: TimerSlot {
                due: 0,
                state: TimerState::Off,
            },
        }
    }

    pub fn clear(&mut self) {
        match self {
            Timers::Inline { len, .. } => *len = 0,
            Timers::Heap(v) => v.clear(),
        }
    }

    pub fn push(&mut self, t: TimerSlot) {
        match self {
            Timers::Inline { len: len @ 0, slot } => {
                *slot = t;
                *len = 1;
            }
            Timers::Inline { slot, .. } => {
                let mut v = ThinVec::with_capacity(2);
                v.push(*slot);
                v.push(t);
                *self = Timers::Heap(v);
            }
            Timers::Heap(v) => v.push(t),
        }
    }

    /// Heap bytes held (none while the timers fit inline).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Timers::Heap(v) if v.capacity() > 0 => 16 + v.capacity() * size_of::<TimerSlot>(),
            _ => 0,
        }
    }
}

impl std::ops::Deref for Timers {
    type Target = [TimerSlot];
    #[inline]
    fn deref(&self) -> &[TimerSlot] {
        match self {
            Timers::Inline { len, slot } => &std::slice::from_ref(slot)[..*len as usize],
            Timers::Heap(v) => v,
        }
    }
}

impl std::ops::DerefMut for Timers {
    #[inline]
    fn deref_mut(&mut self) -> &mut [TimerSlot] {
        match self {
            Timers::Inline { len, slot } => &mut std::slice::from_mut(slot)[..*len as usize],
            Timers::Heap(v) => v,
        }
    }
}

/// A profile's identity keys, sorted by preference: almost every customer has one to three,
/// kept inline (16 bytes in all); more spill to the heap.
#[derive(Clone, Debug)]
pub(crate) enum Keys {
    Inline { len: u8, ids: [KeyId; 3] },
    Heap(ThinVec<KeyId>),
}

impl Default for Keys {
    fn default() -> Self {
        Keys::Inline {
            len: 0,
            ids: [0; 3],
        }
    }
}

impl Keys {
    pub fn insert(&mut self, pos: usize, k: KeyId) {
        match self {
            Keys::Inline { len, ids } if (*len as usize) < ids.len() => {
                let n = *len as usize;
                assert!(pos <= n, "key position in range");
                ids.copy_within(pos..n, pos + 1);
                ids[pos] = k;
                *len += 1;
            }
            Keys::Inline { ids, .. } => {
                let mut v = ThinVec::with_capacity(ids.len() + 1);
                v.extend_from_slice(ids);
                v.insert(pos, k);
                *self = Keys::Heap(v);
            }
            Keys::Heap(v) => v.insert(pos, k),
        }
    }

    /// Heap bytes held (none while the keys fit inline).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Keys::Heap(v) if v.capacity() > 0 => 16 + v.capacity() * size_of::<KeyId>(),
            _ => 0,
        }
    }
}

impl std::ops::Deref for Keys {
    type Target = [KeyId];
    #[inline]
    fn deref(&self) -> &[KeyId] {
        match self {
            Keys::Inline { len, ids } => &ids[..*len as usize],
            Keys::Heap(v) => v,
        }
    }
}

impl FromIterator<KeyId> for Keys {
    fn from_iter<I: IntoIterator<Item = KeyId>>(iter: I) -> Self {
        let mut k = Keys::default();
        for id in iter {
            let n = k.len();
            k.insert(n, id);
        }
        k
    }
}

/// A customer profile: 64 bytes, one cache line (the slots are cache-line aligned), so that
/// the hot path touches one line of the profile table per touchpoint.
#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct Profile {
    /// Identity keys sorted by (kind order, value); the first names the customer.
    pub keys: Keys,
    /// Timeline, in event order (see [`event_order`]).
    /// Where the timeline is in the engine's [`Timelines`](super::timeline::Timelines).
    pub events: super::timeline::Span,
    /// Extras of the events flagged [`HAS_EXTRA`], in timeline order.
    pub extras: ThinVec<Extra>,
    /// Consent changes, sorted.
    pub consent: ThinVec<ConsentChange>,
    /// Derived: the stages entered, in order.
    pub history: ThinVec<StageEntry>,
    /// Derived: timers of the current stay. The engine's timer queue holds a live entry
    /// `(next_due, pid)` for every profile with a pending timer.
    pub timers: Timers,
}

impl Profile {
    pub fn new() -> Self {
        Profile::default()
    }

    pub fn stage(&self) -> Option<StageId> {
        self.history.last().map(|h| h.stage)
    }

    /// Earliest pending timer (`i64::MAX`: none).
    #[inline]
    pub fn next_due_or_max(&self) -> i64 {
        let mut next = i64::MAX;
        for t in self.timers.iter() {
            let due = t.due;
            if t.state == TimerState::Pending && due < next {
                next = due;
            }
        }
        next
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
    let (a_kind, b_kind) = (a.kind, b.kind);
    a.at()
        .cmp(&b.at())
        .then(a_kind.cmp(&b_kind))
        .then(a.channel().cmp(&b.channel()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_is_one_cache_line() {
        assert_eq!(size_of::<Extra>(), 40);
        assert_eq!(size_of::<Keys>(), 16);
        assert_eq!(size_of::<Timers>(), 16);
        assert_eq!(size_of::<TimerSlot>(), 12);
        assert_eq!(size_of::<Option<Profile>>(), 64);
        assert_eq!(align_of::<Option<Profile>>(), 64);
    }

    #[test]
    fn events_pack_losslessly() {
        use crate::time::{MAX_MILLIS, MIN_MILLIS};
        assert_eq!(size_of::<Event>(), 10);
        for at in [
            MIN_MILLIS,
            MIN_MILLIS + 1,
            -1,
            0,
            1,
            1_772_323_200_000,
            MAX_MILLIS - 1,
            MAX_MILLIS,
        ] {
            for (kind, channel, flags) in [
                (0, 0, 0),
                (u16::MAX, u8::MAX, HAS_EXTRA),
                (7, 3, HAS_EXTRA),
                (300, 254, 0),
            ] {
                let e = Event::new(at, kind, channel, flags);
                let k = e.kind;
                assert_eq!(
                    (e.at(), k, e.channel(), e.flags()),
                    (at, kind, channel, flags)
                );
                assert_eq!(e.has_extra(), flags == HAS_EXTRA);
            }
        }
        // The order of events is time, then kind, then channel.
        let names = |_| -> Arc<str> { "p".into() };
        let a = Event::new(5, 9, 9, 0);
        let b = Event::new(6, 0, 0, 0);
        let c = Event::new(6, 0, 1, HAS_EXTRA);
        assert_eq!(event_order(&a, None, &b, None, &names), Ordering::Less);
        assert_eq!(event_order(&c, None, &b, None, &names), Ordering::Greater);
        assert_eq!(event_order(&b, None, &b, None, &names), Ordering::Equal);
        // Time keys compare like times, at the edges of the range too.
        for at in [MIN_MILLIS, MIN_MILLIS + 1, 0, 5, MAX_MILLIS] {
            let e = Event::new(at, u16::MAX, u8::MAX, HAS_EXTRA);
            for t in [
                i64::MIN,
                MIN_MILLIS - 1,
                MIN_MILLIS,
                MIN_MILLIS + 1,
                -1,
                0,
                4,
                5,
                6,
                MAX_MILLIS,
                MAX_MILLIS + 1,
                i64::MAX,
            ] {
                assert_eq!(e.before(Event::time_key(t)), at < t, "{at} < {t}");
            }
        }
    }

    #[test]
    fn keys_inline_then_heap() {
        let mut k = Keys::default();
        let mut expected: Vec<KeyId> = Vec::new();
        for (i, pos) in [0usize, 0, 2, 1, 4, 0, 3].into_iter().enumerate() {
            k.insert(pos, i as KeyId);
            expected.insert(pos, i as KeyId);
            assert_eq!(&*k, &expected[..]);
            assert_eq!(k.heap_bytes() > 0, expected.len() > 3);
        }
        let collected: Keys = expected.iter().copied().collect();
        assert_eq!(&*collected, &expected[..]);
    }

    #[test]
    fn timers_inline_then_heap() {
        let slot = |due| TimerSlot {
            due,
            state: TimerState::Pending,
        };
        let mut t = Timers::new();
        assert!(t.is_empty());
        t.push(slot(5));
        assert_eq!(t.len(), 1);
        assert_eq!(t.heap_bytes(), 0);
        t.push(slot(3));
        t.push(slot(9));
        assert_eq!(t.iter().map(|s| s.due).collect::<Vec<_>>(), [5, 3, 9]);
        assert!(t.heap_bytes() > 0);
        t[1].state = TimerState::Fired;
        let p = Profile {
            timers: t.clone(),
            ..Profile::new()
        };
        assert_eq!(p.next_due_or_max(), 5);
        t.clear();
        assert!(t.is_empty());
        t.push(slot(1));
        let due = t[0].due;
        assert_eq!(due, 1);
        assert_eq!(Profile::new().next_due_or_max(), i64::MAX);
    }
}
