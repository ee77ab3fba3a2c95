//! What an engine call caused, and the customer view, as JavaScript objects.
//!
//! Field names and values are those of the core's JSON serialization (the shape the shared test
//! vectors use): snake_case, timestamps as RFC 3339 text in UTC, `null` where absent.

use jornada::Rejected as CoreRejected;
use napi::bindgen_prelude::{JsObjectValue, Object, This, ToNapiValue, Unknown};
use napi::{Env, Property, PropertyAttributes};
use napi_derive::napi;

fn name(s: &Option<std::sync::Arc<str>>) -> Option<String> {
    s.as_deref().map(str::to_string)
}

/// A customer moved from one stage to another.
#[napi(object, use_nullable = true)]
pub struct Transition {
    /// The customer's id.
    pub customer: String,
    /// The stage left; `null` when entering the initial stage at the first touchpoint.
    pub from: Option<String>,
    /// The stage entered.
    pub to: String,
    /// When, in event time (RFC 3339, UTC).
    pub at: String,
    /// The rule that fired; `null` for the entry into the initial stage.
    pub rule: Option<String>,
    /// The channel of the touchpoint that caused it; `null` for timeouts.
    pub channel: Option<String>,
}

impl From<&jornada::Transition> for Transition {
    fn from(t: &jornada::Transition) -> Self {
        Transition {
            customer: t.customer.clone(),
            from: name(&t.from),
            to: t.to.to_string(),
            at: t.at.to_string(),
            rule: name(&t.rule),
            channel: name(&t.channel),
        }
    }
}

/// Something for the host to do (send the SMS, offer the discount).
#[napi(object, use_nullable = true)]
pub struct Action {
    /// The customer's id.
    pub customer: String,
    /// The action's name.
    pub action: String,
    /// The channel it contacts the customer on, if any.
    pub channel: Option<String>,
    /// Parameters from the model.
    #[napi(ts_type = "Record<string, string | number | boolean>")]
    pub params: serde_json::Value,
    /// When, in event time (RFC 3339, UTC).
    pub at: String,
    /// The customer's stage after the rule fired.
    pub stage: String,
    /// The rule that fired; `null` for `on_enter` actions of the initial stage.
    pub rule: Option<String>,
    /// `true` when the channel's consent was not given: do not contact the customer.
    pub suppressed: bool,
}

impl From<&jornada::Action> for Action {
    fn from(a: &jornada::Action) -> Self {
        Action {
            customer: a.customer.clone(),
            action: a.action.to_string(),
            channel: name(&a.channel),
            params: serde_json::to_value(&*a.params).unwrap_or_default(),
            at: a.at.to_string(),
            stage: a.stage.to_string(),
            rule: name(&a.rule),
            suppressed: a.suppressed,
        }
    }
}

/// Profiles became one, or a customer's id changed because they gained a preferred key.
#[napi(object)]
pub struct Merge {
    /// The surviving customer id.
    pub into: String,
    /// Ids that now name `into`.
    pub from: Vec<String>,
    /// Event time of the touchpoint that caused it.
    pub at: String,
}

impl From<&jornada::Merge> for Merge {
    fn from(m: &jornada::Merge) -> Self {
        Merge {
            into: m.into.clone(),
            from: m.from.clone(),
            at: m.at.to_string(),
        }
    }
}

/// A touchpoint of a batch that was not accepted, and why. Nothing of it was applied.
#[napi(object, use_nullable = true)]
pub struct Rejected {
    /// Its position in the batch (for NDJSON: among the non-blank lines).
    pub index: u32,
    /// The error code (see `errorCodes()`).
    pub code: String,
    /// The field path of the error (`at`, `properties.rating`), `null` when it names no field.
    pub path: Option<String>,
    /// The 1-based line of NDJSON input; `null` for arrays.
    pub line: Option<u32>,
    /// The error message.
    pub message: String,
}

impl From<&CoreRejected> for Rejected {
    fn from(r: &CoreRejected) -> Self {
        Rejected {
            index: r.index as u32,
            code: r.error.code().to_string(),
            path: r.error.path().filter(|p| !p.is_empty()).map(str::to_string),
            line: r.error.location().and_then(|l| l.line).map(|l| l as u32),
            message: r.error.to_string(),
        }
    }
}

/// What an erasure removed.
#[napi(object)]
pub struct Erasure {
    /// The customer erased.
    pub customer: String,
    /// Identity keys removed.
    pub keys: u32,
    /// Touchpoints removed.
    pub events: u32,
}

impl From<jornada::Erasure> for Erasure {
    fn from(e: jornada::Erasure) -> Self {
        Erasure {
            customer: e.customer,
            keys: e.keys as u32,
            events: e.events as u32,
        }
    }
}

/// One stay in a stage.
#[napi(object, use_nullable = true)]
pub struct StageVisit {
    /// The stage.
    pub stage: String,
    /// When the customer entered it.
    #[napi(js_name = "entered_at")]
    pub entered_at: String,
    /// The rule that moved them there (`null` for the initial stage).
    pub rule: Option<String>,
    /// The channel of the touchpoint that did (`null` for timeouts).
    pub channel: Option<String>,
}

/// A consent change.
#[napi(object)]
pub struct ConsentEntry {
    /// The channel.
    pub channel: String,
    /// Granted (`true`) or withdrawn.
    pub granted: bool,
    /// From when.
    pub at: String,
}

/// A customer as the engine sees them now.
#[napi(object, use_nullable = true)]
pub struct CustomerView {
    /// The customer's id (their most preferred key: `c1`, or `kind:value`).
    pub id: String,
    /// Current stage (`null` for a customer known only through consent).
    pub stage: Option<String>,
    /// Since when.
    pub since: Option<String>,
    /// Identity keys `[kind, value]`, most preferred first.
    #[napi(ts_type = "Array<[string, string]>")]
    pub keys: Vec<Vec<String>>,
    /// Every stage entered, in order.
    pub history: Vec<StageVisit>,
    /// Number of touchpoints.
    pub touchpoints: u32,
    /// Time of the latest touchpoint.
    #[napi(js_name = "last_seen")]
    pub last_seen: Option<String>,
    /// Consent changes, in time order.
    pub consent: Vec<ConsentEntry>,
}

impl From<jornada::CustomerView> for CustomerView {
    fn from(c: jornada::CustomerView) -> Self {
        CustomerView {
            id: c.id,
            stage: name(&c.stage),
            since: c.since.map(|t| t.to_string()),
            keys: c
                .keys
                .into_iter()
                .map(|(k, v)| vec![k.to_string(), v])
                .collect(),
            history: c
                .history
                .iter()
                .map(|h| StageVisit {
                    stage: h.stage.to_string(),
                    entered_at: h.entered_at.to_string(),
                    rule: name(&h.rule),
                    channel: name(&h.channel),
                })
                .collect(),
            touchpoints: c.touchpoints as u32,
            last_seen: c.last_seen.map(|t| t.to_string()),
            consent: c
                .consent
                .iter()
                .map(|e| ConsentEntry {
                    channel: e.channel.to_string(),
                    granted: e.granted,
                    at: e.at.to_string(),
                })
                .collect(),
        }
    }
}

/// What one engine call caused: a net delta (see the jornada README, "Semantics").
///
/// An empty outcome returned by `ingest`, `ingestMany` or `advanceTo` is a shared frozen object
/// (check `isEmpty`; do not add properties to outcomes).
///
/// The lists are converted to JavaScript objects when first read, then kept: a bulk call whose
/// outputs are not all read pays nothing for them. `JSON.stringify(outcome)` gives every list.
#[napi]
pub struct Outcome {
    pub(crate) inner: jornada::Outcome,
}

impl Outcome {
    pub(crate) fn new(inner: jornada::Outcome) -> Self {
        Outcome { inner }
    }
}

thread_local! {
    /// The shared empty outcome of this thread's environment: `(env, reference)`.
    static EMPTY: std::cell::Cell<(napi::sys::napi_env, napi::sys::napi_ref)> =
        const { std::cell::Cell::new((std::ptr::null_mut(), std::ptr::null_mut())) };
}

/// Env teardown: the cached reference dies with the environment.
unsafe extern "C" fn forget_empty(_: *mut std::ffi::c_void) {
    EMPTY.with(|c| c.set((std::ptr::null_mut(), std::ptr::null_mut())));
}

/// An outcome as a JavaScript value. An empty outcome (most single ingests) is one shared, frozen
/// `Outcome` per environment: creating a class instance costs more than the rest of a call, and
/// each one leaves a finalizer for the garbage collector (the latency tail of `ingest`).
pub(crate) fn value(env: &Env, inner: jornada::Outcome) -> napi::Result<Unknown<'static>> {
    use napi::sys;
    let raw_env = env.raw();
    let empty = inner.is_empty();
    if empty {
        let (e, r) = EMPTY.with(std::cell::Cell::get);
        let mut v = std::ptr::null_mut();
        if e == raw_env
            && !r.is_null()
            && unsafe { sys::napi_get_reference_value(raw_env, r, &mut v) } == sys::Status::napi_ok
            && !v.is_null()
        {
            return Ok(unsafe { Unknown::from_raw_unchecked(raw_env, v) });
        }
    }
    let raw = unsafe { Outcome::to_napi_value(raw_env, Outcome::new(inner))? };
    if empty {
        let first = EMPTY.with(std::cell::Cell::get).0 != raw_env;
        let mut r = std::ptr::null_mut();
        unsafe {
            if sys::napi_object_freeze(raw_env, raw) == sys::Status::napi_ok
                && sys::napi_create_reference(raw_env, raw, 1, &mut r) == sys::Status::napi_ok
            {
                EMPTY.with(|c| c.set((raw_env, r)));
                if first {
                    // Once per environment (Node-API refuses a hook registered twice).
                    sys::napi_add_env_cleanup_hook(
                        raw_env,
                        Some(forget_empty),
                        std::ptr::null_mut(),
                    );
                }
            }
        }
    }
    Ok(unsafe { Unknown::from_raw_unchecked(raw_env, raw) })
}

/// Converts a list and caches it as an own data property of `this`, shadowing the getter.
fn cached<T: ToNapiValue>(
    env: &Env,
    this: &mut Object,
    key: &str,
    list: T,
) -> napi::Result<Unknown<'static>> {
    let raw = unsafe { T::to_napi_value(env.raw(), list)? };
    let value = unsafe { Unknown::from_raw_unchecked(env.raw(), raw) };
    // Best effort: a frozen or sealed outcome still returns the list.
    let _ = this.define_properties(&[Property::new()
        .with_utf8_name(key)?
        .with_value(&value)
        .with_property_attributes(PropertyAttributes::Enumerable)]);
    Ok(value)
}

#[napi]
impl Outcome {
    /// Stage transitions.
    #[napi(getter, ts_args_type = "", ts_return_type = "Array<Transition>")]
    pub fn transitions(&self, env: Env, mut this: This) -> napi::Result<Unknown<'static>> {
        let list: Vec<Transition> = self.inner.transitions.iter().map(Into::into).collect();
        cached(&env, &mut this.object, "transitions", list)
    }

    /// Actions, suppressed ones included (check `suppressed`).
    #[napi(getter, ts_args_type = "", ts_return_type = "Array<Action>")]
    pub fn actions(&self, env: Env, mut this: This) -> napi::Result<Unknown<'static>> {
        let list: Vec<Action> = self.inner.actions.iter().map(Into::into).collect();
        cached(&env, &mut this.object, "actions", list)
    }

    /// Transitions reported earlier that no longer hold.
    #[napi(
        getter,
        js_name = "retracted_transitions",
        ts_args_type = "",
        ts_return_type = "Array<Transition>"
    )]
    pub fn retracted_transitions(
        &self,
        env: Env,
        mut this: This,
    ) -> napi::Result<Unknown<'static>> {
        let list: Vec<Transition> = self
            .inner
            .retracted_transitions
            .iter()
            .map(Into::into)
            .collect();
        cached(&env, &mut this.object, "retracted_transitions", list)
    }

    /// Actions reported earlier that no longer hold.
    #[napi(
        getter,
        js_name = "retracted_actions",
        ts_args_type = "",
        ts_return_type = "Array<Action>"
    )]
    pub fn retracted_actions(&self, env: Env, mut this: This) -> napi::Result<Unknown<'static>> {
        let list: Vec<Action> = self
            .inner
            .retracted_actions
            .iter()
            .map(Into::into)
            .collect();
        cached(&env, &mut this.object, "retracted_actions", list)
    }

    /// Profile merges and renames, in order.
    #[napi(getter, ts_args_type = "", ts_return_type = "Array<Merge>")]
    pub fn merges(&self, env: Env, mut this: This) -> napi::Result<Unknown<'static>> {
        let list: Vec<Merge> = self.inner.merges.iter().map(Into::into).collect();
        cached(&env, &mut this.object, "merges", list)
    }

    /// Ids of touchpoints already ingested (nothing changed).
    #[napi(getter, ts_args_type = "", ts_return_type = "Array<string>")]
    pub fn duplicates(&self, env: Env, mut this: This) -> napi::Result<Unknown<'static>> {
        cached(
            &env,
            &mut this.object,
            "duplicates",
            self.inner.duplicates.clone(),
        )
    }

    /// Touchpoints of a batch that were not accepted, by index, with their error code.
    #[napi(getter, ts_args_type = "", ts_return_type = "Array<Rejected>")]
    pub fn rejected(&self, env: Env, mut this: This) -> napi::Result<Unknown<'static>> {
        let list: Vec<Rejected> = self.inner.rejected.iter().map(Into::into).collect();
        cached(&env, &mut this.object, "rejected", list)
    }

    /// Whether nothing happened.
    #[napi(getter, js_name = "isEmpty")]
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Every list as a plain object (what `JSON.stringify` writes).
    #[napi(js_name = "toJSON", ts_args_type = "", ts_return_type = "OutcomeJson")]
    pub fn to_json(&self, env: Env, this: This) -> napi::Result<Object<'static>> {
        let mut obj = Object::new(&env)?;
        for key in [
            "transitions",
            "actions",
            "retracted_transitions",
            "retracted_actions",
            "merges",
            "duplicates",
            "rejected",
        ] {
            let v: Unknown = this.get_named_property(key)?;
            obj.set_named_property(key, v)?;
        }
        Ok(unsafe { std::mem::transmute::<Object<'_>, Object<'static>>(obj) })
    }
}

/// The plain-object form of an [`Outcome`] (its `toJSON()`).
#[napi(object)]
pub struct OutcomeJson {
    /// Stage transitions.
    pub transitions: Vec<Transition>,
    /// Actions.
    pub actions: Vec<Action>,
    /// Transitions reported earlier that no longer hold.
    #[napi(js_name = "retracted_transitions")]
    pub retracted_transitions: Vec<Transition>,
    /// Actions reported earlier that no longer hold.
    #[napi(js_name = "retracted_actions")]
    pub retracted_actions: Vec<Action>,
    /// Merges and renames.
    pub merges: Vec<Merge>,
    /// Duplicate touchpoint ids.
    pub duplicates: Vec<String>,
    /// Rejected touchpoints.
    pub rejected: Vec<Rejected>,
}
