//! Property tests over random action sequences: ingest (single, JSON, batch), advancing time,
//! consent, identity merges, erase, snapshot/restore, against the `ecommerce` preset and a small
//! inline model.
//!
//! Case counts are moderate so the file runs in well under a minute in debug builds;
//! `PROPTEST_CASES` overrides them all.

use jornada::{
    CustomerView, Engine, Erasure, Error, Model, Outcome, PropValue, Timestamp, Touchpoint,
    TouchpointBatch,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// Universe: models, customers, keys, times
// ---------------------------------------------------------------------------------------------

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
/// The time grid: coarse, so that ties happen.
const SLOT: i64 = 5 * MIN;

/// A small model with a count condition, a property condition, a timeout with `none_of`, a
/// timeout with `restart_on` and an opt-in channel.
const SMALL_MODEL: &str = r#"{
  "jornada_model": 1,
  "name": "small",
  "allowed_lateness": "30m",
  "identities": [
    {"kind": "customer_id"}, {"kind": "email"}, {"kind": "cookie"}, {"kind": "device", "shared": true}
  ],
  "channels": ["web", "app", {"name": "email", "consent": "opt_in"}],
  "event_kinds": ["view", "add_to_cart", "purchase", "open"],
  "properties": {"tier": "string", "price": "number"},
  "stages": [
    "new",
    "engaged",
    {"name": "hot", "on_enter": [{"action": "hot_email", "channel": "email"}]},
    "buyer",
    "cold",
    "dormant"
  ],
  "rules": [
    {"name": "engage", "from": "new", "on": "view", "count": {"at_least": 2, "within": "1h"}, "to": "engaged"},
    {"name": "vip", "from": ["new", "engaged"], "on": "add_to_cart",
     "when": {"prop": "price", "op": ">=", "value": 50}, "to": "hot", "actions": [{"action": "vip_note"}]},
    {"name": "buy", "from": "*", "on": "purchase", "to": "buyer",
     "actions": [{"action": "receipt", "channel": "email", "params": {"template": "r1"}}]},
    {"name": "cool", "type": "timeout", "in": "hot", "none_of": ["purchase"], "within": "1h", "to": "cold",
     "actions": [{"action": "nudge", "channel": "email"}]},
    {"name": "dormancy", "type": "timeout", "in": "buyer", "within": "2h", "restart_on": "*", "to": "dormant"}
  ]
}"#;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mk {
    Ecom,
    Small,
}

fn mk_strategy() -> impl Strategy<Value = Mk> {
    prop_oneof![Just(Mk::Ecom), Just(Mk::Small)]
}

struct Uni {
    mk: Mk,
    model: Model,
    chans: &'static [&'static str],
    kinds: &'static [&'static str],
    consent_chans: &'static [&'static str],
    lateness: i64,
    base: i64,
}

impl Uni {
    fn new(mk: Mk) -> Uni {
        let model = match mk {
            Mk::Ecom => Model::preset("ecommerce").expect("preset"),
            Mk::Small => Model::from_json(SMALL_MODEL).expect("small model"),
        };
        let lateness = model.allowed_lateness().millis();
        let base = Timestamp::parse("2026-03-01T00:00:00Z").unwrap().millis();
        match mk {
            Mk::Ecom => Uni {
                mk,
                model,
                chans: &["web", "app", "store", "email", "sms", "web"],
                kinds: &[
                    "product_view",
                    "product_view",
                    "add_to_cart",
                    "purchase",
                    "purchase",
                    "review",
                    "return",
                    "search",
                    "page_view",
                    "product_view",
                    "add_to_cart",
                    "email_click",
                ],
                consent_chans: &["email", "sms"],
                lateness,
                base,
            },
            Mk::Small => Uni {
                mk,
                model,
                chans: &["web", "app", "email"],
                kinds: &["view", "view", "add_to_cart", "purchase", "open"],
                consent_chans: &["email", "web"],
                lateness,
                base,
            },
        }
    }

    fn engine(&self) -> Engine {
        Engine::new(self.model.clone())
    }

    fn ts(&self, t: i64) -> Timestamp {
        Timestamp(self.base + t)
    }
}

fn cid(i: usize) -> String {
    format!("c{i}")
}
fn email(i: usize) -> String {
    format!("c{i}@mail.test")
}
fn cookie(i: usize) -> String {
    format!("ck{i}")
}
fn device(i: usize) -> String {
    format!("dev{i}")
}

/// The customer id under which to address customer `i` by key choice `k`.
fn customer_name(i: usize, k: u8) -> String {
    match k % 3 {
        0 => cid(i),
        1 => format!("email:{}", email(i)),
        _ => format!("cookie:{}", cookie(i)),
    }
}

/// A time on the grid: mostly within a few hours, sometimes 8 or 100 days later (so that the
/// week- and quarter-long timeouts matter).
fn time_strategy() -> impl Strategy<Value = i64> {
    (
        prop_oneof![6 => Just(0i64), 2 => Just(8 * DAY), 1 => Just(100 * DAY)],
        0..36i64,
    )
        .prop_map(|(epoch, slot)| epoch + slot * SLOT)
}

/// A touchpoint, abstractly.
#[derive(Clone, Debug)]
struct TpSpec {
    cust: usize,
    /// Bit 1: customer_id, 2: email, 4: cookie. 0: only a shared device key.
    keys: u8,
    /// Another customer's email (0) or cookie (1): links two customers.
    link: Option<(usize, u8)>,
    device: Option<usize>,
    kind: usize,
    channel: usize,
    /// Offset in slots (used within batches).
    dt: i64,
    id: Option<u8>,
    value: Option<u8>,
    prop: Option<u8>,
}

#[derive(Clone, Copy)]
enum KeyStyle {
    /// Always the customer_id (plus maybe email/cookie of the same customer), or device only:
    /// identity never merges two profiles.
    NoMerge,
    /// Any non-empty subset of the customer's keys, sometimes a key of another customer.
    Merging,
    /// Like `Merging`, and sometimes device only.
    Any,
}

fn tp_spec(style: KeyStyle) -> impl Strategy<Value = TpSpec> {
    let keys = match style {
        KeyStyle::NoMerge => prop_oneof![
            4 => Just(1u8), 2 => Just(3u8), 2 => Just(5u8), 1 => Just(7u8), 1 => Just(0u8)
        ]
        .boxed(),
        KeyStyle::Merging => (1..8u8).boxed(),
        KeyStyle::Any => prop_oneof![9 => 1..8u8, 1 => Just(0u8)].boxed(),
    };
    let link = match style {
        KeyStyle::NoMerge => Just(None).boxed(),
        _ => prop::option::weighted(0.15, (0..6usize, 0..2u8)).boxed(),
    };
    (
        (0..6usize, keys, link, prop::option::of(0..2usize)),
        (
            0..16usize,
            0..16usize,
            -2..=2i64,
            prop::option::weighted(0.4, 0..24u8),
            prop::option::weighted(0.3, 0..20u8),
            prop::option::weighted(0.5, any::<u8>()),
        ),
    )
        .prop_map(
            |((cust, keys, link, device), (kind, channel, dt, id, value, prop))| TpSpec {
                cust,
                keys,
                link,
                device,
                kind,
                channel,
                dt,
                id,
                value,
                prop,
            },
        )
}

/// Builds the touchpoint of `s` for a universe of `n` customers at grid time `t`.
fn build_tp(u: &Uni, n: usize, s: &TpSpec, t: i64, id: Option<String>) -> Touchpoint {
    let c = s.cust % n;
    let mut tp = Touchpoint::new(
        u.chans[s.channel % u.chans.len()],
        u.kinds[s.kind % u.kinds.len()],
        u.ts(t),
    );
    if s.keys & 7 == 0 {
        tp = tp.key("device", device(s.device.unwrap_or(0)));
    } else {
        // A link replaces the customer's own key of the linked kind (one key per kind, as
        // in JSON); when that was the only key, the link uses the other kind.
        let mut mask = s.keys & 7;
        let link = s
            .link
            .map(|(o, k)| (o % n, k))
            .filter(|(o, _)| *o != c)
            .map(|(o, k)| {
                let bit = if k == 0 { 2 } else { 4 };
                let bit = if mask == bit { 6 ^ bit } else { bit };
                mask &= !bit;
                (o, bit)
            });
        if mask & 1 != 0 {
            tp = tp.key("customer_id", cid(c));
        }
        if mask & 2 != 0 {
            tp = tp.key("email", email(c));
        }
        if mask & 4 != 0 {
            tp = tp.key("cookie", cookie(c));
        }
        if let Some(d) = s.device {
            tp = tp.key("device", device(d));
        }
        if let Some((o, bit)) = link {
            tp = if bit == 2 {
                tp.key("email", email(o))
            } else {
                tp.key("cookie", cookie(o))
            };
        }
    }
    if let Some(id) = id {
        tp = tp.id(id);
    }
    if let Some(v) = s.value {
        tp = tp.value(v as f64 * 10.0);
    }
    if let Some(p) = s.prop {
        tp = match u.mk {
            Mk::Ecom => {
                let tp = tp.property("rating", (p % 6) as f64);
                if p & 0x40 != 0 {
                    tp.property("sku", format!("sku{}", p % 3))
                } else {
                    tp
                }
            }
            Mk::Small => {
                let tp = tp.property("price", ((p % 5) as f64) * 20.0);
                if p & 0x40 != 0 {
                    tp.property("tier", if p & 1 == 0 { "gold" } else { "basic" })
                } else {
                    tp
                }
            }
        };
    }
    tp
}

// ---------------------------------------------------------------------------------------------
// Comparing state and outputs
// ---------------------------------------------------------------------------------------------

/// Everything observable about the engine's customers.
#[derive(Debug, PartialEq)]
struct State {
    ids: Vec<String>,
    views: Vec<Option<CustomerView>>,
    counts: Vec<(Arc<str>, u64)>,
    len: usize,
}

fn state(e: &Engine) -> State {
    let ids = e.customer_ids();
    let views = ids.iter().map(|id| e.customer(id)).collect();
    State {
        ids,
        views,
        counts: e.stage_counts(),
        len: e.len(),
    }
}

/// The net outputs of a run: emitted minus retracted transitions and actions, keyed by the
/// customer's final id (ids are mapped through the reported merges).
#[derive(Debug, Default, Clone, PartialEq)]
struct Net(BTreeMap<(String, String), i64>);

impl Net {
    fn apply(&mut self, out: &Outcome) -> Result<(), TestCaseError> {
        for m in &out.merges {
            let old = std::mem::take(&mut self.0);
            for ((c, r), n) in old {
                let c = if m.from.contains(&c) {
                    m.into.clone()
                } else {
                    c
                };
                *self.0.entry((c, r)).or_default() += n;
            }
        }
        let rec = |mut v: serde_json::Value| -> (String, String) {
            let c = v["customer"].as_str().unwrap_or_default().to_string();
            v["customer"] = serde_json::Value::Null;
            (c, v.to_string())
        };
        let tj = |t| serde_json::to_value(t).unwrap();
        for t in &out.transitions {
            let mut v = tj(t);
            v["_t"] = true.into();
            *self.0.entry(rec(v)).or_default() += 1;
        }
        for a in &out.actions {
            *self
                .0
                .entry(rec(serde_json::to_value(a).unwrap()))
                .or_default() += 1;
        }
        for t in &out.retracted_transitions {
            let mut v = tj(t);
            v["_t"] = true.into();
            *self.0.entry(rec(v)).or_default() -= 1;
        }
        for a in &out.retracted_actions {
            *self
                .0
                .entry(rec(serde_json::to_value(a).unwrap()))
                .or_default() -= 1;
        }
        self.0.retain(|_, n| *n != 0);
        if let Some((k, n)) = self.0.iter().find(|(_, n)| **n < 0) {
            return Err(TestCaseError::fail(format!(
                "retracted more often than emitted ({n}): {k:?}\noutcome: {out:#?}"
            )));
        }
        Ok(())
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn cfg(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var("PROPTEST_CASES").is_err() {
        c.cases = cases;
    }
    c.max_shrink_iters = 4096;
    // Integration tests have no lib.rs above them: keep failures in tests/proptest-regressions/.
    c.failure_persistence = Some(Box::new(
        proptest::test_runner::FileFailurePersistence::Direct(
            "proptest-regressions/properties.txt",
        ),
    ));
    c
}

// ---------------------------------------------------------------------------------------------
// Properties 1 and 4: arrival order within the lateness does not matter
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Item {
    Tp(Touchpoint),
    Consent {
        customer: String,
        channel: &'static str,
        granted: bool,
        at: Timestamp,
    },
}

impl Item {
    fn at(&self) -> i64 {
        match self {
            Item::Tp(tp) => tp.at.millis(),
            Item::Consent { at, .. } => at.millis(),
        }
    }
}

/// Feeds `items` to `e` in order: runs of touchpoints in batches of random sizes, single ones
/// through `ingest` or `ingest_json`. Every call must succeed.
fn feed(
    e: &mut Engine,
    items: &[Item],
    rng: &mut ChaCha8Rng,
    net: &mut Net,
) -> Result<(), TestCaseError> {
    let mut i = 0;
    while i < items.len() {
        match &items[i] {
            Item::Consent {
                customer,
                channel,
                granted,
                at,
            } => {
                let out = e
                    .set_consent(customer, channel, *granted, *at)
                    .map_err(|err| TestCaseError::fail(format!("set_consent: {err}")))?;
                net.apply(&out)?;
                i += 1;
            }
            Item::Tp(tp) => {
                let size = rng.gen_range(1..=4usize);
                let mut batch = Vec::new();
                while batch.len() < size {
                    match items.get(i) {
                        Some(Item::Tp(tp)) => batch.push(tp.clone()),
                        _ => break,
                    }
                    i += 1;
                }
                if batch.len() == 1 {
                    let r = if rng.gen_bool(0.5) {
                        e.ingest(tp)
                    } else {
                        e.ingest_json(&tp.to_json())
                    };
                    let out = r.map_err(|err| {
                        TestCaseError::fail(format!("ingest {}: {err}", tp.to_json()))
                    })?;
                    net.apply(&out)?;
                } else {
                    let out = e.ingest_batch(&batch);
                    prop_assert!(
                        out.rejected.is_empty(),
                        "batch rejected: {:?}",
                        out.rejected
                    );
                    net.apply(&out)?;
                }
            }
        }
    }
    Ok(())
}

#[derive(Clone, Debug)]
struct OrderCase {
    mk: Mk,
    n: usize,
    tps: Vec<(TpSpec, i64)>,
    /// Indices of touchpoints (with ids) to send twice.
    dups: Vec<prop::sample::Index>,
    consents: Vec<(usize, u8, usize, bool, i64)>,
    seed: u64,
    extra: usize,
}

fn order_case(style: KeyStyle) -> impl Strategy<Value = OrderCase> {
    (
        mk_strategy(),
        3..=6usize,
        vec((tp_spec(style), time_strategy()), 1..30),
        vec(any::<prop::sample::Index>(), 0..4),
        vec(
            (0..6usize, 0..3u8, 0..2usize, any::<bool>(), time_strategy()),
            0..5,
        ),
        any::<u64>(),
        0..4usize,
    )
        .prop_map(|(mk, n, tps, dups, consents, seed, extra)| OrderCase {
            mk,
            n,
            tps,
            dups,
            consents,
            seed,
            extra,
        })
}

/// Builds the items of a case: touchpoint ids are unique (`u<index>`), and the duplicates are
/// exact copies, so which copy arrives first does not matter.
fn order_items(u: &Uni, c: &OrderCase, consent_by_any_key: bool) -> Vec<Item> {
    let mut items: Vec<Item> = c
        .tps
        .iter()
        .enumerate()
        .map(|(i, (s, t))| Item::Tp(build_tp(u, c.n, s, *t, s.id.map(|_| format!("u{i}")))))
        .collect();
    for d in &c.dups {
        let it = items[d.index(c.tps.len())].clone();
        items.push(it);
    }
    for &(cust, key, ch, granted, t) in &c.consents {
        let key = if consent_by_any_key { key } else { 0 };
        items.push(Item::Consent {
            customer: customer_name(cust % c.n, key),
            channel: u.consent_chans[ch % u.consent_chans.len()],
            granted,
            at: u.ts(t),
        });
    }
    items
}

/// Runs the items in two arrival orders and compares final state and net outputs.
/// `strict_a`: order A is sorted by time, ties in generation order; otherwise ties are shuffled.
fn check_orders(
    c: &OrderCase,
    consent_by_any_key: bool,
    strict_a: bool,
) -> Result<(), TestCaseError> {
    let u = Uni::new(c.mk);
    let items = order_items(&u, c, consent_by_any_key);
    let mut rng = ChaCha8Rng::seed_from_u64(c.seed);

    let mut a_items: Vec<(i64, u64, Item)> = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let tie = if strict_a { i as u64 } else { rng.gen() };
            (it.at(), tie, it.clone())
        })
        .collect();
    a_items.sort_by_key(|(k, t, _)| (*k, *t));
    let a_items: Vec<Item> = a_items.into_iter().map(|(_, _, it)| it).collect();

    // Any arrival order where nothing arrives after a touchpoint more than `lateness` later.
    let mut b_items: Vec<(i64, u64, Item)> = items
        .iter()
        .map(|it| {
            (
                it.at() + rng.gen_range(0..=u.lateness),
                rng.gen(),
                it.clone(),
            )
        })
        .collect();
    b_items.sort_by_key(|(k, t, _)| (*k, *t));
    let b_items: Vec<Item> = b_items.into_iter().map(|(_, _, it)| it).collect();

    let end =
        items.iter().map(Item::at).max().unwrap_or(0) + [0, HOUR, 8 * DAY, 100 * DAY][c.extra];

    let mut a = u.engine();
    let mut net_a = Net::default();
    feed(&mut a, &a_items, &mut rng, &mut net_a)?;
    net_a.apply(&a.advance_to(u.ts(end)))?;

    let mut b = u.engine();
    let mut net_b = Net::default();
    // Sometimes also advance B's time part of the way (never beyond `end`).
    let cut = rng.gen_range(0..=b_items.len());
    feed(&mut b, &b_items[..cut], &mut rng, &mut net_b)?;
    if rng.gen_bool(0.5) {
        let t = b
            .now()
            .map(|t| t.millis())
            .unwrap_or(u.base)
            .min(u.base + end);
        net_b.apply(&b.advance_to(Timestamp(t)))?;
    }
    feed(&mut b, &b_items[cut..], &mut rng, &mut net_b)?;
    net_b.apply(&b.advance_to(u.ts(end)))?;

    let (sa, sb) = (state(&a), state(&b));
    prop_assert_eq!(&sa, &sb, "final state differs");
    prop_assert_eq!(&net_a, &net_b, "net outputs differ");
    Ok(())
}

proptest! {
    #![proptest_config(cfg(320))]

    /// 1. Touchpoints shuffled within the allowed lateness give the state and net outputs of
    /// in-order arrival (no identity merges here).
    #[test]
    fn shuffled_within_lateness_equals_in_order(c in order_case(KeyStyle::NoMerge)) {
        check_orders(&c, false, true)?;
    }

    /// 4. Touchpoints linking keys of several customers, in different orders (within lateness,
    /// and with equal-time groups permuted), give the same final state and net outputs.
    #[test]
    fn merge_order_does_not_matter(c in order_case(KeyStyle::Merging)) {
        check_orders(&c, true, false)?;
    }
}

/// Breaks a touchpoint in one of several ways (chosen by `how`; about a third of the values
/// break it), for the columnar-batch property: every check of the input must reject the same
/// rows with the same errors on both paths.
fn corrupt(tp: &mut Touchpoint, how: u8) {
    match how % 28 {
        0 => tp.channel = "fax".into(),
        1 => tp.kind = "teleport".into(),
        2 => tp.keys.insert(0, ("shoe_size".into(), "42".into())),
        3 => tp.keys.clear(),
        4 => {
            if let Some(k) = tp.keys.last_mut() {
                k.1.clear();
            }
        }
        5 => tp.value = Some(f64::NAN),
        6 => tp
            .properties
            .push(("price".into(), PropValue::from("cheap"))),
        7 => tp.id = Some(String::new()),
        8 => tp.at = Timestamp(i64::MAX),
        9 => tp.properties.push((String::new(), PropValue::from(1.0))),
        _ => {}
    }
}

proptest! {
    #![proptest_config(cfg(256))]

    /// 2c. A columnar [`TouchpointBatch`] ingested with `ingest_columns` gives exactly what
    /// `ingest_batch` gives for the same touchpoints (valid or not): equal outcomes (rejections
    /// included) after every call, equal final state and byte-identical snapshots; the batch
    /// gives back the touchpoints it was built from. Engine `a` never reads batches ahead and
    /// `b` always does (at a million customers it would by default), so this also checks that
    /// reading ahead changes nothing.
    #[test]
    fn columns_equal_ingest_batch(c in seq_case(true, false), how in vec(any::<u8>(), 1..64)) {
        let u = Uni::new(c.mk);
        let ops = arrival(&u, &c.ops);
        let mut a = u.engine();
        let mut b = u.engine();
        a.set_read_ahead_from(usize::MAX);
        b.set_read_ahead_from(0);
        for (i, op) in ops.iter().enumerate() {
            let mut tps: Vec<Touchpoint> = match &op.k {
                OpK::Tp(s, _) => vec![build_tp(&u, c.n, s, op.t, tp_id(s))],
                OpK::Batch(specs) => specs
                    .iter()
                    .map(|s| build_tp(&u, c.n, s, (op.t + s.dt * SLOT).max(0), tp_id(s)))
                    .collect(),
                OpK::Restore => {
                    b = Engine::restore(&b.snapshot())
                        .map_err(|e| TestCaseError::fail(format!("restore: {e}")))?;
                    b.set_read_ahead_from(0);
                    continue;
                }
                _ => {
                    let (ra, rb) = (apply_op(&u, c.n, &mut a, op), apply_op(&u, c.n, &mut b, op));
                    prop_assert_eq!(ra, rb, "op {} ({:?}) differs", i, op);
                    continue;
                }
            };
            for (j, tp) in tps.iter_mut().enumerate() {
                corrupt(tp, how[(i + j) % how.len()]);
            }
            let batch = TouchpointBatch::from(&tps[..]);
            prop_assert_eq!(batch.len(), tps.len());
            prop_assert!(batch.to_touchpoints().unwrap().iter().zip(&tps).all(|(x, y)| x.to_json() == y.to_json()),
                "the batch does not give back its touchpoints");
            let ra = a.ingest_batch(&tps);
            let rb = b.ingest_columns(&batch);
            prop_assert_eq!(ra, rb, "op {} ({:?}) differs", i, op);
        }
        prop_assert_eq!(state(&a), state(&b));
        prop_assert!(a.snapshot() == b.snapshot(), "final snapshots differ");
    }
}

// ---------------------------------------------------------------------------------------------
// Properties 2 and 3: random action sequences
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum OpK {
    /// Mode: 0 `ingest`, 1 `ingest_json`, 2 a batch of one.
    Tp(TpSpec, u8),
    Batch(Vec<TpSpec>),
    Advance,
    Consent {
        cust: usize,
        key: u8,
        ch: usize,
        granted: bool,
    },
    Erase(usize),
    Restore,
    /// Re-ingest an accepted id (variant: 0 exact copy, 1 other content; mode as in `Tp`).
    Dup(usize, u8, u8),
}

#[derive(Clone, Debug)]
struct Op {
    k: OpK,
    t: i64,
    /// Arrival jitter in thousandths of twice the lateness (so some touchpoints are late).
    jit: i64,
}

fn op_strategy(with_erase_restore: bool, with_dup: bool) -> impl Strategy<Value = Op> {
    let er = if with_erase_restore { 1 } else { 0 };
    let dup = if with_dup { 3 } else { 0 };
    let k = prop_oneof![
        8 => (tp_spec(KeyStyle::Any), 0..3u8).prop_map(|(s, m)| OpK::Tp(s, m)),
        2 => vec(tp_spec(KeyStyle::Any), 1..5).prop_map(OpK::Batch),
        2 => Just(OpK::Advance),
        2 => (0..6usize, 0..3u8, 0..2usize, any::<bool>())
            .prop_map(|(cust, key, ch, granted)| OpK::Consent { cust, key, ch, granted }),
        er => any::<usize>().prop_map(OpK::Erase),
        (2 * er) => Just(OpK::Restore),
        dup => (any::<usize>(), 0..2u8, 0..3u8).prop_map(|(i, v, m)| OpK::Dup(i, v, m)),
    ];
    (k, time_strategy(), 0..=1000i64).prop_map(|(k, t, jit)| Op { k, t, jit })
}

#[derive(Clone, Debug)]
struct SeqCase {
    mk: Mk,
    n: usize,
    ops: Vec<Op>,
}

fn seq_case(with_erase_restore: bool, with_dup: bool) -> impl Strategy<Value = SeqCase> {
    (
        mk_strategy(),
        3..=6usize,
        vec(op_strategy(with_erase_restore, with_dup), 1..40),
    )
        .prop_map(|(mk, n, ops)| SeqCase { mk, n, ops })
}

/// The ops in arrival order: by time plus a jitter of up to twice the lateness.
fn arrival(u: &Uni, ops: &[Op]) -> Vec<Op> {
    let mut v: Vec<(i64, usize, Op)> = ops
        .iter()
        .enumerate()
        .map(|(i, op)| (op.t + op.jit * 2 * u.lateness / 1000, i, op.clone()))
        .collect();
    v.sort_by_key(|(k, i, _)| (*k, *i));
    v.into_iter().map(|(_, _, op)| op).collect()
}

fn tp_id(s: &TpSpec) -> Option<String> {
    s.id.map(|i| format!("e{i}"))
}

#[derive(Debug, PartialEq)]
enum Res {
    Out(Result<Outcome, Error>),
    Erased(Result<Erasure, Error>),
    Nothing,
}

/// Applies one op (not `Restore`, not `Dup`) to an engine.
fn apply_op(u: &Uni, n: usize, e: &mut Engine, op: &Op) -> Res {
    match &op.k {
        OpK::Tp(s, mode) => {
            let tp = build_tp(u, n, s, op.t, tp_id(s));
            match mode {
                0 => Res::Out(e.ingest(&tp)),
                1 => Res::Out(e.ingest_json(&tp.to_json())),
                _ => Res::Out(Ok(e.ingest_batch(&[tp]))),
            }
        }
        OpK::Batch(specs) => {
            let tps: Vec<Touchpoint> = specs
                .iter()
                .map(|s| build_tp(u, n, s, (op.t + s.dt * SLOT).max(0), tp_id(s)))
                .collect();
            Res::Out(Ok(e.ingest_batch(&tps)))
        }
        OpK::Advance => Res::Out(Ok(e.advance_to(u.ts(op.t)))),
        OpK::Consent {
            cust,
            key,
            ch,
            granted,
        } => Res::Out(e.set_consent(
            &customer_name(cust % n, *key),
            u.consent_chans[ch % u.consent_chans.len()],
            *granted,
            u.ts(op.t),
        )),
        OpK::Erase(i) => {
            let ids = e.customer_ids();
            if ids.is_empty() {
                Res::Nothing
            } else {
                Res::Erased(e.erase(&ids[i % ids.len()]))
            }
        }
        OpK::Restore | OpK::Dup(..) => Res::Nothing,
    }
}

proptest! {
    #![proptest_config(cfg(256))]

    /// 2. Restoring a snapshot (possibly several times) and continuing is indistinguishable
    /// from never stopping: identical outcomes, byte-identical final snapshots.
    #[test]
    fn restore_and_continue_equals_uninterrupted(c in seq_case(true, false)) {
        let u = Uni::new(c.mk);
        let ops = arrival(&u, &c.ops);
        let mut a = u.engine();
        let mut b = u.engine();
        for (i, op) in ops.iter().enumerate() {
            if let OpK::Restore = op.k {
                let bytes = b.snapshot();
                b = Engine::restore(&bytes).map_err(|e| TestCaseError::fail(format!("restore: {e}")))?;
                prop_assert_eq!(b.snapshot(), bytes, "snapshot of the restored engine differs");
                continue;
            }
            let ra = apply_op(&u, c.n, &mut a, op);
            let rb = apply_op(&u, c.n, &mut b, op);
            prop_assert_eq!(ra, rb, "op {} ({:?}) differs", i, op);
        }
        prop_assert_eq!(state(&a), state(&b));
        prop_assert!(a.snapshot() == b.snapshot(), "final snapshots differ");
    }

    /// 3. Ingesting a touchpoint whose id was already ingested reports only the duplicate and
    /// changes nothing (snapshot bytes identical).
    #[test]
    fn duplicates_change_nothing(c in seq_case(false, true)) {
        let u = Uni::new(c.mk);
        let ops = arrival(&u, &c.ops);
        let mut e = u.engine();
        // Accepted ids, and the touchpoint first accepted under each.
        let mut accepted: Vec<(String, Touchpoint)> = Vec::new();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut note = |tp: &Touchpoint, accepted: &mut Vec<(String, Touchpoint)>| {
            if let Some(id) = &tp.id {
                if seen.insert(id.clone()) {
                    accepted.push((id.clone(), tp.clone()));
                }
            }
        };
        for op in &ops {
            match &op.k {
                OpK::Dup(i, variant, mode) => {
                    if accepted.is_empty() {
                        continue;
                    }
                    let (id, orig) = accepted[i % accepted.len()].clone();
                    let tp = if *variant == 0 {
                        orig
                    } else {
                        let mut tp = build_tp(&u, c.n, &TpSpec {
                            cust: i / 7, keys: 1 + (*i as u8 % 7), link: None, device: None,
                            kind: i / 3, channel: i / 5, dt: 0, id: None, value: None, prop: None,
                        }, op.t, Some(id.clone()));
                        tp.at = Timestamp(tp.at.millis() + 3 * HOUR);
                        tp
                    };
                    let before = e.snapshot();
                    let out = match mode {
                        0 => e.ingest(&tp),
                        1 => e.ingest_json(&tp.to_json()),
                        _ => Ok(e.ingest_batch(std::slice::from_ref(&tp))),
                    };
                    let expected = Outcome { duplicates: vec![id.clone()], ..Default::default() };
                    prop_assert_eq!(out, Ok(expected), "duplicate {} ({})", id, tp.to_json());
                    prop_assert!(e.snapshot() == before, "a duplicate changed the snapshot");
                }
                OpK::Tp(s, _) => {
                    let tp = build_tp(&u, c.n, s, op.t, tp_id(s));
                    if let Res::Out(Ok(out)) = apply_op(&u, c.n, &mut e, op) {
                        if out.rejected.is_empty() {
                            note(&tp, &mut accepted);
                        }
                    }
                }
                OpK::Batch(specs) => {
                    let tps: Vec<Touchpoint> = specs
                        .iter()
                        .map(|s| build_tp(&u, c.n, s, (op.t + s.dt * SLOT).max(0), tp_id(s)))
                        .collect();
                    let out = e.ingest_batch(&tps);
                    let rejected: BTreeSet<usize> = out.rejected.iter().map(|r| r.index).collect();
                    for (i, tp) in tps.iter().enumerate() {
                        if !rejected.contains(&i) {
                            note(tp, &mut accepted);
                        }
                    }
                }
                _ => {
                    apply_op(&u, c.n, &mut e, op);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(cfg(256))]

    /// 2b. After every call, the incrementally maintained state (stages, histories, counts)
    /// equals the state a restore derives from scratch from the same snapshot.
    #[test]
    fn incremental_state_equals_derived_state(c in seq_case(true, false)) {
        let u = Uni::new(c.mk);
        let ops = arrival(&u, &c.ops);
        let mut a = u.engine();
        for (i, op) in ops.iter().enumerate() {
            apply_op(&u, c.n, &mut a, op);
            let r = Engine::restore(&a.snapshot())
                .map_err(|e| TestCaseError::fail(format!("restore: {e}")))?;
            prop_assert_eq!(state(&a), state(&r), "after op {} ({:?})", i, op);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Property 5: erase leaves no trace
// ---------------------------------------------------------------------------------------------

const SECRET_CID: &str = "secret-key-123";
const SECRET_EMAIL: &str = "secret-email-123@mail.test";
const SECRET_COOKIE: &str = "secret-cookie-123";
const SECRET_PROP: &str = "secret-prop-123";

fn secret_tp(u: &Uni, s: &TpSpec, t: i64, k: usize) -> Touchpoint {
    let mut tp = Touchpoint::new(
        u.chans[s.channel % u.chans.len()],
        u.kinds[s.kind % u.kinds.len()],
        u.ts(t),
    );
    // Always the customer_id (so all of them are one customer), sometimes email and cookie.
    tp = tp.key("customer_id", SECRET_CID);
    if s.keys & 2 != 0 {
        tp = tp.key("email", SECRET_EMAIL);
    }
    if s.keys & 4 != 0 {
        tp = tp.key("cookie", SECRET_COOKIE);
    }
    if s.id.is_some() {
        tp = tp.id(format!("secret-tp-123-{k}"));
    }
    if let Some(v) = s.value {
        tp = tp.value(v as f64);
    }
    if s.prop.is_some() {
        tp = tp.property(if u.mk == Mk::Ecom { "sku" } else { "tier" }, SECRET_PROP);
    }
    tp
}

#[derive(Clone, Debug)]
struct EraseCase {
    mk: Mk,
    n: usize,
    others: Vec<(TpSpec, i64)>,
    secret: Vec<(TpSpec, i64)>,
    secret_consent: Option<(usize, bool, i64)>,
    /// Where the erase happens, among the positions after the secret customer's last item.
    erase_at: prop::sample::Index,
    extra: usize,
}

fn erase_case() -> impl Strategy<Value = EraseCase> {
    (
        mk_strategy(),
        3..=5usize,
        vec((tp_spec(KeyStyle::Any), time_strategy()), 0..25),
        vec(
            (
                tp_spec(KeyStyle::Merging).prop_map(|mut s| {
                    s.id = s.id.or(Some(0)).filter(|i| i % 2 == 0);
                    s
                }),
                time_strategy(),
            ),
            1..8,
        ),
        prop::option::of((0..2usize, any::<bool>(), time_strategy())),
        any::<prop::sample::Index>(),
        0..4usize,
    )
        .prop_map(
            |(mk, n, others, secret, secret_consent, erase_at, extra)| EraseCase {
                mk,
                n,
                others,
                secret,
                secret_consent,
                erase_at,
                extra,
            },
        )
}

proptest! {
    #![proptest_config(cfg(256))]

    /// 5. After `erase`, nothing of the customer is left (lookups, counts, snapshot bytes), the
    /// same key later starts afresh, and every other customer is as if it had never existed.
    #[test]
    fn erase_leaves_no_trace(c in erase_case()) {
        let u = Uni::new(c.mk);
        // (time, is_secret, order, item)
        let mut items: Vec<(i64, bool, usize, Item)> = Vec::new();
        for (i, (s, t)) in c.others.iter().enumerate() {
            let tp = build_tp(&u, c.n, s, *t, s.id.map(|_| format!("u{i}")));
            items.push((*t, false, items.len(), Item::Tp(tp)));
        }
        for (k, (s, t)) in c.secret.iter().enumerate() {
            items.push((*t, true, items.len(), Item::Tp(secret_tp(&u, s, *t, k))));
        }
        if let Some((ch, granted, t)) = c.secret_consent {
            items.push((t, true, items.len(), Item::Consent {
                customer: SECRET_CID.to_string(),
                channel: u.consent_chans[ch],
                granted,
                at: u.ts(t),
            }));
        }
        items.sort_by_key(|(t, _, i, _)| (*t, *i));
        let last_secret = items.iter().rposition(|x| x.1).expect("a secret item");
        let erase_pos = last_secret + 1 + c.erase_at.index(items.len() - last_secret);
        let end = items.iter().map(|x| x.0).max().unwrap_or(0) + [0, HOUR, 8 * DAY, 100 * DAY][c.extra];

        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut e1 = u.engine();
        let mut e2 = u.engine();
        let mut n1 = Net::default();
        let mut n2 = Net::default();
        let secret_keys = [
            ("customer_id", SECRET_CID),
            ("email", SECRET_EMAIL),
            ("cookie", SECRET_COOKIE),
        ];
        for (pos, (_, secret, _, item)) in items.iter().enumerate() {
            if pos == erase_pos {
                do_erase(&mut e1, &c)?;
            }
            feed(&mut e1, std::slice::from_ref(item), &mut rng, &mut n1)?;
            if !secret {
                feed(&mut e2, std::slice::from_ref(item), &mut rng, &mut n2)?;
            }
        }
        if erase_pos == items.len() {
            do_erase(&mut e1, &c)?;
        }
        e1.advance_to(u.ts(end));
        e2.advance_to(u.ts(end));
        for (kind, value) in secret_keys {
            prop_assert!(e1.customer_by_key(kind, value).is_none());
        }
        prop_assert!(e1.customer(SECRET_CID).is_none());
        prop_assert_eq!(state(&e1), state(&e2), "other customers differ");
        let snap = e1.snapshot();
        for s in [SECRET_CID, SECRET_EMAIL, SECRET_COOKIE, SECRET_PROP, "secret-tp-123"] {
            prop_assert!(!contains(&snap, s.as_bytes()), "snapshot still contains {}", s);
        }
        // The same key later: a fresh customer.
        let at = u.ts(end + MIN);
        let tp = Touchpoint::new(u.chans[0], u.kinds[0], at).key("email", SECRET_EMAIL);
        e1.ingest(&tp).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let v = e1.customer_by_key("email", SECRET_EMAIL).expect("fresh customer");
        prop_assert_eq!(v.touchpoints, 1);
        prop_assert_eq!(v.history[0].entered_at, at);
        prop_assert!(v.history.iter().all(|h| h.entered_at == at));
        prop_assert_eq!(v.keys, vec![(Arc::from("email"), SECRET_EMAIL.to_string())]);
        prop_assert!(v.consent.is_empty());
        prop_assert!(e1.customer(SECRET_CID).is_none());
    }
}

fn do_erase(e: &mut Engine, c: &EraseCase) -> Result<(), TestCaseError> {
    let before = e.stage_counts();
    let v = e.customer(SECRET_CID).expect("secret customer known");
    let len = e.len();
    let erased = e
        .erase(SECRET_CID)
        .map_err(|err| TestCaseError::fail(format!("erase: {err}")))?;
    prop_assert_eq!(&erased.customer, &v.id);
    prop_assert_eq!(erased.events, c.secret.len());
    prop_assert_eq!(erased.keys, v.keys.len());
    prop_assert_eq!(e.len(), len - 1);
    prop_assert!(e.customer(SECRET_CID).is_none());
    for (kind, value) in [
        ("customer_id", SECRET_CID),
        ("email", SECRET_EMAIL),
        ("cookie", SECRET_COOKIE),
    ] {
        prop_assert!(e.customer_by_key(kind, value).is_none());
        let name = format!("{kind}:{value}");
        prop_assert!(e.customer(&name).is_none());
    }
    let after = e.stage_counts();
    let mut expected = before.clone();
    if let Some(s) = &v.stage {
        let slot = expected.iter_mut().find(|(n, _)| n == s).expect("stage");
        slot.1 -= 1;
    }
    prop_assert_eq!(after, expected);
    prop_assert!(e.customer_ids().iter().all(|id| id != &v.id));
    let snap = e.snapshot();
    for s in [
        SECRET_CID,
        SECRET_EMAIL,
        SECRET_COOKIE,
        SECRET_PROP,
        "secret-tp-123",
    ] {
        prop_assert!(
            !contains(&snap, s.as_bytes()),
            "snapshot still contains {}",
            s
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 6: no panics on garbage
// ---------------------------------------------------------------------------------------------

/// CRC-32 (IEEE), as the snapshot header uses, to make mutated payloads pass the checksum.
fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// Rewrites a snapshot's header (length, checksum) to fit its payload.
fn fix_header(bytes: &mut [u8]) {
    if bytes.len() < 24 {
        return;
    }
    let len = (bytes.len() - 24) as u64;
    bytes[12..20].copy_from_slice(&len.to_le_bytes());
    let crc = crc32(&bytes[24..]);
    bytes[20..24].copy_from_slice(&crc.to_le_bytes());
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just(0i64),
            Just(-1),
            Just(253_402_300_799_999),
            Just(253_402_300_800_000),
            Just(-62_167_219_200_001),
            Just(i64::MAX),
            Just(i64::MIN)
        ]
        .prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        prop_oneof![
            Just("web"),
            Just("email"),
            Just("product_view"),
            Just("purchase"),
            Just("view"),
            Just("c1"),
            Just(""),
            Just("*"),
            Just("2026-03-01T10:00:00Z"),
            Just("2026-02-30T10:00:00Z"),
            Just("9999-12-31T23:59:59.999Z"),
            Just("0000-01-01T00:00:00Z"),
            Just("2026-03-01T10:00:00+25:00"),
            Just("1h"),
            Just("0"),
            Just("-5m"),
            Just("99999999999999d"),
            Just("10m"),
            Just("7d"),
            Just(">="),
            Just("in"),
            Just("exists"),
            Just("contains"),
            Just("opt_in"),
            Just("timeout"),
            Just("visitor"),
            Just("cart"),
            Just("rating"),
            Just("$value"),
            Just("customer_id"),
            Just("\u{0}"),
            Just("é✓"),
        ]
        .prop_map(|s| Value::String(s.to_string())),
        "[a-z_:@.*$0-9 -]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
            vec(
                (
                    prop_oneof![
                        Just("sku".to_string()),
                        Just("rating".to_string()),
                        Just("x".to_string()),
                        "[a-z_]{1,8}"
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A touchpoint-shaped JSON object with random fields and values.
fn touchpoint_json() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        Just("id"),
        Just("customer_id"),
        Just("email"),
        Just("cookie"),
        Just("device"),
        Just("phone"),
        Just("channel"),
        Just("kind"),
        Just("at"),
        Just("value"),
        Just("properties"),
        Just("bogus"),
    ];
    (
        vec((field, json_value()), 0..10),
        any::<bool>(),
        any::<u8>(),
    )
        .prop_map(|(fields, valid_base, cut)| {
            let mut m = serde_json::Map::new();
            if valid_base {
                m.insert("customer_id".into(), "c1".into());
                m.insert("channel".into(), "web".into());
                m.insert("kind".into(), "purchase".into());
                m.insert("at".into(), "2026-03-01T10:00:00Z".into());
            }
            for (k, v) in fields {
                m.insert(k.to_string(), v);
            }
            let s = serde_json::Value::Object(m).to_string();
            if cut % 8 == 0 {
                let at = (cut as usize * 7) % (s.len() + 1);
                s.char_indices()
                    .map(|(i, _)| i)
                    .take_while(|&i| i <= at)
                    .last()
                    .map(|i| s[..i].to_string())
                    .unwrap_or_default()
            } else {
                s
            }
        })
}

/// A model JSON derived from one of the two models by random edits.
fn model_json() -> impl Strategy<Value = String> {
    (
        mk_strategy(),
        vec(
            (
                vec(any::<prop::sample::Index>(), 1..5),
                0..3u8,
                json_value(),
            ),
            0..4,
        ),
    )
        .prop_map(|(mk, edits)| {
            let text = match mk {
                Mk::Ecom => Model::preset("ecommerce").unwrap().to_json(),
                Mk::Small => SMALL_MODEL.to_string(),
            };
            let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
            for (path, what, val) in edits {
                edit(&mut v, &path, what, val);
            }
            v.to_string()
        })
}

/// Walks `path` (indices into objects' and arrays' children) and replaces, removes or
/// duplicates the element reached.
fn edit(v: &mut serde_json::Value, path: &[prop::sample::Index], what: u8, val: serde_json::Value) {
    use serde_json::Value;
    let Some((first, rest)) = path.split_first() else {
        *v = val;
        return;
    };
    match v {
        Value::Object(m) if !m.is_empty() => {
            let key = m.keys().nth(first.index(m.len())).unwrap().clone();
            if rest.is_empty() && what == 1 {
                m.remove(&key);
            } else {
                edit(m.get_mut(&key).unwrap(), rest, what, val);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = first.index(a.len());
            if rest.is_empty() && what == 1 {
                a.remove(i);
            } else if rest.is_empty() && what == 2 {
                let x = a[i].clone();
                a.insert(i, x);
            } else {
                edit(&mut a[i], rest, what, val);
            }
        }
        _ => *v = val,
    }
}

/// Uses a restored engine a little: it must not panic, and it must keep customers apart.
fn exercise(e: &mut Engine) -> Result<(), TestCaseError> {
    for id in e.customer_ids() {
        let _ = e.customer(&id);
    }
    let _ = e.stage_counts();
    let _ = e.memory_usage();
    let first_kind = e.model().identity_kind_names().next().unwrap().to_string();
    let chan = e.model().channel_names().next().unwrap().to_string();
    let kind = e.model().event_kind_names().next().unwrap().to_string();
    let t = e
        .now()
        .map(|t| t.millis())
        .unwrap_or(0)
        .clamp(0, 253_402_300_000_000);
    for i in 0..3 {
        let id = format!("zz-fresh-{i}");
        let tp = Touchpoint::new(chan.clone(), kind.clone(), Timestamp(t))
            .key(first_kind.clone(), id.clone());
        if e.ingest(&tp).is_ok() {
            let v = e.customer(&id);
            prop_assert_eq!(
                v.map(|v| v.id),
                Some(id.clone()),
                "a new customer after restore is not found under its id"
            );
        }
    }
    let _ = e.advance_to(Timestamp(
        t.saturating_add(100 * DAY).min(253_402_300_799_999),
    ));
    let ids = e.customer_ids();
    prop_assert_eq!(ids.len(), e.len(), "customer_ids and len disagree");
    if let Some(id) = ids.first() {
        let _ = e.erase(id);
    }
    let bytes = e.snapshot();
    let again = Engine::restore(&bytes);
    prop_assert!(
        again.is_ok(),
        "a snapshot of a restored engine does not restore: {:?}",
        again.err()
    );
    Ok(())
}

/// Restore accepts a free list that names one empty slot twice (with a matching checksum):
/// `restore` checks that every listed slot is empty and that the list is as long as the
/// number of empty slots, but not that the entries are distinct. Two later new customers then
/// get the same slot, and the second overwrites the first (whose keys still point there).
#[test]
fn regression_restore_accepts_duplicate_free_slots() {
    let mut e = Engine::new(Model::preset("ecommerce").unwrap());
    for c in ["a", "b", "c", "d"] {
        e.ingest(&Touchpoint::new("web", "page_view", Timestamp(0)).key("customer_id", c))
            .unwrap();
    }
    e.erase("b").unwrap();
    e.erase("d").unwrap();
    let mut bytes = e.snapshot();
    // The payload ends with the free list: length 2, then slots 3 and 1 (or 1 and 3).
    let n = bytes.len();
    assert_eq!(bytes[n - 3], 2, "free list of two slots at the end");
    bytes[n - 1] = bytes[n - 2]; // the same slot twice
    fix_header(&mut bytes);
    let Ok(mut r) = Engine::restore(&bytes) else {
        return; // rejected: fine
    };
    for c in ["x", "y"] {
        r.ingest(&Touchpoint::new("web", "page_view", Timestamp(1)).key("customer_id", c))
            .unwrap();
    }
    assert_eq!(r.len(), 4);
    assert_eq!(
        r.customer("x").map(|v| v.id),
        Some("x".to_string()),
        "customer x was overwritten by y"
    );
    assert_eq!(r.customer_ids(), ["a", "c", "x", "y"]);
}

/// A snapshot with some content, for mutation.
fn sample_snapshot(mk: Mk, seed: u64) -> Vec<u8> {
    let u = Uni::new(mk);
    let mut e = u.engine();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for i in 0..12 {
        let s = TpSpec {
            cust: rng.gen_range(0..4),
            keys: rng.gen_range(0..8),
            link: None,
            device: rng.gen_bool(0.3).then(|| rng.gen_range(0..2)),
            kind: rng.gen_range(0..16),
            channel: rng.gen_range(0..16),
            dt: 0,
            id: rng.gen_bool(0.5).then_some(0),
            value: rng.gen_bool(0.3).then_some(3),
            prop: rng.gen_bool(0.5).then(|| rng.gen()),
        };
        let _ = e.ingest(&build_tp(
            &u,
            4,
            &s,
            i * SLOT,
            s.id.map(|_| format!("s{i}")),
        ));
    }
    let _ = e.set_consent("c1", u.consent_chans[0], true, u.ts(0));
    if rng.gen_bool(0.5) {
        let ids = e.customer_ids();
        let _ = e.erase(&ids[rng.gen_range(0..ids.len())]);
        let _ = e.erase(&ids[rng.gen_range(0..ids.len())]);
    }
    e.snapshot()
}

proptest! {
    #![proptest_config(cfg(256))]

    /// 6a. Garbage and plausible-but-wrong touchpoint JSON: Ok or Err, never a panic.
    #[test]
    fn ingest_json_never_panics(
        mk in mk_strategy(),
        garbage in vec(any::<u8>(), 0..64),
        texts in vec(touchpoint_json(), 1..6),
    ) {
        let u = Uni::new(mk);
        let mut e = u.engine();
        let _ = e.ingest_json(&String::from_utf8_lossy(&garbage));
        for t in &texts {
            let _ = e.ingest_json(t);
            let _ = Touchpoint::from_json(&u.model, t);
        }
        let _ = e.ingest_json_lines(texts.join("\n").as_bytes());
        exercise(&mut e)?;
    }

    /// 6b. Garbage and edited model JSON: Ok or Err, never a panic; a model that loads can be
    /// used, snapshotted and restored.
    #[test]
    fn model_from_json_never_panics(
        garbage in ".{0,64}",
        text in model_json(),
        tps in vec(touchpoint_json(), 0..4),
    ) {
        let _ = Model::from_json(&garbage);
        if let Ok(model) = Model::from_json(&text) {
            let again = Model::from_json(&model.to_json());
            prop_assert!(again.is_ok(), "canonical JSON of a valid model does not load: {:?}", again.err());
            let mut e = Engine::new(model);
            for t in &tps {
                let _ = e.ingest_json(t);
            }
            let restored = Engine::restore(&e.snapshot());
            prop_assert!(restored.is_ok(), "snapshot does not restore: {:?}", restored.err());
            exercise(&mut e)?;
        }
    }

    /// 6c. Random bytes, damaged snapshots, and snapshots whose payload was edited (with the
    /// checksum fixed up so the decoder and the checks see it): Ok or Err, never a panic; an
    /// engine restored from them works.
    #[test]
    fn restore_never_panics(
        mk in mk_strategy(),
        seed in any::<u64>(),
        garbage in vec(any::<u8>(), 0..128),
        flips in vec((any::<prop::sample::Index>(), 0..8u8), 1..6),
        sets in vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        cut in prop::option::weighted(0.2, any::<prop::sample::Index>()),
        fix in any::<bool>(),
    ) {
        let _ = Engine::restore(&garbage);
        let mut g = b"JRNDSNAP\x01\x00\x00\x00".to_vec();
        g.extend_from_slice(&garbage);
        let _ = Engine::restore(&g);
        fix_header(&mut g);
        let _ = Engine::restore(&g);

        let mut bytes = sample_snapshot(mk, seed);
        // With the header fixed up, mostly edit past the embedded model (whose JSON is most of
        // the payload and would otherwise absorb most edits).
        let start = if !fix {
            0
        } else if seed % 4 == 0 {
            24
        } else {
            let empty = Uni::new(mk).engine().snapshot();
            24 + bytes[24..].iter().zip(&empty[24..]).take_while(|(a, b)| a == b).count()
        };
        let span = bytes.len() - start;
        for (i, bit) in &flips {
            bytes[start + i.index(span)] ^= 1 << bit;
        }
        for (i, b) in &sets {
            bytes[start + i.index(span)] = *b;
        }
        if let Some(c) = cut {
            bytes.truncate(c.index(bytes.len() + 1));
        }
        if fix {
            fix_header(&mut bytes);
        }
        if let Ok(mut e) = Engine::restore(&bytes) {
            exercise(&mut e)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sanity checks of the harness itself
// ---------------------------------------------------------------------------------------------

#[test]
fn small_model_loads() {
    let m = Model::from_json(SMALL_MODEL).unwrap();
    assert!(m.warnings().is_empty(), "{:?}", m.warnings());
    let mut e = Engine::new(m);
    let t = |min: i64| Timestamp(1_000_000 * MIN + min * MIN);
    let tp = |k: &str, min| Touchpoint::new("web", k, t(min)).key("customer_id", "c1");
    e.ingest(&tp("view", 0)).unwrap();
    e.ingest(&tp("view", 5)).unwrap();
    assert_eq!(e.customer("c1").unwrap().stage.as_deref(), Some("engaged"));
    e.ingest(&tp("add_to_cart", 6).property("price", 60.0))
        .unwrap();
    assert_eq!(e.customer("c1").unwrap().stage.as_deref(), Some("hot"));
    let out = e.advance_to(t(66));
    assert_eq!(&*out.transitions[0].to, "cold");
    assert!(out.actions[0].suppressed);
}

#[test]
fn crc_matches_the_engine() {
    let bytes = sample_snapshot(Mk::Ecom, 1);
    let mut fixed = bytes.clone();
    fix_header(&mut fixed);
    assert_eq!(bytes, fixed);
}

// ---------------------------------------------------------------------------------------------
// Regressions: minimal reproductions of engine bugs found by the properties above
// ---------------------------------------------------------------------------------------------

/// Property 2 (restore-and-continue): the order of timer outputs within one call depends on
/// the timer queue's history, which a restore does not keep. `x` fills a cart (abandoned-cart
/// timer due at +1h, queued), then buys at +10m: its timers move to +10m+7d and +10m+90d, but
/// `reschedule` only pushes an entry when the new due time is *earlier* than `scheduled`, so
/// the queue keeps `x` at +1h. When time jumps 8 days, `x` pops first and fires its review
/// request (+10m+7d) before `y`'s (+5m+7d). A restored engine queues `x` at +10m+7d and
/// reports `y` first.
#[test]
fn regression_restore_changes_timer_order() {
    let base = Timestamp::parse("2026-03-01T00:00:00Z").unwrap().millis();
    let t = |min: i64| Timestamp(base + min * MIN);
    let tp = |c: &str, k: &str, min| Touchpoint::new("web", k, t(min)).key("customer_id", c);
    let mut a = Engine::new(Model::preset("ecommerce").unwrap());
    a.ingest(&tp("x", "add_to_cart", 0)).unwrap();
    a.ingest(&tp("y", "purchase", 5)).unwrap();
    a.ingest(&tp("x", "purchase", 10)).unwrap();
    let mut b = Engine::restore(&a.snapshot()).unwrap();
    let later = t(8 * 24 * 60);
    let (oa, ob) = (a.advance_to(later), b.advance_to(later));
    let who = |o: &Outcome| -> Vec<(String, i64)> {
        o.actions
            .iter()
            .map(|a| (a.customer.clone(), a.at.millis() - base))
            .collect()
    };
    assert_eq!(
        who(&oa),
        who(&ob),
        "uninterrupted and restored engines report the timeouts in different orders"
    );
    assert_eq!(oa, ob);
}
