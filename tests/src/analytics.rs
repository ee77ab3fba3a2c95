//! Shared helpers for the analytics tests: random event logs, and the reference a replay is
//! checked against (the engine, fed the same events one by one).

use jornada::analytics::replay::{NO_CHANNEL, NO_RULE, NO_STAGE};
use jornada::analytics::{replay, EventLog, Replay, ReplayOptions};
use jornada::{Engine, Model, PropValue, Timestamp, Touchpoint};
use proptest::prelude::*;
use std::collections::BTreeMap;

pub const MIN: i64 = 60_000;
pub const HOUR: i64 = 60 * MIN;
pub const DAY: i64 = 24 * HOUR;
pub const BASE: i64 = 1_772_323_200_000; // 2026-03-01T00:00:00Z

/// A model with a count rule, a property condition on a string and on `$value`, a timeout with
/// `none_of`, one with `restart_on`, a timeout with actions only, on_enter actions, an opt-in
/// and an opt-out channel.
pub const SMALL_MODEL: &str = r#"{
  "jornada_model": 1,
  "name": "small",
  "identities": [{"kind": "customer_id"}],
  "channels": ["web", "app", {"name": "email", "consent": "opt_in"}, {"name": "push", "consent": "opt_out"}],
  "event_kinds": ["view", "add_to_cart", "purchase", "open"],
  "properties": {"tier": "string", "price": "number"},
  "stages": [
    {"name": "new", "on_enter": [{"action": "hello", "channel": "push"}]},
    "engaged",
    {"name": "hot", "on_enter": [{"action": "hot_email", "channel": "email"}]},
    "buyer",
    "cold",
    "dormant"
  ],
  "rules": [
    {"name": "engage", "from": "new", "on": "view", "count": {"at_least": 2, "within": "1h"}, "to": "engaged"},
    {"name": "vip", "from": ["new", "engaged"], "on": "add_to_cart",
     "when": {"any": [{"prop": "price", "op": ">=", "value": 50}, {"prop": "tier", "op": "=", "value": "gold"}]},
     "to": "hot", "actions": [{"action": "vip_note"}]},
    {"name": "big_buy", "from": "*", "on": "purchase", "when": {"prop": "$value", "op": ">", "value": 100}, "to": "buyer",
     "actions": [{"action": "big_receipt", "channel": "email"}]},
    {"name": "buy", "from": "*", "on": "purchase", "to": "buyer",
     "actions": [{"action": "receipt", "channel": "email", "params": {"template": "r1"}}]},
    {"name": "cool", "type": "timeout", "in": "hot", "none_of": ["purchase"], "within": "1h", "to": "cold",
     "actions": [{"action": "nudge", "channel": "email"}]},
    {"name": "ping", "type": "timeout", "in": "engaged", "within": "30m", "actions": [{"action": "ping", "channel": "push"}]},
    {"name": "dormancy", "type": "timeout", "in": "buyer", "within": "2h", "restart_on": "*", "to": "dormant"}
  ]
}"#;

#[derive(Clone, Debug)]
pub struct Ev {
    pub customer: String,
    pub at: i64,
    pub channel: &'static str,
    pub kind: &'static str,
    pub value: Option<f64>,
    pub props: Vec<(&'static str, PropValue)>,
}

pub fn build_log(events: &[Ev]) -> EventLog {
    let mut b = EventLog::builder();
    for e in events {
        b.push_with_props(
            &e.customer,
            Timestamp(e.at),
            e.channel,
            e.kind,
            e.value,
            &e.props,
        )
        .unwrap();
    }
    b.finish().unwrap()
}

/// A transition as (customer, from, to, at, rule, channel), names and `-` for none.
pub type T = (String, String, String, i64, String, String);
/// An action as (customer, action, channel, at, rule, stage, suppressed).
pub type A = (String, String, String, i64, String, String, bool);
/// Per customer, the stage history as (stage, entered at).
pub type Histories = BTreeMap<String, Vec<(String, i64)>>;
/// Transitions and actions (sorted) and histories.
pub type Records = (Vec<T>, Vec<A>, Histories);

fn opt(s: Option<&str>) -> String {
    s.unwrap_or("-").to_string()
}

/// The reference: the engine, fed the events in time order, advanced to `until`; net outputs.
pub fn engine_reference(model: &Model, events: &[Ev], until: i64) -> Records {
    let mut engine = Engine::new(model.clone());
    let mut sorted: Vec<&Ev> = events.iter().filter(|e| e.at <= until).collect();
    sorted.sort_by_key(|e| e.at);
    let mut ts: Vec<T> = Vec::new();
    let mut acts: Vec<A> = Vec::new();
    let mut apply = |out: jornada::Outcome| {
        for t in out.transitions {
            ts.push((
                t.customer,
                opt(t.from.as_deref()),
                t.to.to_string(),
                t.at.millis(),
                opt(t.rule.as_deref()),
                opt(t.channel.as_deref()),
            ));
        }
        for t in out.retracted_transitions {
            let key = (
                t.customer,
                opt(t.from.as_deref()),
                t.to.to_string(),
                t.at.millis(),
                opt(t.rule.as_deref()),
                opt(t.channel.as_deref()),
            );
            let i = ts
                .iter()
                .position(|x| *x == key)
                .expect("retracted was emitted");
            ts.remove(i);
        }
        for a in out.actions {
            acts.push((
                a.customer,
                a.action.to_string(),
                opt(a.channel.as_deref()),
                a.at.millis(),
                opt(a.rule.as_deref()),
                a.stage.to_string(),
                a.suppressed,
            ));
        }
        for a in out.retracted_actions {
            let key = (
                a.customer,
                a.action.to_string(),
                opt(a.channel.as_deref()),
                a.at.millis(),
                opt(a.rule.as_deref()),
                a.stage.to_string(),
                a.suppressed,
            );
            let i = acts
                .iter()
                .position(|x| *x == key)
                .expect("retracted was emitted");
            acts.remove(i);
        }
    };
    for e in sorted {
        let mut tp = Touchpoint::new(e.channel, e.kind, Timestamp(e.at))
            .key("customer_id", e.customer.as_str());
        if let Some(v) = e.value {
            tp = tp.value(v);
        }
        for (k, v) in &e.props {
            tp = tp.property(*k, v.clone());
        }
        apply(engine.ingest(&tp).expect("valid touchpoint"));
    }
    if until != i64::MIN {
        apply(engine.advance_to(Timestamp(until)));
    }
    let mut histories = BTreeMap::new();
    for id in engine.customer_ids() {
        let v = engine.customer(&id).unwrap();
        histories.insert(
            id,
            v.history
                .iter()
                .map(|h| (h.stage.to_string(), h.entered_at.millis()))
                .collect(),
        );
    }
    ts.sort();
    acts.sort();
    (ts, acts, histories)
}

pub fn replay_records(r: &Replay, log: &EventLog) -> Records {
    let name = |c: u32| log.customers()[c as usize].to_string();
    let stage = |s: u16| {
        if s == NO_STAGE {
            "-".to_string()
        } else {
            r.stage_name(s).to_string()
        }
    };
    let rule = |x: u16| {
        if x == NO_RULE {
            "-".to_string()
        } else {
            r.rule_name(x).to_string()
        }
    };
    let chan = |x: u8| {
        if x == NO_CHANNEL {
            "-".to_string()
        } else {
            r.channel_name(x).to_string()
        }
    };
    let t = r.transitions();
    let mut ts: Vec<T> = (0..t.len())
        .map(|i| {
            (
                name(t.customer[i]),
                stage(t.from[i]),
                stage(t.to[i]),
                t.at[i],
                rule(t.rule[i]),
                chan(t.channel[i]),
            )
        })
        .collect();
    let a = r.actions();
    let mut acts: Vec<A> = (0..a.len())
        .map(|i| {
            (
                name(a.customer[i]),
                r.action_name(a.action[i]).to_string(),
                chan(a.channel[i]),
                a.at[i],
                rule(a.rule[i]),
                stage(a.stage[i]),
                a.suppressed[i],
            )
        })
        .collect();
    let mut histories = BTreeMap::new();
    for c in 0..r.n_customers() {
        let h = r.history(c);
        if h.is_empty() {
            assert_eq!(r.final_stages()[c], NO_STAGE);
            continue;
        }
        assert_eq!(
            r.final_stages()[c],
            t.to[h.end - 1],
            "final stage = last entry"
        );
        for i in h.clone() {
            assert_eq!(t.customer[i] as usize, c, "transitions grouped by customer");
        }
        histories.insert(
            name(c as u32),
            h.map(|i| (stage(t.to[i]), t.at[i])).collect(),
        );
    }
    ts.sort();
    acts.sort();
    (ts, acts, histories)
}

pub fn check_against_engine(model: &Model, events: &[Ev], until: Option<i64>) {
    let log = build_log(events);
    let opts = ReplayOptions {
        until: until.map(Timestamp),
        ..Default::default()
    };
    let r = replay(model, &log, &opts).unwrap();
    let until = until.unwrap_or_else(|| log.at().iter().copied().max().unwrap_or(i64::MIN));
    let want = engine_reference(model, events, until);
    let got = replay_records(&r, &log);
    assert_eq!(got.2, want.2, "stage histories");
    assert_eq!(got.0, want.0, "transitions");
    assert_eq!(got.1, want.1, "actions");
    let s = r.stats();
    assert_eq!(
        s.events + s.after_until,
        log.len() as u64,
        "every row is replayed or after `until`"
    );
}

#[derive(Clone, Copy, Debug)]
pub enum Mk {
    /// The `ecommerce` preset.
    Ecom,
    /// [`SMALL_MODEL`].
    Small,
}

pub fn ev_strategy(mk: Mk) -> impl Strategy<Value = Ev> {
    let (kinds, chans): (&'static [&'static str], &'static [&'static str]) = match mk {
        Mk::Ecom => (
            &[
                "page_view",
                "product_view",
                "product_view",
                "search",
                "add_to_cart",
                "checkout",
                "purchase",
                "review",
                "review",
                "return",
                "email_open",
            ],
            &["web", "app", "store", "email", "sms", "support"],
        ),
        Mk::Small => (
            &["view", "view", "add_to_cart", "purchase", "open"],
            &["web", "app", "email", "push"],
        ),
    };
    (
        0..4usize,
        // Coarse time grid (ties happen), sometimes days or months later.
        prop_oneof![6 => Just(0i64), 2 => Just(8 * DAY), 1 => Just(100 * DAY)],
        0..30i64,
        0..kinds.len(),
        0..chans.len(),
        prop::option::of(0..4u8),
        prop::option::of(0..6u8),
        prop::option::of(0..3u8),
    )
        .prop_map(move |(c, epoch, slot, k, ch, value, rating, tier)| {
            let kind = kinds[k];
            let mut props = Vec::new();
            match mk {
                Mk::Ecom => {
                    if let Some(r) = rating {
                        props.push(("rating", PropValue::Num(r as f64)));
                    }
                    if let Some(t) = tier {
                        props.push(("sku", PropValue::from(["A1", "B2", "C3"][t as usize])));
                    }
                }
                Mk::Small => {
                    if let Some(r) = rating {
                        props.push(("price", PropValue::Num(r as f64 * 20.0)));
                    }
                    if let Some(t) = tier {
                        props.push(("tier", PropValue::from(["gold", "silver", "x"][t as usize])));
                    }
                }
            }
            Ev {
                customer: format!("c{c}"),
                at: BASE + epoch + slot * 10 * MIN,
                channel: chans[ch],
                kind,
                value: value.map(|v| v as f64 * 60.0),
                props,
            }
        })
}

pub fn model(mk: Mk) -> Model {
    match mk {
        Mk::Ecom => Model::preset("ecommerce").unwrap(),
        Mk::Small => Model::from_json(SMALL_MODEL).unwrap(),
    }
}
