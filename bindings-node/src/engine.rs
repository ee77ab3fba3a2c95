//! `Engine`: the journey engine, shared between the JavaScript thread and background batches.
//!
//! The core engine lives in an `Arc<Mutex<_>>`. Synchronous methods run on the JavaScript thread;
//! `ingestManyAsync` and `ingestNdjsonAsync` convert their input on the JavaScript thread (in
//! slices of about 2 ms, yielding to the event loop between them) and apply it on a libuv worker
//! thread. From the moment an async batch is started until its promise settles the engine is
//! *busy*: every other call on it throws (or rejects with) `engine_busy` instead of waiting, so
//! the event loop is never blocked on the lock and calls are never reordered.

use crate::args;
use crate::errors::{busy, guard, poisoned, run, to_js, Failure, Res};
use crate::fast::{Applied, FastBatch, One};
use crate::model::Model;
use crate::outcome::{CustomerView, Erasure, Outcome};
use crate::to_json::{Fail, Writer};
use napi::bindgen_prelude::{AsyncTask, Buffer, JsObjectValue, Object, Unknown};
use napi::{sys, Env, JsValue, Task};
use napi_derive::napi;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub(crate) struct Shared {
    engine: Mutex<jornada::Engine>,
    busy: AtomicBool,
}

/// Clears the busy flag when dropped.
pub(crate) struct BusyGuard(Arc<Shared>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.busy.store(false, Ordering::Release);
    }
}

impl Shared {
    fn new(engine: jornada::Engine) -> Arc<Shared> {
        Arc::new(Shared {
            engine: Mutex::new(engine),
            busy: AtomicBool::new(false),
        })
    }

    /// Runs `f` on the engine now, or fails with `engine_busy` / `internal_error`.
    fn with<T>(&self, f: impl FnOnce(&mut jornada::Engine) -> Res<T>) -> Res<T> {
        if self.busy.load(Ordering::Acquire) {
            return Err(busy());
        }
        let mut engine = self.engine.lock().map_err(|_| poisoned())?;
        f(&mut engine)
    }

    /// Marks the engine busy for an async batch.
    fn claim(self: &Arc<Self>) -> Res<BusyGuard> {
        if self
            .busy
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(busy());
        }
        if self.engine.is_poisoned() {
            self.busy.store(false, Ordering::Release);
            return Err(poisoned());
        }
        Ok(BusyGuard(self.clone()))
    }
}

/// The journey engine for one model: ingest touchpoints, advance event time, query customers,
/// record consent, erase, snapshot and restore.
///
/// Touchpoints are plain objects in the canonical form (`customer_id`, `channel`, `kind`, `at`,
/// optional `id`, `value`, `properties`, and any identity kind of the model as a field); `at` is
/// RFC 3339 text, epoch milliseconds or a `Date`.
#[napi]
pub struct Engine {
    shared: Arc<Shared>,
    writer: Writer,
    line: Vec<u8>,
    one: One,
}

impl Engine {
    fn wrap(engine: jornada::Engine) -> Engine {
        Engine {
            one: One::new(engine.model()),
            shared: Shared::new(engine),
            writer: Writer::default(),
            line: Vec::new(),
        }
    }
}

/// The driver of `ingestManyAsync`: converts the list in time slices, yielding to the event loop
/// between them, then applies it off the JavaScript thread.
const ASYNC_DRIVER: &str = r#"(function (batch, list) {
  return new Promise(function (resolve, reject) {
    var i = 0;
    var n = list.length;
    function step() {
      try {
        i = batch.add(list, i);
        if (i < n) { setImmediate(step); return; }
        batch.run(list).then(resolve, reject);
      } catch (e) {
        batch.abort();
        reject(e);
      }
    }
    step();
  });
})"#;

#[napi]
impl Engine {
    /// An empty engine for a model.
    #[napi(constructor, ts_args_type = "model: Model")]
    pub fn new(env: Env, model: Unknown) -> napi::Result<Engine> {
        run(&env, || {
            let model = unsafe {
                <napi::bindgen_prelude::ClassInstance<Model> as napi::bindgen_prelude::FromNapiValue>::from_napi_value(
                    env.raw(),
                    model.raw(),
                )
            }
            .map_err(|_| {
                Failure::Core(jornada::Error::WrongType {
                    loc: jornada::Location::field("model"),
                    expected: "a Model (Model.preset, Model.fromJson, Model.fromFile)".into(),
                })
            })?;
            Ok(Engine::wrap(jornada::Engine::new(model.inner.clone())))
        })
    }

    /// The engine's model.
    #[napi(getter)]
    pub fn model(&self, env: Env) -> napi::Result<Model> {
        run(&env, || {
            self.shared.with(|e| {
                Ok(Model {
                    inner: e.model().clone(),
                })
            })
        })
    }

    /// Ingests one touchpoint and returns what it caused. An invalid touchpoint throws an `Error`
    /// with its `code` and `path` (e.g. `unknown_event_kind`, `kind`), and changes nothing.
    #[napi(ts_args_type = "touchpoint: Touchpoint", ts_return_type = "Outcome")]
    pub fn ingest(&mut self, env: Env, touchpoint: Unknown) -> napi::Result<Unknown<'static>> {
        let (writer, line, shared, one) = (
            &mut self.writer,
            &mut self.line,
            &self.shared,
            &mut self.one,
        );
        let out = run(&env, || {
            // A plain touchpoint goes to the core as a row; anything else, and a touchpoint the
            // core rejects, as canonical JSON (so the error is the JSON reader's, as always; a
            // rejected touchpoint changed nothing).
            let fast = unsafe {
                one.with_row(env.raw(), touchpoint.raw(), |row| {
                    shared.with(|e| Ok(e.ingest_row(row)))
                })
            };
            match fast {
                Some(Ok(Ok(out))) => return Ok(out),
                Some(Err(f)) => return Err(f),
                Some(Ok(Err(_))) | None => {}
            }
            line.clear();
            unsafe { writer.touchpoint(env.raw(), touchpoint.raw(), line) }
                .map_err(|Fail(e)| Failure::Core(e))?;
            let text = std::str::from_utf8(line).expect("the writer writes UTF-8");
            shared.with(|e| Ok(e.ingest_json(text)?))
        })?;
        crate::outcome::value(&env, out)
    }

    /// Ingests a list of touchpoints in one call. Every valid one is applied in order; the others
    /// are listed in `rejected` with their index and error code, and change nothing. Outputs
    /// emitted and retracted within the call cancel out. Plain objects (object literals with
    /// the touchpoint's fields) take the fast way: read in JavaScript, handed to the core as one
    /// columnar batch; the result is the same for any list.
    #[napi(
        ts_args_type = "touchpoints: ReadonlyArray<Touchpoint>",
        ts_return_type = "Outcome"
    )]
    pub fn ingest_many(
        &mut self,
        env: Env,
        touchpoints: Unknown,
    ) -> napi::Result<Unknown<'static>> {
        let (writer, shared) = (&mut self.writer, &self.shared);
        let out = run(&env, || {
            let n = list_len(&touchpoints)?;
            let model = shared.with(|e| Ok(e.model().clone()))?;
            let mut batch = FastBatch::new(model);
            unsafe { batch.add(env.raw(), writer, touchpoints.raw(), 0, n, None) };
            let applied = shared.with(|e| Ok(batch.apply(e)))?;
            Ok(unsafe { applied.finish(env.raw(), writer, touchpoints.raw()) })
        })?;
        crate::outcome::value(&env, out)
    }

    /// Ingests newline-delimited JSON (one touchpoint per line, blank lines skipped): the bytes
    /// go to the core's parser as they are. Rejected lines have `index` (among non-blank lines)
    /// and `line` (1-based).
    #[napi(ts_args_type = "data: Buffer | Uint8Array | string")]
    pub fn ingest_ndjson(&self, env: Env, data: Unknown) -> napi::Result<Outcome> {
        run(&env, || {
            let owned;
            let bytes: &[u8] = if data.get_type()? == napi::ValueType::String {
                owned = args::string(&data, "data")?;
                owned.as_bytes()
            } else {
                unsafe { args::bytes(&data, "data") }?
            };
            self.shared
                .with(|e| Ok(Outcome::new(e.ingest_json_lines(bytes))))
        })
    }

    /// Ingests touchpoints given as columns of equal length, one per field: `at` (a
    /// `Float64Array` of epoch milliseconds, or an array of times), `value` (a `Float64Array` or
    /// an array of numbers; `NaN`/`null` is absent), `properties` (an object of columns of
    /// strings, numbers or booleans), and any other field (`customer_id`, `channel`, `kind`,
    /// `id`, identity kinds) as an array of strings (`null`/`undefined` absent). Row `i` is the
    /// touchpoint `{field: column[i], ...}`: the result is that of `ingestMany` on those objects,
    /// rejections by row index. A cell of the wrong type throws (nothing is applied). Rows go
    /// to the core as one columnar batch (two Node-API calls per string cell, none for typed
    /// arrays).
    #[napi(ts_args_type = "columns: TouchpointColumns")]
    pub fn ingest_columns(&self, env: Env, columns: Unknown) -> napi::Result<Outcome> {
        run(&env, || {
            let table = crate::columns::table(&columns)?;
            self.shared.with(|e| Ok(Outcome::new(table.apply(e)?)))
        })
    }

    /// `ingestMany` off the event loop: the list is converted on the JavaScript thread in slices
    /// of about 2 ms (yielding between them), then applied on a worker thread. Until the promise
    /// settles, other calls on this engine throw `engine_busy`. Do not change the list before the
    /// promise settles.
    #[napi(
        ts_args_type = "touchpoints: ReadonlyArray<Touchpoint>",
        ts_return_type = "Promise<Outcome>"
    )]
    pub fn ingest_many_async(
        &self,
        env: Env,
        touchpoints: Unknown,
    ) -> napi::Result<Unknown<'static>> {
        let start = run(&env, || {
            list_len(&touchpoints)?;
            let model = self.shared.with(|e| Ok(e.model().clone()))?;
            let guard = self.shared.claim()?;
            Ok(PendingBatch {
                shared: self.shared.clone(),
                guard: Some(guard),
                batch: Some(FastBatch::new(model)),
                writer: Writer::default(),
            })
        });
        let pending = match start {
            Ok(p) => p,
            Err(e) => return rejected_promise(&env, e),
        };
        let driver: Unknown = env.run_script(ASYNC_DRIVER)?;
        let handle = unsafe {
            <PendingBatch as napi::bindgen_prelude::ToNapiValue>::to_napi_value(env.raw(), pending)?
        };
        let mut result = std::ptr::null_mut();
        let mut global = std::ptr::null_mut();
        unsafe { sys::napi_get_global(env.raw(), &mut global) };
        let argv = [handle, touchpoints.raw()];
        let status = unsafe {
            sys::napi_call_function(
                env.raw(),
                global,
                driver.raw(),
                2,
                argv.as_ptr(),
                &mut result,
            )
        };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::new(
                napi::Status::from(status),
                "ingestManyAsync failed to start",
            ));
        }
        Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), result) })
    }

    /// `ingestNdjson` on a worker thread. A `Buffer` is read in place (do not change it before
    /// the promise settles); a string is copied first. Other calls throw `engine_busy` meanwhile.
    #[napi(
        ts_args_type = "data: Buffer | Uint8Array | string",
        ts_return_type = "Promise<Outcome>"
    )]
    pub fn ingest_ndjson_async(
        &self,
        env: Env,
        data: Unknown,
    ) -> napi::Result<AsyncTask<RunNdjson>> {
        run(&env, || {
            let input = if data.get_type()? == napi::ValueType::String {
                NdjsonInput::Owned(args::string(&data, "data")?.into_bytes())
            } else {
                unsafe { args::bytes(&data, "data") }?;
                NdjsonInput::Held(unsafe {
                    <Buffer as napi::bindgen_prelude::FromNapiValue>::from_napi_value(
                        env.raw(),
                        data.raw(),
                    )
                }?)
            };
            let guard = self.shared.claim()?;
            Ok(AsyncTask::new(RunNdjson {
                shared: self.shared.clone(),
                guard: Some(guard),
                input: Some(input),
                failure: None,
            }))
        })
    }

    /// Moves event time forward to `at` (never backward) and fires the timeouts due by then.
    #[napi(ts_args_type = "at: Timestamp", ts_return_type = "Outcome")]
    pub fn advance_to(&self, env: Env, at: Unknown) -> napi::Result<Unknown<'static>> {
        let out = run(&env, || {
            let t = args::timestamp(&at, "at")?;
            self.shared.with(|e| Ok(e.advance_to(t)))
        })?;
        crate::outcome::value(&env, out)
    }

    /// Records a consent change for a customer and channel at an event time (a customer not yet
    /// known is created). Actions already reported whose suppression this changes are retracted
    /// and reported again.
    #[napi(ts_args_type = "customer: string, channel: string, granted: boolean, at: Timestamp")]
    pub fn set_consent(
        &self,
        env: Env,
        customer: Unknown,
        channel: Unknown,
        granted: Unknown,
        at: Unknown,
    ) -> napi::Result<Outcome> {
        run(&env, || {
            let customer = args::string(&customer, "customer")?;
            let channel = args::string(&channel, "channel")?;
            let granted = args::boolean(&granted, "granted")?;
            let at = args::timestamp(&at, "at")?;
            self.shared.with(|e| {
                Ok(Outcome::new(
                    e.set_consent(&customer, &channel, granted, at)?,
                ))
            })
        })
    }

    /// Erases a customer: profile, identity keys, touchpoints and their ids, consent, history and
    /// timers; nothing of it is left in later snapshots. `unknown_customer` if there is none.
    #[napi(ts_args_type = "customer: string")]
    pub fn erase(&self, env: Env, customer: Unknown) -> napi::Result<Erasure> {
        run(&env, || {
            let customer = args::string(&customer, "customer")?;
            self.shared.with(|e| Ok(e.erase(&customer)?.into()))
        })
    }

    /// The score of a customer's journey now (the core's `Engine::score`, in its JSON form), or
    /// `null` for an unknown customer: stage and since when, progress, probability and expected
    /// time to convert (with a `scoring` table in the model), the rules that can fire next, effort.
    #[napi(ts_args_type = "customer: string", ts_return_type = "Score | null")]
    pub fn score(&self, env: Env, customer: Unknown) -> napi::Result<Option<serde_json::Value>> {
        run(&env, || {
            let customer = args::string(&customer, "customer")?;
            self.shared.with(|e| {
                Ok(e.score(&customer)
                    .map(|s| serde_json::to_value(&s).unwrap_or_default()))
            })
        })
    }

    /// A customer by id (`c1` for the model's first identity kind, `kind:value` for any kind),
    /// or `null`.
    #[napi(ts_args_type = "id: string")]
    pub fn customer(&self, env: Env, id: Unknown) -> napi::Result<Option<CustomerView>> {
        run(&env, || {
            let id = args::string(&id, "id")?;
            self.shared.with(|e| Ok(e.customer(&id).map(Into::into)))
        })
    }

    /// Ids of all customers, sorted.
    #[napi]
    pub fn customer_ids(&self, env: Env) -> napi::Result<Vec<String>> {
        run(&env, || self.shared.with(|e| Ok(e.customer_ids())))
    }

    /// Number of customers.
    #[napi(getter)]
    pub fn size(&self, env: Env) -> napi::Result<u32> {
        run(&env, || self.shared.with(|e| Ok(e.len() as u32)))
    }

    /// The engine's event time (latest touchpoint or `advanceTo`), or `null` before any.
    #[napi(getter)]
    pub fn now(&self, env: Env) -> napi::Result<Option<String>> {
        run(&env, || {
            self.shared.with(|e| Ok(e.now().map(|t| t.to_string())))
        })
    }

    /// Customers per stage, in stage order: `{ visitor: 3, cart: 1, ... }`.
    #[napi(ts_return_type = "Record<string, number>")]
    pub fn stage_counts(&self, env: Env) -> napi::Result<Object<'static>> {
        let counts = run(&env, || self.shared.with(|e| Ok(e.stage_counts())))?;
        let mut obj = Object::new(&env)?;
        for (stage, n) in counts {
            obj.set_named_property(&stage, n as f64)?;
        }
        Ok(unsafe { std::mem::transmute::<Object<'_>, Object<'static>>(obj) })
    }

    /// The engine's whole state as bytes (versioned, checksummed, model included).
    #[napi]
    pub fn snapshot(&self, env: Env) -> napi::Result<Buffer> {
        run(&env, || {
            self.shared.with(|e| Ok(Buffer::from(e.snapshot())))
        })
    }

    /// An engine from `snapshot()` bytes; damaged bytes throw `corrupt_snapshot`, an unknown
    /// format version `snapshot_version`.
    #[napi(factory, ts_args_type = "snapshot: Buffer | Uint8Array")]
    pub fn restore(env: Env, snapshot: Unknown) -> napi::Result<Engine> {
        run(&env, || {
            let bytes = unsafe { args::bytes(&snapshot, "snapshot") }?;
            Ok(Engine::wrap(jornada::Engine::restore(bytes)?))
        })
    }
}

/// The length of a list argument, or `wrong_type`.
fn list_len(v: &Unknown) -> Res<u32> {
    if !args::is_array(v) {
        return Err(Failure::Core(jornada::Error::WrongType {
            loc: jornada::Location::default(),
            expected: "an array of touchpoints".into(),
        }));
    }
    let mut n = 0u32;
    unsafe { sys::napi_get_array_length(v.value().env, v.raw(), &mut n) };
    Ok(n)
}

fn rejected_promise(env: &Env, err: napi::Error) -> napi::Result<Unknown<'static>> {
    let value = napi::JsError::from(err).into_unknown(*env);
    let mut deferred = std::ptr::null_mut();
    let mut promise = std::ptr::null_mut();
    unsafe {
        sys::napi_create_promise(env.raw(), &mut deferred, &mut promise);
        sys::napi_reject_deferred(env.raw(), deferred, value.raw());
        Ok(Unknown::from_raw_unchecked(env.raw(), promise))
    }
}

/// An `ingestManyAsync` batch being converted (internal; driven by the async driver).
#[napi]
pub struct PendingBatch {
    shared: Arc<Shared>,
    guard: Option<BusyGuard>,
    batch: Option<FastBatch>,
    writer: Writer,
}

/// Time slice for converting a list on the JavaScript thread.
const SLICE: std::time::Duration = std::time::Duration::from_millis(2);

#[napi]
impl PendingBatch {
    /// Converts elements from `start` for about 2 ms; returns where to go on.
    #[napi(skip_typescript)]
    pub fn add(&mut self, env: Env, list: Unknown, start: u32) -> napi::Result<u32> {
        let (batch, writer) = (&mut self.batch, &mut self.writer);
        run(&env, || {
            let n = list_len(&list)?;
            let batch = batch.as_mut().ok_or_else(busy)?;
            let deadline = std::time::Instant::now() + SLICE;
            Ok(unsafe { batch.add(env.raw(), writer, list.raw(), start, n, Some(deadline)) })
        })
    }

    /// Gives the engine back without applying anything.
    #[napi(skip_typescript)]
    pub fn abort(&mut self) {
        self.batch = None;
        self.guard = None;
    }

    /// Applies the converted batch on a worker thread; `list` is read again afterwards for the
    /// errors of rejected elements.
    #[napi(skip_typescript)]
    pub fn run(&mut self, env: Env, list: Unknown) -> napi::Result<AsyncTask<RunBatch>> {
        run(&env, || {
            let batch = self.batch.take().ok_or_else(busy)?;
            let mut list_ref = std::ptr::null_mut();
            unsafe { sys::napi_create_reference(env.raw(), list.raw(), 1, &mut list_ref) };
            Ok(AsyncTask::new(RunBatch {
                shared: self.shared.clone(),
                guard: self.guard.take(),
                batch: Some(batch),
                list: ListRef(list_ref),
                writer: Writer::default(),
                failure: None,
            }))
        })
    }
}

/// A reference to the list of an async batch (used and deleted on the JavaScript thread only).
pub struct ListRef(sys::napi_ref);

// SAFETY: the reference is only dereferenced and deleted in `resolve`/`finally`, on the
// JavaScript thread; the worker thread never touches it.
unsafe impl Send for ListRef {}

/// Applies a converted batch on a worker thread.
pub struct RunBatch {
    shared: Arc<Shared>,
    guard: Option<BusyGuard>,
    batch: Option<FastBatch>,
    list: ListRef,
    writer: Writer,
    failure: Option<Failure>,
}

impl Task for RunBatch {
    type Output = Applied;
    type JsValue = Outcome;

    fn compute(&mut self) -> napi::Result<Applied> {
        let (shared, batch) = (&self.shared, self.batch.take());
        let r = guard(|| {
            let batch = batch.ok_or_else(busy)?;
            let mut engine = shared.engine.lock().map_err(|_| poisoned())?;
            Ok(batch.apply(&mut engine))
        });
        r.map_err(|f| {
            self.failure = Some(f);
            napi::Error::from_reason("failed")
        })
    }

    fn resolve(&mut self, env: Env, output: Applied) -> napi::Result<Outcome> {
        self.guard = None;
        let mut list = std::ptr::null_mut();
        unsafe { sys::napi_get_reference_value(env.raw(), self.list.0, &mut list) };
        let writer = &mut self.writer;
        run(&env, || {
            Ok(Outcome::new(unsafe {
                output.finish(env.raw(), writer, list)
            }))
        })
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<Outcome> {
        self.guard = None;
        Err(match self.failure.take() {
            Some(f) => to_js(&env, f),
            None => err,
        })
    }

    fn finally(self, env: Env) -> napi::Result<()> {
        if !self.list.0.is_null() {
            unsafe { sys::napi_delete_reference(env.raw(), self.list.0) };
        }
        Ok(())
    }
}

/// The bytes of an async NDJSON ingest.
pub enum NdjsonInput {
    /// A Buffer held (not copied) until the task settles.
    Held(Buffer),
    /// A copy of a string.
    Owned(Vec<u8>),
}

/// Ingests NDJSON on a worker thread.
pub struct RunNdjson {
    shared: Arc<Shared>,
    guard: Option<BusyGuard>,
    input: Option<NdjsonInput>,
    failure: Option<Failure>,
}

impl Task for RunNdjson {
    type Output = jornada::Outcome;
    type JsValue = Outcome;

    fn compute(&mut self) -> napi::Result<jornada::Outcome> {
        let (shared, input) = (&self.shared, &self.input);
        let r = guard(|| {
            let bytes: &[u8] = match input {
                Some(NdjsonInput::Held(b)) => b,
                Some(NdjsonInput::Owned(v)) => v,
                None => &[],
            };
            let mut engine = shared.engine.lock().map_err(|_| poisoned())?;
            Ok(engine.ingest_json_lines(bytes))
        });
        r.map_err(|f| {
            self.failure = Some(f);
            napi::Error::from_reason("failed")
        })
    }

    fn resolve(&mut self, _env: Env, output: jornada::Outcome) -> napi::Result<Outcome> {
        self.guard = None;
        Ok(Outcome::new(output))
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<Outcome> {
        self.guard = None;
        Err(match self.failure.take() {
            Some(f) => to_js(&env, f),
            None => err,
        })
    }
}

/// A `Fail` is a core error.
impl From<Fail> for Failure {
    fn from(Fail(e): Fail) -> Self {
        Failure::Core(e)
    }
}
