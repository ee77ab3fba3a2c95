//! Scores of one customer's journey: where they are, how far along, how likely they are to
//! convert, what the model would do next, and the effort the journey has taken so far.
//!
//! Every figure is computed here, once, from the engine's state and the model (with its optional
//! scoring table, [`ScoringSpec`](crate::model::spec::ScoringSpec)); the bindings only convert
//! [`Score`] to their own types. Computing a score changes nothing and costs one pass over the
//! customer's touchpoints.
//!
//! ```
//! use jornada::{Engine, Model};
//! let mut model = Model::preset("ecommerce")?.spec().clone();
//! model.scoring = Some(serde_json::from_str(r#"{"target": "customer",
//!     "stages": {"cart": {"p_convert": 0.35, "expected_time": "2h"}}}"#).unwrap());
//! let mut engine = Engine::new(Model::from_spec(model)?);
//! engine.ingest_json(r#"{"customer_id": "c1", "channel": "web", "kind": "add_to_cart", "at": "2026-03-01T10:00:00Z"}"#)?;
//!
//! let s = engine.score("c1").unwrap();
//! assert_eq!(s.stage.as_deref(), Some("cart"));
//! assert_eq!(s.progress, 0.6); // stage 3 of the way to the target, stage 5
//! assert_eq!(s.probability_to_convert, Some(0.35));
//! assert_eq!(s.expected_time_to_convert.unwrap().to_string(), "2h");
//! // First the pending abandoned-cart timeout, then what a purchase would do.
//! assert_eq!(&*s.next_actions[0].rule, "abandoned_cart");
//! assert_eq!(s.next_actions[0].due.unwrap().to_string(), "2026-03-01T11:00:00Z");
//! assert_eq!(&*s.next_actions[1].rule, "first_purchase");
//! assert_eq!(s.effort.touches, 1);
//! # Ok::<(), jornada::Error>(())
//! ```

use crate::engine::profile::{Event, Profile, TimerState};
use crate::model::{Compiled, RuleBody, RuleId, StageId};
use crate::time::{Duration, Timestamp};
use crate::value::Params;
use crate::Engine;
use serde::Serialize;
use std::sync::Arc;

/// A customer's journey, scored. [`Score::default`] is the score of a journey with no
/// touchpoint yet (no stage, progress 0, no figures, no effort).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Score {
    /// The current stage; `None` before the first touchpoint.
    pub stage: Option<Arc<str>>,
    /// The position of the current stage in the model's `stages` list, from 0.
    pub stage_index: Option<usize>,
    /// When the customer entered the current stage (this stay).
    pub entered_at: Option<Timestamp>,
    /// How far along the journey is, from 0 to 1, by the position `i` of the current stage in
    /// the model's order. With a scoring table whose target is at position `t`:
    /// `min(i, t) / t` (so the target and every stage listed after it count as 1; a target at
    /// position 0 gives 1). Without one: `i / (n - 1)` for a model of `n` stages (1 when `n` is
    /// 1). 0 before the first touchpoint.
    pub progress: f64,
    /// The scoring table's `p_convert` for the current stage: the probability that a customer
    /// who entered this stage enters the target stage (within the table's horizon). 1 in the
    /// target stage. `None` without a scoring table, or for a stage the table does not list:
    /// never estimated here.
    pub probability_to_convert: Option<f64>,
    /// The scoring table's `expected_time` for the current stage: the expected time from
    /// entering this stage to entering the target, among customers who do (measured from
    /// [`entered_at`](Self::entered_at), not from now). 0 in the target stage. `None` when the
    /// table has no figure for the stage.
    pub expected_time_to_convert: Option<Duration>,
    /// What the model would do next, in the order it would consider it: first the current
    /// stay's pending timeouts, earliest due first (ties in rule order); then the transition
    /// rules that can fire from the current stage, in precedence order. Only rules with an
    /// effect from here are listed (they move the customer or emit actions).
    pub next_actions: Vec<NextAction>,
    /// The effort the journey has taken so far.
    pub effort: Effort,
}

/// Effort figures, from the customer's touchpoints in timeline order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Effort {
    /// Touchpoints so far.
    pub touches: usize,
    /// Distinct channels among them.
    pub channels: usize,
    /// Pairs of consecutive touchpoints on different channels (web, web, app, web: 2).
    pub channel_switches: usize,
    /// Time from the first touchpoint to the latest (0 with one touchpoint or none).
    pub elapsed: Duration,
}

/// What fires a [`NextAction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A pending timeout of the current stay: it fires at `due` unless a touchpoint of one of
    /// the `unless` kinds comes first.
    Timeout,
    /// A transition rule: it fires on a touchpoint of one of the `on` kinds (on one of
    /// `channels`, meeting `count` and the rule's condition when it has them).
    Touchpoint,
}

/// One thing the model would do next from the customer's current state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextAction {
    /// The rule.
    pub rule: Arc<str>,
    /// Timeout or touchpoint.
    pub trigger: Trigger,
    /// Timeout: when it fires, as of now (a `restart_on` touchpoint would move it).
    pub due: Option<Timestamp>,
    /// Timeout: the event kinds whose touchpoint cancels it (`none_of`).
    pub unless: Vec<Arc<str>>,
    /// Touchpoint: the event kinds that trigger the rule.
    pub on: Vec<Arc<str>>,
    /// Touchpoint: the channels it is limited to; `None` for any.
    pub channels: Option<Vec<Arc<str>>>,
    /// Touchpoint: at least `at_least` matching touchpoints (that one included) are needed,
    /// within `within` when given.
    pub count: Option<CountNeeded>,
    /// Touchpoint: the rule has a condition on the touchpoint's properties (`when`).
    pub conditional: bool,
    /// The stage it moves the customer to; `None` when it stays.
    pub to: Option<Arc<str>>,
    /// The actions it emits, in order: the rule's own, then (when it moves the customer) the
    /// entered stage's `on_enter` actions. Consent is applied when they are actually emitted.
    pub actions: Vec<PlannedAction>,
}

/// The `count` of a transition rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CountNeeded {
    /// Minimum number of matching touchpoints.
    pub at_least: u32,
    /// Window; `None` for the whole history.
    pub within: Option<Duration>,
}

/// An action a [`NextAction`] would emit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedAction {
    /// The action's name.
    pub action: Arc<str>,
    /// The channel it contacts the customer on, if any.
    pub channel: Option<Arc<str>>,
    /// Parameters from the model.
    pub params: Arc<Params>,
}

impl Engine {
    /// The score of a customer's journey now (see [`Score`] for each figure); `None` for an
    /// unknown customer.
    pub fn score(&self, customer: &str) -> Option<Score> {
        let m = &*self.model().inner;
        self.profile_of(customer)
            .map(|(p, events)| score_profile(m, p, events))
    }
}

fn score_profile(m: &Compiled, p: &Profile, events: &[Event]) -> Score {
    let effort = effort(events);
    let Some(entry) = p.history.last() else {
        return Score {
            effort,
            ..Score::default()
        };
    };
    let stage = entry.stage;
    let i = stage as usize;
    let target = m.scoring.as_ref().map(|sc| sc.target as usize);
    let progress = match target {
        Some(0) => 1.0,
        Some(t) => i.min(t) as f64 / t as f64,
        None if m.stages.len() <= 1 => 1.0,
        None => i as f64 / (m.stages.len() - 1) as f64,
    };
    let figures = m
        .scoring
        .as_ref()
        .and_then(|sc| sc.stages.get(i).copied().flatten());
    Score {
        stage: Some(m.stages[i].name.clone()),
        stage_index: Some(i),
        entered_at: Some(Timestamp(entry.at)),
        progress,
        probability_to_convert: figures.map(|f| f.p_convert),
        expected_time_to_convert: figures.and_then(|f| f.expected_time).map(Duration),
        next_actions: next_actions(m, p, stage),
        effort,
    }
}

fn effort(events: &[Event]) -> Effort {
    let mut seen = [0u64; 4];
    let mut e = Effort::default();
    let mut prev = None;
    for ev in events {
        let c = ev.channel();
        let (word, bit) = (c as usize / 64, 1u64 << (c % 64));
        if seen[word] & bit == 0 {
            seen[word] |= bit;
            e.channels += 1;
        }
        if prev.is_some_and(|pc| pc != c) {
            e.channel_switches += 1;
        }
        prev = Some(c);
    }
    e.touches = events.len();
    if let (Some(first), Some(last)) = (events.first(), events.last()) {
        let (a, b) = (first.at(), last.at());
        e.elapsed = Duration(b.saturating_sub(a));
    }
    e
}

fn names(all: &[Arc<str>], set: &[bool]) -> Vec<Arc<str>> {
    all.iter()
        .zip(set)
        .filter(|(_, on)| **on)
        .map(|(n, _)| n.clone())
        .collect()
}

/// The actions rule `r` emits when it fires in `stage`, and where it moves the customer.
fn effect(m: &Compiled, r: RuleId, stage: StageId) -> (Option<Arc<str>>, Vec<PlannedAction>) {
    let rule = &m.rules[r as usize];
    let moves_to = rule.to.filter(|&to| to != stage);
    let on_enter = moves_to.map_or(&[][..], |to| &m.stages[to as usize].on_enter[..]);
    let actions = rule
        .actions
        .iter()
        .chain(on_enter)
        .map(|&a| {
            let def = &m.actions[a as usize];
            PlannedAction {
                action: def.name.clone(),
                channel: def.channel.map(|c| m.channels[c as usize].name.clone()),
                params: def.params.clone(),
            }
        })
        .collect();
    (
        moves_to.map(|to| m.stages[to as usize].name.clone()),
        actions,
    )
}

fn next_actions(m: &Compiled, p: &Profile, stage: StageId) -> Vec<NextAction> {
    let mut out = Vec::new();
    // Pending timeouts: the profile's timers run parallel to the stage's timeout rules.
    let timeouts = &m.stages[stage as usize].timeouts;
    let mut pending: Vec<(i64, RuleId)> = p
        .timers
        .iter()
        .zip(timeouts)
        .filter(|(t, _)| t.state == TimerState::Pending)
        .map(|(t, &r)| (t.due, r))
        .collect();
    pending.sort_by_key(|&(due, _)| due); // stable: ties stay in rule order
    for (due, r) in pending {
        let RuleBody::Timeout { none_of, .. } = &m.rules[r as usize].body else {
            continue;
        };
        let (to, actions) = effect(m, r, stage);
        out.push(NextAction {
            rule: m.rules[r as usize].name.clone(),
            trigger: Trigger::Timeout,
            due: Some(Timestamp(due)),
            unless: names(&m.kinds, none_of),
            on: Vec::new(),
            channels: None,
            count: None,
            conditional: false,
            to,
            actions,
        });
    }
    // Transition rules that can fire from this stage: the union of its candidates over all
    // event kinds, in rule (precedence) order.
    let mut rules: Vec<RuleId> = (0..m.kinds.len())
        .flat_map(|k| {
            m.candidates(stage, k as crate::model::KindId)
                .iter()
                .copied()
        })
        .collect();
    rules.sort_unstable();
    rules.dedup();
    for r in rules {
        let RuleBody::Transition {
            on,
            channels,
            when,
            count,
        } = &m.rules[r as usize].body
        else {
            continue;
        };
        let (to, actions) = effect(m, r, stage);
        if to.is_none() && actions.is_empty() {
            continue;
        }
        out.push(NextAction {
            rule: m.rules[r as usize].name.clone(),
            trigger: Trigger::Touchpoint,
            due: None,
            unless: Vec::new(),
            on: names(&m.kinds, on),
            channels: channels.as_ref().map(|c| {
                let all: Vec<Arc<str>> = m.channels.iter().map(|c| c.name.clone()).collect();
                names(&all, c)
            }),
            count: count.as_ref().map(|c| CountNeeded {
                at_least: c.at_least,
                within: c.within.map(Duration),
            }),
            conditional: when.is_some(),
            to,
            actions,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Model;

    const DAY: i64 = 86_400_000;
    const HOUR: i64 = 3_600_000;

    /// The ecommerce preset, with a scoring table when `scoring` is given.
    fn engine(scoring: Option<&str>) -> Engine {
        let mut spec = Model::preset("ecommerce").unwrap().spec().clone();
        spec.scoring = scoring.map(|s| serde_json::from_str(s).unwrap());
        Engine::new(Model::from_spec(spec).unwrap())
    }

    fn ingest(e: &mut Engine, channel: &str, kind: &str, at: i64) {
        e.ingest_json(&format!(
            r#"{{"customer_id": "c1", "channel": "{channel}", "kind": "{kind}", "at": {at}}}"#
        ))
        .unwrap();
    }

    const TABLE: &str = r#"{"target": "customer", "stages": {
        "visitor": {"p_convert": 0.02},
        "browsing": {"p_convert": 0.1, "expected_time": "3d"},
        "cart": {"p_convert": 0.35, "expected_time": "2h"}}}"#;

    #[test]
    fn unknown_customer_has_no_score() {
        assert_eq!(engine(None).score("nobody"), None);
    }

    #[test]
    fn progress_without_a_table_is_the_position_among_all_stages() {
        // ecommerce has 9 stages: position i scores i / 8.
        let mut e = engine(None);
        ingest(&mut e, "web", "page_view", 0);
        assert_eq!(e.score("c1").unwrap().progress, 0.0); // visitor
        ingest(&mut e, "web", "product_view", 1);
        assert_eq!(e.score("c1").unwrap().progress, 0.125); // browsing, 1/8
        ingest(&mut e, "web", "add_to_cart", 2);
        let s = e.score("c1").unwrap();
        assert_eq!((s.stage_index, s.progress), (Some(3), 0.375)); // cart, 3/8
        assert_eq!(s.probability_to_convert, None);
        assert_eq!(s.expected_time_to_convert, None);
    }

    #[test]
    fn progress_and_figures_with_a_table() {
        // Target `customer` is position 5: cart (3) scores 3/5, lapsed (8) scores 1.
        let mut e = engine(Some(TABLE));
        ingest(&mut e, "web", "page_view", 0);
        let s = e.score("c1").unwrap();
        assert_eq!((s.progress, s.probability_to_convert), (0.0, Some(0.02)));
        assert_eq!(s.expected_time_to_convert, None); // not in the table
        ingest(&mut e, "web", "product_view", 1000);
        let s = e.score("c1").unwrap();
        assert_eq!(s.progress, 0.2);
        assert_eq!(s.probability_to_convert, Some(0.1));
        assert_eq!(s.expected_time_to_convert, Some(Duration(3 * DAY)));
        assert_eq!(s.entered_at, Some(Timestamp(1000)));
        ingest(&mut e, "web", "add_to_cart", 2000);
        assert_eq!(e.score("c1").unwrap().progress, 0.6);
        ingest(&mut e, "app", "purchase", 3000);
        let s = e.score("c1").unwrap();
        assert_eq!(s.stage.as_deref(), Some("customer"));
        assert_eq!((s.progress, s.probability_to_convert), (1.0, Some(1.0)));
        assert_eq!(s.expected_time_to_convert, Some(Duration(0)));
        // 90 days without activity: lapsed, after the target in the model's order.
        e.advance_to(Timestamp(3000 + 90 * DAY));
        let s = e.score("c1").unwrap();
        assert_eq!(s.stage.as_deref(), Some("lapsed"));
        assert_eq!((s.progress, s.probability_to_convert), (1.0, None));
    }

    #[test]
    fn effort_counts_touches_channels_and_switches() {
        let mut e = engine(None);
        for (i, ch) in ["web", "web", "app", "web", "store"].iter().enumerate() {
            ingest(&mut e, ch, "page_view", i as i64 * HOUR);
        }
        // web→web no switch, web→app, app→web, web→store: 3 switches over 3 channels.
        assert_eq!(
            e.score("c1").unwrap().effort,
            Effort {
                touches: 5,
                channels: 3,
                channel_switches: 3,
                elapsed: Duration(4 * HOUR),
            }
        );
    }

    #[test]
    fn next_actions_in_cart_timeout_first_then_rules() {
        let mut e = engine(None);
        ingest(&mut e, "web", "add_to_cart", 10 * HOUR);
        let next = e.score("c1").unwrap().next_actions;
        // The abandoned-cart timeout due an hour later, then the only rule from `cart`.
        assert_eq!(next.len(), 2, "{next:#?}");
        assert_eq!(&*next[0].rule, "abandoned_cart");
        assert_eq!(next[0].trigger, Trigger::Timeout);
        assert_eq!(next[0].due, Some(Timestamp(11 * HOUR)));
        assert_eq!(next[0].unless, vec![Arc::from("purchase")]);
        assert_eq!(next[0].to.as_deref(), Some("abandoned_cart"));
        assert_eq!(&*next[0].actions[0].action, "abandoned_cart_sms");
        assert_eq!(next[0].actions[0].channel.as_deref(), Some("sms"));
        assert_eq!(&*next[1].rule, "first_purchase");
        assert_eq!(next[1].trigger, Trigger::Touchpoint);
        assert_eq!(next[1].on, vec![Arc::from("purchase")]);
        assert_eq!(next[1].to.as_deref(), Some("customer"));
        assert_eq!(&*next[1].actions[0].action, "thank_you");
    }

    #[test]
    fn next_actions_in_browsing_are_rules_in_precedence_order() {
        let mut e = engine(None);
        ingest(&mut e, "web", "product_view", 0);
        let next = e.score("c1").unwrap().next_actions;
        let rules: Vec<&str> = next.iter().map(|n| &*n.rule).collect();
        assert_eq!(
            rules,
            ["first_purchase", "cart_filled", "became_interested"]
        );
        assert!(next[1].actions.is_empty()); // cart_filled only moves
        let interested = &next[2];
        assert_eq!(
            interested.count,
            Some(CountNeeded {
                at_least: 3,
                within: Some(Duration(7 * DAY))
            })
        );
        assert!(!interested.conditional);
        assert_eq!(&*interested.actions[0].action, "first_purchase_discount");
    }

    #[test]
    fn next_actions_of_a_customer_order_timeouts_by_due_time() {
        let mut e = engine(None);
        ingest(&mut e, "web", "purchase", 0);
        let next = e.score("c1").unwrap().next_actions;
        let rules: Vec<(&str, Option<Timestamp>)> =
            next.iter().map(|n| (&*n.rule, n.due)).collect();
        assert_eq!(
            rules,
            [
                ("review_request", Some(Timestamp(7 * DAY))),
                ("lapse", Some(Timestamp(90 * DAY))),
                ("repeat_purchase", None),
                ("left_good_review", None),
            ]
        );
        assert_eq!(next[0].to, None); // action only
        assert!(next[3].conditional); // rating >= 4

        // A review cancels the review request: it is no longer pending.
        ingest(&mut e, "web", "review", DAY);
        let next = e.score("c1").unwrap().next_actions;
        assert_eq!(&*next[0].rule, "lapse");
        assert_eq!(next[0].due, Some(Timestamp(DAY + 90 * DAY))); // restarted by the review
    }

    #[test]
    fn a_customer_known_only_through_consent_has_no_stage() {
        let mut e = engine(Some(TABLE));
        e.set_consent("c1", "sms", true, Timestamp(0)).unwrap();
        assert_eq!(e.score("c1").unwrap(), Score::default());
    }
}
