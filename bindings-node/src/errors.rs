//! Errors: the core's errors as JavaScript `Error` objects with a stable `code`, and the guard
//! that turns a panic into an error instead of a crashed process.

use jornada::Error;
use napi::bindgen_prelude::{JsObjectValue, Object, ToNapiValue, Unknown};
use napi::{Env, JsValue};
use napi_derive::napi;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Code of the error thrown while an `ingestManyAsync` batch is in flight.
pub(crate) const ENGINE_BUSY: &str = "engine_busy";
/// Code of the error thrown when Rust panicked (a bug in jornada).
pub(crate) const INTERNAL_ERROR: &str = "internal_error";

/// Codes only the Node binding throws, besides the core's.
const BINDING_CODES: &[(&str, &str)] = &[
    (
        ENGINE_BUSY,
        "the engine is running an ingestManyAsync batch; await it before calling the engine again",
    ),
    (
        INTERNAL_ERROR,
        "a bug in jornada was caught at the boundary (a Rust panic); the engine it happened in refuses further calls",
    ),
];

/// One entry of the error catalogue.
#[napi(object)]
pub struct ErrorCode {
    /// The stable code, the `code` property of thrown errors and of rejected touchpoints.
    pub code: String,
    /// What it means.
    pub description: String,
}

/// Every error code jornada uses: the core's codes, then `engine_busy` and `internal_error`
/// (thrown by the Node binding only).
#[napi]
pub fn error_codes() -> Vec<ErrorCode> {
    jornada::error_codes()
        .iter()
        .chain(BINDING_CODES)
        .map(|(code, description)| ErrorCode {
            code: code.to_string(),
            description: description.to_string(),
        })
        .collect()
}

/// What a call failed with, before it becomes a JavaScript error.
pub(crate) enum Failure {
    /// An error of the core (or a conversion error expressed as one).
    Core(Error),
    /// A binding error with its code.
    Binding(&'static str, String),
    /// Already a JavaScript error (napi's own), passed through.
    Napi(napi::Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

impl From<napi::Error> for Failure {
    fn from(e: napi::Error) -> Self {
        Failure::Napi(e)
    }
}

pub(crate) type Res<T> = std::result::Result<T, Failure>;

pub(crate) fn busy() -> Failure {
    Failure::Binding(
        ENGINE_BUSY,
        "an ingestManyAsync batch is in flight on this engine; await it first".into(),
    )
}

pub(crate) fn poisoned() -> Failure {
    Failure::Binding(
        INTERNAL_ERROR,
        "this engine stopped after an internal error (a Rust panic) in an earlier call; restore it from a snapshot"
            .into(),
    )
}

/// Runs `f`, turning a panic into an `internal_error`.
pub(crate) fn guard<T>(f: impl FnOnce() -> Res<T>) -> Res<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Failure::Binding(
                INTERNAL_ERROR,
                format!("internal error (a bug in jornada, please report it): {what}"),
            ))
        }
    }
}

/// Runs `f` under [`guard`] and converts a failure into a JavaScript error (with `env`).
pub(crate) fn run<T>(env: &Env, f: impl FnOnce() -> Res<T>) -> napi::Result<T> {
    guard(f).map_err(|e| to_js(env, e))
}

/// Builds the JavaScript `Error`: `code`, `message`, and where the core says where: `path` (a
/// touchpoint's field, or a model problem's JSON path), `index` (position in a batch), `line`
/// (1-based line of NDJSON input), `problems` (every problem of an invalid model).
pub(crate) fn to_js(env: &Env, f: Failure) -> napi::Error {
    match f {
        Failure::Napi(e) => e,
        Failure::Binding(code, message) => build(env, code, &message, |_| Ok(())),
        Failure::Core(e) => build(env, e.code(), &e.to_string(), |obj| {
            set_fields(env, obj, &e)
        }),
    }
}

fn build(
    env: &Env,
    code: &str,
    message: &str,
    extra: impl FnOnce(&mut Object) -> napi::Result<()>,
) -> napi::Error {
    let made = (|| -> napi::Result<napi::Error> {
        let err = napi::JsError::from(napi::Error::new(code, message.to_string()));
        let mut obj = err.into_unknown(*env).coerce_to_object()?;
        extra(&mut obj)?;
        Ok(napi::Error::from(obj.to_unknown()))
    })();
    made.unwrap_or_else(|e| e)
}

fn set_fields(env: &Env, obj: &mut Object, e: &Error) -> napi::Result<()> {
    if let Some(path) = e.path() {
        obj.set_named_property("path", path)?;
    }
    if let Some(loc) = e.location() {
        if let Some(i) = loc.index {
            obj.set_named_property("index", i as f64)?;
        }
        if let Some(l) = loc.line {
            obj.set_named_property("line", l as f64)?;
        }
    }
    if let Error::InvalidModel { problems } = e {
        let list: Vec<crate::model::ModelProblem> = problems
            .iter()
            .map(crate::model::ModelProblem::from)
            .collect();
        let value = unsafe { ToNapiValue::to_napi_value(env.raw(), list)? };
        obj.set_named_property("problems", unsafe {
            Unknown::from_raw_unchecked(env.raw(), value)
        })?;
    }
    Ok(())
}
