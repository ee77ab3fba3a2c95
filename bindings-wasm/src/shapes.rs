//! The JavaScript shapes of jornada's types: the same fields as the core types, named in
//! camelCase, with times as epoch milliseconds and durations as milliseconds (numbers a page can
//! hand to `new Date()` or compare with `Date.now()`). Pure type conversion, no computation: each
//! shape borrows a core value and serializes to the JSON text the JS side parses.
//!
//! The TypeScript declarations of these shapes are in `lib.rs` (`TS_SHAPES`); keep them in step.

use jornada::score::{CountNeeded, Effort, NextAction, PlannedAction, Trigger};
use jornada::{
    Action, ConsentEntry, CustomerView, Erasure, Merge, Outcome, Params, Rejected, Score,
    StageVisit, Transition,
};
use serde::Serialize;

type Name<'a> = Option<&'a str>;

/// A [`Transition`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsTransition<'a> {
    customer: &'a str,
    from: Name<'a>,
    to: &'a str,
    at: i64,
    rule: Name<'a>,
    channel: Name<'a>,
}

impl<'a> From<&'a Transition> for JsTransition<'a> {
    fn from(t: &'a Transition) -> Self {
        JsTransition {
            customer: &t.customer,
            from: t.from.as_deref(),
            to: &t.to,
            at: t.at.millis(),
            rule: t.rule.as_deref(),
            channel: t.channel.as_deref(),
        }
    }
}

/// An [`Action`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsAction<'a> {
    customer: &'a str,
    action: &'a str,
    channel: Name<'a>,
    params: &'a Params,
    at: i64,
    stage: &'a str,
    rule: Name<'a>,
    suppressed: bool,
}

impl<'a> From<&'a Action> for JsAction<'a> {
    fn from(a: &'a Action) -> Self {
        JsAction {
            customer: &a.customer,
            action: &a.action,
            channel: a.channel.as_deref(),
            params: &a.params,
            at: a.at.millis(),
            stage: &a.stage,
            rule: a.rule.as_deref(),
            suppressed: a.suppressed,
        }
    }
}

/// A [`Merge`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsMerge<'a> {
    into: &'a str,
    from: &'a [String],
    at: i64,
}

impl<'a> From<&'a Merge> for JsMerge<'a> {
    fn from(m: &'a Merge) -> Self {
        JsMerge {
            into: &m.into,
            from: &m.from,
            at: m.at.millis(),
        }
    }
}

/// A rejected touchpoint of a batch: its position, and the error as the JS error object has it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsRejected<'a> {
    index: usize,
    code: &'static str,
    path: Option<&'a str>,
    line: Option<usize>,
    message: String,
}

impl<'a> From<&'a Rejected> for JsRejected<'a> {
    fn from(r: &'a Rejected) -> Self {
        JsRejected {
            index: r.index,
            code: r.error.code(),
            path: r.error.path(),
            line: r.error.location().and_then(|l| l.line),
            message: r.error.to_string(),
        }
    }
}

fn all<'a, T, S: From<&'a T>>(items: &'a [T]) -> Vec<S> {
    items.iter().map(S::from).collect()
}

/// An [`Outcome`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsOutcome<'a> {
    transitions: Vec<JsTransition<'a>>,
    actions: Vec<JsAction<'a>>,
    retracted_transitions: Vec<JsTransition<'a>>,
    retracted_actions: Vec<JsAction<'a>>,
    merges: Vec<JsMerge<'a>>,
    duplicates: &'a [String],
    rejected: Vec<JsRejected<'a>>,
}

impl<'a> From<&'a Outcome> for JsOutcome<'a> {
    fn from(o: &'a Outcome) -> Self {
        JsOutcome {
            transitions: all(&o.transitions),
            actions: all(&o.actions),
            retracted_transitions: all(&o.retracted_transitions),
            retracted_actions: all(&o.retracted_actions),
            merges: all(&o.merges),
            duplicates: &o.duplicates,
            rejected: all(&o.rejected),
        }
    }
}

/// A [`StageVisit`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsStageVisit<'a> {
    stage: &'a str,
    entered_at: i64,
    rule: Name<'a>,
    channel: Name<'a>,
}

impl<'a> From<&'a StageVisit> for JsStageVisit<'a> {
    fn from(v: &'a StageVisit) -> Self {
        JsStageVisit {
            stage: &v.stage,
            entered_at: v.entered_at.millis(),
            rule: v.rule.as_deref(),
            channel: v.channel.as_deref(),
        }
    }
}

/// A [`ConsentEntry`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsConsent<'a> {
    channel: &'a str,
    granted: bool,
    at: i64,
}

impl<'a> From<&'a ConsentEntry> for JsConsent<'a> {
    fn from(c: &'a ConsentEntry) -> Self {
        JsConsent {
            channel: &c.channel,
            granted: c.granted,
            at: c.at.millis(),
        }
    }
}

/// A [`CustomerView`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsCustomer<'a> {
    id: &'a str,
    stage: Name<'a>,
    since: Option<i64>,
    keys: Vec<(&'a str, &'a str)>,
    history: Vec<JsStageVisit<'a>>,
    touchpoints: usize,
    last_seen: Option<i64>,
    consent: Vec<JsConsent<'a>>,
}

impl<'a> From<&'a CustomerView> for JsCustomer<'a> {
    fn from(c: &'a CustomerView) -> Self {
        JsCustomer {
            id: &c.id,
            stage: c.stage.as_deref(),
            since: c.since.map(|t| t.millis()),
            keys: c.keys.iter().map(|(k, v)| (&**k, v.as_str())).collect(),
            history: all(&c.history),
            touchpoints: c.touchpoints,
            last_seen: c.last_seen.map(|t| t.millis()),
            consent: all(&c.consent),
        }
    }
}

/// An [`Erasure`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsErasure<'a> {
    customer: &'a str,
    keys: usize,
    events: usize,
}

impl<'a> From<&'a Erasure> for JsErasure<'a> {
    fn from(e: &'a Erasure) -> Self {
        JsErasure {
            customer: &e.customer,
            keys: e.keys,
            events: e.events,
        }
    }
}

/// An [`Effort`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsEffort {
    touches: usize,
    channels: usize,
    channel_switches: usize,
    elapsed: i64,
}

impl From<&Effort> for JsEffort {
    fn from(e: &Effort) -> Self {
        JsEffort {
            touches: e.touches,
            channels: e.channels,
            channel_switches: e.channel_switches,
            elapsed: e.elapsed.millis(),
        }
    }
}

/// A [`PlannedAction`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsPlannedAction<'a> {
    action: &'a str,
    channel: Name<'a>,
    params: &'a Params,
}

impl<'a> From<&'a PlannedAction> for JsPlannedAction<'a> {
    fn from(a: &'a PlannedAction) -> Self {
        JsPlannedAction {
            action: &a.action,
            channel: a.channel.as_deref(),
            params: &a.params,
        }
    }
}

/// A [`CountNeeded`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsCount {
    at_least: u32,
    within: Option<i64>,
}

impl From<&CountNeeded> for JsCount {
    fn from(c: &CountNeeded) -> Self {
        JsCount {
            at_least: c.at_least,
            within: c.within.map(|d| d.millis()),
        }
    }
}

/// A [`NextAction`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsNextAction<'a> {
    rule: &'a str,
    trigger: &'static str,
    due: Option<i64>,
    unless: Vec<&'a str>,
    on: Vec<&'a str>,
    channels: Option<Vec<&'a str>>,
    count: Option<JsCount>,
    conditional: bool,
    to: Name<'a>,
    actions: Vec<JsPlannedAction<'a>>,
}

impl<'a> From<&'a NextAction> for JsNextAction<'a> {
    fn from(n: &'a NextAction) -> Self {
        let strs = |v: &'a [std::sync::Arc<str>]| v.iter().map(|s| &**s).collect();
        JsNextAction {
            rule: &n.rule,
            trigger: match n.trigger {
                Trigger::Timeout => "timeout",
                Trigger::Touchpoint => "touchpoint",
            },
            due: n.due.map(|t| t.millis()),
            unless: strs(&n.unless),
            on: strs(&n.on),
            channels: n.channels.as_deref().map(strs),
            count: n.count.as_ref().map(JsCount::from),
            conditional: n.conditional,
            to: n.to.as_deref(),
            actions: all(&n.actions),
        }
    }
}

/// A score. The figures the model's scoring table does not give are absent (not `null`, not
/// made up), as the brief of the JS API asks.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsScore<'a> {
    stage: Name<'a>,
    stage_index: Option<usize>,
    entered_at: Option<i64>,
    progress: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    probability_to_convert: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_time_to_convert: Option<i64>,
    next_actions: Vec<JsNextAction<'a>>,
    effort: JsEffort,
}

impl<'a> From<&'a Score> for JsScore<'a> {
    fn from(s: &'a Score) -> Self {
        JsScore {
            stage: s.stage.as_deref(),
            stage_index: s.stage_index,
            entered_at: s.entered_at.map(|t| t.millis()),
            progress: s.progress,
            probability_to_convert: s.probability_to_convert,
            expected_time_to_convert: s.expected_time_to_convert.map(|d| d.millis()),
            next_actions: all(&s.next_actions),
            effort: JsEffort::from(&s.effort),
        }
    }
}

/// Customers per stage.
#[derive(Serialize)]
pub struct JsStageCount<'a> {
    stage: &'a str,
    count: u64,
}

/// `Engine::stage_counts` as `[{stage, count}]`, in stage order.
pub fn stage_counts(counts: &[(std::sync::Arc<str>, u64)]) -> Vec<JsStageCount<'_>> {
    counts
        .iter()
        .map(|(stage, count)| JsStageCount {
            stage,
            count: *count,
        })
        .collect()
}

/// A catalogue of codes as `{code: description}`, in catalogue order.
pub struct Catalogue(pub &'static [(&'static str, &'static str)]);

impl Serialize for Catalogue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(code, description)| (code, description)))
    }
}

/// [`Catalogue`] of a list of codes.
pub fn catalogue(codes: &'static [(&'static str, &'static str)]) -> Catalogue {
    Catalogue(codes)
}

/// JSON text of a shape (serializing these shapes cannot fail: every map has string keys and
/// every number is finite; an error would still come back as a value, not a panic).
pub fn json<T: Serialize>(shape: &T) -> Result<String, jornada::Error> {
    serde_json::to_string(shape).map_err(|e| jornada::Error::Capacity {
        message: format!("cannot serialize a result: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jornada::{Engine, Model, Timestamp};
    use serde_json::{json as j, Value};

    fn parse(text: String) -> Value {
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn outcome_is_camel_case_with_millisecond_times() {
        let mut e = Engine::new(Model::preset("ecommerce").unwrap());
        e.ingest_json(
            r#"{"customer_id": "c1", "channel": "web", "kind": "add_to_cart", "at": 1000}"#,
        )
        .unwrap();
        let out = e.advance_to(Timestamp(1000 + 3_600_000));
        let v = parse(json(&JsOutcome::from(&out)).unwrap());
        assert_eq!(
            v,
            j!({
                "transitions": [{"customer": "c1", "from": "cart", "to": "abandoned_cart",
                    "at": 3_601_000, "rule": "abandoned_cart", "channel": null}],
                "actions": [{"customer": "c1", "action": "abandoned_cart_sms", "channel": "sms",
                    "params": {"template": "cart_reminder"}, "at": 3_601_000,
                    "stage": "abandoned_cart", "rule": "abandoned_cart", "suppressed": true}],
                "retractedTransitions": [], "retractedActions": [], "merges": [],
                "duplicates": [], "rejected": []
            })
        );
        let view = parse(json(&JsCustomer::from(&e.customer("c1").unwrap())).unwrap());
        assert_eq!(view["lastSeen"], 1000);
        assert_eq!(view["history"][1]["enteredAt"], 1000);
        assert_eq!(view["keys"], j!([["customer_id", "c1"]]));
    }

    #[test]
    fn score_leaves_out_figures_without_a_table() {
        let mut e = Engine::new(Model::preset("ecommerce").unwrap());
        e.ingest_json(r#"{"customer_id": "c1", "channel": "web", "kind": "add_to_cart", "at": 0}"#)
            .unwrap();
        let v = parse(json(&JsScore::from(&e.score("c1").unwrap())).unwrap());
        assert!(v.get("probabilityToConvert").is_none());
        assert!(v.get("expectedTimeToConvert").is_none());
        assert_eq!(v["stageIndex"], 3);
        assert_eq!(v["nextActions"][0]["trigger"], "timeout");
        assert_eq!(v["nextActions"][0]["due"], 3_600_000);
        assert_eq!(v["nextActions"][1]["count"], Value::Null);
        assert_eq!(
            v["effort"],
            j!({"touches": 1, "channels": 1, "channelSwitches": 0, "elapsed": 0})
        );
    }
}
