//! Snapshots: the engine's whole state as bytes, to keep it across restarts.
//!
//! Layout: the magic `JRNDSNAP`, the format version (u32, little-endian), the payload length
//! (u64), a CRC-32 of the payload (u32), then the payload: a postcard encoding of the model's
//! canonical JSON, the engine time, and every profile's keys, timeline and consent. Derived state
//! (stages, histories, timers) is not stored: restore recomputes it with the same code that
//! produced it, so restoring and continuing is indistinguishable from never stopping.
//!
//! Restore checks everything (magic, version, length, checksum, every index and the order of
//! every timeline) and answers damaged or foreign bytes with an error, never a panic.

use super::machine::{derive, Discard};
use super::profile::*;
use super::{Engine, State};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::value::PropValue;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"JRNDSNAP";
/// The snapshot format version this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;
const HEADER: usize = 8 + 4 + 8 + 4;

#[derive(Serialize, Deserialize)]
struct SnapV1 {
    model: String,
    now: i64,
    prop_names: Vec<String>,
    profiles: Vec<Option<SnapProfile>>,
    free: Vec<u32>,
}

#[derive(Serialize, Deserialize)]
struct SnapProfile {
    keys: Vec<(u8, String)>,
    events: Vec<(i64, u16, u8, u8)>,
    extras: Vec<SnapExtra>,
    consent: Vec<(i64, u8, bool)>,
}

#[derive(Serialize, Deserialize)]
struct SnapExtra {
    id: Option<String>,
    value: Option<f64>,
    props: Vec<(u16, SnapValue)>,
}

#[derive(Serialize, Deserialize)]
enum SnapValue {
    S(String),
    N(f64),
    B(bool),
}

fn corrupt(message: impl Into<String>) -> Error {
    Error::CorruptSnapshot {
        message: message.into(),
    }
}

impl Engine {
    /// The engine's state as bytes (see the module docs of `snapshot` for the format).
    ///
    /// ```
    /// use jornada::{Engine, Model, Timestamp, Touchpoint};
    /// let mut engine = Engine::new(Model::preset("ecommerce").unwrap());
    /// engine.ingest(&Touchpoint::new("web", "product_view", Timestamp(0)).key("customer_id", "c1")).unwrap();
    /// let bytes = engine.snapshot();
    /// let again = Engine::restore(&bytes).unwrap();
    /// assert_eq!(again.customer("c1").unwrap().stage.as_deref(), Some("browsing"));
    /// assert_eq!(Engine::restore(&bytes[..10]).unwrap_err().code(), "corrupt_snapshot");
    /// ```
    pub fn snapshot(&self) -> Vec<u8> {
        let st = &self.st;
        let snap = SnapV1 {
            model: serde_json::to_string(self.model.spec())
                .expect("a model spec always serializes"),
            now: st.now,
            prop_names: st.prop_names.iter().map(|n| n.to_string()).collect(),
            profiles: st
                .profiles
                .iter()
                .map(|p| {
                    p.as_ref().map(|p| SnapProfile {
                        keys: p
                            .keys
                            .iter()
                            .map(|&k| (st.keys.kind(k), st.keys.value(k).to_string()))
                            .collect(),
                        events: st
                            .timelines
                            .get(p.events)
                            .iter()
                            .map(|e| (e.at(), e.kind, e.channel(), e.flags()))
                            .collect(),
                        extras: p
                            .extras
                            .iter()
                            .map(|x| SnapExtra {
                                id: x.id.as_ref().map(|s| s.to_string()),
                                value: x.value,
                                props: x
                                    .props
                                    .iter()
                                    .map(|(k, v)| {
                                        (
                                            *k,
                                            match v {
                                                PropValue::Str(s) => SnapValue::S(s.to_string()),
                                                PropValue::Num(n) => SnapValue::N(*n),
                                                PropValue::Bool(b) => SnapValue::B(*b),
                                            },
                                        )
                                    })
                                    .collect(),
                            })
                            .collect(),
                        consent: p
                            .consent
                            .iter()
                            .map(|c| (c.at, c.channel, c.granted))
                            .collect(),
                    })
                })
                .collect(),
            free: st.free.clone(),
        };
        let payload = postcard::to_stdvec(&snap).expect("snapshot serializes");
        let mut out = Vec::with_capacity(HEADER + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// Rebuilds an engine from [`snapshot`](Engine::snapshot) bytes. The model travels inside.
    pub fn restore(bytes: &[u8]) -> Result<Engine> {
        if bytes.len() < HEADER || &bytes[..8] != MAGIC {
            return Err(corrupt("not a jornada snapshot (bad magic or too short)"));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != SNAPSHOT_VERSION {
            return Err(Error::SnapshotVersion {
                found: version,
                supported: SNAPSHOT_VERSION,
            });
        }
        let len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        let crc = u32::from_le_bytes(bytes[20..24].try_into().expect("4 bytes"));
        let payload = &bytes[HEADER..];
        if payload.len() as u64 != len {
            return Err(corrupt(format!(
                "payload is {} bytes, header says {len}",
                payload.len()
            )));
        }
        if crc32fast::hash(payload) != crc {
            return Err(corrupt("checksum mismatch"));
        }
        let snap: SnapV1 = postcard::from_bytes(payload)
            .map_err(|e| corrupt(format!("undecodable payload: {e}")))?;
        let model =
            Model::from_json(&snap.model).map_err(|e| corrupt(format!("embedded model: {e}")))?;
        let mut engine = Engine::new(model);
        let m = engine.model.inner.clone();
        let st: &mut State = &mut engine.st;
        st.now = snap.now;
        if snap.prop_names.len() < st.prop_names.len()
            || st
                .prop_names
                .iter()
                .zip(&snap.prop_names)
                .any(|(a, b)| **a != **b)
        {
            return Err(corrupt("property names do not match the model"));
        }
        for name in &snap.prop_names[st.prop_names.len()..] {
            if st.prop_ix.contains_key(name.as_str()) {
                return Err(corrupt(format!("property name `{name}` twice")));
            }
            st.intern_prop(name).map_err(|e| corrupt(e.to_string()))?;
        }
        let n_props = st.prop_names.len();
        for (pid, sp) in snap.profiles.into_iter().enumerate() {
            let pid = u32::try_from(pid).map_err(|_| corrupt("too many profiles"))?;
            let Some(sp) = sp else {
                st.profiles.push(None);
                continue;
            };
            st.profiles.push(Some(Profile::new()));
            st.live += 1;
            if sp.keys.is_empty() {
                return Err(corrupt(format!("profile {pid} has no key")));
            }
            let mut keys = Vec::with_capacity(sp.keys.len());
            for (kind, value) in &sp.keys {
                if *kind as usize >= m.identities.len() || value.is_empty() {
                    return Err(corrupt(format!("profile {pid}: bad identity key")));
                }
                if st.keys.find(*kind, value).is_some() {
                    return Err(corrupt(format!("profile {pid}: key held twice")));
                }
                keys.push(
                    st.keys
                        .insert(*kind, value, pid)
                        .map_err(|e| corrupt(e.to_string()))?,
                );
            }
            keys.sort_by(|&a, &b| st.keys.cmp(a, b));
            let mut events = Vec::with_capacity(sp.events.len());
            for &(at, kind, channel, flags) in &sp.events {
                if kind as usize >= m.kinds.len()
                    || channel as usize >= m.channels.len()
                    || flags > HAS_EXTRA
                    || crate::Timestamp::from_millis_checked(at).is_none()
                {
                    return Err(corrupt(format!("profile {pid}: bad event")));
                }
                events.push(Event::new(at, kind, channel, flags));
            }
            if events.iter().filter(|e| e.has_extra()).count() != sp.extras.len() {
                return Err(corrupt(format!(
                    "profile {pid}: extras do not match events"
                )));
            }
            let mut extras = thin_vec::ThinVec::with_capacity(sp.extras.len());
            for x in sp.extras {
                let mut props = Vec::with_capacity(x.props.len());
                for (k, v) in x.props {
                    if k as usize >= n_props {
                        return Err(corrupt(format!("profile {pid}: bad property")));
                    }
                    props.push((
                        k,
                        match v {
                            SnapValue::S(s) => PropValue::Str(s.into()),
                            SnapValue::N(n) if n.is_finite() => PropValue::Num(n),
                            SnapValue::B(b) => PropValue::Bool(b),
                            SnapValue::N(_) => {
                                return Err(corrupt(format!("profile {pid}: non-finite number")))
                            }
                        },
                    ));
                }
                if x.value.is_some_and(|v| !v.is_finite()) {
                    return Err(corrupt(format!("profile {pid}: non-finite value")));
                }
                let id: Option<Arc<str>> = x.id.map(Arc::from);
                if let Some(id) = &id {
                    if st.ids.insert(id.clone(), pid).is_some() {
                        return Err(corrupt(format!("touchpoint id `{id}` twice")));
                    }
                }
                extras.push(Extra {
                    id,
                    value: x.value,
                    props: thin_vec::ThinVec::from(props),
                });
            }
            let mut consent = thin_vec::ThinVec::with_capacity(sp.consent.len());
            for &(at, channel, granted) in &sp.consent {
                if channel as usize >= m.channels.len() {
                    return Err(corrupt(format!("profile {pid}: bad consent channel")));
                }
                consent.push(ConsentChange {
                    at,
                    channel,
                    granted,
                });
            }
            if consent.windows(2).any(|w| w[0] > w[1]) {
                return Err(corrupt(format!("profile {pid}: consent out of order")));
            }
            // The timeline must be in event order.
            {
                let names = &st.prop_names;
                let mut xi = 0;
                let mut prev: Option<(Event, Option<&Extra>)> = None;
                for e in &events {
                    let x = e.has_extra().then(|| {
                        xi += 1;
                        &extras[xi - 1]
                    });
                    if let Some((pe, px)) = prev {
                        if event_order(&pe, px, e, x, &|k| names[k as usize].clone())
                            == std::cmp::Ordering::Greater
                        {
                            return Err(corrupt(format!("profile {pid}: timeline out of order")));
                        }
                    }
                    prev = Some((*e, x));
                }
            }
            let now = st.now;
            let p = st.profiles[pid as usize].as_mut().expect("just pushed");
            p.keys = keys.into_iter().collect();
            st.timelines
                .set(&mut p.events, &events)
                .map_err(|e| corrupt(e.to_string()))?;
            p.extras = extras;
            p.consent = consent;
            derive(&m, p, st.timelines.get(p.events), now, &mut Discard);
            if let Some(s) = p.stage() {
                st.stage_counts[s as usize] += 1;
            }
            st.reschedule(pid, i64::MAX);
        }
        let mut seen = std::collections::HashSet::new();
        for &f in &snap.free {
            if st.profiles.get(f as usize).is_none_or(|p| p.is_some()) || !seen.insert(f) {
                return Err(corrupt("bad free list"));
            }
        }
        if snap.free.len() != st.profiles.iter().filter(|p| p.is_none()).count() {
            return Err(corrupt("bad free list"));
        }
        st.free = snap.free;
        Ok(engine)
    }
}
