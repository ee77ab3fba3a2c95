//! Batch replay: runs a journey model over an [`EventLog`] with the engine's own state machine
//! and returns every customer's stage history, transitions and actions in columnar form.
//!
//! # What a replay is
//! For each customer of the log, independently, the events are fed through the same code the
//! [`Engine`](crate::Engine) runs (`engine::machine`), then time is advanced to `until`. The
//! result is exactly what an engine would hold after ingesting the same events for that customer
//! (in any order) and [`advance_to(until)`](crate::Engine::advance_to); the integration tests
//! check this against the engine on random logs.
//!
//! - **Customers.** The log's customer key is the customer: there is no identity stitching (a
//!   log with a cookie in one row and an email in another for the same person replays them as two
//!   customers; resolve identities first, or use the engine).
//! - **Time.** Timeouts fire when they are due at or before `until`
//!   ([`ReplayOptions::until`]; default: the log's last event time, the time an engine that
//!   ingested the whole log would be at). Events after `until` are not replayed; they are counted
//!   in [`ReplayStats::after_until`].
//! - **Simultaneous events** of one customer are taken in the engine's order: by event kind,
//!   then channel, in model order, then value and properties (not in the log's order by name).
//! - **Consent.** A log carries no consent: actions on channels whose consent policy is
//!   `opt_in` are reported as suppressed, those on `opt_out` and `none` channels are not.
//! - **Unknown kinds and channels.** A row whose event kind or channel the model does not declare
//!   is an error (`unknown_event_kind` / `unknown_channel`, naming the first such input row) unless
//!   [`OnUnknown::Skip`] is set; skipped rows are counted in [`ReplayStats`], never dropped
//!   silently.
//! - **Properties** are read straight from the log's columns by rule conditions. A column whose
//!   type differs from the type the model declares for that property is a `wrong_type` error at
//!   its first present value (the engine would reject that touchpoint).
//! - **Parallel.** With the `parallel` feature (on by default) customers are split over rayon's
//!   threads in fixed-size blocks; the output does not depend on the number of threads.
//!
//! # Output
//! Codes in the output index the model: stages ([`Model::stage_names`]), rules
//! ([`Model::rule_names`]), channels ([`Model::channel_names`]) and action definitions
//! ([`Replay::action_name`]); [`NO_STAGE`], [`NO_RULE`] and [`NO_CHANNEL`] mark absent ones.
//! Customers are the log's customer codes ([`EventLog::customers`]). Transitions are grouped
//! by customer (in customer order) and in time order within a customer: a customer's transitions
//! are their stage history ([`Replay::history`]).
//!
//! ```
//! use jornada::analytics::{replay, EventLog, ReplayOptions};
//! use jornada::{Model, Timestamp};
//! let model = Model::preset("ecommerce")?;
//! let t = |s: &str| Timestamp::parse(s).unwrap();
//! let mut b = EventLog::builder();
//! b.push("ana", t("2026-03-01T10:00:00Z"), "web", "add_to_cart", None)?;
//! b.push("bo", t("2026-03-01T10:05:00Z"), "app", "purchase", Some(30.0))?;
//! b.push("bo", t("2026-03-01T12:00:00Z"), "web", "page_view", None)?;
//! let log = b.finish()?;
//! let r = replay(&model, &log, &ReplayOptions::default())?;
//! // Until the log's last event (12:00), ana's cart timed out after an hour.
//! assert_eq!(r.final_stage(0), Some("abandoned_cart"));
//! assert_eq!(r.final_stage(1), Some("customer"));
//! let h = r.history(0); // visitor, cart, abandoned_cart
//! assert_eq!(h.len(), 3);
//! assert_eq!(r.transitions().at[h.end - 1], t("2026-03-01T11:00:00Z").millis());
//! let a = r.actions();
//! assert_eq!(r.action_name(a.action[0]), "abandoned_cart_sms");
//! assert!(a.suppressed[0], "SMS is opt-in and a log carries no consent");
//! # Ok::<(), jornada::Error>(())
//! ```

use super::event_log::{EventLog, PropColumn, NULL_BOOL, NULL_CODE};
use crate::engine::machine::{run, EventProps, OutRec};
use crate::engine::profile::{Event, StageEntry, Timers};
use crate::error::{Error, Location, Result};
use crate::model::condition::{Cond, PropSource, VALUE_PROP};
use crate::model::{Compiled, Model};
use crate::time::Timestamp;
use crate::value::{Params, PropType, PropValue};
use std::cmp::Ordering;
use std::ops::Range;
use thin_vec::ThinVec;

/// No stage: a customer none of whose events was replayed, or the `from` of the entry into the
/// initial stage.
pub const NO_STAGE: u16 = u16::MAX;
/// No rule: the entry into the initial stage, or an `on_enter` action of it.
pub const NO_RULE: u16 = u16::MAX;
/// No channel: a transition caused by a timeout, or an action without a channel.
pub const NO_CHANNEL: u8 = u8::MAX;

/// Customers per block of parallel work (fixed, so the output never depends on threads).
const BLOCK: usize = 1024;

/// What to do with rows whose event kind or channel the model does not declare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnUnknown {
    /// Fail with `unknown_event_kind` / `unknown_channel` naming the first such input row.
    #[default]
    Error,
    /// Leave them out and count them in [`ReplayStats`].
    Skip,
}

/// Options of [`replay`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Replay up to this time: timeouts due at or before it fire, later events are left out.
    /// Default: the log's last event time.
    pub until: Option<Timestamp>,
    /// Rows with an event kind or channel unknown to the model.
    pub on_unknown: OnUnknown,
}

/// Where the log's rows went. `events + skipped_unknown_kind + skipped_unknown_channel +
/// after_until` is the log's length.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Rows replayed.
    pub events: u64,
    /// Rows left out because the model does not declare their event kind.
    pub skipped_unknown_kind: u64,
    /// Rows left out because the model does not declare their channel (kind known).
    pub skipped_unknown_channel: u64,
    /// Rows (kind and channel known) after `until`, not replayed.
    pub after_until: u64,
}

/// Every stage transition of a replay, one row each (see the [module docs](self) for codes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransitionColumns {
    /// The customer (log customer code).
    pub customer: Vec<u32>,
    /// The stage left; [`NO_STAGE`] for the entry into the initial stage.
    pub from: Vec<u16>,
    /// The stage entered.
    pub to: Vec<u16>,
    /// When (epoch milliseconds).
    pub at: Vec<i64>,
    /// The rule that fired; [`NO_RULE`] for the entry into the initial stage.
    pub rule: Vec<u16>,
    /// The channel of the event that caused it; [`NO_CHANNEL`] for timeouts.
    pub channel: Vec<u8>,
}

/// Every action of a replay, one row each (see the [module docs](self) for codes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionColumns {
    /// The customer (log customer code).
    pub customer: Vec<u32>,
    /// The action definition ([`Replay::action_name`], [`Replay::action_params`]).
    pub action: Vec<u32>,
    /// The channel the action contacts the customer on; [`NO_CHANNEL`] for none.
    pub channel: Vec<u8>,
    /// When (epoch milliseconds).
    pub at: Vec<i64>,
    /// The rule that fired; [`NO_RULE`] for `on_enter` actions of the initial stage.
    pub rule: Vec<u16>,
    /// The customer's stage after the rule fired.
    pub stage: Vec<u16>,
    /// Whether the channel's consent was not given (always for `opt_in` channels).
    pub suppressed: Vec<bool>,
}

impl TransitionColumns {
    /// Number of transitions.
    pub fn len(&self) -> usize {
        self.at.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    fn append(&mut self, o: &mut TransitionColumns) {
        self.customer.append(&mut o.customer);
        self.from.append(&mut o.from);
        self.to.append(&mut o.to);
        self.at.append(&mut o.at);
        self.rule.append(&mut o.rule);
        self.channel.append(&mut o.channel);
    }

    fn reserve(&mut self, n: usize) {
        self.customer.reserve_exact(n);
        self.from.reserve_exact(n);
        self.to.reserve_exact(n);
        self.at.reserve_exact(n);
        self.rule.reserve_exact(n);
        self.channel.reserve_exact(n);
    }
}

impl ActionColumns {
    /// Number of actions.
    pub fn len(&self) -> usize {
        self.at.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    fn append(&mut self, o: &mut ActionColumns) {
        self.customer.append(&mut o.customer);
        self.action.append(&mut o.action);
        self.channel.append(&mut o.channel);
        self.at.append(&mut o.at);
        self.rule.append(&mut o.rule);
        self.stage.append(&mut o.stage);
        self.suppressed.append(&mut o.suppressed);
    }

    fn reserve(&mut self, n: usize) {
        self.customer.reserve_exact(n);
        self.action.reserve_exact(n);
        self.channel.reserve_exact(n);
        self.at.reserve_exact(n);
        self.rule.reserve_exact(n);
        self.stage.reserve_exact(n);
        self.suppressed.reserve_exact(n);
    }
}

/// The result of [`replay`]: per customer the final stage and stage history, all transitions
/// and all actions, in columnar form. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Replay {
    model: Model,
    until: i64,
    stats: ReplayStats,
    stage: Vec<u16>,
    offsets: Vec<u32>,
    action_offsets: Vec<u32>,
    transitions: TransitionColumns,
    actions: ActionColumns,
}

impl Replay {
    /// The model replayed.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The time the replay ran up to (`None` for an empty log).
    pub fn until(&self) -> Option<Timestamp> {
        (self.until != i64::MIN).then_some(Timestamp(self.until))
    }

    /// Where the log's rows went.
    pub fn stats(&self) -> ReplayStats {
        self.stats
    }

    /// Number of customers (the log's).
    pub fn n_customers(&self) -> usize {
        self.stage.len()
    }

    /// Per customer, the stage at `until` ([`NO_STAGE`] when none of their events was replayed).
    pub fn final_stages(&self) -> &[u16] {
        &self.stage
    }

    /// The name of customer `c`'s stage at `until`.
    pub fn final_stage(&self, c: usize) -> Option<&str> {
        match self.stage[c] {
            NO_STAGE => None,
            s => Some(self.stage_name(s)),
        }
    }

    /// Customer `c`'s stage history: the rows of [`transitions`](Self::transitions) for that
    /// customer, in order; each row is the entry into a stage (`to`, `at`).
    pub fn history(&self, c: usize) -> Range<usize> {
        self.offsets[c] as usize..self.offsets[c + 1] as usize
    }

    /// History boundaries: customer `c`'s transitions are rows `offsets[c]..offsets[c + 1]`.
    pub fn history_offsets(&self) -> &[u32] {
        &self.offsets
    }

    /// Customer `c`'s actions: rows of [`actions`](Self::actions), in order.
    pub fn customer_actions(&self, c: usize) -> Range<usize> {
        self.action_offsets[c] as usize..self.action_offsets[c + 1] as usize
    }

    /// All transitions, grouped by customer, in order.
    pub fn transitions(&self) -> &TransitionColumns {
        &self.transitions
    }

    /// All actions, grouped by customer, in order.
    pub fn actions(&self) -> &ActionColumns {
        &self.actions
    }

    /// Name of a stage code.
    pub fn stage_name(&self, code: u16) -> &str {
        &self.model.inner.stages[code as usize].name
    }

    /// Name of a rule code.
    pub fn rule_name(&self, code: u16) -> &str {
        &self.model.inner.rules[code as usize].name
    }

    /// Name of a (model) channel code.
    pub fn channel_name(&self, code: u8) -> &str {
        &self.model.inner.channels[code as usize].name
    }

    /// Name of an action code.
    pub fn action_name(&self, code: u32) -> &str {
        &self.model.inner.actions[code as usize].name
    }

    /// Parameters of an action code, from the model.
    pub fn action_params(&self, code: u32) -> &Params {
        &self.model.inner.actions[code as usize].params
    }

    /// Approximate heap bytes of the result.
    pub fn memory_bytes(&self) -> usize {
        self.stage.len() * 2
            + (self.offsets.len() + self.action_offsets.len()) * 4
            + self.transitions.len() * (4 + 2 + 2 + 8 + 2 + 1)
            + self.actions.len() * (4 + 4 + 1 + 8 + 2 + 2 + 1)
    }
}

/// A log property column as rule conditions read it.
enum PropCol<'a> {
    Str(&'a [u32], Vec<PropValue>),
    Num(&'a [f64]),
    Bool(&'a [u8]),
}

/// The log's columns, by model property key.
struct LogProps<'a> {
    cols: Vec<Option<PropCol<'a>>>,
    values: &'a [f64],
}

/// One row of the log, as a condition's property source.
struct RowView<'a> {
    props: &'a LogProps<'a>,
    row: usize,
}

impl PropSource for RowView<'_> {
    #[inline]
    fn with<R>(&self, key: u16, f: impl FnOnce(&PropValue) -> R) -> Option<R> {
        if key == VALUE_PROP {
            let v = self.props.values[self.row];
            return (!v.is_nan()).then(|| f(&PropValue::Num(v)));
        }
        match self.props.cols.get(key as usize)?.as_ref()? {
            PropCol::Str(codes, values) => match codes[self.row] {
                NULL_CODE => None,
                c => Some(f(&values[c as usize])),
            },
            PropCol::Num(v) => {
                let v = v[self.row];
                (!v.is_nan()).then(|| f(&PropValue::Num(v)))
            }
            PropCol::Bool(v) => match v[self.row] {
                NULL_BOOL => None,
                b => Some(f(&PropValue::Bool(b == 1))),
            },
        }
    }
}

/// One customer's events: event `i` is log row `rows[i]`.
struct CustomerProps<'a> {
    props: &'a LogProps<'a>,
    rows: &'a [u32],
}

impl EventProps for CustomerProps<'_> {
    #[inline]
    fn eval(&self, cond: &Cond, _: &[Event], idx: usize, _: usize) -> bool {
        cond.eval(&RowView {
            props: self.props,
            row: self.rows[idx] as usize,
        })
    }
}

/// The outputs of one block of customers.
#[derive(Default)]
struct BlockOut {
    stage: Vec<u16>,
    n_transitions: Vec<u32>,
    n_actions: Vec<u32>,
    transitions: TransitionColumns,
    actions: ActionColumns,
    stats: ReplayStats,
}

impl BlockOut {
    /// Appends one customer's outputs, as the machine emitted them, to the columns.
    fn push_customer(&mut self, m: &Compiled, customer: u32, recs: &[OutRec]) {
        let (mut nt, mut na) = (0u32, 0u32);
        for rec in recs {
            match *rec {
                OutRec::Transition {
                    at,
                    from,
                    to,
                    rule,
                    channel,
                } => {
                    let t = &mut self.transitions;
                    t.customer.push(customer);
                    t.from.push(from.unwrap_or(NO_STAGE));
                    t.to.push(to);
                    t.at.push(at);
                    t.rule.push(rule.unwrap_or(NO_RULE));
                    t.channel.push(channel.unwrap_or(NO_CHANNEL));
                    nt += 1;
                }
                OutRec::Action {
                    at,
                    action,
                    rule,
                    stage,
                    suppressed,
                } => {
                    let a = &mut self.actions;
                    a.customer.push(customer);
                    a.action.push(action);
                    a.channel
                        .push(m.actions[action as usize].channel.unwrap_or(NO_CHANNEL));
                    a.at.push(at);
                    a.rule.push(rule.unwrap_or(NO_RULE));
                    a.stage.push(stage);
                    a.suppressed.push(suppressed);
                    na += 1;
                }
            }
        }
        self.n_transitions.push(nt);
        self.n_actions.push(na);
    }
}

/// Per-thread buffers, reused from customer to customer.
#[derive(Default)]
struct Scratch {
    events: Vec<Event>,
    rows: Vec<u32>,
    history: ThinVec<StageEntry>,
    timers: Timers,
    recs: Vec<OutRec>,
}

/// What every block needs.
struct Ctx<'a> {
    m: &'a Compiled,
    log: &'a EventLog,
    /// Log kind code → model kind id (`u16::MAX`: unknown).
    kinds: Vec<u16>,
    /// Log channel code → model channel id (`u16::MAX`: unknown).
    channels: Vec<u16>,
    props: LogProps<'a>,
    until: i64,
}

const UNKNOWN: u16 = u16::MAX;

/// Replays `log` through `model`. See the [module docs](self) for the exact semantics.
///
/// Errors: `unknown_event_kind` / `unknown_channel` for the first input row the model does not
/// know (unless [`OnUnknown::Skip`]), `wrong_type` for a property column whose type differs from
/// the model's declaration, `invalid_timestamp` for an `until` outside years 0000 to 9999.
pub fn replay(model: &Model, log: &EventLog, opts: &ReplayOptions) -> Result<Replay> {
    replay_with_progress(model, log, opts, &|_| {})
}

/// [`replay`], reporting progress: `progress(k)` is called each time a block of `k` customers
/// has been replayed (blocks of 1,024 customers or fewer, from rayon's worker threads when the
/// `parallel` feature is on, in no particular order). The `k`s add up to the log's number of
/// customers; there are no calls when the input is rejected before replaying starts. The
/// result is the same as [`replay`]'s.
///
/// ```
/// use jornada::analytics::replay::{replay_with_progress, ReplayOptions};
/// use jornada::analytics::simulate::{simulate, SimConfig};
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// let model = jornada::Model::preset("ecommerce")?;
/// let log = simulate(&model, &SimConfig { customers: 5_000, ..Default::default() });
/// let done = AtomicUsize::new(0);
/// let r = replay_with_progress(&model, &log, &ReplayOptions::default(), &|k| {
///     done.fetch_add(k, Ordering::Relaxed);
/// })?;
/// assert_eq!(done.into_inner(), 5_000);
/// assert_eq!(r.n_customers(), 5_000);
/// # Ok::<(), jornada::Error>(())
/// ```
pub fn replay_with_progress(
    model: &Model,
    log: &EventLog,
    opts: &ReplayOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Replay> {
    let m = &*model.inner;
    let until = match opts.until {
        Some(t) => {
            Timestamp::from_millis_checked(t.0)
                .ok_or_else(|| Error::InvalidTimestamp {
                    loc: Location::field("until"),
                    value: t.0.to_string(),
                })?
                .0
        }
        None => log.at().iter().copied().max().unwrap_or(i64::MIN),
    };
    let map = |names: &[Box<str>], ix: &dyn Fn(&str) -> Option<u16>| -> Vec<u16> {
        names.iter().map(|n| ix(n).unwrap_or(UNKNOWN)).collect()
    };
    let kinds = map(log.kinds(), &|n| m.kind_ix.get(n).copied());
    let channels = map(log.channels(), &|n| m.channel_ix.get(n).map(|&c| c as u16));
    if opts.on_unknown == OnUnknown::Error
        && (kinds.contains(&UNKNOWN) || channels.contains(&UNKNOWN))
    {
        check_known(log, &kinds, &channels)?;
    }
    let ctx = Ctx {
        m,
        log,
        props: log_props(m, log)?,
        kinds,
        channels,
        until,
    };
    let n = log.n_customers();
    let n_blocks = n.div_ceil(BLOCK);
    let block = |scratch: &mut Scratch, b: usize| -> BlockOut {
        let range = b * BLOCK..((b + 1) * BLOCK).min(n);
        let k = range.len();
        let out = replay_block(&ctx, scratch, range);
        progress(k);
        out
    };
    #[cfg(feature = "parallel")]
    let blocks: Vec<BlockOut> = {
        use rayon::prelude::*;
        (0..n_blocks)
            .into_par_iter()
            .map_init(Scratch::default, block)
            .collect()
    };
    #[cfg(not(feature = "parallel"))]
    let blocks: Vec<BlockOut> = {
        let mut scratch = Scratch::default();
        (0..n_blocks).map(|b| block(&mut scratch, b)).collect()
    };
    Ok(assemble(model.clone(), until, n, blocks))
}

/// Fails on the first input row whose kind or channel is unknown (kind checked first).
fn check_known(log: &EventLog, kinds: &[u16], channels: &[u16]) -> Result<()> {
    let mut first: Option<(u32, usize)> = None; // (input row, sorted row)
    for (r, (&k, &c)) in log.kind_codes().iter().zip(log.channel_codes()).enumerate() {
        if kinds[k as usize] == UNKNOWN || channels[c as usize] == UNKNOWN {
            let input = log.input_rows()[r];
            if first.is_none_or(|(i, _)| input < i) {
                first = Some((input, r));
            }
        }
    }
    let Some((input, r)) = first else {
        return Ok(());
    };
    let loc = |field: &str| Location {
        index: Some(input as usize),
        line: None,
        field: field.into(),
    };
    let k = log.kind_codes()[r];
    if kinds[k as usize] == UNKNOWN {
        return Err(Error::UnknownEventKind {
            loc: loc("kind"),
            kind: log.kind_name(k).into(),
        });
    }
    Err(Error::UnknownChannel {
        loc: loc("channel"),
        channel: log.channel_name(log.channel_codes()[r]).into(),
    })
}

/// The log's property columns by model property key, checked against declared types.
fn log_props<'a>(m: &Compiled, log: &'a EventLog) -> Result<LogProps<'a>> {
    let mut cols = Vec::with_capacity(m.props.len());
    for (name, declared) in &m.props {
        let Some(col) = log.property(name) else {
            cols.push(None);
            continue;
        };
        let ty = match col {
            PropColumn::Str { .. } => PropType::String,
            PropColumn::Num(_) => PropType::Number,
            PropColumn::Bool(_) => PropType::Bool,
        };
        if let Some(t) = *declared {
            if t != ty {
                // The first input row with a value of the wrong type is an error; a column with
                // no values at all is like no column.
                let first = (0..log.len())
                    .filter(|&r| col.get(r).is_some())
                    .map(|r| log.input_rows()[r])
                    .min();
                match first {
                    Some(row) => {
                        return Err(Error::WrongType {
                            loc: Location {
                                index: Some(row as usize),
                                line: None,
                                field: format!("properties.{name}"),
                            },
                            expected: format!("a {t} (declared in the model), got a {ty}"),
                        })
                    }
                    None => {
                        cols.push(None);
                        continue;
                    }
                }
            }
        }
        cols.push(Some(match col {
            PropColumn::Str { codes, dict } => PropCol::Str(
                codes,
                dict.iter().map(|s| PropValue::Str(s.clone())).collect(),
            ),
            PropColumn::Num(v) => PropCol::Num(v),
            PropColumn::Bool(v) => PropCol::Bool(v),
        }));
    }
    Ok(LogProps {
        cols,
        values: log.values(),
    })
}

fn replay_block(ctx: &Ctx<'_>, s: &mut Scratch, customers: Range<usize>) -> BlockOut {
    let (m, log) = (ctx.m, ctx.log);
    let (at, kind, channel) = (log.at(), log.kind_codes(), log.channel_codes());
    let mut out = BlockOut {
        stage: Vec::with_capacity(customers.len()),
        n_transitions: Vec::with_capacity(customers.len()),
        n_actions: Vec::with_capacity(customers.len()),
        ..Default::default()
    };
    // A guess at the output size (a few transitions per customer), to spare most regrowth.
    let rows = log.offsets()[customers.end] as usize - log.offsets()[customers.start] as usize;
    out.transitions.reserve(customers.len() + rows / 4);
    out.actions.reserve(rows / 8);
    for c in customers {
        let rows = log.customer_rows(c);
        s.events.clear();
        s.rows.clear();
        let mut ties = false;
        let mut last = i64::MIN;
        for r in rows.clone() {
            let t = at[r];
            if t > ctx.until {
                // Rows are in time order: the rest are later too.
                for r in r..rows.end {
                    if ctx.kinds[kind[r] as usize] == UNKNOWN {
                        out.stats.skipped_unknown_kind += 1;
                    } else if ctx.channels[channel[r] as usize] == UNKNOWN {
                        out.stats.skipped_unknown_channel += 1;
                    } else {
                        out.stats.after_until += 1;
                    }
                }
                break;
            }
            let k = ctx.kinds[kind[r] as usize];
            let ch = ctx.channels[channel[r] as usize];
            if k == UNKNOWN {
                out.stats.skipped_unknown_kind += 1;
                continue;
            }
            if ch == UNKNOWN {
                out.stats.skipped_unknown_channel += 1;
                continue;
            }
            ties |= t == last;
            last = t;
            s.events.push(Event::new(t, k, ch as u8, 0));
            s.rows.push(r as u32);
        }
        if ties {
            engine_order(log, &mut s.events, &mut s.rows);
        }
        out.stats.events += s.events.len() as u64;
        let props = CustomerProps {
            props: &ctx.props,
            rows: &s.rows,
        };
        s.recs.clear();
        run(
            m,
            &[],
            &s.events,
            &props,
            &mut s.history,
            &mut s.timers,
            ctx.until,
            &mut s.recs,
        );
        out.stage
            .push(s.history.last().map_or(NO_STAGE, |h| h.stage));
        out.push_customer(m, c as u32, &s.recs);
    }
    out
}

/// Orders each run of simultaneous events the way the engine orders a timeline: by model kind,
/// model channel, then value (none first) and properties (sorted by name; fewer first).
fn engine_order(log: &EventLog, events: &mut [Event], rows: &mut [u32]) {
    let mut start = 0;
    while start < events.len() {
        let mut end = start + 1;
        while end < events.len() && events[end].at() == events[start].at() {
            end += 1;
        }
        if end - start > 1 {
            let mut run: Vec<(Event, u32)> = events[start..end]
                .iter()
                .copied()
                .zip(rows[start..end].iter().copied())
                .collect();
            run.sort_by(|(a, ra), (b, rb)| {
                a.kind
                    .cmp(&b.kind)
                    .then(a.channel().cmp(&b.channel()))
                    .then_with(|| extra_order(log, *ra as usize, *rb as usize))
            });
            for (i, (e, r)) in run.into_iter().enumerate() {
                events[start + i] = e;
                rows[start + i] = r;
            }
        }
        start = end;
    }
}

/// The engine's order of two events' extras (value and properties), from log rows.
fn extra_order(log: &EventLog, a: usize, b: usize) -> Ordering {
    let present = |r: usize| -> Vec<(usize, PropValue)> {
        log.properties()
            .iter()
            .enumerate()
            .filter_map(|(i, (_, col))| col.get(r).map(|v| (i, v)))
            .collect()
    };
    let value = |r: usize| Some(log.values()[r]).filter(|v| !v.is_nan());
    let (va, vb) = (value(a), value(b));
    let (pa, pb) = (present(a), present(b));
    let (xa, xb) = (
        va.is_some() || !pa.is_empty(),
        vb.is_some() || !pb.is_empty(),
    );
    match (xa, xb) {
        (false, false) => return Ordering::Equal,
        (false, true) => return Ordering::Less,
        (true, false) => return Ordering::Greater,
        (true, true) => {}
    }
    let by_value = match (va, vb) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(p), Some(q)) => p.total_cmp(&q),
    };
    by_value.then_with(|| {
        // Columns are sorted by name, so their index order is name order.
        for ((ka, x), (kb, y)) in pa.iter().zip(&pb) {
            let o = ka.cmp(kb).then_with(|| x.total_cmp(y));
            if o != Ordering::Equal {
                return o;
            }
        }
        pa.len().cmp(&pb.len())
    })
}

fn assemble(model: Model, until: i64, n: usize, mut blocks: Vec<BlockOut>) -> Replay {
    let nt: usize = blocks.iter().map(|b| b.transitions.len()).sum();
    let na: usize = blocks.iter().map(|b| b.actions.len()).sum();
    let mut r = Replay {
        model,
        until,
        stats: ReplayStats::default(),
        stage: Vec::with_capacity(n),
        offsets: Vec::with_capacity(n + 1),
        action_offsets: Vec::with_capacity(n + 1),
        transitions: TransitionColumns::default(),
        actions: ActionColumns::default(),
    };
    r.transitions.reserve(nt);
    r.actions.reserve(na);
    r.offsets.push(0);
    r.action_offsets.push(0);
    let (mut t, mut a) = (0u32, 0u32);
    for b in &mut blocks {
        r.stage.append(&mut b.stage);
        for (&x, &y) in b.n_transitions.iter().zip(&b.n_actions) {
            t += x;
            a += y;
            r.offsets.push(t);
            r.action_offsets.push(a);
        }
        r.transitions.append(&mut b.transitions);
        r.actions.append(&mut b.actions);
        r.stats.events += b.stats.events;
        r.stats.skipped_unknown_kind += b.stats.skipped_unknown_kind;
        r.stats.skipped_unknown_channel += b.stats.skipped_unknown_channel;
        r.stats.after_until += b.stats.after_until;
    }
    r
}
