//! The journey state machine: how one customer's timeline turns into stage transitions and
//! actions. Pure: it reads the model, the timeline and consent, and writes the derived state
//! (history, timers) and the outputs it produces into a sink.
//!
//! Semantics (also in the README):
//! - A customer enters the model's first stage at their first touchpoint (a transition with no
//!   `from` and no rule).
//! - For each touchpoint, in timeline order: timers due strictly before it fire first; then the
//!   current stay's timers see the touchpoint (`none_of` cancels, `restart_on` restarts); then the
//!   transition rules are tried in model order and the first that matches fires.
//! - A rule that fires moves the customer (if `to` differs from the current stage), then emits its
//!   own actions, then the entered stage's `on_enter` actions.
//! - A timer due at `t` fires once the engine's time reaches `t`, unless a cancelling touchpoint
//!   happened at or before `t`.
//! - An action on a channel with a consent policy is emitted as suppressed when the customer's
//!   consent for that channel, as of the action's time, is not given.

use super::profile::*;
use crate::model::condition::{Cond, PropView};
use crate::model::spec::ConsentPolicy;
use crate::model::{ActionId, ChannelId, Compiled, RuleBody, RuleId, StageId};
use thin_vec::ThinVec;

/// One output of the state machine, in compact form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum OutRec {
    Transition {
        at: i64,
        from: Option<StageId>,
        to: StageId,
        rule: Option<RuleId>,
        channel: Option<ChannelId>,
    },
    Action {
        at: i64,
        action: ActionId,
        rule: Option<RuleId>,
        stage: StageId,
        suppressed: bool,
    },
}

/// Where outputs go.
pub(crate) trait Sink {
    fn push(&mut self, rec: OutRec);
}

impl Sink for Vec<OutRec> {
    #[inline]
    fn push(&mut self, rec: OutRec) {
        Vec::push(self, rec)
    }
}

/// Discards outputs (used when only the derived state is needed).
pub(crate) struct Discard;
impl Sink for Discard {
    #[inline]
    fn push(&mut self, _: OutRec) {}
}

/// Where rule conditions read the value and properties of a timeline's events: the engine's
/// per-event extras ([`ExtraProps`]), or the columns of an event log in batch replay.
pub(crate) trait EventProps {
    /// Whether `cond` holds for `events[idx]`. `xi` is the index of the event's extra in the
    /// engine's side list when the event has one (sources that index by `idx` ignore it).
    fn eval(&self, cond: &Cond, events: &[Event], idx: usize, xi: usize) -> bool;
}

/// The engine's source: each event flagged [`HAS_EXTRA`] has its entry in the extras list.
pub(crate) struct ExtraProps<'a>(pub &'a [Extra]);

impl EventProps for ExtraProps<'_> {
    #[inline]
    fn eval(&self, cond: &Cond, events: &[Event], idx: usize, xi: usize) -> bool {
        let extra = events[idx].has_extra().then(|| &self.0[xi]);
        cond.eval(&PropView {
            value: extra.and_then(|x| x.value),
            props: extra.map(|x| &*x.props).unwrap_or(&[]),
        })
    }
}

/// The machine over one profile's derived state.
pub(crate) struct Machine<'a, S: Sink> {
    pub m: &'a Compiled,
    pub consent: &'a [ConsentChange],
    pub history: &'a mut ThinVec<StageEntry>,
    pub timers: &'a mut Timers,
    pub sink: &'a mut S,
}

impl<S: Sink> Machine<'_, S> {
    #[inline]
    fn stage(&self) -> Option<StageId> {
        self.history.last().map(|h| h.stage)
    }

    fn consent_given(&self, channel: ChannelId, at: i64) -> bool {
        let policy = self.m.channels[channel as usize].consent;
        if policy == ConsentPolicy::None {
            return true;
        }
        match self
            .consent
            .iter()
            .rev()
            .find(|c| c.channel == channel && c.at <= at)
        {
            Some(c) => c.granted,
            None => policy == ConsentPolicy::OptOut,
        }
    }

    fn action(&mut self, action: ActionId, at: i64, rule: Option<RuleId>, stage: StageId) {
        let suppressed = match self.m.actions[action as usize].channel {
            Some(ch) => !self.consent_given(ch, at),
            None => false,
        };
        self.sink.push(OutRec::Action {
            at,
            action,
            rule,
            stage,
            suppressed,
        });
    }

    fn enter(&mut self, to: StageId, at: i64, rule: Option<RuleId>, channel: Option<ChannelId>) {
        let from = self.stage();
        self.history.push(StageEntry {
            at,
            stage: to,
            rule: rule.unwrap_or(NONE_U16),
            channel: channel.unwrap_or(NONE_U8),
        });
        self.sink.push(OutRec::Transition {
            at,
            from,
            to,
            rule,
            channel,
        });
        self.timers.clear();
        for &r in &self.m.stages[to as usize].timeouts {
            if let RuleBody::Timeout { within, .. } = self.m.rules[r as usize].body {
                self.timers.push(TimerSlot {
                    due: at.saturating_add(within),
                    state: TimerState::Pending,
                });
            }
        }
    }

    fn fire_rule(&mut self, rule_id: RuleId, at: i64, channel: Option<ChannelId>) {
        let m = self.m;
        let rule = &m.rules[rule_id as usize];
        let current = self
            .stage()
            .expect("rules fire only for customers in a stage");
        let moved = match rule.to {
            Some(to) if to != current => {
                self.enter(to, at, Some(rule_id), channel);
                true
            }
            _ => false,
        };
        let stage = self.stage().unwrap_or(current);
        for &a in &rule.actions {
            self.action(a, at, Some(rule_id), stage);
        }
        if moved {
            for &a in &m.stages[stage as usize].on_enter {
                self.action(a, at, Some(rule_id), stage);
            }
        }
    }

    /// Fires the pending timers due before `until` (or at it, when `inclusive`), earliest first,
    /// ties in rule order.
    #[inline]
    pub fn fire_timers(&mut self, until: i64, inclusive: bool) {
        // Most calls find nothing due: check inline, loop out of line.
        let due = |t: &TimerSlot| {
            t.state == TimerState::Pending && (t.due < until || (inclusive && t.due == until))
        };
        if self.timers.iter().any(due) {
            self.fire_due_timers(until, inclusive);
        }
    }

    #[inline(never)]
    fn fire_due_timers(&mut self, until: i64, inclusive: bool) {
        while let Some(stage) = self.stage() {
            let mut best: Option<(usize, i64)> = None;
            for (i, t) in self.timers.iter().enumerate() {
                let due_now = t.due < until || (inclusive && t.due == until);
                if t.state == TimerState::Pending && due_now && best.is_none_or(|(_, d)| t.due < d)
                {
                    best = Some((i, t.due));
                }
            }
            let Some((i, due)) = best else { return };
            self.timers[i].state = TimerState::Fired;
            let rule = self.m.stages[stage as usize].timeouts[i];
            self.fire_rule(rule, due, None);
        }
    }

    /// Applies `events[idx]` (whose extra, if any, is `extras[xi]`): the first touchpoint enters
    /// the initial stage; timers see it; the first matching transition rule fires.
    pub fn on_event(&mut self, events: &[Event], extras: &[Extra], idx: usize, xi: usize) {
        self.on_event_with(events, &ExtraProps(extras), idx, xi)
    }

    /// [`on_event`](Self::on_event) with conditions reading from `props`.
    pub fn on_event_with<P: EventProps>(
        &mut self,
        events: &[Event],
        props: &P,
        idx: usize,
        xi: usize,
    ) {
        let m = self.m;
        let e = events[idx];
        let (at, kind, channel) = (e.at(), e.kind, e.channel());
        if self.stage().is_none() {
            self.enter(0, at, None, Some(channel));
            for &a in &m.stages[0].on_enter {
                self.action(a, at, None, 0);
            }
        }
        let stage = self.stage().expect("entered above");
        for (i, t) in self.timers.iter_mut().enumerate() {
            if t.state == TimerState::Off {
                continue;
            }
            if let RuleBody::Timeout {
                none_of,
                restart_on,
                within,
            } = &m.rules[m.stages[stage as usize].timeouts[i] as usize].body
            {
                if none_of[kind as usize] && t.state == TimerState::Pending {
                    t.state = TimerState::Off;
                } else if restart_on[kind as usize] && !none_of[kind as usize] {
                    t.due = at.saturating_add(*within);
                    t.state = TimerState::Pending;
                }
            }
        }
        for &r in m.candidates(stage, kind) {
            let RuleBody::Transition {
                channels,
                when,
                count,
                ..
            } = &m.rules[r as usize].body
            else {
                continue;
            };
            if channels.as_ref().is_some_and(|c| !c[channel as usize]) {
                continue;
            }
            if let Some(cond) = when {
                if !props.eval(cond, events, idx, xi) {
                    continue;
                }
            }
            if let Some(count) = count {
                if !self.count_reached(r, count.at_least, count.within, events, props, idx, xi) {
                    continue;
                }
            }
            self.fire_rule(r, at, Some(channel));
            break;
        }
    }

    /// Whether at least `at_least` touchpoints up to `events[idx]` (inclusive) within `within`
    /// before it match rule `r`'s trigger (kind, channel, condition).
    #[allow(clippy::too_many_arguments)]
    fn count_reached<P: EventProps>(
        &self,
        r: RuleId,
        at_least: u32,
        within: Option<i64>,
        events: &[Event],
        props: &P,
        idx: usize,
        xi: usize,
    ) -> bool {
        let RuleBody::Transition {
            on, channels, when, ..
        } = &self.m.rules[r as usize].body
        else {
            return false;
        };
        let lo = Event::time_key(
            within
                .map(|w| events[idx].at().saturating_sub(w))
                .unwrap_or(i64::MIN),
        );
        let mut next_extra = xi + events[idx].has_extra() as usize;
        let mut n = 0u32;
        for j in (0..=idx).rev() {
            let e = events[j];
            if e.has_extra() {
                next_extra -= 1;
            }
            if e.before(lo) {
                break;
            }
            if !on[e.kind as usize] || channels.as_ref().is_some_and(|c| !c[e.channel() as usize]) {
                continue;
            }
            if let Some(cond) = when {
                if !props.eval(cond, events, j, next_extra) {
                    continue;
                }
            }
            n += 1;
            if n >= at_least {
                return true;
            }
        }
        false
    }
}

/// Derives a profile's history and timers from scratch, as of engine time `now`, writing the
/// outputs to `sink`.
pub(crate) fn derive<S: Sink>(
    m: &Compiled,
    p: &mut Profile,
    events: &[Event],
    now: i64,
    sink: &mut S,
) {
    run(
        m,
        &p.consent,
        events,
        &ExtraProps(&p.extras),
        &mut p.history,
        &mut p.timers,
        now,
        sink,
    );
}

/// Derives a timeline's history and timers from scratch (clearing both first), as of time
/// `now`, with conditions reading from `props`, writing the outputs to `sink`. The one
/// implementation of a journey: the engine ([`derive`]) and batch replay both run it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run<S: Sink, P: EventProps>(
    m: &Compiled,
    consent: &[ConsentChange],
    events: &[Event],
    props: &P,
    history: &mut ThinVec<StageEntry>,
    timers: &mut Timers,
    now: i64,
    sink: &mut S,
) {
    history.clear();
    timers.clear();
    let mut machine = Machine {
        m,
        consent,
        history,
        timers,
        sink,
    };
    let mut xi = 0;
    for idx in 0..events.len() {
        machine.fire_timers(events[idx].at(), false);
        machine.on_event_with(events, props, idx, xi);
        xi += events[idx].has_extra() as usize;
    }
    machine.fire_timers(now, true);
}

/// The latest time of a timer's effect on the derived state (a fired timer, or the transition
/// it caused); a touchpoint at or before it must be placed by a full recompute.
pub(crate) fn last_timer_time(m: &Compiled, p: &Profile) -> i64 {
    let fired = p
        .timers
        .iter()
        .filter(|t| t.state == TimerState::Fired)
        .map(|t| t.due)
        .max()
        .unwrap_or(i64::MIN);
    let moved = match p.history.last() {
        Some(h)
            if h.rule != NONE_U16
                && matches!(m.rules[h.rule as usize].body, RuleBody::Timeout { .. }) =>
        {
            h.at
        }
        _ => i64::MIN,
    };
    fired.max(moved)
}
