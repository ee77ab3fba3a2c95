//! The journey engine: ingests touchpoints, stitches identities, keeps every customer's stage,
//! fires timeouts in event time, and reports what each call caused.
//!
//! ```
//! use jornada::{Engine, Model, Timestamp, Touchpoint};
//! let mut engine = Engine::new(Model::preset("ecommerce").unwrap());
//! let t = |s| Timestamp::parse(s).unwrap();
//! engine.ingest(&Touchpoint::new("web", "add_to_cart", t("2026-03-01T10:00:00Z")).key("customer_id", "c1")).unwrap();
//! assert_eq!(engine.customer("c1").unwrap().stage.as_deref(), Some("cart"));
//! // No purchase within the hour: the abandoned-cart timeout fires when event time passes it.
//! let out = engine.advance_to(t("2026-03-01T11:00:00Z"));
//! assert_eq!(&*out.transitions[0].to, "abandoned_cart");
//! assert_eq!(&*out.actions[0].action, "abandoned_cart_sms");
//! assert!(out.actions[0].suppressed, "no SMS consent was given");
//! ```
//!
//! # Event time and late touchpoints
//! The engine's time is the latest of all touchpoint times and [`advance_to`](Engine::advance_to)
//! calls. One customer's touchpoints may arrive out of order by up to the model's
//! `allowed_lateness`, measured against that customer's latest touchpoint; an older one is
//! rejected with [`Error::LateEvent`]. A touchpoint that arrives out of order is placed where it
//! belongs and the customer's journey is recomputed: outputs reported earlier that no longer hold
//! come back in [`Outcome::retracted_transitions`] and [`Outcome::retracted_actions`], new ones in
//! `transitions` and `actions`. So after any arrival order within the lateness, the net outputs
//! and the final state are exactly those of in-order arrival.
//!
//! # Naming customers
//! A customer is named by their most preferred key: the value itself for the model's first
//! identity kind (`c1`), `kind:value` for the others (`cookie:abc`). [`Engine::customer`]
//! accepts either form.

mod identity;
pub(crate) mod machine;
mod outcome;
mod paged;
pub(crate) mod profile;
mod snapshot;
mod timeline;
mod view;
mod warm;

pub use outcome::{Action, Erasure, Merge, Outcome, Rejected, Transition};
pub use view::{ConsentEntry, CustomerView, MemoryUsage, StageVisit};

use crate::batch::{Row, TouchpointBatch};
use crate::error::{Error, Location, Result};
use crate::model::condition::PropKey;
use crate::model::{ChannelId, Compiled, IdentityId, Model, StageId};
use crate::time::{Duration, Timestamp};
use crate::touchpoint::{parse_from, parse_json, truncate, Parsed, Touchpoint};
use hashbrown::HashMap;
use identity::KeyStore;
use machine::{derive, last_timer_time, Machine, OutRec};
use paged::Paged;
use profile::*;
use smallvec::SmallVec;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use thin_vec::ThinVec;
use timeline::Timelines;

/// How many rows ahead of the one being applied a batch is read (see `State::ingest_all`), and
/// at which distances (0: the row applied next) the later warming stages run.
const AHEAD: usize = 16;
const WARM_KEY: usize = 11;
const WARM_PROFILE: usize = 7;
const WARM_HEADS: usize = 4;
const WARM_TAILS: usize = 2;
/// How far ahead of the row read next [`Engine::ingest_batch`] asks for an owned touchpoint's
/// heap parts (its key list, channel, kind, id and property list), and then for its keys' text.
const WARM_TP_PARTS: usize = 16;
const WARM_TP_KEYS: usize = 8;
/// From how many touchpoints in a batch [`Engine::ingest_batch`] asks for their parts ahead.
const WARM_TP_FROM: usize = 1024;

/// What reading a row ahead has found so far (see `State::warm_slot`).
#[derive(Debug, Clone, Copy)]
struct Ahead {
    /// The first key's hash.
    hash: u64,
    /// The key its tag names (0: none found).
    key: KeyId,
    /// Its owner (`u32::MAX`: none).
    pid: u32,
}

impl Ahead {
    const NONE: Ahead = Ahead {
        hash: 0,
        key: 0,
        pid: u32::MAX,
    };
}

/// From how many profile slots on a batch is read ahead, by default (below, everything a
/// touchpoint touches is likely in cache, and reading ahead only costs instructions: 4-6%
/// slower at 10k customers).
#[cfg(not(test))]
const READ_AHEAD_FROM: usize = 50_000;
/// Unit tests read ahead from the first customer.
#[cfg(test)]
const READ_AHEAD_FROM: usize = 0;

/// The journey engine for one model.
#[derive(Debug)]
pub struct Engine {
    model: Model,
    st: State,
}

#[derive(Debug, Clone, Copy)]
struct LogItem {
    pid: u32,
    rec: OutRec,
    retract: bool,
}

/// An entry of the timer queue: profile `pid` has a timer due at `due`. Packed into 12 bytes;
/// ordered so that the queue (a max-heap) pops the earliest `(due, pid)` first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, packed(4))]
struct Due {
    due: i64,
    pid: u32,
}

impl Due {
    #[inline]
    fn new(due: i64, pid: u32) -> Due {
        Due { due, pid }
    }

    #[inline]
    fn get(&self) -> (i64, u32) {
        (self.due, self.pid)
    }
}

impl Ord for Due {
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.get().cmp(&self.get())
    }
}

impl PartialOrd for Due {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Everything but the model, so methods can borrow the compiled model and the state apart.
#[derive(Debug, Default)]
pub(crate) struct State {
    keys: KeyStore,
    profiles: Paged<Option<Profile>>,
    timelines: Timelines,
    free: Vec<u32>,
    live: usize,
    ids: HashMap<Arc<str>, u32>,
    prop_names: Vec<Arc<str>>,
    prop_ix: HashMap<Arc<str>, PropKey>,
    queue: BinaryHeap<Due>,
    now: i64,
    stage_counts: Vec<u64>,
    // Per call:
    log: Vec<LogItem>,
    merges: Vec<Merge>,
    duplicates: Vec<String>,
    redirect: HashMap<u32, u32>,
    pending_free: Vec<u32>,
    scratch: Vec<OutRec>,
    /// Batches are read ahead once `profiles` holds this many slots.
    read_ahead_from: usize,
}

impl Engine {
    /// An empty engine for a model.
    pub fn new(model: Model) -> Engine {
        let m = &model.inner;
        let st = State {
            prop_names: m.props.iter().map(|(n, _)| n.clone()).collect(),
            prop_ix: m.prop_ix.clone(),
            now: i64::MIN,
            stage_counts: vec![0; m.stages.len()],
            read_ahead_from: READ_AHEAD_FROM,
            ..Default::default()
        };
        Engine { model, st }
    }

    /// From how many customers (profile slots) on batch ingest reads rows ahead to overlap
    /// cache misses (default 50,000; 0: always, `usize::MAX`: never). Outcomes and state never
    /// depend on it; the property tests run both ways with it.
    #[doc(hidden)]
    pub fn set_read_ahead_from(&mut self, profiles: usize) {
        self.st.read_ahead_from = profiles;
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The engine's time: the latest touchpoint time or `advance_to` time seen.
    pub fn now(&self) -> Option<Timestamp> {
        (self.st.now != i64::MIN).then_some(Timestamp(self.st.now))
    }

    /// Ingests one touchpoint and returns what it caused.
    pub fn ingest(&mut self, tp: &Touchpoint) -> Result<Outcome> {
        let m = &*self.model.inner;
        self.st.ingest_one(m, tp.resolve(m))
    }

    /// Ingests one touchpoint given as borrowed parts (see [`Row`]): what a binding builds from a
    /// record of its language without writing text or an owned [`Touchpoint`]. The same checks
    /// and the same outcome as [`ingest`](Self::ingest).
    ///
    /// ```
    /// use jornada::{batch::Row, Engine, Model, Timestamp};
    /// let mut engine = Engine::new(Model::preset("ecommerce").unwrap());
    /// let keys = [("customer_id", "c1")];
    /// let out = engine.ingest_row(Row::new(&keys, "web", "add_to_cart", Timestamp(0))).unwrap();
    /// assert_eq!(&*out.transitions.last().unwrap().to, "cart");
    /// let err = engine.ingest_row(Row { kind: None, ..Row::new(&keys, "web", "", Timestamp(1)) });
    /// assert_eq!(err.unwrap_err().code(), "missing_field");
    /// ```
    pub fn ingest_row(&mut self, row: Row<'_>) -> Result<Outcome> {
        let m = &*self.model.inner;
        self.st.ingest_one(m, row.resolve(m))
    }

    /// Ingests one touchpoint in its canonical JSON form.
    pub fn ingest_json(&mut self, json: &str) -> Result<Outcome> {
        let m = &*self.model.inner;
        self.st.ingest_one(m, parse_json(m, json.as_bytes()))
    }

    /// Ingests one touchpoint read from any serde [`Deserializer`](serde::Deserializer), with the
    /// rules of the canonical JSON form (see [`Touchpoint::from_deserializer`]). Bindings use it
    /// to ingest native objects without building JSON text or an owned [`Touchpoint`].
    ///
    /// ```
    /// use jornada::{Engine, Model};
    /// let mut engine = Engine::new(Model::preset("ecommerce").unwrap());
    /// let tp = serde_json::json!({"customer_id": "c1", "channel": "web", "kind": "add_to_cart", "at": 0});
    /// let out = engine.ingest_from(tp).unwrap();
    /// assert_eq!(&*out.transitions[1].to, "cart");
    /// ```
    pub fn ingest_from<'de, D: serde::Deserializer<'de>>(&mut self, d: D) -> Result<Outcome> {
        let m = &*self.model.inner;
        self.st.ingest_one(m, parse_from(m, d))
    }

    /// Ingests a batch of touchpoints read from deserializers, as one call: like
    /// [`ingest_batch`](Self::ingest_batch), every valid touchpoint is applied in order and the
    /// others are listed in [`Outcome::rejected`] with their position.
    ///
    /// ```
    /// use jornada::{Engine, Model};
    /// let mut engine = Engine::new(Model::preset("ecommerce").unwrap());
    /// let batch = serde_json::json!([
    ///     {"customer_id": "c1", "channel": "web", "kind": "page_view", "at": 0},
    ///     {"customer_id": "c2", "channel": "fax", "kind": "page_view", "at": 0},
    /// ]);
    /// let out = engine.ingest_batch_from(batch.as_array().unwrap().iter().cloned());
    /// assert_eq!((out.rejected[0].index, out.rejected[0].error.code()), (1, "unknown_channel"));
    /// assert_eq!(engine.customer_ids(), ["c1"]);
    /// ```
    pub fn ingest_batch_from<'de, I>(&mut self, items: I) -> Outcome
    where
        I: IntoIterator,
        I::Item: serde::Deserializer<'de>,
    {
        let m = &*self.model.inner;
        let rows = items.into_iter().enumerate();
        self.st
            .ingest_all(m, rows.map(|(i, d)| (i, None, parse_from(m, d))))
    }

    /// Ingests a batch. Every valid touchpoint is applied in order; the others are listed in
    /// [`Outcome::rejected`] with their index, and change nothing.
    pub fn ingest_batch(&mut self, tps: &[Touchpoint]) -> Outcome {
        let m = &*self.model.inner;
        // An owned touchpoint's text lies wherever the allocator put it (in a log sorted by
        // time, far from its neighbours'), so past the cache its parts are asked for ahead.
        // Whether they are in cache depends on the batch, not on the engine's size: a batch of
        // 10,000 touchpoints holds about 2.5 MB of them.
        let read_ahead = tps.len() > WARM_TP_FROM;
        let rows = tps.iter().enumerate().map(|(i, tp)| {
            if read_ahead {
                if let Some(t) = tps.get(i + WARM_TP_PARTS) {
                    warm::touchpoint_parts(t);
                }
                if let Some(t) = tps.get(i + WARM_TP_KEYS) {
                    warm::touchpoint_keys(t);
                }
            }
            (i, None, tp.resolve(m))
        });
        self.st.ingest_all(m, rows)
    }

    /// Ingests a columnar [`TouchpointBatch`]: exactly what [`ingest_batch`](Self::ingest_batch)
    /// does with the same touchpoints (same outcome, same rejections, same final state), with
    /// the batch's channel, kind and identity-kind names looked up once per batch instead of
    /// once per touchpoint. See [`crate::batch`] for an example.
    pub fn ingest_columns(&mut self, batch: &TouchpointBatch) -> Outcome {
        let m = &*self.model.inner;
        let lookup = batch.lookup(m);
        let rows = (0..batch.len()).map(|i| (i, None, batch.resolve(m, &lookup, i)));
        self.st.ingest_all(m, rows)
    }

    /// Ingests JSON lines (one touchpoint per line; blank lines are skipped). Lines that fail are
    /// listed in [`Outcome::rejected`] with their 0-based index among the non-blank lines and
    /// their 1-based line number.
    pub fn ingest_json_lines(&mut self, data: &[u8]) -> Outcome {
        let m = &*self.model.inner;
        // Line ends found with memchr (SIMD) rather than a byte-at-a-time split.
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len()));
        let lines = ends
            .map(move |end| {
                let line = &data[start..end];
                start = end + 1;
                line
            })
            .enumerate()
            .map(|(n, line)| (n + 1, line.strip_suffix(b"\r").unwrap_or(line)))
            .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace));
        let rows = lines
            .enumerate()
            .map(|(index, (line_no, line))| (index, Some(line_no), parse_json(m, line)));
        self.st.ingest_all(m, rows)
    }

    /// Moves event time forward to `t` (never backward) and fires the timeouts due by then.
    pub fn advance_to(&mut self, t: Timestamp) -> Outcome {
        let m = &*self.model.inner;
        if t.0 > self.st.now {
            self.st.now = t.0;
        }
        self.st.fire_due(m);
        self.st.finish(m)
    }

    /// Records a consent change for a customer and channel at an event time. A customer not yet
    /// known is created (with no touchpoints and no stage). Actions already reported whose
    /// suppression this changes are retracted and reported again.
    pub fn set_consent(
        &mut self,
        customer: &str,
        channel: &str,
        granted: bool,
        at: Timestamp,
    ) -> Result<Outcome> {
        let m = &*self.model.inner;
        let ch: ChannelId = *m
            .channel_ix
            .get(channel)
            .ok_or_else(|| Error::UnknownChannel {
                loc: Location::field("channel"),
                channel: truncate(channel),
            })?;
        if Timestamp::from_millis_checked(at.0).is_none() {
            return Err(Error::InvalidTimestamp {
                loc: Location::field("at"),
                value: at.0.to_string(),
            });
        }
        let pid = match self.st.lookup(m, customer) {
            Some(pid) => pid,
            None => {
                let (kind, value) = self.st.parse_customer_id(m, customer)?;
                self.st.create_profile(m, &[(kind, value)])?
            }
        };
        let change = ConsentChange {
            at: at.0,
            channel: ch,
            granted,
        };
        self.st.recompute(m, &[pid], |st, pid| {
            let p = st.profile_mut(pid);
            let pos = p.consent.partition_point(|c| *c <= change);
            p.consent.insert(pos, change);
            Ok(())
        })?;
        Ok(self.st.finish(m))
    }

    /// Erases a customer: profile, identity keys, touchpoints (and their ids), consent, history
    /// and pending timers. Nothing of it is left in later snapshots.
    pub fn erase(&mut self, customer: &str) -> Result<Erasure> {
        let m = &*self.model.inner;
        let pid = self
            .st
            .lookup(m, customer)
            .ok_or_else(|| Error::UnknownCustomer {
                customer: truncate(customer),
            })?;
        Ok(self.st.erase(m, pid))
    }

    /// A customer by id (`c1` for the first identity kind, `kind:value` for any kind).
    pub fn customer(&self, id: &str) -> Option<CustomerView> {
        let m = &*self.model.inner;
        self.st.lookup(m, id).map(|pid| self.st.view(m, pid))
    }

    /// A customer by one of their keys.
    pub fn customer_by_key(&self, kind: &str, value: &str) -> Option<CustomerView> {
        let m = &*self.model.inner;
        let k = *m.identity_ix.get(kind)?;
        let key = self.st.keys.find(k, value)?;
        Some(self.st.view(m, self.st.keys.owner(key)))
    }

    /// A customer's profile and timeline, for read-only figures computed beside the engine
    /// ([`crate::score`]).
    pub(crate) fn profile_of(&self, id: &str) -> Option<(&Profile, &[Event])> {
        let m = &*self.model.inner;
        self.st
            .lookup(m, id)
            .map(|pid| (self.st.profile(pid), self.st.events(pid)))
    }

    /// Ids of all customers, sorted.
    pub fn customer_ids(&self) -> Vec<String> {
        let m = &*self.model.inner;
        let mut ids: Vec<String> = self
            .st
            .profiles
            .iter()
            .flatten()
            .map(|p| self.st.display_id(m, &p.keys))
            .collect();
        ids.sort();
        ids
    }

    /// Number of customers.
    pub fn len(&self) -> usize {
        self.st.live
    }

    /// Whether no customer is known.
    pub fn is_empty(&self) -> bool {
        self.st.live == 0
    }

    /// Customers per stage, in stage order (customers known only through consent have no stage
    /// and are not counted).
    pub fn stage_counts(&self) -> Vec<(Arc<str>, u64)> {
        self.model
            .inner
            .stages
            .iter()
            .zip(&self.st.stage_counts)
            .map(|(s, n)| (s.name.clone(), *n))
            .collect()
    }

    /// Bytes held by the engine, by part (capacities, not just lengths).
    pub fn memory_usage(&self) -> MemoryUsage {
        self.st.memory_usage()
    }
}

impl State {
    #[inline]
    fn profile(&self, pid: u32) -> &Profile {
        self.profiles[pid as usize].as_ref().expect("live profile")
    }

    /// The timeline of profile `pid`.
    #[inline]
    fn events(&self, pid: u32) -> &[Event] {
        self.timelines.get(self.profile(pid).events)
    }

    #[inline]
    fn profile_mut(&mut self, pid: u32) -> &mut Profile {
        self.profiles[pid as usize].as_mut().expect("live profile")
    }

    /// A customer's id: their most preferred key (`keys` is in preference order).
    pub(crate) fn display_id(&self, m: &Compiled, keys: &[KeyId]) -> String {
        match keys.first() {
            Some(&k) => {
                let kind = self.keys.kind(k);
                let v = self.keys.value(k);
                if kind == 0 {
                    v.to_string()
                } else {
                    format!("{}:{}", m.identities[kind as usize].name, v)
                }
            }
            None => String::new(),
        }
    }

    fn parse_customer_id<'a>(&self, m: &Compiled, id: &'a str) -> Result<(IdentityId, &'a str)> {
        if let Some((kind, value)) = id.split_once(':') {
            if let Some(&k) = m.identity_ix.get(kind) {
                if k != 0 && !value.is_empty() {
                    return Ok((k, value));
                }
            }
        }
        if id.is_empty() || id.len() > crate::touchpoint::MAX_KEY_LEN {
            return Err(Error::InvalidValue {
                loc: Location::field("customer"),
                message: "customer ids are 1 to 1024 bytes long".into(),
            });
        }
        Ok((0, id))
    }

    fn lookup(&self, m: &Compiled, id: &str) -> Option<u32> {
        if let Some(k) = self.keys.find(0, id) {
            return Some(self.keys.owner(k));
        }
        let (kind, value) = id.split_once(':')?;
        let k = *m.identity_ix.get(kind)?;
        self.keys.find(k, value).map(|key| self.keys.owner(key))
    }

    fn create_profile(&mut self, m: &Compiled, keys: &[(IdentityId, &str)]) -> Result<u32> {
        let pid = match self.free.pop() {
            Some(pid) => pid,
            None => {
                self.profiles.push(None);
                u32::try_from(self.profiles.len() - 1).map_err(|_| Error::Capacity {
                    message: "more than 4 billion customers".into(),
                })?
            }
        };
        self.profiles[pid as usize] = Some(Profile::new());
        self.live += 1;
        self.add_keys(m, pid, keys, None)?;
        Ok(pid)
    }

    /// Adds keys to a profile, keeping them in preference order; reports a rename when the
    /// customer's id changes (`at` is `None` for a new profile).
    fn add_keys(
        &mut self,
        m: &Compiled,
        pid: u32,
        keys: &[(IdentityId, &str)],
        at: Option<i64>,
    ) -> Result<()> {
        let old = at.map(|_| self.display_id(m, &self.profile(pid).keys));
        for &(kind, value) in keys {
            if self.keys.find(kind, value).is_some() {
                continue;
            }
            let kid = self.keys.insert(kind, value, pid)?;
            let mut list = std::mem::take(&mut self.profile_mut(pid).keys);
            let pos = list.partition_point(|&k| self.keys.cmp(k, kid) == std::cmp::Ordering::Less);
            list.insert(pos, kid);
            self.profile_mut(pid).keys = list;
        }
        if let (Some(old), Some(at)) = (old, at) {
            let new = self.display_id(m, &self.profile(pid).keys);
            if new != old {
                self.merges.push(Merge {
                    into: new,
                    from: vec![old],
                    at: Timestamp(at),
                });
            }
        }
        Ok(())
    }

    fn intern_prop(&mut self, name: &str) -> Result<PropKey> {
        if let Some(&k) = self.prop_ix.get(name) {
            return Ok(k);
        }
        if self.prop_names.len() >= (u16::MAX - 1) as usize {
            return Err(Error::Capacity {
                message: "more than 65,534 distinct property names".into(),
            });
        }
        let k = self.prop_names.len() as PropKey;
        let name: Arc<str> = name.into();
        self.prop_names.push(name.clone());
        self.prop_ix.insert(name, k);
        Ok(k)
    }

    /// One touchpoint (or the error resolving it): ingested, and what it caused.
    fn ingest_one(&mut self, m: &Compiled, p: Result<Parsed<'_>>) -> Result<Outcome> {
        let r = self.ingest(m, p?);
        let out = self.finish(m);
        r.map(|_| out)
    }

    /// Rows `(index, line, resolved touchpoint)` in order, as one call: every valid one is
    /// applied, the others are rejected (with their index and line) and change nothing.
    ///
    /// Once the engine holds `read_ahead_from` profiles or more (too many to stay in cache), rows
    /// are read [`AHEAD`] ahead of the one being applied, and on its way to being applied a row
    /// asks the cache, one stage at a time, for each line its touchpoint will wait on: its
    /// first key's table slot, that key's record, the customer's profile slot, the end of their
    /// timeline (its whole block and the block it moves to, when full) and the head of their
    /// stage history, then the history's tail. Each stage reads only what the stage before
    /// asked for, so the waits of several rows overlap instead of queueing
    /// (README Benchmarks). Only cache hints: what a row does is decided when it is applied,
    /// after every row before it, so outcomes are the same either way (the tests run both).
    #[inline(always)]
    fn ingest_all<'a>(
        &mut self,
        m: &Compiled,
        rows: impl Iterator<Item = (usize, Option<usize>, Result<Parsed<'a>>)>,
    ) -> Outcome {
        let mut rejected = Vec::new();
        let read_ahead = self.reads_ahead();
        let mut ahead: VecDeque<(usize, Option<usize>, Result<Parsed<'a>>, Ahead)> =
            VecDeque::with_capacity(if read_ahead { AHEAD + 1 } else { 0 });
        let mut rows = rows.fuse();
        loop {
            // One call of `next` in the loop, so that the row conversion inlines here.
            let mut row = rows.next();
            if read_ahead {
                if let Some((index, line, p)) = row {
                    let a = self.warm_slot(&p);
                    ahead.push_back((index, line, p, a));
                    if ahead.len() <= AHEAD {
                        continue;
                    }
                }
                self.warm_stages(&mut ahead);
                row = ahead
                    .pop_front()
                    .map(|(index, line, p, _)| (index, line, p));
            }
            let Some((index, line, p)) = row else {
                break;
            };
            if let Err(e) = p.and_then(|p| self.ingest(m, p)) {
                let e = e.at_index(index);
                rejected.push(Rejected {
                    index,
                    error: match line {
                        Some(n) => e.at_line(n),
                        None => e,
                    },
                });
            }
        }
        let mut out = self.finish(m);
        out.rejected = rejected;
        out
    }

    /// Whether the engine holds enough profiles that what a row touches is likely out of
    /// cache, so that reading ahead and asking for lines early pays.
    #[inline]
    fn reads_ahead(&self) -> bool {
        self.profiles.len() >= self.read_ahead_from
    }

    /// Stage 1, as a row is read: its first key's hash, and that key's table slot asked for.
    #[inline]
    fn warm_slot(&self, p: &Result<Parsed<'_>>) -> Ahead {
        let Some((kind, value)) = p.as_ref().ok().and_then(|p| p.keys.first()) else {
            return Ahead::NONE;
        };
        let hash = self.keys.hash(*kind, value);
        self.keys.warm_slot(hash);
        Ahead {
            hash,
            key: 0,
            pid: u32::MAX,
        }
    }

    /// The later stages, each on the row at its distance from the one applied next: the key's
    /// record (from the slot asked for at stage 1), the profile slot (from the record), the
    /// timeline's end and the history's head (from the profile slot), the history's tail (from
    /// its head).
    #[inline]
    fn warm_stages<'a>(
        &self,
        ahead: &mut VecDeque<(usize, Option<usize>, Result<Parsed<'a>>, Ahead)>,
    ) {
        if let Some((_, _, Ok(p), a)) = ahead.get_mut(WARM_KEY) {
            if !p.keys.is_empty() {
                if let Some((key, rec)) = self.keys.candidate(a.hash) {
                    warm::prefetch(rec);
                    a.key = key;
                }
            }
        }
        if let Some((_, _, Ok(p), a)) = ahead.get_mut(WARM_PROFILE) {
            if let (Some((kind, value)), true) = (p.keys.first(), a.key != 0) {
                if let Some(pid) = self.keys.owner_if(a.key, *kind, value) {
                    warm::prefetch(self.profiles.addr(pid as usize));
                    a.pid = pid;
                }
            }
        }
        if let Some((_, _, _, a)) = ahead.get(WARM_HEADS) {
            if let Some(Some(p)) = self.profiles.get(a.pid as usize) {
                self.timelines.warm_append(p.events);
                warm::prefetch(p.history.as_ptr());
            }
        }
        if let Some((_, _, _, a)) = ahead.get(WARM_TAILS) {
            if let Some(Some(p)) = self.profiles.get(a.pid as usize) {
                warm::prefetch(p.history.as_ptr().wrapping_add(p.history.len()));
            }
        }
    }

    fn ingest(&mut self, m: &Compiled, p: Parsed<'_>) -> Result<()> {
        if let Some(id) = &p.id {
            if self.ids.contains_key(&**id) {
                self.duplicates.push(id.to_string());
                return Ok(());
            }
        }
        // Which profiles do the keys name?
        let mut found: SmallVec<[u32; 2]> = SmallVec::new();
        let mut new_keys: SmallVec<[(IdentityId, &str); 2]> = SmallVec::new();
        let any_personal = p
            .keys
            .iter()
            .any(|(k, _)| !m.identities[*k as usize].shared);
        let preferred_shared = if any_personal {
            None
        } else {
            // Only shared keys: the touchpoint belongs to the profile of the preferred one.
            p.keys
                .iter()
                .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)))
        };
        for (kind, value) in &p.keys {
            let counts = match preferred_shared {
                Some((pk, pv)) => pk == kind && pv == value,
                None => !m.identities[*kind as usize].shared,
            };
            if !counts {
                continue;
            }
            match self.keys.find(*kind, value) {
                Some(kid) => {
                    let owner = self.keys.owner(kid);
                    if !found.contains(&owner) {
                        found.push(owner);
                    }
                }
                None => {
                    if !new_keys.iter().any(|(k, v)| k == kind && *v == &**value) {
                        new_keys.push((*kind, value));
                    }
                }
            }
        }
        // Lateness, against the latest touchpoint of the customer(s).
        if let Some(latest) = found
            .iter()
            .filter_map(|&pid| self.events(pid).last().map(|e| e.at()))
            .max()
        {
            if p.at < latest.saturating_sub(m.lateness) {
                let pid = found[0];
                return Err(Error::LateEvent {
                    loc: Location::default(),
                    customer: self.display_id(m, &self.profile(pid).keys),
                    at: Timestamp(p.at),
                    latest: Timestamp(latest),
                    lateness: Duration(m.lateness),
                });
            }
        }
        let mut props = Vec::with_capacity(p.props.len());
        for (name, v) in &p.props {
            props.push((self.intern_prop(name)?, v.clone()));
        }
        let extra = (p.id.is_some() || p.value.is_some() || !props.is_empty()).then(|| Extra {
            id: p.id.as_deref().map(Arc::from),
            value: p.value,
            props: ThinVec::from(props),
        });
        let event = Event::new(
            p.at,
            p.kind,
            p.channel,
            if extra.is_some() { HAS_EXTRA } else { 0 },
        );
        let pid = match found.len() {
            0 => self.create_profile(m, &new_keys)?,
            1 => {
                if !new_keys.is_empty() {
                    self.add_keys(m, found[0], &new_keys, Some(p.at))?;
                }
                found[0]
            }
            _ => {
                return self.merge_and_insert(m, &found, &new_keys, event, extra);
            }
        };
        let prof = self.profile(pid);
        let in_order = match self.timelines.get(prof.events).last() {
            None => true,
            // The common case: strictly later (what `event_order` compares first).
            Some(last) if last.at() < event.at() => true,
            Some(last) => {
                let lx = if last.has_extra() {
                    prof.extras.last()
                } else {
                    None
                };
                let names = &self.prop_names;
                event_order(last, lx, &event, extra.as_ref(), &|k| {
                    names[k as usize].clone()
                }) == std::cmp::Ordering::Less
            }
        } && event.at() > last_timer_time(m, prof);
        if in_order {
            self.append(m, pid, event, extra)
        } else {
            self.recompute(m, &[pid], |st, pid| {
                if event.at() > st.now {
                    st.now = event.at();
                }
                st.insert_event(pid, event, extra)
            })
        }
    }

    fn register_id(&mut self, extra: &Option<Extra>, pid: u32) {
        if let Some(id) = extra.as_ref().and_then(|x| x.id.clone()) {
            self.ids.insert(id, pid);
        }
    }

    /// The fast path: a touchpoint after everything the customer's state was derived from.
    fn append(&mut self, m: &Compiled, pid: u32, event: Event, extra: Option<Extra>) -> Result<()> {
        let prof = self.profiles[pid as usize].as_mut().expect("live profile");
        // First, as the only step that can fail (at 4 billion events).
        self.timelines.push(&mut prof.events, event)?;
        self.register_id(&extra, pid);
        if event.at() > self.now {
            self.now = event.at();
        }
        let prof = self.profiles[pid as usize].as_mut().expect("live profile");
        if let Some(x) = extra {
            // Most customers have few events with extras (a purchase, a review): start small.
            push_grow_slowly(&mut prof.extras, x, 1, 1);
        }
        let before = prof.stage();
        let due_before = prof.next_due_or_max();
        let events = self.timelines.get(prof.events);
        let idx = events.len() - 1;
        let xi = prof.extras.len() - event.has_extra() as usize;
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut machine = Machine {
            m,
            consent: &prof.consent,
            history: &mut prof.history,
            timers: &mut prof.timers,
            sink: &mut scratch,
        };
        machine.fire_timers(event.at(), false);
        machine.on_event(events, &prof.extras, idx, xi);
        let after = prof.stage();
        self.count_move(before, after);
        for rec in scratch.drain(..) {
            self.log.push(LogItem {
                pid,
                rec,
                retract: false,
            });
        }
        self.scratch = scratch;
        self.reschedule(pid, due_before);
        self.fire_due(m);
        Ok(())
    }

    fn count_move(&mut self, before: Option<StageId>, after: Option<StageId>) {
        if before != after {
            if let Some(b) = before {
                self.stage_counts[b as usize] -= 1;
            }
            if let Some(a) = after {
                self.stage_counts[a as usize] += 1;
            }
        }
    }

    /// Places an event in a profile's timeline (the profile's derived state is recomputed by
    /// the caller).
    fn insert_event(&mut self, pid: u32, event: Event, extra: Option<Extra>) -> Result<()> {
        let p = self.profiles[pid as usize].as_mut().expect("live profile");
        let events = self.timelines.get(p.events);
        let names = &self.prop_names;
        let mut pos = events.len();
        let mut xpos = p.extras.len();
        while pos > 0 {
            let prev = events[pos - 1];
            let px = if prev.has_extra() {
                Some(&p.extras[xpos - 1])
            } else {
                None
            };
            if event_order(&prev, px, &event, extra.as_ref(), &|k| {
                names[k as usize].clone()
            }) != std::cmp::Ordering::Greater
            {
                break;
            }
            pos -= 1;
            xpos -= prev.has_extra() as usize;
        }
        self.timelines.insert(&mut p.events, pos, event)?;
        self.register_id(&extra, pid);
        let p = self.profiles[pid as usize].as_mut().expect("live profile");
        if let Some(x) = extra {
            p.extras.insert(xpos, x);
        }
        Ok(())
    }

    /// Rewrites the timelines of `pids` with `mutate` and reports the difference between the
    /// outputs derived before and after (retractions and new outputs), under the first profile.
    fn recompute(
        &mut self,
        m: &Compiled,
        pids: &[u32],
        mutate: impl FnOnce(&mut State, u32) -> Result<()>,
    ) -> Result<()> {
        let mut old = Vec::new();
        let due_before = self.profile(pids[0]).next_due_or_max();
        for &pid in pids {
            let now = self.now;
            let p = self.profiles[pid as usize].as_mut().expect("live profile");
            let before = p.stage();
            derive(m, p, self.timelines.get(p.events), now, &mut old);
            if let Some(b) = before {
                self.stage_counts[b as usize] -= 1;
            }
        }
        let target = pids[0];
        mutate(self, target)?;
        let mut new = Vec::new();
        let now = self.now;
        let p = self.profiles[target as usize]
            .as_mut()
            .expect("live profile");
        derive(m, p, self.timelines.get(p.events), now, &mut new);
        if let Some(a) = p.stage() {
            self.stage_counts[a as usize] += 1;
        }
        self.log_diff(target, &old, &new);
        self.reschedule(target, due_before);
        self.fire_due(m);
        Ok(())
    }

    fn log_diff(&mut self, pid: u32, old: &[OutRec], new: &[OutRec]) {
        let common = old.iter().zip(new).take_while(|(a, b)| a == b).count();
        let mut counts: HashMap<OutRec, i64> = HashMap::new();
        for r in &old[common..] {
            *counts.entry(*r).or_default() += 1;
        }
        for r in &new[common..] {
            *counts.entry(*r).or_default() -= 1;
        }
        for r in &old[common..] {
            let c = counts.get_mut(r).expect("counted");
            if *c > 0 {
                *c -= 1;
                self.log.push(LogItem {
                    pid,
                    rec: *r,
                    retract: true,
                });
            }
        }
        for r in &new[common..] {
            let c = counts.get_mut(r).expect("counted");
            if *c < 0 {
                *c += 1;
                self.log.push(LogItem {
                    pid,
                    rec: *r,
                    retract: false,
                });
            }
        }
    }

    /// A touchpoint naming several known profiles: they become one, then the touchpoint joins.
    fn merge_and_insert(
        &mut self,
        m: &Compiled,
        found: &[u32],
        new_keys: &[(IdentityId, &str)],
        event: Event,
        extra: Option<Extra>,
    ) -> Result<()> {
        let mut order: SmallVec<[u32; 2]> = found.into();
        order.sort_by(|&a, &b| {
            self.keys
                .cmp(self.profile(a).keys[0], self.profile(b).keys[0])
        });
        let old_ids: Vec<String> = order
            .iter()
            .map(|&pid| self.display_id(m, &self.profile(pid).keys))
            .collect();
        let at = event.at();
        let absorbed: SmallVec<[u32; 2]> = order[1..].into();
        self.recompute(m, &order, |st, survivor| {
            for &pid in &absorbed {
                st.absorb(survivor, pid)?;
            }
            st.add_keys(m, survivor, new_keys, None)?;
            if event.at() > st.now {
                st.now = event.at();
            }
            st.insert_event(survivor, event, extra)
        })?;
        let into = self.display_id(m, &self.profile(order[0]).keys);
        let from: Vec<String> = old_ids.into_iter().filter(|id| *id != into).collect();
        self.merges.push(Merge {
            into,
            from,
            at: Timestamp(at),
        });
        Ok(())
    }

    /// Moves everything of profile `pid` into `survivor` (derived state is recomputed later).
    fn absorb(&mut self, survivor: u32, pid: u32) -> Result<()> {
        let gone = self.profiles[pid as usize].take().expect("live profile");
        self.live -= 1;
        self.redirect.insert(pid, survivor);
        self.pending_free.push(pid);
        for &k in gone.keys.iter() {
            self.keys.set_owner(k, survivor);
        }
        for x in &gone.extras {
            if let Some(id) = &x.id {
                self.ids.insert(id.clone(), survivor);
            }
        }
        let names = std::mem::take(&mut self.prop_names);
        let keys = &self.keys;
        let s = self.profiles[survivor as usize]
            .as_mut()
            .expect("live profile");
        let mut all_keys: Vec<KeyId> = s.keys.iter().chain(gone.keys.iter()).copied().collect();
        all_keys.sort_by(|&a, &b| keys.cmp(a, b));
        s.keys = all_keys.into_iter().collect();
        // Merge the two timelines.
        let timelines = &self.timelines;
        let split = |p: &Profile| -> Vec<(Event, Option<Extra>)> {
            let mut xi = 0;
            timelines
                .get(p.events)
                .iter()
                .map(|e| {
                    let x = e.has_extra().then(|| {
                        xi += 1;
                        p.extras[xi - 1].clone()
                    });
                    (*e, x)
                })
                .collect()
        };
        let mut merged = split(s);
        merged.extend(split(&gone));
        merged.sort_by(|(a, ax), (b, bx)| {
            event_order(a, ax.as_ref(), b, bx.as_ref(), &|k| {
                names[k as usize].clone()
            })
        });
        let events: Vec<Event> = merged.iter().map(|(e, _)| *e).collect();
        s.extras = merged.into_iter().filter_map(|(_, x)| x).collect();
        let mut consent: Vec<ConsentChange> = s
            .consent
            .iter()
            .chain(gone.consent.iter())
            .copied()
            .collect();
        consent.sort();
        s.consent = consent.into_iter().collect();
        self.prop_names = names;
        let s = self.profiles[survivor as usize]
            .as_mut()
            .expect("live profile");
        self.timelines.set(&mut s.events, &events)?;
        self.timelines.free(gone.events, false);
        Ok(())
    }

    fn erase(&mut self, m: &Compiled, pid: u32) -> Erasure {
        let p = self.profiles[pid as usize].take().expect("live profile");
        let customer = self.display_id(m, &p.keys);
        for &k in p.keys.iter() {
            self.keys.remove(k);
        }
        for x in &p.extras {
            if let Some(id) = &x.id {
                self.ids.remove(id);
            }
        }
        if let Some(s) = p.stage() {
            self.stage_counts[s as usize] -= 1;
        }
        self.live -= 1;
        self.free.push(pid);
        self.timelines.free(p.events, true);
        Erasure {
            customer,
            keys: p.keys.len(),
            events: p.events.len(),
        }
    }

    /// Keeps the invariant: every profile with a pending timer has a live queue entry
    /// `(next due timer, pid)`. `before` is the profile's next due time when its live entry was
    /// last pushed (`i64::MAX`: none is live); a new entry is pushed only when the next due time
    /// changed. Entries whose due time no longer matches the profile's next due time are stale
    /// and skipped when popped.
    #[inline]
    fn reschedule(&mut self, pid: u32, before: i64) {
        let next = self.profile(pid).next_due_or_max();
        if next != before && next != i64::MAX {
            if self.queue.len() == self.queue.capacity() {
                // By a quarter, not double: the queue holds an entry for most customers.
                self.queue.reserve_exact((self.queue.len() / 4).max(64));
            }
            self.queue.push(Due::new(next, pid));
            if self.queue.len() > 2 * self.live + 1024 {
                self.compact_queue();
            }
        }
    }

    /// Drops stale queue entries (outputs are unaffected: stale entries are skipped anyway).
    fn compact_queue(&mut self) {
        let live: Vec<Due> = self
            .profiles
            .iter()
            .enumerate()
            .filter_map(|(pid, p)| {
                let due = p.as_ref()?.next_due_or_max();
                (due != i64::MAX).then_some(Due::new(due, pid as u32))
            })
            .collect();
        self.queue = BinaryHeap::from(live);
    }

    /// Fires every timer due by the engine's time in time order across customers (ties by
    /// profile slot): each queue entry fires only that customer's timers due at its time.
    fn fire_due(&mut self, m: &Compiled) {
        while let Some((due, pid)) = self.queue.peek().map(Due::get) {
            if due > self.now {
                break;
            }
            self.queue.pop();
            // The entry now first fires next, usually some rows later: ask for its profile
            // slot now (a customer whose timer fires has been idle, out of cache).
            if let Some(next) = self.queue.peek().filter(|_| self.reads_ahead()) {
                warm::prefetch(self.profiles.addr(next.get().1 as usize));
            }
            let Some(p) = self.profiles[pid as usize].as_mut() else {
                continue;
            };
            if p.next_due_or_max() != due {
                continue;
            }
            let before = p.stage();
            let mut scratch = std::mem::take(&mut self.scratch);
            Machine {
                m,
                consent: &p.consent,
                history: &mut p.history,
                timers: &mut p.timers,
                sink: &mut scratch,
            }
            .fire_timers(due, true);
            let after = p.stage();
            self.count_move(before, after);
            for rec in scratch.drain(..) {
                self.log.push(LogItem {
                    pid,
                    rec,
                    retract: false,
                });
            }
            self.scratch = scratch;
            // The entry just popped was the live one.
            self.reschedule(pid, i64::MAX);
        }
    }

    fn root(&self, mut pid: u32) -> u32 {
        while let Some(&next) = self.redirect.get(&pid) {
            pid = next;
        }
        pid
    }

    /// Ends a call: cancels outputs emitted and retracted within it, names customers by their
    /// current ids, and frees the slots of merged-away profiles.
    fn finish(&mut self, m: &Compiled) -> Outcome {
        let mut out = Outcome {
            merges: std::mem::take(&mut self.merges),
            duplicates: std::mem::take(&mut self.duplicates),
            ..Default::default()
        };
        let mut log = std::mem::take(&mut self.log);
        for item in &mut log {
            item.pid = self.root(item.pid);
        }
        if log.iter().any(|i| i.retract) {
            // An output emitted and retracted (or retracted and emitted again) within the call
            // cancels out.
            let mut dead = vec![false; log.len()];
            let mut open: HashMap<(u32, OutRec, bool), Vec<usize>> = HashMap::new();
            for (i, item) in log.iter().enumerate() {
                let opposite = (item.pid, item.rec, !item.retract);
                if let Some(j) = open.get_mut(&opposite).and_then(|v| v.pop()) {
                    dead[i] = true;
                    dead[j] = true;
                } else {
                    open.entry((item.pid, item.rec, item.retract))
                        .or_default()
                        .push(i);
                }
            }
            let mut dead = dead.into_iter();
            log.retain(|_| !dead.next().unwrap_or(false));
        }
        let (transitions, actions) =
            log.iter()
                .filter(|i| !i.retract)
                .fold((0, 0), |(t, a), i| match i.rec {
                    OutRec::Transition { .. } => (t + 1, a),
                    OutRec::Action { .. } => (t, a + 1),
                });
        out.transitions.reserve_exact(transitions);
        out.actions.reserve_exact(actions);
        // Customer ids, computed once per run of outputs of one customer; the last output of a
        // run takes the id instead of a copy.
        let mut cached: Option<(u32, String)> = None;
        let warm = self.reads_ahead();
        for (i, item) in log.iter().enumerate() {
            // The outputs of a batch name customers touched thousands of rows ago, out of
            // cache: ask for the profile slot of the output 8 ahead and the key record of the
            // one 4 ahead, as ingest_all does for rows.
            if warm {
                if let Some(next) = log.get(i + 8) {
                    warm::prefetch(self.profiles.addr(next.pid as usize));
                }
                if let Some(Some(p)) = log
                    .get(i + 4)
                    .and_then(|n| self.profiles.get(n.pid as usize))
                {
                    if let Some(&k) = p.keys.first() {
                        self.keys.warm_record(k);
                    }
                }
            }
            let id = match cached.take() {
                Some((pid, id)) if pid == item.pid => id,
                _ => self.profiles[item.pid as usize]
                    .as_ref()
                    .map(|p| self.display_id(m, &p.keys))
                    .unwrap_or_default(),
            };
            let customer = if log.get(i + 1).is_some_and(|next| next.pid == item.pid) {
                let copy = id.clone();
                cached = Some((item.pid, id));
                copy
            } else {
                id
            };
            match item.rec {
                OutRec::Transition {
                    at,
                    from,
                    to,
                    rule,
                    channel,
                } => {
                    let t = Transition {
                        customer,
                        from: from.map(|s| m.stages[s as usize].name.clone()),
                        to: m.stages[to as usize].name.clone(),
                        at: Timestamp(at),
                        rule: rule.map(|r| m.rules[r as usize].name.clone()),
                        channel: channel.map(|c| m.channels[c as usize].name.clone()),
                    };
                    if item.retract {
                        out.retracted_transitions.push(t)
                    } else {
                        out.transitions.push(t)
                    }
                }
                OutRec::Action {
                    at,
                    action,
                    rule,
                    stage,
                    suppressed,
                } => {
                    let def = &m.actions[action as usize];
                    let a = Action {
                        customer,
                        action: def.name.clone(),
                        channel: def.channel.map(|c| m.channels[c as usize].name.clone()),
                        params: def.params.clone(),
                        at: Timestamp(at),
                        stage: m.stages[stage as usize].name.clone(),
                        rule: rule.map(|r| m.rules[r as usize].name.clone()),
                        suppressed,
                    };
                    if item.retract {
                        out.retracted_actions.push(a)
                    } else {
                        out.actions.push(a)
                    }
                }
            }
        }
        log.clear();
        self.log = log;
        self.redirect.clear();
        self.free.append(&mut self.pending_free);
        out
    }
}

/// Pushes, starting a list at `first` elements and growing a full one by a quarter (at least
/// `min`) rather than doubling, for the short per-customer lists (extras) where less slack
/// matters more than a few extra reallocations. Timelines grow the same way in their store
/// ([`timeline`]: 4, then at least 3: 4, 7, 10, 13, 16, 20, 25...); for them a simulation of the
/// bench's activity distribution gave 11 bytes of slack per customer and 3.3 moves, against 16
/// bytes and 2.9 with steps of 4, and 7.5 bytes but 4 moves with steps of 2 (which measured 15%
/// slower at 1M customers).
#[inline]
fn push_grow_slowly<T>(v: &mut thin_vec::ThinVec<T>, x: T, first: usize, min: usize) {
    if v.len() == v.capacity() {
        v.reserve_exact(if v.is_empty() {
            first
        } else {
            (v.len() / 4).max(min)
        });
    }
    v.push(x);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timelines_grow_by_a_quarter_at_least_three() {
        let mut v: ThinVec<u8> = ThinVec::new();
        let mut caps = Vec::new();
        for i in 0..40 {
            push_grow_slowly(&mut v, i, 4, 3);
            if caps.last() != Some(&v.capacity()) {
                caps.push(v.capacity());
            }
        }
        assert_eq!(caps, [4, 7, 10, 13, 16, 20, 25, 31, 38, 47]);
        assert_eq!(v.len(), 40);
        assert!(v.iter().copied().eq(0..40));
    }

    /// A batch large enough that `ingest_batch` reads its touchpoints ahead (more than
    /// `WARM_TP_FROM`, with rejected rows among them, and two-key rows that merge profiles)
    /// rejects the same rows and ends in the same state as the same touchpoints ingested one
    /// at a time.
    #[test]
    fn large_batches_read_ahead_like_single_touchpoints() {
        let model = Model::preset("ecommerce").unwrap();
        let kinds = [
            "page_view",
            "product_view",
            "add_to_cart",
            "purchase",
            "review",
        ];
        let tps: Vec<Touchpoint> = (0..3 * WARM_TP_FROM as i64)
            .map(|i| {
                let channel = if i % 97 == 0 { "fax" } else { "web" };
                let tp = Touchpoint::new(channel, kinds[(i % 5) as usize], Timestamp(i * 60_000))
                    .key("customer_id", format!("c{}", i * 7 % 211));
                if i % 13 == 0 {
                    // Shared by two customers: their profiles merge.
                    tp.key("email", format!("e{}@x", i * 7 % 211 / 2))
                } else {
                    tp
                }
            })
            .collect();
        let mut batch = Engine::new(model.clone());
        let out = batch.ingest_batch(&tps);
        let mut single = Engine::new(model);
        let mut want = Outcome::default();
        let mut rejected = Vec::new();
        for (i, tp) in tps.iter().enumerate() {
            match single.ingest(tp) {
                Ok(o) => want.extend(o),
                Err(e) => rejected.push((i, e.code())),
            }
        }
        let got: Vec<_> = out
            .rejected
            .iter()
            .map(|r| (r.index, r.error.code()))
            .collect();
        assert_eq!(got, rejected);
        assert!(rejected.len() > 20);
        assert!(!want.merges.is_empty());
        assert_eq!(batch.stage_counts(), single.stage_counts());
        assert_eq!(batch.customer_ids(), single.customer_ids());
        for id in batch.customer_ids() {
            let (a, b) = (batch.customer(&id).unwrap(), single.customer(&id).unwrap());
            assert_eq!(a.stage, b.stage);
            assert_eq!(a.history.len(), b.history.len());
        }
    }
}
