//! Funnels: how far each customer gets through ordered steps within a conversion window, and
//! how many customers reach each step.
//!
//! # Levels: ClickHouse `windowFunnel`, exactly
//! A customer's *level* is the number of steps they reach. In the ordered orders it is what
//! ClickHouse's `windowFunnel(window, modes…)(at, step_1, …, step_n)` returns when grouped by
//! customer over all of that customer's events (reproduced from its source,
//! `AggregateFunctionWindowFunnel`, and checked against the examples of its documentation and
//! tests):
//!
//! 1. Each event matching step `j` becomes an entry `(at, j)`; an event matching several steps
//!    gives one entry per step. With [`FunnelOrder::StrictOrder`] an event matching no step
//!    gives an entry `(at, none)`. Entries are taken in order of time, then step (`none` first).
//! 2. The scan keeps, per step, at most one partial chain: its start time and the time of its
//!    latest event. A step-1 entry starts a chain (replacing the one kept for step 1). A step-`j`
//!    entry extends the chain kept for step `j − 1` when `at − start ≤ window` (and, with
//!    `strict_increase`, when the kept chain's latest event is strictly earlier); the extended
//!    chain replaces the one kept for step `j`. The level is the highest step ever reached.
//! 3. Modes: [`FunnelOrder::StrictOrder`] ends the scan at an event that matches no step
//!    (after the first step-1 event) and at a step whose previous step has no chain yet (the
//!    ClickHouse `strict_order` mode, over every event of the customer);
//!    [`FunnelOrder::StrictOrderSteps`] is the same over only the events that match some step
//!    (`strict_order` after a SQL `WHERE` keeping step events: only an out-of-order *step*
//!    breaks the chain). `strict_increase`: equal timestamps do not advance. `strict_deduplication`:
//!    a step that already has a chain ends the scan (step 1 excepted). `allow_reentry` (with a
//!    strict order): an out-of-order step is skipped instead of ending the scan.
//!
//! This follows ClickHouse's current source (with the fix of issue 37177: `strict_deduplication`
//! returns the level reached, not the previous event's step) and the expectations of its test
//! suite at that version; one intermediate version of that suite expected other `allow_reentry`
//! results. ClickHouse's `strict_once` mode is not implemented. ClickHouse counts in its own
//! timestamp unit; here times and the window are milliseconds.
//!
//! In the default order this is the same as: the level is the largest `k` for which there are
//! events `e_1 … e_k` (not necessarily distinct), `e_j` matching step `j`, with
//! `at(e_1) ≤ at(e_2) ≤ … ≤ at(e_k) ≤ at(e_1) + window`. (With `strict_increase` ClickHouse's
//! single kept chain per step can miss a chain that exists; that is reproduced too.)
//!
//! # Extensions (default order only)
//! Exclusions ([`Exclusion`]: "B after A without C in between") and per-step gaps
//! ([`FunnelStep::min_gap`], [`FunnelStep::max_gap`]) are not ClickHouse features. With either,
//! the level is the largest `k` with a chain `e_1 … e_k` as above where also every gap
//! `at(e_j) − at(e_{j−1})` is within step `j`'s bounds and, for every exclusion between steps
//! `a` and `b` with `b ≤ k`, no excluded event lies strictly between `at(e_a)` and `at(e_b)`
//! (an excluded event at the same instant as a step is not between). Without exclusions and gaps
//! this is the default-order level above, so adding an exclusion that never matches changes
//! nothing.
//!
//! # Any order
//! [`FunnelOrder::Any`]: the level is the largest `k` such that some interval of length
//! `window` holds, for every step `j ≤ k`, an event matching step `j` (one event may stand for
//! several steps, as in the ordered modes). Exclusions, gaps and strict modes do not apply.
//!
//! # The chain behind the figures
//! Times between steps and the breakdown use one chain of events per customer: the one with
//! which the customer first reaches their final level, i.e. among chains reaching it, the one
//! whose last event comes first in the scan; among those, the one whose previous step is latest,
//! then the step before, and so on (the chain ClickHouse's scan holds at that moment). In the
//! any order, the chain is the first window (in scan order) reaching the final level and, for
//! each step, the earliest event in it matching that step; its times are not reported (steps
//! have no order).
//!
//! # Figures
//! Per step `j`: `customers` reaching at least step `j`; `conversion_from_first` =
//! customers(j) / customers(1); `conversion_from_previous` = customers(j) / customers(j − 1);
//! `drop_off` = customers(j − 1) − customers(j) (0 for step 1); median and 90th percentile
//! (nearest rank, milliseconds) of `at(e_j) − at(e_{j−1})` over the customers reaching step
//! `j`. A rate with a zero denominator is 0.
//!
//! # Breakdown
//! [`Breakdown`]: by the channel of the chain's step-1 event, by the customer's first-touch
//! channel (their first event in the log), by a property of the step-1 event (missing: the
//! group with no label), or by a cohort (a caller's map from customer key to group; customers
//! it does not list are in no group). Groups are ordered by label (numbers by value, no label
//! last); only customers reaching step 1 are counted.
//!
//! ```
//! use jornada::analytics::{funnel, EventLog, FunnelSpec, FunnelStep};
//! use jornada::{Duration, Timestamp};
//! let mut b = EventLog::builder();
//! let t = |m: i64| Timestamp::from_millis(m * 60_000);
//! b.push("ana", t(0), "web", "product_view", None)?;
//! b.push("ana", t(5), "web", "add_to_cart", None)?;
//! b.push("ana", t(9), "app", "purchase", Some(30.0))?;
//! b.push("ben", t(0), "web", "product_view", None)?;
//! b.push("ben", t(3), "web", "add_to_cart", None)?;
//! let spec = FunnelSpec::new(
//!     ["product_view", "add_to_cart", "purchase"].map(FunnelStep::kind),
//!     Duration::parse("1h").unwrap(),
//! );
//! let report = funnel(&b.finish()?, &spec)?;
//! let reached: Vec<u64> = report.steps.iter().map(|s| s.customers).collect();
//! assert_eq!(reached, [2, 2, 1]);
//! assert_eq!(report.steps[2].conversion_from_first, 0.5);
//! assert_eq!(report.steps[1].median_from_previous_ms, Some(3 * 60_000)); // lower median of 3m, 5m
//! # Ok::<(), jornada::Error>(())
//! ```

use super::select::{
    duration_serde, map_customers, non_negative, percentile, ratio, Compiled, EventFilter,
    MaskTable,
};
use crate::analytics::event_log::{EventLog, PropColumn, NULL_BOOL, NULL_CODE};
use crate::error::{Error, Location, Result};
use crate::model::spec::ConditionSpec;
use crate::time::Duration;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::collections::BTreeMap;
use std::ops::Range;

/// Most steps in a funnel (as ClickHouse).
pub const MAX_STEPS: usize = 32;

/// How steps must be ordered. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FunnelOrder {
    /// ClickHouse `windowFunnel` default: steps in order, other events in between allowed.
    #[default]
    Default,
    /// ClickHouse `strict_order` over every event of the customer: after the first step, an
    /// event matching no step, or a step out of order, ends the chain.
    StrictOrder,
    /// `strict_order` over only the events that match a step: a step out of order ends the
    /// chain, other events do not.
    StrictOrderSteps,
    /// Steps in any order within the window.
    Any,
}

/// One funnel step: which events it is (kinds, channels, a condition, as in [`EventFilter`]),
/// and optional bounds on the time since the previous step.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelStep {
    /// Display name; default: the filter's [label](EventFilter::label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Event kinds, any of; empty matches every kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// Channels, any of; empty matches every channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    /// A condition on the event's properties and value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<ConditionSpec>,
    /// At least this long after the previous step's event (not for step 1).
    #[serde(
        default,
        with = "duration_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_gap: Option<Duration>,
    /// At most this long after the previous step's event (not for step 1).
    #[serde(
        default,
        with = "duration_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_gap: Option<Duration>,
}

impl FunnelStep {
    /// A step matching one event kind.
    pub fn kind(kind: &str) -> Self {
        EventFilter::kind(kind).into()
    }

    /// Narrowed to these channels.
    pub fn on_channels<S: AsRef<str>>(mut self, channels: impl IntoIterator<Item = S>) -> Self {
        self.channels = channels
            .into_iter()
            .map(|c| c.as_ref().to_string())
            .collect();
        self
    }

    /// Narrowed by a condition written as JSON.
    pub fn when_json(self, json: &str) -> Result<Self> {
        let f = self.filter().when_json(json)?;
        Ok(FunnelStep {
            when: f.when,
            ..self
        })
    }

    /// Named.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// With a minimum time since the previous step.
    pub fn min_gap(mut self, d: Duration) -> Self {
        self.min_gap = Some(d);
        self
    }

    /// With a maximum time since the previous step.
    pub fn max_gap(mut self, d: Duration) -> Self {
        self.max_gap = Some(d);
        self
    }

    /// The step's events as an [`EventFilter`].
    pub fn filter(&self) -> EventFilter {
        EventFilter {
            kinds: self.kinds.clone(),
            channels: self.channels.clone(),
            when: self.when.clone(),
        }
    }

    fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.filter().label())
    }
}

impl From<EventFilter> for FunnelStep {
    fn from(f: EventFilter) -> Self {
        FunnelStep {
            kinds: f.kinds,
            channels: f.channels,
            when: f.when,
            ..Default::default()
        }
    }
}

/// Events that must not happen between two steps: a chain whose step `from_step` event and
/// step `to_step` event (0-based) have a matching event strictly between them does not count.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    /// Event kinds, any of; empty matches every kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// Channels, any of; empty matches every channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    /// A condition on the event's properties and value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<ConditionSpec>,
    /// The step after which (0-based).
    pub from_step: usize,
    /// The step before which (0-based), greater than `from_step`.
    pub to_step: usize,
}

impl Exclusion {
    /// `event` must not happen between step `from_step` and step `to_step` (0-based).
    pub fn new(event: EventFilter, from_step: usize, to_step: usize) -> Self {
        Exclusion {
            kinds: event.kinds,
            channels: event.channels,
            when: event.when,
            from_step,
            to_step,
        }
    }

    fn filter(&self) -> EventFilter {
        EventFilter {
            kinds: self.kinds.clone(),
            channels: self.channels.clone(),
            when: self.when.clone(),
        }
    }
}

/// How to split the funnel into groups. See the [module docs](self#breakdown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum Breakdown {
    /// The channel of the chain's step-1 event.
    Channel,
    /// The channel of the customer's first event in the log.
    FirstTouchChannel,
    /// A property of the chain's step-1 event.
    Property {
        /// The property name (`$value` for the event's value).
        name: String,
    },
    /// The caller's groups: customer key → group name.
    Cohort {
        /// Customer key → group name; customers not listed are in no group.
        groups: BTreeMap<String, String>,
    },
}

/// A funnel: steps, window, order and options. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelSpec {
    /// 1 to 32 steps.
    pub steps: Vec<FunnelStep>,
    /// The conversion window: the last step at most this long after the first.
    #[serde(with = "duration_serde")]
    pub window: Duration,
    /// Step order.
    #[serde(default)]
    pub order: FunnelOrder,
    /// ClickHouse `strict_increase`: events at the same instant do not advance the chain.
    #[serde(default)]
    pub strict_increase: bool,
    /// ClickHouse `strict_deduplication`: a repeated step (other than step 1) ends the chain.
    #[serde(default)]
    pub strict_deduplication: bool,
    /// ClickHouse `allow_reentry` (needs a strict order): out-of-order steps are skipped.
    #[serde(default)]
    pub allow_reentry: bool,
    /// Exclusions (default order only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<Exclusion>,
    /// Optional breakdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Breakdown>,
}

impl FunnelSpec {
    /// A default-order funnel.
    pub fn new(steps: impl IntoIterator<Item = FunnelStep>, window: Duration) -> Self {
        FunnelSpec {
            steps: steps.into_iter().collect(),
            window,
            order: FunnelOrder::Default,
            strict_increase: false,
            strict_deduplication: false,
            allow_reentry: false,
            exclusions: Vec::new(),
            breakdown: None,
        }
    }

    /// With another order.
    pub fn order(mut self, order: FunnelOrder) -> Self {
        self.order = order;
        self
    }

    /// With an exclusion.
    pub fn exclude(mut self, e: Exclusion) -> Self {
        self.exclusions.push(e);
        self
    }

    /// With a breakdown.
    pub fn breakdown(mut self, b: Breakdown) -> Self {
        self.breakdown = Some(b);
        self
    }
}

/// Figures for one step. See the [module docs](self#figures).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepStats {
    /// The step's name.
    pub name: String,
    /// Customers reaching at least this step.
    pub customers: u64,
    /// customers / customers of step 1.
    pub conversion_from_first: f64,
    /// customers / customers of the previous step (1 for step 1 when it has customers).
    pub conversion_from_previous: f64,
    /// Customers of the previous step who did not reach this one (0 for step 1).
    pub drop_off: u64,
    /// Median time from the previous step's event, milliseconds (none for step 1, the any
    /// order, or no customers).
    pub median_from_previous_ms: Option<i64>,
    /// 90th percentile (nearest rank) of the same, milliseconds.
    pub p90_from_previous_ms: Option<i64>,
}

/// One group of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelGroup {
    /// The group: a channel name, a property value as text, a cohort name; `None` for
    /// customers whose step-1 event lacks the property.
    pub label: Option<String>,
    /// The steps, for this group's customers.
    pub steps: Vec<StepStats>,
}

/// A funnel's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelReport {
    /// Customers in the log.
    pub customers: u64,
    /// Per step, over all customers.
    pub steps: Vec<StepStats>,
    /// Per breakdown group (empty without a breakdown).
    pub breakdown: Vec<FunnelGroup>,
}

/// One customer's funnel outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerFunnel {
    /// Steps reached (0 to the number of steps).
    pub level: u8,
    /// Rows of the log (see [`EventLog::at`]) of the chain's events, one per step reached.
    pub rows: Vec<u32>,
}

/// Runs a funnel over every customer of `log`. See the [module docs](self).
pub fn funnel(log: &EventLog, spec: &FunnelSpec) -> Result<FunnelReport> {
    let plan = Plan::new(log, spec)?;
    let names: Vec<String> = spec.steps.iter().map(FunnelStep::label).collect();
    let n = plan.n;
    let grouping = Grouping::new(log, spec.breakdown.as_ref())?;
    let at = log.at();
    let parts = map_customers(log.n_customers(), |range| {
        let mut s = Scratch::new(n);
        let mut total = Acc::new(n);
        let mut groups: BTreeMap<u64, Acc> = BTreeMap::new();
        for c in range {
            let level = plan.run(log.customer_rows(c), &mut s);
            if level == 0 {
                continue;
            }
            let chain = &s.best[..level];
            total.add(at, chain, plan.timed);
            if let Some(key) = grouping.key(log, c, chain[0] as usize) {
                groups
                    .entry(key)
                    .or_insert_with(|| Acc::new(n))
                    .add(at, chain, plan.timed);
            }
        }
        (total, groups)
    });
    let mut total = Acc::new(n);
    let mut groups: BTreeMap<u64, Acc> = BTreeMap::new();
    for (t, g) in parts {
        total.merge(t);
        for (k, a) in g {
            groups.entry(k).or_insert_with(|| Acc::new(n)).merge(a);
        }
    }
    Ok(FunnelReport {
        customers: log.n_customers() as u64,
        steps: total.stats(&names),
        breakdown: groups
            .into_iter()
            .map(|(k, a)| FunnelGroup {
                label: grouping.label(log, k),
                steps: a.stats(&names),
            })
            .collect(),
    })
}

/// Each customer's level and chain, indexed by customer code. See the [module docs](self).
///
/// ```
/// use jornada::analytics::{funnel_customers, EventLog, FunnelSpec, FunnelStep};
/// use jornada::{Duration, Timestamp};
/// let mut b = EventLog::builder();
/// b.push("c", Timestamp::from_millis(0), "web", "a", None)?;
/// b.push("c", Timestamp::from_millis(10), "web", "b", None)?;
/// let log = b.finish()?;
/// let spec = FunnelSpec::new(["a", "b"].map(FunnelStep::kind), Duration::from_millis(10));
/// let out = funnel_customers(&log, &spec)?;
/// assert_eq!(out[0].level, 2);
/// assert_eq!(out[0].rows, [0, 1]);
/// # Ok::<(), jornada::Error>(())
/// ```
pub fn funnel_customers(log: &EventLog, spec: &FunnelSpec) -> Result<Vec<CustomerFunnel>> {
    let plan = Plan::new(log, spec)?;
    let parts = map_customers(log.n_customers(), |range| {
        let mut s = Scratch::new(plan.n);
        range
            .map(|c| {
                let level = plan.run(log.customer_rows(c), &mut s);
                CustomerFunnel {
                    level: level as u8,
                    rows: s.best[..level].to_vec(),
                }
            })
            .collect::<Vec<_>>()
    });
    Ok(parts.into_iter().flatten().collect())
}

// ---------------------------------------------------------------------------------------------
// Aggregation
// ---------------------------------------------------------------------------------------------

struct Acc {
    reached: Vec<u64>,
    gaps: Vec<Vec<i64>>,
}

impl Acc {
    fn new(n: usize) -> Self {
        Acc {
            reached: vec![0; n],
            gaps: vec![Vec::new(); n],
        }
    }

    fn add(&mut self, at: &[i64], chain: &[u32], timed: bool) {
        for j in 0..chain.len() {
            self.reached[j] += 1;
            if timed && j > 0 {
                self.gaps[j].push(at[chain[j] as usize] - at[chain[j - 1] as usize]);
            }
        }
    }

    fn merge(&mut self, o: Acc) {
        for (a, b) in self.reached.iter_mut().zip(o.reached) {
            *a += b;
        }
        for (a, mut b) in self.gaps.iter_mut().zip(o.gaps) {
            if a.is_empty() {
                *a = b;
            } else {
                a.append(&mut b);
            }
        }
    }

    fn stats(mut self, names: &[String]) -> Vec<StepStats> {
        let first = self.reached[0];
        (0..names.len())
            .map(|j| {
                let c = self.reached[j];
                let prev = if j == 0 { c } else { self.reached[j - 1] };
                StepStats {
                    name: names[j].clone(),
                    customers: c,
                    conversion_from_first: ratio(c, first),
                    conversion_from_previous: ratio(c, prev),
                    drop_off: prev - c,
                    median_from_previous_ms: percentile(&mut self.gaps[j], 50),
                    p90_from_previous_ms: percentile(&mut self.gaps[j], 90),
                }
            })
            .collect()
    }
}

enum Grouping<'a> {
    None,
    Channel,
    FirstTouch,
    Str(&'a [u32], &'a [Box<str>]),
    Num(&'a [f64]),
    Bool(&'a [u8]),
    Missing,
    Cohort(Vec<u32>, Vec<String>),
}

/// An order-preserving key of an `f64` (total order).
fn f64_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

fn f64_from_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Text of a number as a group label: integers without a fraction.
pub(crate) fn num_label(x: f64) -> String {
    format!("{x}")
}

impl<'a> Grouping<'a> {
    fn new(log: &'a EventLog, b: Option<&Breakdown>) -> Result<Self> {
        Ok(match b {
            None => Grouping::None,
            Some(Breakdown::Channel) => Grouping::Channel,
            Some(Breakdown::FirstTouchChannel) => Grouping::FirstTouch,
            Some(Breakdown::Property { name }) if name == "$value" => Grouping::Num(log.values()),
            Some(Breakdown::Property { name }) => match log.property(name) {
                Some(PropColumn::Str { codes, dict }) => Grouping::Str(codes, dict),
                Some(PropColumn::Num(v)) => Grouping::Num(v),
                Some(PropColumn::Bool(v)) => Grouping::Bool(v),
                None => Grouping::Missing,
            },
            Some(Breakdown::Cohort { groups }) => {
                let mut names: Vec<String> = groups.values().cloned().collect();
                names.sort();
                names.dedup();
                let mut of = vec![u32::MAX; log.n_customers()];
                for (key, g) in groups {
                    if let Some(c) = log.customer_code(key) {
                        of[c as usize] = names.binary_search(g).expect("listed") as u32;
                    }
                }
                Grouping::Cohort(of, names)
            }
        })
    }

    fn key(&self, log: &EventLog, customer: usize, step1_row: usize) -> Option<u64> {
        Some(match self {
            Grouping::None => return None,
            Grouping::Channel => log.channel_codes()[step1_row] as u64,
            Grouping::FirstTouch => log.channel_codes()[log.customer_rows(customer).start] as u64,
            Grouping::Str(codes, _) => match codes[step1_row] {
                NULL_CODE => u64::MAX,
                c => c as u64,
            },
            Grouping::Num(v) => {
                let x = v[step1_row];
                if x.is_nan() {
                    u64::MAX
                } else {
                    // Keys of numbers stay below u64::MAX: the top key is a NaN pattern.
                    f64_key(x).min(u64::MAX - 1)
                }
            }
            Grouping::Bool(v) => match v[step1_row] {
                NULL_BOOL => u64::MAX,
                b => b as u64,
            },
            Grouping::Missing => u64::MAX,
            Grouping::Cohort(of, _) => match of[customer] {
                u32::MAX => return None,
                g => g as u64,
            },
        })
    }

    fn label(&self, log: &EventLog, key: u64) -> Option<String> {
        if key == u64::MAX && !matches!(self, Grouping::Channel | Grouping::FirstTouch) {
            return None;
        }
        Some(match self {
            Grouping::None | Grouping::Missing => return None,
            Grouping::Channel | Grouping::FirstTouch => log.channel_name(key as u16).to_string(),
            Grouping::Str(_, dict) => dict[key as usize].to_string(),
            Grouping::Num(_) => num_label(f64_from_key(key)),
            Grouping::Bool(_) => (key == 1).to_string(),
            Grouping::Cohort(_, names) => names[key as usize].clone(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The scan
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Engine {
    /// ClickHouse's single kept chain per step, default order, no strict modes.
    Plain,
    /// ClickHouse's single kept chain per step, strict modes.
    Greedy,
    /// Every non-dominated partial chain (exclusions, gaps).
    Chains,
    /// Any order.
    AnyOrder,
}

struct Plan<'a> {
    n: usize,
    window: i64,
    engine: Engine,
    strict_any: bool,
    strict: bool,
    strict_increase: bool,
    dedup: bool,
    reentry: bool,
    /// Whether step times are reported.
    timed: bool,
    steps: MaskTable<'a>,
    exclusions: Option<MaskTable<'a>>,
    /// (from, to) per exclusion.
    spans: Vec<(usize, usize)>,
    /// Per step, the exclusions ending at it (a chain tainted by one may not reach it).
    blocks: Vec<u32>,
    /// (min, max) gap per step (step 0: unbounded).
    gaps: Vec<(i64, i64)>,
    at: &'a [i64],
    kinds: &'a [u16],
    channels: &'a [u16],
}

fn bad(field: &str, message: &str) -> Error {
    Error::InvalidValue {
        loc: Location::field(field),
        message: message.into(),
    }
}

impl<'a> Plan<'a> {
    fn new(log: &'a EventLog, spec: &FunnelSpec) -> Result<Self> {
        let n = spec.steps.len();
        if n == 0 || n > MAX_STEPS {
            return Err(bad("steps", "a funnel has 1 to 32 steps"));
        }
        let window = non_negative(spec.window, "window")?;
        let ordered = spec.order != FunnelOrder::Any;
        let strict = matches!(
            spec.order,
            FunnelOrder::StrictOrder | FunnelOrder::StrictOrderSteps
        );
        if spec.allow_reentry && !strict {
            return Err(bad(
                "allow_reentry",
                "allow_reentry needs order `strict_order` or `strict_order_steps` (as in ClickHouse)",
            ));
        }
        if !ordered && (spec.strict_increase || spec.strict_deduplication) {
            return Err(bad(
                "order",
                "the any order takes no strict_increase or strict_deduplication",
            ));
        }
        let mut gaps = vec![(0i64, i64::MAX); n];
        let mut has_gaps = false;
        for (j, s) in spec.steps.iter().enumerate() {
            let field = format!("steps[{j}]");
            if (s.min_gap.is_some() || s.max_gap.is_some()) && j == 0 {
                return Err(bad(
                    &format!("{field}.min_gap"),
                    "the first step has no previous step to be apart from",
                ));
            }
            if let Some(d) = s.min_gap {
                gaps[j].0 = non_negative(d, &format!("{field}.min_gap"))?;
                has_gaps = true;
            }
            if let Some(d) = s.max_gap {
                gaps[j].1 = non_negative(d, &format!("{field}.max_gap"))?;
                has_gaps = true;
            }
            if gaps[j].0 > gaps[j].1 {
                return Err(bad(
                    &format!("{field}.max_gap"),
                    "max_gap is less than min_gap",
                ));
            }
        }
        let extended = has_gaps || !spec.exclusions.is_empty();
        if extended
            && (spec.order != FunnelOrder::Default
                || spec.strict_increase
                || spec.strict_deduplication)
        {
            return Err(bad(
                if spec.exclusions.is_empty() {
                    "steps"
                } else {
                    "exclusions"
                },
                "exclusions and step gaps work with the default order and no strict modes",
            ));
        }
        if spec.exclusions.len() > 32 {
            return Err(bad("exclusions", "at most 32 exclusions"));
        }
        let steps = spec
            .steps
            .iter()
            .enumerate()
            .map(|(j, s)| Compiled::new(log, &s.filter(), &format!("steps[{j}]")))
            .collect::<Result<Vec<_>>>()?;
        let mut spans = Vec::new();
        let mut excl = Vec::new();
        for (i, e) in spec.exclusions.iter().enumerate() {
            if e.from_step >= e.to_step || e.to_step >= n {
                return Err(bad(
                    &format!("exclusions[{i}].to_step"),
                    "an exclusion needs from_step < to_step < the number of steps",
                ));
            }
            spans.push((e.from_step, e.to_step));
            excl.push(Compiled::new(
                log,
                &e.filter(),
                &format!("exclusions[{i}]"),
            )?);
        }
        let mut blocks = vec![0u32; n];
        for (i, &(_, to)) in spans.iter().enumerate() {
            blocks[to] |= 1 << i;
        }
        Ok(Plan {
            n,
            window,
            blocks,
            engine: if !ordered {
                Engine::AnyOrder
            } else if extended {
                Engine::Chains
            } else if strict || spec.strict_increase || spec.strict_deduplication {
                Engine::Greedy
            } else {
                Engine::Plain
            },
            strict_any: spec.order == FunnelOrder::StrictOrder,
            strict,
            strict_increase: spec.strict_increase,
            dedup: spec.strict_deduplication,
            reentry: spec.allow_reentry,
            timed: ordered,
            steps: MaskTable::new(log, steps),
            exclusions: (!excl.is_empty()).then(|| MaskTable::new(log, excl)),
            spans,
            gaps,
            at: log.at(),
            kinds: log.kind_codes(),
            channels: log.channel_codes(),
        })
    }

    /// The customer's level; the chain is in `s.best[..level]`.
    fn run(&self, rows: Range<usize>, s: &mut Scratch) -> usize {
        match self.engine {
            Engine::Plain => self.greedy::<true>(rows, s),
            Engine::Greedy => self.greedy::<false>(rows, s),
            Engine::Chains => self.chains(rows, s),
            Engine::AnyOrder => self.any_order(rows, s),
        }
    }

    // -- ClickHouse ------------------------------------------------------------------------

    /// The ClickHouse scan. `PLAIN`: the default order without strict modes (no checks for
    /// them on the hot path).
    fn greedy<const PLAIN: bool>(&self, rows: Range<usize>, s: &mut Scratch) -> usize {
        let base = rows.start;
        let at = &self.at[rows.clone()];
        let kinds = &self.kinds[rows.clone()];
        let chans = &self.channels[rows];
        let len = at.len();
        let strict_any = !PLAIN && self.strict_any;
        let g = &mut s.g;
        g.valid = 0;
        g.first_event = false;
        g.max = 0;
        s.nodes.clear();
        let nodes = &mut s.nodes;
        let mut i = 0;
        'scan: while i < len {
            let m = self.steps.mask_of(kinds[i], chans, i, base + i);
            if m == 0 && !strict_any {
                i += 1;
                continue;
            }
            let t = at[i];
            if i + 1 < len && at[i + 1] == t {
                // Entries at one instant go by step (no step first), then row.
                let group = &mut s.group;
                group.clear();
                let mut union = 0u32;
                let mut any_none = false;
                let mut e = i;
                while e < len && at[e] == t {
                    let me = if e == i {
                        m
                    } else {
                        self.steps.mask_of(kinds[e], chans, e, base + e)
                    };
                    union |= me;
                    any_none |= me == 0;
                    group.push(((base + e) as u32, me));
                    e += 1;
                }
                i = e;
                if strict_any && any_none && g.first_event {
                    break;
                }
                let mut bits = union;
                while bits != 0 {
                    let j = bits.trailing_zeros() as usize & (MAX_STEPS - 1);
                    bits &= bits - 1;
                    for &(row, me) in group.iter() {
                        if me & (1 << j) != 0 && self.entry::<PLAIN>(g, nodes, t, j, row) {
                            break 'scan;
                        }
                    }
                }
                continue;
            }
            i += 1;
            if m == 0 {
                // Strict order over every event: a non-step event after the first step.
                if g.first_event {
                    break;
                }
                continue;
            }
            let row = (base + i - 1) as u32;
            let mut bits = m;
            while bits != 0 {
                let j = bits.trailing_zeros() as usize & (MAX_STEPS - 1);
                bits &= bits - 1;
                if self.entry::<PLAIN>(g, nodes, t, j, row) {
                    break 'scan;
                }
            }
        }
        let level = g.max;
        let mut node = g.best;
        for j in (0..level).rev() {
            let (row, parent) = nodes[node as usize];
            s.best[j] = row;
            node = parent;
        }
        level
    }

    /// One entry `(t, step j)` of the ClickHouse scan; true ends the scan.
    #[inline(always)]
    fn entry<const PLAIN: bool>(
        &self,
        g: &mut GState,
        nodes: &mut Vec<(u32, u32)>,
        t: i64,
        j: usize,
        row: u32,
    ) -> bool {
        if j == 0 {
            g.first[0] = t;
            if !PLAIN {
                g.last[0] = t;
            }
            let id = nodes.len() as u32;
            nodes.push((row, u32::MAX));
            g.node[0] = id;
            g.valid |= 1;
            g.first_event = true;
            if g.max == 0 {
                g.max = 1;
                g.best = id;
            }
            return self.n == 1;
        }
        let bit = 1u32 << j;
        let prev = bit >> 1;
        if !PLAIN {
            if self.dedup && g.valid & bit != 0 {
                return true;
            }
            if self.strict && g.first_event && g.valid & prev == 0 {
                return !self.reentry;
            }
        }
        if g.valid & prev == 0 {
            return false;
        }
        let f = g.first[j - 1];
        if t - f > self.window || (!PLAIN && self.strict_increase && g.last[j - 1] >= t) {
            return false;
        }
        g.first[j] = f;
        if !PLAIN {
            g.last[j] = t;
        }
        g.valid |= bit;
        let id = nodes.len() as u32;
        nodes.push((row, g.node[j - 1]));
        g.node[j] = id;
        if j + 1 > g.max {
            g.max = j + 1;
            g.best = id;
            return j + 1 == self.n;
        }
        false
    }

    // -- Every chain (exclusions, gaps) ------------------------------------------------------

    fn chains(&self, rows: Range<usize>, s: &mut Scratch) -> usize {
        let at = self.at;
        let n = self.n;
        for l in s.levels.iter_mut() {
            l.clear();
        }
        let mut max = 0usize;
        let mut r = rows.start;
        let end = rows.end;
        while r < end {
            let t = at[r];
            s.group.clear();
            let mut union = 0u32;
            let mut excl = 0u32;
            let mut e = r;
            while e < end && at[e] == t {
                let m = self.steps.mask(e);
                union |= m;
                s.group.push((e as u32, m));
                if let Some(x) = &self.exclusions {
                    excl |= x.mask(e);
                }
                e += 1;
            }
            r = e;
            let mut bits = union;
            while bits != 0 {
                let j = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                for i in 0..s.group.len() {
                    let (row, m) = s.group[i];
                    if m & (1 << j) == 0 {
                        continue;
                    }
                    if j == 0 {
                        if max == 0 {
                            max = 1;
                            s.best[0] = row;
                        }
                        if n == 1 {
                            return 1;
                        }
                        let chain = Partial {
                            rows: SmallVec::from_slice(&[row]),
                            taint: 0,
                        };
                        self.insert(&mut s.levels[0], chain, 0);
                        continue;
                    }
                    // Extend every live chain of step j − 1 that this event may follow.
                    let (lo, hi) = s.levels.split_at_mut(j);
                    let prev = &mut lo[j - 1];
                    let (min_gap, max_gap) = self.gaps[j];
                    prev.retain(|c| {
                        t - at[c.rows[0] as usize] <= self.window
                            && t - at[c.rows[j - 1] as usize] <= max_gap
                    });
                    let mut best: Option<Partial> = None;
                    for c in prev.iter() {
                        if t - at[c.rows[j - 1] as usize] < min_gap || c.taint & self.blocks[j] != 0
                        {
                            continue;
                        }
                        let mut next = c.clone();
                        next.rows.push(row);
                        if j + 1 > max && best.as_ref().is_none_or(|b| later(&next.rows, &b.rows)) {
                            best = Some(next.clone());
                        }
                        if j + 1 < n {
                            self.insert(&mut hi[0], next, j);
                        }
                    }
                    if let Some(b) = best {
                        max = j + 1;
                        s.best[..=j].copy_from_slice(&b.rows);
                        if max == n {
                            return n;
                        }
                    }
                }
            }
            // An excluded event taints the chains it falls inside: they may still reach the
            // steps before `to`, never `to` itself (those about to need `to` are dropped).
            let mut ex = excl;
            while ex != 0 {
                let i = ex.trailing_zeros() as usize;
                ex &= ex - 1;
                let (from, to) = self.spans[i];
                for (k, level) in s.levels.iter_mut().enumerate().take(to).skip(from) {
                    level.retain_mut(|c| {
                        if at[c.rows[from] as usize] >= t {
                            return true;
                        }
                        c.taint |= 1 << i;
                        k + 1 < to
                    });
                }
            }
        }
        max
    }

    /// Adds `c` to the chains kept for step `j` unless one of them dominates it; drops those
    /// it dominates.
    fn insert(&self, level: &mut Vec<Partial>, c: Partial, j: usize) {
        if level.iter().any(|o| self.dominates(o, &c, j)) {
            return;
        }
        level.retain(|o| !self.dominates(&c, o, j));
        level.push(c);
    }

    /// Whether chain `a` can do everything `b` can (both at step `j`) and is preferred by the
    /// tie-break (later events, from the last step back).
    fn dominates(&self, a: &Partial, b: &Partial, j: usize) -> bool {
        let at = self.at;
        if at[a.rows[0] as usize] < at[b.rows[0] as usize] {
            return false;
        }
        if let Some(&(min_gap, max_gap)) = self.gaps.get(j + 1) {
            let (la, lb) = (at[a.rows[j] as usize], at[b.rows[j] as usize]);
            if (min_gap > 0 && la > lb) || (max_gap < i64::MAX && la < lb) {
                return false;
            }
        }
        for (i, &(from, to)) in self.spans.iter().enumerate() {
            if from <= j && j < to {
                let (ta, tb) = (a.taint >> i & 1, b.taint >> i & 1);
                if ta > tb
                    || (ta == 0 && tb == 0 && at[a.rows[from] as usize] < at[b.rows[from] as usize])
                {
                    return false;
                }
            }
        }
        !later(&b.rows, &a.rows)
    }

    // -- Any order -------------------------------------------------------------------------

    fn any_order(&self, rows: Range<usize>, s: &mut Scratch) -> usize {
        let at = self.at;
        let n = self.n;
        let counts = &mut s.counts;
        counts.fill(0);
        let mut present = 0u32;
        let mut max = 0usize;
        let mut l = rows.start;
        for r in rows.clone() {
            let m = self.steps.mask(r);
            if m == 0 {
                continue;
            }
            let mut bits = m;
            while bits != 0 {
                let j = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                counts[j] += 1;
            }
            present |= m;
            while at[r] - at[l] > self.window {
                let ml = self.steps.mask(l);
                let mut bits = ml;
                while bits != 0 {
                    let j = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    counts[j] -= 1;
                    if counts[j] == 0 {
                        present &= !(1 << j);
                    }
                }
                l += 1;
            }
            let level = (present.trailing_ones() as usize).min(n);
            if level > max {
                max = level;
                for j in 0..level {
                    s.best[j] = (l..=r)
                        .find(|&x| self.steps.mask(x) & (1 << j) != 0)
                        .expect("present") as u32;
                }
                if max == n {
                    break;
                }
            }
        }
        max
    }
}

/// A partial chain: rows, one per step so far, and the exclusions it may no longer pass.
#[derive(Clone, Debug)]
struct Partial {
    rows: SmallVec<[u32; 8]>,
    taint: u32,
}

/// Whether chain `a` is preferred to `b` (same length): later events, compared from the last
/// step back (rows are in time order within a customer).
fn later(a: &[u32], b: &[u32]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x > y;
        }
    }
    false
}

/// The ClickHouse scan's state: per step, the kept chain's start, latest time and node.
struct GState {
    first: [i64; MAX_STEPS],
    last: [i64; MAX_STEPS],
    node: [u32; MAX_STEPS],
    valid: u32,
    first_event: bool,
    max: usize,
    best: u32,
}

struct Scratch {
    g: GState,
    /// Chains as (row, parent node) links.
    nodes: Vec<(u32, u32)>,
    best: Vec<u32>,
    group: Vec<(u32, u32)>,
    levels: Vec<Vec<Partial>>,
    counts: Vec<u32>,
}

impl Scratch {
    fn new(n: usize) -> Self {
        Scratch {
            g: GState {
                first: [0; MAX_STEPS],
                last: [0; MAX_STEPS],
                node: [0; MAX_STEPS],
                valid: 0,
                first_event: false,
                max: 0,
                best: 0,
            },
            nodes: Vec::new(),
            best: vec![0; n],
            group: Vec::new(),
            levels: vec![Vec::new(); n],
            counts: vec![0; n],
        }
    }
}
