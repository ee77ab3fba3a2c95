//! A seeded simulator of customer journeys, driven by a journey model: realistic multi-channel
//! event logs for tests, benchmarks, demos and docs in every language.
//!
//! # How customers behave
//! Every customer is simulated on their own (from `seed` and their index, so the output does
//! not depend on threads), through the model's own state machine, which says which stage they
//! are in before each event:
//! - **Activity** is heavy-tailed: the number of events a customer is given is Pareto-like
//!   (most have a handful, a few have hundreds), spread over sessions across an activity span
//!   inside the `days` window, starting at a random day.
//! - **Sessions** happen on one channel: mostly the customer's preferred interaction channel,
//!   sometimes another (channel switches). A session opens (a kind such as `page_view`,
//!   `app_open`, `store_visit` when the model has one), then takes steps until the customer drops
//!   off (35% per step). Each step is, with the customer's *intent* (a probability drawn per
//!   customer, from 3% to 53%, low for most), an event that triggers one of the transition rules
//!   out of the current stage (nearer stages in model order are likelier: a funnel walk), else a
//!   browsing event (kinds that lead to early stages are likelier). Rules' channel lists are
//!   respected; properties that rule conditions read are generated from the condition's own
//!   values, so conditions hold for part of the events.
//! - **Drop-off** follows: sessions end, customers run out of activity, timeouts fire (an
//!   abandoned cart is a cart session that ended before the purchase).
//! - **Marketing and service**: between sessions, touches on the model's consent-gated channels
//!   (kinds named after the channel: `email_open`, `email_click`, `sms_click`), a click bringing
//!   the customer back soon; support contacts (a `support`, `phone` or `chat` channel with a kind
//!   such as `support_contact`), sometimes repeated.
//! - **Commerce touches**, when the model has such kinds: `checkout` before most purchases and in
//!   some abandoned carts, a value on purchases (log-normal, around 60), `review`s with a `rating`
//!   (1 to 5, mostly 4 and 5) after purchases, `return`s, `remove_from_cart`; `sku` and
//!   `category` properties on product events, a `coupon` on some purchases.
//!
//! With the `ecommerce` preset this gives a believable shop: a funnel from page views to
//! purchases with drop-off at every step, abandoned carts, repeat purchases, reviews, email and
//! SMS touches, support contacts over six channels. About `events_per_customer` (default 20)
//! events per customer on average: `customers = 500_000` gives about 10M events.
//!
//! Events of one customer are at distinct times (at least a second apart). The simulator does
//! not use `rand`: a small SplitMix64 generator keeps the output identical on every platform and
//! release.
//!
//! ```
//! use jornada::analytics::simulate::{simulate, SimConfig};
//! use jornada::Model;
//! let model = Model::preset("ecommerce")?;
//! let log = simulate(&model, &SimConfig { customers: 1_000, seed: 7, ..Default::default() });
//! assert_eq!(log.n_customers(), 1_000);
//! assert!(log.len() > 10_000);
//! assert_eq!(log.channels().len(), 6);
//! // Deterministic: the same seed gives the same log.
//! let again = simulate(&model, &SimConfig { customers: 1_000, seed: 7, ..Default::default() });
//! assert_eq!(log.at(), again.at());
//! # Ok::<(), jornada::Error>(())
//! ```

use super::event_log::{Columns, EventLog, PropColumn, NULL_CODE};
use crate::engine::machine::{Discard, EventProps, Machine};
use crate::engine::profile::{Event, StageEntry, Timers};
use crate::model::condition::{Cond, PropKey, PropSource, VALUE_PROP};
use crate::model::spec::ConsentPolicy;
use crate::model::{ChannelId, Compiled, KindId, Model, RuleBody, RuleId, StageId};
use crate::time::Timestamp;
use crate::value::{PropType, PropValue};
use thin_vec::ThinVec;

const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Customers per block of work (fixed, so the output never depends on threads).
const BLOCK: usize = 4096;

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Number of customers (named `c0000`, `c0001`, ... zero-padded so names sort like numbers).
    pub customers: usize,
    /// Seed: the same seed, model and configuration give the same log.
    pub seed: u64,
    /// Start of the simulated window (a start before year 0000, or a window reaching past
    /// year 9999, is moved or cut to lie within those years).
    pub start: Timestamp,
    /// Length of the window in days; customers arrive during its first 80%.
    pub days: u32,
    /// Average number of events per customer (the distribution is heavy-tailed).
    pub events_per_customer: f64,
}

impl Default for SimConfig {
    /// 10,000 customers, seed 0, 180 days from 2026-03-01, 20 events per customer.
    fn default() -> Self {
        SimConfig {
            customers: 10_000,
            seed: 0,
            start: Timestamp(1_772_323_200_000),
            days: 180,
            events_per_customer: 20.0,
        }
    }
}

/// Simulates customers' journeys through `model`. See the [module docs](self).
pub fn simulate(model: &Model, cfg: &SimConfig) -> EventLog {
    simulate_with_progress(model, cfg, &|_| {})
}

/// [`simulate`], reporting progress: `progress(k)` is called each time a block of `k`
/// customers has been simulated (blocks of 4,096 customers or fewer, from rayon's worker
/// threads when the `parallel` feature is on, in no particular order). The `k`s add up to
/// `cfg.customers`; the last call comes before the log is assembled. The log is the same as
/// [`simulate`]'s.
///
/// ```
/// use jornada::analytics::simulate::{simulate, simulate_with_progress, SimConfig};
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// let model = jornada::Model::preset("ecommerce")?;
/// let cfg = SimConfig { customers: 5_000, seed: 1, ..Default::default() };
/// let done = AtomicUsize::new(0);
/// let log = simulate_with_progress(&model, &cfg, &|k| { done.fetch_add(k, Ordering::Relaxed); });
/// assert_eq!(done.into_inner(), 5_000);
/// assert_eq!(log.at(), simulate(&model, &cfg).at());
/// # Ok::<(), jornada::Error>(())
/// ```
pub fn simulate_with_progress(
    model: &Model,
    cfg: &SimConfig,
    progress: &(dyn Fn(usize) + Sync),
) -> EventLog {
    let m = &*model.inner;
    let plan = Plan::new(m);
    let n = cfg.customers;
    let n_blocks = n.div_ceil(BLOCK);
    let block = |b: usize| {
        let range = b * BLOCK..((b + 1) * BLOCK).min(n);
        let k = range.len();
        let out = simulate_block(&plan, cfg, range);
        progress(k);
        out
    };
    #[cfg(feature = "parallel")]
    let blocks: Vec<Block> = {
        use rayon::prelude::*;
        (0..n_blocks).into_par_iter().map(block).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let blocks: Vec<Block> = (0..n_blocks).map(block).collect();

    let width = n.saturating_sub(1).to_string().len();
    let total: usize = blocks.iter().map(|b| b.at.len()).sum();
    let mut c = Columns {
        customer_dict: (0..n).map(|i| format!("c{i:0width$}").into()).collect(),
        customer: Vec::with_capacity(total),
        at: Vec::with_capacity(total),
        channel_dict: m.channels.iter().map(|c| (*c.name).into()).collect(),
        channel: Vec::with_capacity(total),
        kind_dict: m.kinds.iter().map(|k| (**k).into()).collect(),
        kind: Vec::with_capacity(total),
        value: Vec::with_capacity(total),
        props: Vec::new(),
    };
    let mut prop_codes: Vec<Vec<u32>> = plan.props.iter().map(|_| Vec::new()).collect();
    for mut b in blocks {
        c.customer.append(&mut b.customer);
        c.at.append(&mut b.at);
        c.channel.extend(b.channel.iter().map(|&x| x as u32));
        c.kind.extend(b.kind.iter().map(|&x| x as u32));
        c.value.append(&mut b.value);
        for (all, mut part) in prop_codes.iter_mut().zip(b.props) {
            all.append(&mut part);
        }
    }
    for (g, codes) in plan.props.iter().zip(prop_codes) {
        if codes.iter().all(|&x| x == NULL_CODE) {
            continue;
        }
        let col = match g.ty {
            PropType::String => PropColumn::Str {
                codes,
                dict: g
                    .vocab
                    .iter()
                    .map(|v| match v {
                        PropValue::Str(s) => s.clone(),
                        other => other.to_string().into(),
                    })
                    .collect(),
            },
            PropType::Number => PropColumn::Num(
                codes
                    .iter()
                    .map(|&x| match g.vocab.get(x as usize) {
                        Some(PropValue::Num(v)) => *v,
                        _ => f64::NAN,
                    })
                    .collect(),
            ),
            PropType::Bool => PropColumn::Bool(
                codes
                    .iter()
                    .map(|&x| match g.vocab.get(x as usize) {
                        Some(PropValue::Bool(b)) => *b as u8,
                        _ => super::event_log::NULL_BOOL,
                    })
                    .collect(),
            ),
        };
        c.props.push((g.name.to_string(), col));
    }
    EventLog::from_columns(c).expect("simulated columns are valid")
}

/// SplitMix64: tiny, fast, and the same stream on every platform.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next();
        r
    }
    #[inline]
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    #[inline]
    fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    #[inline]
    fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }
    /// Uniform in [0, n).
    #[inline]
    fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }
    /// Uniform in [lo, hi).
    #[inline]
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.f() * (hi - lo).max(1) as f64) as i64
    }
    /// Log-uniform in [lo, hi).
    fn log_range(&mut self, lo: i64, hi: i64) -> i64 {
        let (a, b) = ((lo.max(1) as f64).ln(), (hi.max(2) as f64).ln());
        (a + self.f() * (b - a)).exp() as i64
    }
    /// An index drawn from cumulative weights.
    fn pick(&mut self, cumulative: &[f64]) -> usize {
        let total = *cumulative.last().expect("non-empty weights");
        let x = self.f() * total;
        cumulative
            .partition_point(|&c| c <= x)
            .min(cumulative.len() - 1)
    }
    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.f();
        let v = self.f();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0.0;
    weights
        .into_iter()
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

/// How one property is generated.
struct PropGen {
    key: PropKey,
    name: std::sync::Arc<str>,
    ty: PropType,
    vocab: Vec<PropValue>,
    weights: Vec<f64>,
    /// Per kind, the probability of carrying this property.
    on: Vec<f64>,
}

/// What the simulator knows about a model, worked out once.
struct Plan<'m> {
    m: &'m Compiled,
    /// Interaction channels and their cumulative preference weights.
    interaction: Vec<ChannelId>,
    interaction_w: Vec<f64>,
    /// Consent-gated channels with the kinds named after them.
    outbound: Vec<(ChannelId, Vec<KindId>)>,
    support: Option<(ChannelId, KindId)>,
    /// Per channel, the kind that opens a session.
    opener: Vec<Option<KindId>>,
    /// Per stage, the transition rules out of it and their cumulative weights.
    progress: Vec<(Vec<RuleId>, Vec<f64>)>,
    /// Per rule, the kinds that trigger it.
    rule_kinds: Vec<Vec<KindId>>,
    /// Browsing kinds and their cumulative weights.
    browse: Vec<KindId>,
    browse_w: Vec<f64>,
    /// Kinds that carry a value (purchases).
    valued: Vec<bool>,
    checkout: Option<KindId>,
    cart: Option<KindId>,
    review: Option<KindId>,
    ret: Option<KindId>,
    remove: Option<KindId>,
    props: Vec<PropGen>,
}

impl<'m> Plan<'m> {
    fn new(m: &'m Compiled) -> Plan<'m> {
        let kind = |name: &str| m.kind_ix.get(name).copied();
        let kind_name = |k: KindId| &*m.kinds[k as usize];
        let n_kinds = m.kinds.len();
        let supportish = |n: &str| n.contains("support") || n == "phone" || n == "chat";

        let mut interaction = Vec::new();
        let mut outbound = Vec::new();
        let mut support = None;
        for (i, ch) in m.channels.iter().enumerate() {
            let i = i as ChannelId;
            if ch.consent != ConsentPolicy::None {
                let prefix = format!("{}_", ch.name);
                let kinds: Vec<KindId> = (0..n_kinds as KindId)
                    .filter(|&k| kind_name(k).starts_with(&prefix))
                    .collect();
                outbound.push((i, kinds));
            } else if supportish(&ch.name) {
                if support.is_none() {
                    let k = (0..n_kinds as KindId).find(|&k| {
                        let n = kind_name(k);
                        n.contains("support") || n.contains("inquiry") || n.contains("complain")
                    });
                    support = k.map(|k| (i, k));
                }
            } else {
                interaction.push(i);
            }
        }
        if interaction.is_empty() {
            interaction = (0..m.channels.len() as ChannelId).collect();
        }
        // Preference: the first interaction channel most, then decreasing.
        let interaction_w = cumulative((0..interaction.len()).map(|i| 0.55f64.powi(i as i32)));

        // Depth of a kind: the earliest stage a transition rule it triggers leads to (0: none).
        let mut depth = vec![usize::MAX; n_kinds];
        let mut in_rules = vec![false; n_kinds];
        for r in &m.rules {
            if let (RuleBody::Transition { on, .. }, Some(to)) = (&r.body, r.to) {
                for (k, &yes) in on.iter().enumerate() {
                    if yes {
                        in_rules[k] = true;
                        depth[k] = depth[k].min(to as usize);
                    }
                }
            }
        }
        let checkout = kind("checkout");
        let review = kind("review");
        let ret = kind("return");
        let remove = kind("remove_from_cart");
        let mut opener: Vec<Option<KindId>> = Vec::new();
        for ch in &m.channels {
            let own = ["visit", "open"]
                .iter()
                .find_map(|s| kind(&format!("{}_{s}", ch.name)));
            opener.push(own.or_else(|| kind("page_view")));
        }
        let special: Vec<bool> = (0..n_kinds as KindId)
            .map(|k| {
                outbound.iter().any(|(_, ks)| ks.contains(&k))
                    || support.is_some_and(|(_, s)| s == k)
                    || [checkout, review, ret, remove].contains(&Some(k))
                    || (opener.contains(&Some(k)) && Some(k) != kind("page_view"))
            })
            .collect();
        let mut browse = Vec::new();
        let mut browse_w = Vec::new();
        for k in 0..n_kinds {
            if special[k] {
                continue;
            }
            let d = if in_rules[k] { depth[k] } else { 0 };
            browse.push(k as KindId);
            browse_w.push(0.45f64.powi(d.min(30) as i32));
        }
        if browse.is_empty() {
            browse = (0..n_kinds as KindId).collect();
            browse_w = vec![1.0; n_kinds];
        }
        let browse_w = cumulative(browse_w);

        let mut progress = Vec::with_capacity(m.stages.len());
        for s in 0..m.stages.len() {
            let mut rules: Vec<RuleId> = Vec::new();
            for k in 0..n_kinds as KindId {
                for &r in m.candidates(s as StageId, k) {
                    let to = m.rules[r as usize].to;
                    if to.is_some_and(|t| t as usize != s) && !rules.contains(&r) {
                        rules.push(r);
                    }
                }
            }
            rules.sort_unstable();
            let w = rules.iter().map(|&r| {
                let t = m.rules[r as usize].to.expect("filtered") as usize;
                if t > s {
                    0.4f64.powi((t - s - 1) as i32)
                } else {
                    0.3
                }
            });
            let w = cumulative(w);
            progress.push((rules, w));
        }

        let purchase_like = |n: &str| n.contains("purchase") || n.contains("order");
        let mut valued: Vec<bool> = m.kinds.iter().map(|k| purchase_like(k)).collect();

        // Properties: those conditions read (values from the conditions), and the shop's own.
        let mut literals: Vec<Vec<PropValue>> = vec![Vec::new(); m.props.len()];
        let mut read_on: Vec<Vec<bool>> = vec![vec![false; n_kinds]; m.props.len()];
        for r in &m.rules {
            if let RuleBody::Transition {
                on, when: Some(c), ..
            } = &r.body
            {
                let mut found = Vec::new();
                collect_literals(c, &mut found);
                for (key, lit) in found {
                    if key == VALUE_PROP {
                        for (k, &yes) in on.iter().enumerate() {
                            valued[k] |= yes;
                        }
                        continue;
                    }
                    let key = key as usize;
                    if let Some(l) = lit {
                        if !literals[key].contains(&l) {
                            literals[key].push(l);
                        }
                    }
                    for (k, &yes) in on.iter().enumerate() {
                        read_on[key][k] |= yes;
                    }
                }
            }
        }
        let mut props = Vec::new();
        for (key, (name, declared)) in m.props.iter().enumerate() {
            let lits = &literals[key];
            let ty = declared
                .or_else(|| lits.first().map(PropValue::prop_type))
                .unwrap_or(PropType::String);
            let mut on = vec![0.0f64; n_kinds];
            for (k, &yes) in read_on[key].iter().enumerate() {
                if yes {
                    on[k] = 1.0;
                }
            }
            let (vocab, weights): (Vec<PropValue>, Vec<f64>) = match (&**name, ty) {
                ("rating", PropType::Number) => {
                    if let Some(k) = review {
                        on[k as usize] = 1.0;
                    }
                    (
                        (1..=5).map(|r| PropValue::Num(r as f64)).collect(),
                        vec![0.06, 0.06, 0.13, 0.30, 0.45],
                    )
                }
                ("sku", PropType::String) | ("category", PropType::String) => {
                    for (k, n) in m.kinds.iter().enumerate() {
                        if n.contains("product") || n.contains("cart") || purchase_like(n) {
                            on[k] = on[k].max(0.9);
                        }
                    }
                    let vocab: Vec<PropValue> = if &**name == "sku" {
                        (1..=300)
                            .map(|i| PropValue::from(format!("SKU-{i:04}")))
                            .collect()
                    } else {
                        [
                            "apparel",
                            "beauty",
                            "books",
                            "electronics",
                            "garden",
                            "grocery",
                            "home",
                            "kids",
                            "pets",
                            "shoes",
                            "sports",
                            "toys",
                        ]
                        .iter()
                        .map(|&s| PropValue::from(s))
                        .collect()
                    };
                    // Zipf-like popularity.
                    let w = (1..=vocab.len()).map(|i| 1.0 / i as f64).collect();
                    (vocab, w)
                }
                ("coupon", PropType::String) => {
                    for (k, n) in m.kinds.iter().enumerate() {
                        if purchase_like(n) {
                            on[k] = on[k].max(0.15);
                        }
                    }
                    (
                        ["WELCOME10", "SPRING15", "FREESHIP"]
                            .iter()
                            .map(|&s| PropValue::from(s))
                            .collect(),
                        vec![0.5, 0.3, 0.2],
                    )
                }
                (_, ty) => {
                    let mut vocab: Vec<PropValue> = Vec::new();
                    for l in lits.iter().filter(|l| l.prop_type() == ty) {
                        match l {
                            PropValue::Num(x) => {
                                for v in [*x, x - 1.0, x + 1.0, x * 2.0, 0.0] {
                                    vocab.push(PropValue::Num(v));
                                }
                            }
                            other => vocab.push(other.clone()),
                        }
                    }
                    match ty {
                        PropType::String => vocab.push(PropValue::from("other")),
                        PropType::Bool => {
                            vocab = vec![PropValue::Bool(false), PropValue::Bool(true)];
                        }
                        PropType::Number if vocab.is_empty() => {
                            vocab = (1..=5).map(|r| PropValue::Num(r as f64)).collect();
                        }
                        PropType::Number => {}
                    }
                    let mut uniq: Vec<PropValue> = Vec::new();
                    for v in vocab {
                        if !uniq.contains(&v) {
                            uniq.push(v);
                        }
                    }
                    let w = vec![1.0; uniq.len()];
                    (uniq, w)
                }
            };
            if on.iter().all(|&p| p == 0.0) {
                continue;
            }
            props.push(PropGen {
                key: key as PropKey,
                name: name.clone(),
                ty,
                vocab,
                weights: cumulative(weights),
                on,
            });
        }
        let rule_kinds = m
            .rules
            .iter()
            .map(|r| match &r.body {
                RuleBody::Transition { on, .. } => (0..on.len() as KindId)
                    .filter(|&k| on[k as usize])
                    .collect(),
                RuleBody::Timeout { .. } => Vec::new(),
            })
            .collect();
        Plan {
            m,
            rule_kinds,
            cart: kind("add_to_cart"),
            interaction,
            interaction_w,
            outbound,
            support,
            opener,
            progress,
            browse,
            browse_w,
            valued,
            checkout,
            review,
            ret,
            remove,
            props,
        }
    }
}

/// Properties a condition reads, with the literal it compares to (if any).
fn collect_literals(c: &Cond, out: &mut Vec<(PropKey, Option<PropValue>)>) {
    match c {
        Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| collect_literals(c, out)),
        Cond::Not(c) => collect_literals(c, out),
        Cond::Cmp(k, _, v) => out.push((*k, Some(v.clone()))),
        Cond::In(k, vs) => vs.iter().for_each(|v| out.push((*k, Some(v.clone())))),
        Cond::Exists(k) => out.push((*k, None)),
        Cond::Contains(k, s) => out.push((*k, Some(PropValue::Str(s.clone())))),
    }
}

/// The simulated events of a block of customers, in customer then time order.
#[derive(Default)]
struct Block {
    customer: Vec<u32>,
    at: Vec<i64>,
    channel: Vec<ChannelId>,
    kind: Vec<KindId>,
    value: Vec<f64>,
    /// Per generated property, per row, a vocabulary index ([`NULL_CODE`]: none).
    props: Vec<Vec<u32>>,
}

/// Conditions read the customer's generated properties (rows `base..` of the block).
struct SimProps<'a> {
    plan: &'a Plan<'a>,
    block: &'a Block,
    base: usize,
}

struct SimRow<'a> {
    props: &'a SimProps<'a>,
    row: usize,
}

impl PropSource for SimRow<'_> {
    fn with<R>(&self, key: PropKey, f: impl FnOnce(&PropValue) -> R) -> Option<R> {
        let b = self.props.block;
        if key == VALUE_PROP {
            let v = b.value[self.row];
            return (!v.is_nan()).then(|| f(&PropValue::Num(v)));
        }
        let i = self.props.plan.props.iter().position(|g| g.key == key)?;
        match b.props[i][self.row] {
            NULL_CODE => None,
            c => Some(f(&self.props.plan.props[i].vocab[c as usize])),
        }
    }
}

impl EventProps for SimProps<'_> {
    fn eval(&self, cond: &Cond, _: &[Event], idx: usize, _: usize) -> bool {
        cond.eval(&SimRow {
            props: self,
            row: self.base + idx,
        })
    }
}

/// One customer being simulated.
struct Sim<'a> {
    plan: &'a Plan<'a>,
    rng: Rng,
    customer: u32,
    base: usize,
    t: i64,
    end: i64,
    budget: usize,
    events: Vec<Event>,
    history: ThinVec<StageEntry>,
    timers: Timers,
    purchases: u32,
    /// Probability that a step moves the journey on (per customer: most browse, a few buy).
    intent: f64,
}

impl Sim<'_> {
    fn done(&self) -> bool {
        self.events.len() >= self.budget || self.t >= self.end
    }

    /// The customer's stage at time `at` (timers due before it fired).
    fn stage_at(&mut self, at: i64) -> Option<StageId> {
        let mut m = Machine {
            m: self.plan.m,
            consent: &[],
            history: &mut self.history,
            timers: &mut self.timers,
            sink: &mut Discard,
        };
        m.fire_timers(at, false);
        self.history.last().map(|h| h.stage)
    }

    /// Emits an event at the current time, then moves time on by `gap`.
    fn emit(&mut self, out: &mut Block, kind: KindId, channel: ChannelId, gap: i64) {
        if self.done() {
            return;
        }
        let plan = self.plan;
        let at = self.t;
        out.customer.push(self.customer);
        out.at.push(at);
        out.channel.push(channel);
        out.kind.push(kind);
        let value = if plan.valued[kind as usize] {
            let v = (60f64.ln() + 0.7 * self.rng.normal())
                .exp()
                .clamp(1.0, 5_000.0);
            (v * 100.0).round() / 100.0
        } else {
            f64::NAN
        };
        out.value.push(value);
        for (i, g) in plan.props.iter().enumerate() {
            let p = g.on[kind as usize];
            let code = if p > 0.0 && self.rng.chance(p) {
                self.rng.pick(&g.weights) as u32
            } else {
                NULL_CODE
            };
            out.props[i].push(code);
        }
        if plan.valued[kind as usize] {
            self.purchases += 1;
        }
        self.events.push(Event::new(at, kind, channel, 0));
        let idx = self.events.len() - 1;
        let props = SimProps {
            plan,
            block: out,
            base: self.base,
        };
        let mut m = Machine {
            m: plan.m,
            consent: &[],
            history: &mut self.history,
            timers: &mut self.timers,
            sink: &mut Discard,
        };
        m.fire_timers(at, false);
        m.on_event_with(&self.events, &props, idx, 0);
        self.t += gap.max(SECOND);
    }

    fn step_gap(&mut self) -> i64 {
        self.rng.log_range(15 * SECOND, 4 * MINUTE)
    }

    /// A channel for a rule: the session's when the rule allows it, else one it allows.
    fn rule_channel(&mut self, r: RuleId, session: ChannelId) -> ChannelId {
        if let RuleBody::Transition {
            channels: Some(allowed),
            ..
        } = &self.plan.m.rules[r as usize].body
        {
            if !allowed[session as usize] {
                let ok: Vec<ChannelId> = (0..allowed.len() as ChannelId)
                    .filter(|&c| allowed[c as usize])
                    .collect();
                if !ok.is_empty() {
                    return ok[self.rng.below(ok.len())];
                }
            }
        }
        session
    }

    fn shopping_session(&mut self, out: &mut Block, channel: ChannelId) {
        let plan = self.plan;
        if let Some(k) = plan.opener[channel as usize] {
            let gap = self.step_gap();
            self.emit(out, k, channel, gap);
        }
        let mut in_cart = false;
        loop {
            if self.done() || self.rng.chance(0.35) {
                break;
            }
            let gap = self.step_gap();
            let stage = self.stage_at(self.t).unwrap_or(0) as usize;
            let (rules, w) = &plan.progress[stage];
            if !rules.is_empty() && self.rng.chance(self.intent) {
                let r = rules[self.rng.pick(w)];
                let kinds = &plan.rule_kinds[r as usize];
                let k = kinds[self.rng.below(kinds.len())];
                let ch = self.rule_channel(r, channel);
                if plan.valued[k as usize] {
                    if let Some(c) = plan.checkout {
                        if self.rng.chance(0.85) {
                            let g = self.step_gap();
                            self.emit(out, c, ch, g);
                        }
                    }
                    in_cart = false;
                } else if Some(k) == plan.cart {
                    in_cart = true;
                }
                self.emit(out, k, ch, gap);
            } else if in_cart && plan.remove.is_some() && self.rng.chance(0.1) {
                self.emit(out, plan.remove.expect("checked"), channel, gap);
            } else {
                let k = plan.browse[self.rng.pick(&plan.browse_w)];
                if plan.valued[k as usize] {
                    in_cart = false;
                }
                self.emit(out, k, channel, gap);
            }
        }
        // Some carts are left at the checkout page.
        if in_cart {
            if let Some(c) = plan.checkout {
                if self.rng.chance(0.2) {
                    let gap = self.step_gap();
                    self.emit(out, c, channel, gap);
                }
            }
        }
    }

    fn run(&mut self, out: &mut Block) {
        let plan = self.plan;
        let preferred = plan.interaction[self.rng.pick(&plan.interaction_w)];
        // Activity span, shorter for most customers, and the number of sessions in it.
        let span_max = (self.end - self.t).max(HOUR);
        let span = (span_max as f64 * (0.05 + 0.95 * self.rng.f().powi(2))) as i64;
        let sessions = (self.budget as f64 / 4.5).ceil().max(1.0);
        let gap = (span as f64 / sessions) as i64;
        let mut reviewed = 0;
        let mut returned = 0;
        while !self.done() {
            let roll = self.rng.f();
            let channel = if self.rng.chance(0.75) {
                preferred
            } else {
                plan.interaction[self.rng.below(plan.interaction.len())]
            };
            let after_purchase = |done: u32| self.purchases > done;
            if let (Some((sc, sk)), true) = (plan.support, roll < 0.04) {
                // A support contact, sometimes repeated about the same issue.
                let g = self.rng.log_range(10 * MINUTE, 2 * DAY);
                self.emit(out, sk, sc, g);
                while self.rng.chance(0.35) && !self.done() {
                    let g = self.rng.log_range(10 * MINUTE, 2 * DAY);
                    self.emit(out, sk, sc, g);
                }
            } else if let (Some(k), true) = (plan.review, roll < 0.10 && after_purchase(reviewed)) {
                // Some purchases get a review.
                reviewed = self.purchases;
                let g = self.step_gap();
                self.emit(out, k, channel, g);
            } else if let (Some(k), true) = (plan.ret, roll < 0.13 && after_purchase(returned)) {
                // And a few are returned.
                returned = self.purchases;
                let g = self.step_gap();
                self.emit(out, k, channel, g);
            } else {
                self.shopping_session(out, channel);
            }
            // Between sessions: a marketing touch, maybe a click that brings them back soon.
            let mut next = (gap as f64 * (0.2 + 1.6 * self.rng.f())) as i64;
            if !plan.outbound.is_empty() && self.rng.chance(0.3) {
                let (ch, kinds) = &plan.outbound[self.rng.below(plan.outbound.len())];
                if !kinds.is_empty() {
                    self.t += self.rng.range(HOUR, (next / 2).max(HOUR + 1));
                    let k = kinds[self.rng.below(kinds.len())];
                    let clicked = plan.m.kinds[k as usize].contains("click");
                    next = if clicked {
                        self.rng.log_range(MINUTE, 30 * MINUTE)
                    } else {
                        next / 2
                    };
                    self.emit(out, k, *ch, 0);
                }
            }
            self.t += next.max(30 * MINUTE);
        }
    }
}

/// The window's start and length: `cfg`'s, moved and cut where needed so that every simulated
/// time is a valid one (years 0000 to 9999; the last step may pass the window's end by up to an
/// hour).
fn window(cfg: &SimConfig) -> (i64, i64) {
    const LAST: i64 = crate::time::MAX_MILLIS - 2 * DAY;
    let start = cfg.start.0.clamp(crate::time::MIN_MILLIS, LAST - DAY);
    let days = cfg.days.max(1) as i64;
    (start, (days * DAY).min(LAST - start))
}

fn simulate_block(plan: &Plan<'_>, cfg: &SimConfig, customers: std::ops::Range<usize>) -> Block {
    let mean = cfg.events_per_customer.max(1.0);
    let (start, window) = window(cfg);
    let mut out = Block {
        props: plan.props.iter().map(|_| Vec::new()).collect(),
        ..Default::default()
    };
    let mut events = Vec::new();
    let mut history = ThinVec::new();
    let mut timers = Timers::new();
    for c in customers {
        let mut rng = Rng::new(cfg.seed, c as u64);
        // Pareto (alpha 2) activity with the requested mean, capped.
        let u = 1.0 - rng.f();
        let budget = ((mean * 0.5 * u.powf(-0.5)).ceil() as usize).clamp(1, (mean * 50.0) as usize);
        let arrival = start + rng.range(0, window * 4 / 5);
        events.clear();
        let mut sim = Sim {
            plan,
            rng,
            customer: c as u32,
            base: out.at.len(),
            t: arrival,
            end: start + window,
            budget,
            events: std::mem::take(&mut events),
            history: std::mem::take(&mut history),
            timers: std::mem::take(&mut timers),
            purchases: 0,
            intent: 0.0,
        };
        sim.intent = 0.03 + 0.5 * sim.rng.f().powi(4);
        sim.history.clear();
        sim.timers.clear();
        sim.run(&mut out);
        events = sim.events;
        history = sim.history;
        timers = sim.timers;
    }
    out
}
