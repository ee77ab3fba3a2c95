//! Batch analytics: `EventLog` (from NDJSON, columns or `simulate`), `Replay`, and the analyses
//! of `jornada::analytics`. Thin: every figure is the core's; this module reads arguments and
//! turns results into arrays of row objects whose field names are the column names of the Python
//! binding's result tables (snake_case), timestamps as RFC 3339 text in UTC, `null` where a
//! figure is undefined. Long computations (`simulateAsync`, `replayAsync`, `attributionAsync`)
//! also run on a libuv worker thread.

use crate::args;
use crate::errors::{guard, run, to_js, Failure, Res};
use crate::model::Model;
use crate::read::{self, invalid, wrong_type, Opts};
use jornada::analytics::attribution::{self as at, AttributionConfig, AttributionModel};
use jornada::analytics::event_log::{NULL_BOOL, NULL_CODE};
use jornada::analytics::replay::{NO_CHANNEL, NO_RULE, NO_STAGE};
use jornada::analytics::{
    self as an, ColumnNames, Columns, EventLog as CoreLog, FunnelOrder, FunnelSpec, FunnelStep,
    PathLabel, PathSpec, Period, PropColumn, PropertyColumns, ReplayOptions, RetentionSpec,
    SimConfig,
};
use jornada::{Duration, Error, Location, Timestamp};
use napi::bindgen_prelude::{AsyncTask, ClassInstance, FromNapiValue, Unknown};
use napi::{Env, JsValue, Task, ValueType};
use napi_derive::napi;
use std::collections::HashMap;
use std::sync::Arc;

fn time(ms: i64) -> String {
    Timestamp(ms).to_string()
}

fn model_arg<'a>(env: &Env, v: &Unknown<'a>) -> Res<ClassInstance<'a, Model>> {
    unsafe { ClassInstance::<Model>::from_napi_value(env.raw(), v.raw()) }.map_err(|_| {
        Failure::Core(Error::WrongType {
            loc: Location::field("model"),
            expected: "a Model (Model.preset, Model.fromJson, Model.fromFile)".into(),
        })
    })
}

fn duration(text: &str, path: &str) -> Res<Duration> {
    Duration::parse(text).ok_or_else(|| {
        Failure::Core(Error::InvalidDuration {
            loc: Location::field(path),
            value: text.chars().take(80).collect(),
        })
    })
}

fn choice<T: Clone>(text: &str, path: &str, names: &[(&str, T)]) -> Res<T> {
    names
        .iter()
        .find(|(n, _)| *n == text)
        .map(|(_, t)| t.clone())
        .ok_or_else(|| {
            let list: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
            invalid(
                path,
                format!("expected one of {}, got {text:?}", list.join(", ")),
            )
        })
}

/// Runs a task's work under the panic guard, keeping the failure for `reject`.
fn compute<T>(failure: &mut Option<Failure>, f: impl FnOnce() -> Res<T>) -> napi::Result<T> {
    guard(f).map_err(|e| {
        *failure = Some(e);
        napi::Error::from_reason("failed")
    })
}

fn reject(env: &Env, failure: &mut Option<Failure>, err: napi::Error) -> napi::Error {
    match failure.take() {
        Some(f) => to_js(env, f),
        None => err,
    }
}

// ---------------------------------------------------------------------------------------------
// Result rows

/// Time in one stage (over completed stays; nearest-rank percentiles).
#[napi(object, use_nullable = true)]
pub struct StageTimeRow {
    pub stage: String,
    /// Stays that ended (the customer moved on).
    pub completed: f64,
    /// Stays still open at the end of the replay.
    pub open: f64,
    #[napi(js_name = "mean_ms")]
    pub mean_ms: Option<f64>,
    #[napi(js_name = "median_ms")]
    pub median_ms: Option<f64>,
    #[napi(js_name = "p90_ms")]
    pub p90_ms: Option<f64>,
}

/// A customer's final state after a replay.
#[napi(object, use_nullable = true)]
pub struct ReplayCustomerRow {
    pub customer: String,
    /// Final stage.
    pub stage: Option<String>,
    /// When the final stage was entered.
    #[napi(js_name = "entered_at")]
    pub entered_at: Option<String>,
    /// When the customer entered the initial stage.
    #[napi(js_name = "first_seen")]
    pub first_seen: Option<String>,
    /// Transitions after the initial entry.
    pub transitions: f64,
}

/// A stage transition of a replay.
#[napi(object, use_nullable = true)]
pub struct ReplayTransitionRow {
    pub customer: String,
    /// `null` for the entry into the initial stage.
    #[napi(js_name = "from_stage")]
    pub from_stage: Option<String>,
    #[napi(js_name = "to_stage")]
    pub to_stage: String,
    pub at: String,
    /// `null` for the initial entry.
    pub rule: Option<String>,
    /// `null` for timeouts.
    pub channel: Option<String>,
}

/// An action of a replay.
#[napi(object, use_nullable = true)]
pub struct ReplayActionRow {
    pub customer: String,
    pub action: String,
    pub channel: Option<String>,
    pub at: String,
    pub rule: Option<String>,
    pub stage: String,
    pub suppressed: bool,
}

/// Rows replayed and left out.
#[napi(object)]
pub struct ReplayStats {
    pub events: f64,
    #[napi(js_name = "skipped_unknown_kind")]
    pub skipped_unknown_kind: f64,
    #[napi(js_name = "skipped_unknown_channel")]
    pub skipped_unknown_channel: f64,
    #[napi(js_name = "after_until")]
    pub after_until: f64,
}

/// One step of a funnel.
#[napi(object, use_nullable = true)]
pub struct FunnelRow {
    pub step: String,
    /// Customers who reached this step.
    pub customers: f64,
    #[napi(js_name = "conversion_from_first")]
    pub conversion_from_first: f64,
    #[napi(js_name = "conversion_from_previous")]
    pub conversion_from_previous: f64,
    /// Customers of the previous step who did not reach this one.
    #[napi(js_name = "drop_off")]
    pub drop_off: f64,
    #[napi(js_name = "median_from_previous_ms")]
    pub median_from_previous_ms: Option<f64>,
    #[napi(js_name = "p90_from_previous_ms")]
    pub p90_from_previous_ms: Option<f64>,
}

/// An edge of the directly-follows graph.
#[napi(object)]
pub struct EdgeRow {
    pub from: String,
    pub to: String,
    pub count: f64,
    /// `count` / transitions out of `from`.
    pub probability: f64,
    #[napi(js_name = "median_ms")]
    pub median_ms: f64,
}

/// One of the most common paths.
#[napi(object)]
pub struct PathRow {
    /// Labels joined by `" > "`.
    pub path: String,
    pub customers: f64,
    /// `customers` / all customers.
    pub share: f64,
}

/// Credit of one attribution model to one channel.
#[napi(object)]
pub struct AttributionRow {
    pub model: String,
    pub channel: String,
    pub conversions: f64,
    pub value: f64,
}

/// One cohort and period offset.
#[napi(object)]
pub struct RetentionRow {
    /// Start of the cohort's period.
    pub cohort: String,
    /// Customers in the cohort.
    pub customers: f64,
    /// Periods after the cohort's.
    pub offset: f64,
    /// Customers of the cohort active in that period.
    pub active: f64,
    /// `active` / `customers`.
    pub share: f64,
}

/// Effort figures of one customer.
#[napi(object, use_nullable = true)]
pub struct EffortRow {
    pub customer: String,
    pub events: f64,
    #[napi(js_name = "touches_to_conversion")]
    pub touches_to_conversion: Option<f64>,
    #[napi(js_name = "time_to_conversion_ms")]
    pub time_to_conversion_ms: Option<f64>,
    pub channels: f64,
    #[napi(js_name = "channel_switches")]
    pub channel_switches: f64,
    #[napi(js_name = "support_contacts")]
    pub support_contacts: f64,
    #[napi(js_name = "repeat_contacts")]
    pub repeat_contacts: f64,
    pub carts: f64,
    #[napi(js_name = "abandoned_carts")]
    pub abandoned_carts: f64,
    #[napi(js_name = "recovered_carts")]
    pub recovered_carts: f64,
    pub sessions: f64,
}

/// One event of a log.
#[napi(object, use_nullable = true)]
pub struct EventRow {
    pub customer: String,
    pub at: String,
    pub channel: String,
    pub kind: String,
    pub value: Option<f64>,
    /// Present properties only.
    #[napi(ts_type = "Record<string, string | number | boolean>")]
    pub properties: serde_json::Value,
}

// ---------------------------------------------------------------------------------------------
// EventLog

/// A columnar, sorted log of touchpoints for batch analytics (sorted by customer, then time).
/// Build it with `EventLog.fromNdjson`, `EventLog.fromColumns` or `simulate`. Every analysis
/// returns an array of plain row objects (field names as the columns of the Python binding's
/// tables; times as RFC 3339 text; `null` where a figure is undefined).
#[napi]
pub struct EventLog {
    pub(crate) inner: Arc<CoreLog>,
}

fn names(opts: &Opts) -> Res<ColumnNames> {
    let d = ColumnNames::default();
    let properties = if opts.is_null("properties")? {
        PropertyColumns::None
    } else {
        match opts.strings("properties")? {
            Some(list) => PropertyColumns::Only(list),
            None => PropertyColumns::Rest,
        }
    };
    Ok(ColumnNames {
        customer: opts.string("customer")?.unwrap_or(d.customer),
        at: opts.string("at")?.unwrap_or(d.at),
        channel: opts.string("channel")?.unwrap_or(d.channel),
        kind: opts.string("kind")?.unwrap_or(d.kind),
        value: if opts.is_null("value")? {
            None
        } else {
            opts.string("value")?.or(d.value)
        },
        properties,
    })
}

/// Strings to dictionary codes.
#[derive(Default)]
struct Interner {
    map: HashMap<String, u32>,
    dict: Vec<Box<str>>,
}

impl Interner {
    fn code(&mut self, s: String) -> u32 {
        if let Some(&c) = self.map.get(&s) {
            return c;
        }
        let c = self.dict.len() as u32;
        self.dict.push(s.as_str().into());
        self.map.insert(s, c);
        c
    }
}

/// A column of strings as codes and a dictionary.
fn text_column(v: &Unknown, path: &str) -> Res<(Vec<u32>, Vec<Box<str>>)> {
    let n = read::array_len(v, path, "an array of strings")?;
    let mut dict = Interner::default();
    let mut codes = Vec::with_capacity(n as usize);
    for i in 0..n {
        let e = read::element(v, i, path)?;
        codes.push(dict.code(args::string(&e, &format!("{path}[{i}]"))?));
    }
    Ok((codes, dict.dict))
}

/// Event times: a `Float64Array` of epoch milliseconds, or an array of RFC 3339 strings, epoch
/// milliseconds or `Date`s.
fn time_column(v: &Unknown, path: &str) -> Res<Vec<i64>> {
    if read::typed_array(v).is_some() {
        let xs = read::f64s(v, path)?;
        return xs
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 {
                    Timestamp::from_millis_checked(x as i64).map(|t| t.0)
                } else {
                    None
                }
                .ok_or_else(|| {
                    Failure::Core(Error::InvalidTimestamp {
                        loc: Location {
                            index: Some(i),
                            line: None,
                            field: path.into(),
                        },
                        value: x.to_string(),
                    })
                })
            })
            .collect();
    }
    let n = read::array_len(v, path, "a Float64Array or an array of times")?;
    (0..n)
        .map(|i| {
            let e = read::element(v, i, path)?;
            Ok(args::timestamp(&e, &format!("{path}[{i}]"))?.0)
        })
        .collect()
}

/// A property column: a `Float64Array`, or an array of strings, numbers or booleans (one type;
/// `null`/`undefined` for missing).
fn prop_column(v: &Unknown, path: &str) -> Res<PropColumn> {
    if read::typed_array(v).is_some() {
        return Ok(PropColumn::Num(read::f64s(v, path)?));
    }
    let n = read::array_len(v, path, "an array of strings, numbers or booleans")?;
    let mut col: Option<PropColumn> = None;
    let mut dict = Interner::default();
    for i in 0..n {
        let p = format!("{path}[{i}]");
        let e = read::element(v, i, path)?;
        let t = e.get_type()?;
        if col.is_none() {
            col = match t {
                ValueType::String => Some(PropColumn::Str {
                    codes: vec![NULL_CODE; i as usize],
                    dict: Vec::new(),
                }),
                ValueType::Number => Some(PropColumn::Num(vec![f64::NAN; i as usize])),
                ValueType::Boolean => Some(PropColumn::Bool(vec![NULL_BOOL; i as usize])),
                _ => None,
            };
        }
        let missing = read::absent(&e)?;
        match col.as_mut() {
            None if missing => {}
            None => return Err(wrong_type(&p, "a string, number, boolean or null", &e)),
            Some(PropColumn::Str { codes, .. }) => codes.push(if missing {
                NULL_CODE
            } else {
                dict.code(args::string(&e, &p)?)
            }),
            Some(PropColumn::Num(xs)) => xs.push(if missing {
                f64::NAN
            } else {
                read::number(&e, &p)?
            }),
            Some(PropColumn::Bool(bs)) => bs.push(if missing {
                NULL_BOOL
            } else {
                args::boolean(&e, &p)? as u8
            }),
        }
    }
    Ok(match col {
        Some(PropColumn::Str { codes, .. }) => PropColumn::Str {
            codes,
            dict: dict.dict,
        },
        Some(c) => c,
        None => PropColumn::Str {
            codes: vec![NULL_CODE; n as usize],
            dict: Vec::new(),
        },
    })
}

fn columns(v: &Unknown) -> Res<Columns> {
    let o = Opts::required(v, "columns")?;
    let req = |key: &str| -> Res<Unknown> {
        o.get(key)?.ok_or_else(|| {
            Failure::Core(Error::MissingField {
                loc: Location::field(o.path(key)),
            })
        })
    };
    let (customer, customer_dict) = text_column(&req("customer")?, "columns.customer")?;
    let at = time_column(&req("at")?, "columns.at")?;
    let (channel, channel_dict) = text_column(&req("channel")?, "columns.channel")?;
    let (kind, kind_dict) = text_column(&req("kind")?, "columns.kind")?;
    let value = match o.get("value")? {
        Some(v) => read::f64s(&v, "columns.value")?,
        None => Vec::new(),
    };
    let mut props = Vec::new();
    if let Some(p) = o.get("properties")? {
        let po = Opts::new(Some(&p), "columns.properties")?;
        let mut names: Vec<String> = Vec::new();
        let obj =
            unsafe { napi::bindgen_prelude::Object::from_napi_value(p.value().env, p.raw()) }?;
        use napi::bindgen_prelude::JsObjectValue;
        let keys = obj.get_property_names()?;
        let keys = unsafe { Unknown::from_raw_unchecked(p.value().env, keys.raw()) };
        let n = read::array_len(&keys, "columns.properties", "an object")?;
        for i in 0..n {
            let k = read::element(&keys, i, "columns.properties")?;
            names.push(args::string(&k, "columns.properties")?);
        }
        for name in names {
            if let Some(col) = po.get(&name)? {
                props.push((name.clone(), prop_column(&col, &po.path(&name))?));
            }
        }
    }
    Ok(Columns {
        customer_dict,
        customer,
        at,
        channel_dict,
        channel,
        kind_dict,
        kind,
        value,
        props,
    })
}

impl EventLog {
    fn wrap(log: CoreLog) -> EventLog {
        EventLog {
            inner: Arc::new(log),
        }
    }
}

#[napi]
impl EventLog {
    /// A log from newline-delimited JSON, one event (an object) per line (the core's
    /// `EventLog::from_json_lines`). `names` says which fields hold what: `customer`, `at`,
    /// `channel`, `kind` (defaults: those names), `value` (default `value`; `null` for none) and
    /// `properties` (a list of names; default every other field and the entries of a nested
    /// `properties` object; `null` for none). Errors name the `index`, the 1-based `line` and
    /// the field.
    #[napi(
        factory,
        ts_args_type = "data: Buffer | Uint8Array | string, names?: EventLogNames | null"
    )]
    pub fn from_ndjson(env: Env, data: Unknown, names: Option<Unknown>) -> napi::Result<EventLog> {
        run(&env, || {
            let n = self::names(&Opts::new(names.as_ref(), "names")?)?;
            let owned;
            let bytes: &[u8] = if data.get_type()? == ValueType::String {
                owned = args::string(&data, "data")?;
                owned.as_bytes()
            } else {
                unsafe { args::bytes(&data, "data") }?
            };
            Ok(EventLog::wrap(CoreLog::from_json_lines(bytes, &n)?))
        })
    }

    /// A log from columns of equal length: `customer`, `channel`, `kind` (arrays of strings),
    /// `at` (a `Float64Array` of epoch milliseconds, or an array of RFC 3339 strings, epoch
    /// milliseconds or `Date`s), optional `value` (a `Float64Array` or an array of numbers;
    /// `NaN`/`null` for none) and `properties` (an object of columns: strings, numbers or
    /// booleans, `null` for missing). Errors name the column and row.
    #[napi(factory, ts_args_type = "columns: EventLogColumns")]
    pub fn from_columns(env: Env, columns: Unknown) -> napi::Result<EventLog> {
        run(&env, || {
            let c = self::columns(&columns)?;
            Ok(EventLog::wrap(CoreLog::from_columns(c)?))
        })
    }

    /// Number of events.
    #[napi(getter)]
    pub fn len(&self) -> f64 {
        self.inner.len() as f64
    }

    /// Number of distinct customers.
    #[napi(getter)]
    pub fn n_customers(&self) -> f64 {
        self.inner.n_customers() as f64
    }

    /// Customer keys, sorted.
    #[napi(getter)]
    pub fn customers(&self) -> Vec<String> {
        self.inner
            .customers()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// Channel names, sorted.
    #[napi(getter)]
    pub fn channels(&self) -> Vec<String> {
        self.inner
            .channels()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// Event kind names, sorted.
    #[napi(getter)]
    pub fn kinds(&self) -> Vec<String> {
        self.inner.kinds().iter().map(|s| s.to_string()).collect()
    }

    /// Property names.
    #[napi(getter)]
    pub fn properties(&self) -> Vec<String> {
        self.inner
            .properties()
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Approximate heap bytes held by the log.
    #[napi(getter)]
    pub fn memory_bytes(&self) -> f64 {
        self.inner.memory_bytes() as f64
    }

    /// The events in the log's order (customer, then time), as row objects.
    #[napi]
    pub fn to_rows(&self) -> Vec<EventRow> {
        let log = &*self.inner;
        (0..log.len())
            .map(|r| {
                let mut props = serde_json::Map::new();
                for (name, col) in log.properties() {
                    if let Some(v) = col.get(r) {
                        props.insert(name.clone(), serde_json::to_value(&v).unwrap_or_default());
                    }
                }
                let v = log.values().get(r).copied().unwrap_or(f64::NAN);
                EventRow {
                    customer: log.customers()[log.customer_codes()[r] as usize].to_string(),
                    at: time(log.at()[r]),
                    channel: log.channel_name(log.channel_codes()[r]).to_string(),
                    kind: log.kind_name(log.kind_codes()[r]).to_string(),
                    value: (!v.is_nan()).then_some(v),
                    properties: serde_json::Value::Object(props),
                }
            })
            .collect()
    }

    /// Replays the log through `model` (the core's `replay`). Options: `until` (a time; default
    /// the last event), `skipUnknown` (leave out rows whose kind or channel the model does not
    /// declare; default: fail with their code).
    #[napi(ts_args_type = "model: Model, options?: ReplayOptions | null")]
    pub fn replay(
        &self,
        env: Env,
        model: Unknown,
        options: Option<Unknown>,
    ) -> napi::Result<Replay> {
        run(&env, || {
            let job = ReplayJob::new(&env, &self.inner, &model, options.as_ref())?;
            job.run()
        })
    }

    /// `replay` on a worker thread.
    #[napi(
        ts_args_type = "model: Model, options?: ReplayOptions | null",
        ts_return_type = "Promise<Replay>"
    )]
    pub fn replay_async(
        &self,
        env: Env,
        model: Unknown,
        options: Option<Unknown>,
    ) -> napi::Result<AsyncTask<ReplayTask>> {
        run(&env, || {
            Ok(AsyncTask::new(ReplayTask {
                job: Some(ReplayJob::new(&env, &self.inner, &model, options.as_ref())?),
                failure: None,
            }))
        })
    }

    /// Time in each stage of `model` (replays the log; see `Replay.timeInStage`).
    #[napi(ts_args_type = "model: Model, options?: ReplayOptions | null")]
    pub fn time_in_stage(
        &self,
        env: Env,
        model: Unknown,
        options: Option<Unknown>,
    ) -> napi::Result<Vec<StageTimeRow>> {
        run(&env, || {
            let job = ReplayJob::new(&env, &self.inner, &model, options.as_ref())?;
            Ok(time_in_stage_rows(&job.run()?.inner))
        })
    }

    /// A funnel over event kinds (the core's `funnel`, ClickHouse `windowFunnel` semantics).
    /// Options: `window` (a duration, default `"7d"`), `mode` (`window_funnel` (default),
    /// `strict_order`, `strict_order_steps`, `any`). One row per step.
    #[napi(ts_args_type = "steps: ReadonlyArray<string>, options?: FunnelOptions | null")]
    pub fn funnel(
        &self,
        env: Env,
        steps: Unknown,
        options: Option<Unknown>,
    ) -> napi::Result<Vec<FunnelRow>> {
        run(&env, || {
            let steps = read::strings(&steps, "steps")?;
            let o = Opts::new(options.as_ref(), "options")?;
            let window = duration(
                &o.string("window")?.unwrap_or("7d".into()),
                "options.window",
            )?;
            let mode = match o.string("mode")? {
                None => FunnelOrder::Default,
                Some(m) => choice(
                    &m,
                    "options.mode",
                    &[
                        ("window_funnel", FunnelOrder::Default),
                        ("strict_order", FunnelOrder::StrictOrder),
                        ("strict_order_steps", FunnelOrder::StrictOrderSteps),
                        ("any", FunnelOrder::Any),
                    ],
                )?,
            };
            let spec =
                FunnelSpec::new(steps.iter().map(|s| FunnelStep::kind(s)), window).order(mode);
            let r = an::funnel(&self.inner, &spec)?;
            Ok(r.steps
                .iter()
                .map(|x| FunnelRow {
                    step: x.name.clone(),
                    customers: x.customers as f64,
                    conversion_from_first: x.conversion_from_first,
                    conversion_from_previous: x.conversion_from_previous,
                    drop_off: x.drop_off as f64,
                    median_from_previous_ms: x.median_from_previous_ms.map(|v| v as f64),
                    p90_from_previous_ms: x.p90_from_previous_ms.map(|v| v as f64),
                })
                .collect())
        })
    }

    /// The directly-follows graph (the core's `directly_follows`). Options: `by` (`kind`
    /// (default) or `channel`). One row per edge.
    #[napi(ts_args_type = "options?: { by?: 'kind' | 'channel' } | null")]
    pub fn transitions(&self, env: Env, options: Option<Unknown>) -> napi::Result<Vec<EdgeRow>> {
        run(&env, || {
            let o = Opts::new(options.as_ref(), "options")?;
            let spec = PathSpec {
                label: label(&o)?,
                ..PathSpec::default()
            };
            let g = an::directly_follows(&self.inner, &spec)?;
            Ok(g.edges
                .iter()
                .map(|e| EdgeRow {
                    from: g.labels[e.from].clone(),
                    to: g.labels[e.to].clone(),
                    count: e.count as f64,
                    probability: e.probability,
                    median_ms: e.median_ms as f64,
                })
                .collect())
        })
    }

    /// The most common paths (the core's `top_paths`). Options: `top` (default 20), `by`
    /// (`kind` or `channel`), `maxSteps` (default 5), `collapseRepeats` (default false).
    #[napi(ts_args_type = "options?: PathOptions | null")]
    pub fn paths(&self, env: Env, options: Option<Unknown>) -> napi::Result<Vec<PathRow>> {
        run(&env, || {
            let o = Opts::new(options.as_ref(), "options")?;
            let d = PathSpec::default();
            let spec = PathSpec {
                label: label(&o)?,
                top: o.count("top", 1e9)?.map_or(20, |x| x as usize),
                max_steps: o.count("maxSteps", 1e9)?.map_or(5, |x| x as usize),
                collapse_repeats: o.boolean("collapseRepeats")?.unwrap_or(false),
                ..d
            };
            let p = an::top_paths(&self.inner, &spec)?;
            Ok(p.variants
                .iter()
                .map(|v| PathRow {
                    path: v.steps.join(" > "),
                    customers: v.customers as f64,
                    share: v.share,
                })
                .collect())
        })
    }

    /// Attribution of the conversions (events of kind `conversion`) to the channels touched
    /// within `lookback` (a duration, default `"30d"`; `null` for no limit) before them, by
    /// `models` (`first_touch`, `last_touch`, `linear`, `position` / `position_based`,
    /// `time_decay`, `markov`, `shapley`; default all). One row per model and channel.
    #[napi(ts_args_type = "options: AttributionOptions")]
    pub fn attribution(&self, env: Env, options: Unknown) -> napi::Result<Vec<AttributionRow>> {
        run(&env, || {
            let cfg = attribution_config(&options)?;
            Ok(attribution_rows(&at::attribute(&self.inner, &cfg)?))
        })
    }

    /// `attribution` on a worker thread.
    #[napi(
        ts_args_type = "options: AttributionOptions",
        ts_return_type = "Promise<Array<AttributionRow>>"
    )]
    pub fn attribution_async(
        &self,
        env: Env,
        options: Unknown,
    ) -> napi::Result<AsyncTask<AttributionTask>> {
        run(&env, || {
            Ok(AsyncTask::new(AttributionTask {
                log: self.inner.clone(),
                cfg: attribution_config(&options)?,
                failure: None,
            }))
        })
    }

    /// Retention (the core's `retention`): cohorts by the `period` (`day`, `week` (ISO,
    /// default) or `month`, UTC) of the first touch; at most `periods` offsets per cohort. One
    /// row per cohort and offset.
    #[napi(ts_args_type = "options?: RetentionOptions | null")]
    pub fn retention(&self, env: Env, options: Option<Unknown>) -> napi::Result<Vec<RetentionRow>> {
        run(&env, || {
            let o = Opts::new(options.as_ref(), "options")?;
            let period = match o.string("period")? {
                None => Period::Week,
                Some(p) => choice(
                    &p,
                    "options.period",
                    &[
                        ("day", Period::Day),
                        ("week", Period::Week),
                        ("month", Period::Month),
                    ],
                )?,
            };
            let mut spec = RetentionSpec::new(period);
            spec.periods = o.count("periods", 1e6)?.map(|x| x as usize);
            let r = an::retention(&self.inner, &spec)?;
            let mut rows = Vec::new();
            for c in &r.cohorts {
                for (k, (&a, &s)) in c.active.iter().zip(&c.share).enumerate() {
                    rows.push(RetentionRow {
                        cohort: c.start.to_string(),
                        customers: c.customers as f64,
                        offset: k as f64,
                        active: a as f64,
                        share: s,
                    });
                }
            }
            Ok(rows)
        })
    }

    /// Customer effort (the core's `effort`): the event kinds that are a `conversion` (default
    /// `purchase`), a `support` contact (default `support_contact`) and a `cart` (default
    /// `add_to_cart`); `null` for none. One row per customer.
    #[napi(ts_args_type = "options?: EffortOptions | null")]
    pub fn effort(&self, env: Env, options: Option<Unknown>) -> napi::Result<Vec<EffortRow>> {
        run(&env, || {
            let o = Opts::new(options.as_ref(), "options")?;
            let kind = |key: &str, default: &str| -> Res<Option<an::EventFilter>> {
                Ok(if o.is_null(key)? {
                    None
                } else {
                    Some(an::EventFilter::kind(
                        &o.string(key)?.unwrap_or(default.into()),
                    ))
                })
            };
            let spec = an::EffortSpec {
                conversion: kind("conversion", "purchase")?,
                support: kind("support", "support_contact")?,
                cart: kind("cart", "add_to_cart")?,
                ..an::EffortSpec::default()
            };
            let r = an::effort(&self.inner, &spec)?;
            Ok(self
                .inner
                .customers()
                .iter()
                .zip(&r.customers)
                .map(|(id, x)| EffortRow {
                    customer: id.to_string(),
                    events: x.events as f64,
                    touches_to_conversion: x.touches_to_conversion.map(f64::from),
                    time_to_conversion_ms: x.time_to_conversion_ms.map(|v| v as f64),
                    channels: x.channels as f64,
                    channel_switches: x.channel_switches as f64,
                    support_contacts: x.support_contacts as f64,
                    repeat_contacts: x.repeat_contacts as f64,
                    carts: x.carts as f64,
                    abandoned_carts: x.abandoned_carts as f64,
                    recovered_carts: x.recovered_carts as f64,
                    sessions: x.sessions as f64,
                })
                .collect())
        })
    }
}

fn label(o: &Opts) -> Res<PathLabel> {
    match o.string("by")? {
        None => Ok(PathLabel::Kind),
        Some(b) => choice(
            &b,
            "options.by",
            &[("kind", PathLabel::Kind), ("channel", PathLabel::Channel)],
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Replay

struct ReplayJob {
    log: Arc<CoreLog>,
    model: jornada::Model,
    opts: ReplayOptions,
}

impl ReplayJob {
    fn new(env: &Env, log: &Arc<CoreLog>, model: &Unknown, options: Option<&Unknown>) -> Res<Self> {
        let model = model_arg(env, model)?.inner.clone();
        let o = Opts::new(options, "options")?;
        let mut opts = ReplayOptions {
            until: o.timestamp("until")?,
            ..ReplayOptions::default()
        };
        if o.boolean("skipUnknown")? == Some(true) {
            opts.on_unknown = an::OnUnknown::Skip;
        }
        Ok(ReplayJob {
            log: log.clone(),
            model,
            opts,
        })
    }

    fn run(self) -> Res<Replay> {
        let inner = an::replay(&self.model, &self.log, &self.opts)?;
        Ok(Replay {
            log: self.log,
            inner,
        })
    }
}

/// The result of replaying a log through a model: per-customer final stages (`customers`),
/// every stage transition (`transitions`) and every action (`actions`), as arrays of rows.
#[napi]
pub struct Replay {
    log: Arc<CoreLog>,
    inner: an::Replay,
}

fn time_in_stage_rows(r: &an::Replay) -> Vec<StageTimeRow> {
    an::stages::time_in_stage(r)
        .iter()
        .map(|s| StageTimeRow {
            stage: s.stage.to_string(),
            completed: s.completed as f64,
            open: s.open as f64,
            mean_ms: s.mean_ms,
            median_ms: s.median_ms.map(|x| x as f64),
            p90_ms: s.p90_ms.map(|x| x as f64),
        })
        .collect()
}

#[napi]
impl Replay {
    fn customer(&self, c: u32) -> String {
        self.log.customers()[c as usize].to_string()
    }

    /// Number of customers.
    #[napi(getter)]
    pub fn len(&self) -> f64 {
        self.inner.n_customers() as f64
    }

    /// Per customer: final `stage`, when it was entered (`entered_at`), the first entry
    /// (`first_seen`) and the number of `transitions` after the initial entry.
    #[napi(getter)]
    pub fn customers(&self) -> Vec<ReplayCustomerRow> {
        let r = &self.inner;
        let t = r.transitions();
        (0..r.n_customers())
            .map(|c| {
                let h = r.history(c);
                ReplayCustomerRow {
                    customer: self.customer(c as u32),
                    stage: r.final_stage(c).map(str::to_string),
                    entered_at: (!h.is_empty()).then(|| time(t.at[h.end - 1])),
                    first_seen: (!h.is_empty()).then(|| time(t.at[h.start])),
                    transitions: h.len().saturating_sub(1) as f64,
                }
            })
            .collect()
    }

    /// Every stage transition, by customer then time.
    #[napi(getter)]
    pub fn transitions(&self) -> Vec<ReplayTransitionRow> {
        let r = &self.inner;
        let t = r.transitions();
        (0..t.len())
            .map(|i| ReplayTransitionRow {
                customer: self.customer(t.customer[i]),
                from_stage: (t.from[i] != NO_STAGE).then(|| r.stage_name(t.from[i]).to_string()),
                to_stage: r.stage_name(t.to[i]).to_string(),
                at: time(t.at[i]),
                rule: (t.rule[i] != NO_RULE).then(|| r.rule_name(t.rule[i]).to_string()),
                channel: (t.channel[i] != NO_CHANNEL)
                    .then(|| r.channel_name(t.channel[i]).to_string()),
            })
            .collect()
    }

    /// Every action, by customer then time.
    #[napi(getter)]
    pub fn actions(&self) -> Vec<ReplayActionRow> {
        let r = &self.inner;
        let a = r.actions();
        (0..a.len())
            .map(|i| ReplayActionRow {
                customer: self.customer(a.customer[i]),
                action: r.action_name(a.action[i]).to_string(),
                channel: (a.channel[i] != NO_CHANNEL)
                    .then(|| r.channel_name(a.channel[i]).to_string()),
                at: time(a.at[i]),
                rule: (a.rule[i] != NO_RULE).then(|| r.rule_name(a.rule[i]).to_string()),
                stage: r.stage_name(a.stage[i]).to_string(),
                suppressed: a.suppressed[i],
            })
            .collect()
    }

    /// Rows replayed and left out.
    #[napi(getter)]
    pub fn stats(&self) -> ReplayStats {
        let s = self.inner.stats();
        ReplayStats {
            events: s.events as f64,
            skipped_unknown_kind: s.skipped_unknown_kind as f64,
            skipped_unknown_channel: s.skipped_unknown_channel as f64,
            after_until: s.after_until as f64,
        }
    }

    /// Time in each stage: `completed` and `open` stays, `mean_ms`, `median_ms`, `p90_ms`
    /// (nearest rank, over completed stays).
    #[napi]
    pub fn time_in_stage(&self) -> Vec<StageTimeRow> {
        time_in_stage_rows(&self.inner)
    }
}

/// Replays on a worker thread.
pub struct ReplayTask {
    job: Option<ReplayJob>,
    failure: Option<Failure>,
}

impl Task for ReplayTask {
    type Output = Replay;
    type JsValue = Replay;

    fn compute(&mut self) -> napi::Result<Replay> {
        let job = self.job.take();
        compute(&mut self.failure, || match job {
            Some(j) => j.run(),
            None => Err(invalid("", "the task ran twice".into())),
        })
    }

    fn resolve(&mut self, _env: Env, output: Replay) -> napi::Result<Replay> {
        Ok(output)
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<Replay> {
        Err(reject(&env, &mut self.failure, err))
    }
}

// ---------------------------------------------------------------------------------------------
// Attribution

/// Attribution models by name (`position` is `position_based`); all of them when `None`.
fn models(names: Option<Vec<String>>, paths: bool) -> Res<Vec<AttributionModel>> {
    match names {
        None if paths => Ok(AttributionModel::path_defaults()),
        None => Ok(AttributionModel::defaults()),
        Some(names) => names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let n = if n == "position" { "position_based" } else { n };
                AttributionModel::from_name(n).map_err(|e| match e {
                    Error::InvalidValue { message, .. } => {
                        invalid(&format!("options.models[{i}]"), message)
                    }
                    e => Failure::Core(e),
                })
            })
            .collect(),
    }
}

fn attribution_config(options: &Unknown) -> Res<AttributionConfig> {
    let o = Opts::required(options, "options")?;
    let conversion = o.string("conversion")?.ok_or_else(|| {
        Failure::Core(Error::MissingField {
            loc: Location::field("options.conversion"),
        })
    })?;
    let mut cfg = AttributionConfig::new(&conversion);
    cfg.lookback = if o.is_null("lookback")? {
        None
    } else {
        Some(duration(
            &o.string("lookback")?.unwrap_or("30d".into()),
            "options.lookback",
        )?)
    };
    cfg.models = models(o.strings("models")?, false)?;
    Ok(cfg)
}

fn attribution_rows(a: &at::Attribution) -> Vec<AttributionRow> {
    let mut rows = Vec::with_capacity(a.models.len() * a.channels.len());
    for m in &a.models {
        for (i, c) in a.channels.iter().enumerate() {
            rows.push(AttributionRow {
                model: m.model.name().to_string(),
                channel: c.clone(),
                conversions: m.conversions[i],
                value: m.value[i],
            });
        }
    }
    rows
}

/// Attribution on a worker thread.
pub struct AttributionTask {
    log: Arc<CoreLog>,
    cfg: AttributionConfig,
    failure: Option<Failure>,
}

impl Task for AttributionTask {
    type Output = Vec<AttributionRow>;
    type JsValue = Vec<AttributionRow>;

    fn compute(&mut self) -> napi::Result<Vec<AttributionRow>> {
        let (log, cfg) = (&self.log, &self.cfg);
        compute(&mut self.failure, || {
            Ok(attribution_rows(&at::attribute(log, cfg)?))
        })
    }

    fn resolve(&mut self, _env: Env, output: Vec<AttributionRow>) -> napi::Result<Self::JsValue> {
        Ok(output)
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<Self::JsValue> {
        Err(reject(&env, &mut self.failure, err))
    }
}

/// Attribution from aggregated paths (ChannelAttribution's format, the core's
/// `attribute_paths`): `data.path` (channel names joined by `sep`, default `">"`), their
/// `conversions`, and optional `value` and `nulls` counts (arrays of numbers or
/// `Float64Array`s). Options: `sep`, `models` (as `EventLog.attribution`; time decay needs times
/// and is refused). One row per model and channel.
#[napi(
    ts_args_type = "data: PathTotals, options?: { sep?: string, models?: ReadonlyArray<string> } | null"
)]
pub fn attribution_from_paths(
    env: Env,
    data: Unknown,
    options: Option<Unknown>,
) -> napi::Result<Vec<AttributionRow>> {
    run(&env, || {
        let d = Opts::required(&data, "data")?;
        let req = |key: &str| -> Res<Unknown> {
            d.get(key)?.ok_or_else(|| {
                Failure::Core(Error::MissingField {
                    loc: Location::field(d.path(key)),
                })
            })
        };
        let paths = read::strings(&req("path")?, "data.path")?;
        let conversions = read::f64s(&req("conversions")?, "data.conversions")?;
        let value = d
            .get("value")?
            .map(|v| read::f64s(&v, "data.value"))
            .transpose()?;
        let nulls = d
            .get("nulls")?
            .map(|v| read::f64s(&v, "data.nulls"))
            .transpose()?;
        let o = Opts::new(options.as_ref(), "options")?;
        let sep = o.string("sep")?.unwrap_or(">".into());
        let ms = models(o.strings("models")?, true)?;
        let a = at::attribute_paths(
            &paths,
            &conversions,
            value.as_deref(),
            nulls.as_deref(),
            &sep,
            &ms,
        )?;
        Ok(attribution_rows(&a))
    })
}

// ---------------------------------------------------------------------------------------------
// Simulation

fn sim_config(options: Option<&Unknown>) -> Res<SimConfig> {
    let o = Opts::new(options, "options")?;
    let mut cfg = SimConfig {
        customers: 10_000,
        seed: 0,
        ..SimConfig::default()
    };
    if let Some(n) = o.count("customers", 1e8)? {
        cfg.customers = n as usize;
    }
    if let Some(s) = o.count("seed", 9.0e15)? {
        cfg.seed = s as u64;
    }
    if let Some(t) = o.timestamp("start")? {
        cfg.start = t;
    }
    if let Some(d) = o.count("days", 100_000.0)? {
        cfg.days = d as u32;
    }
    if let Some(e) = o.number("eventsPerCustomer")? {
        cfg.events_per_customer = e;
    }
    Ok(cfg)
}

/// Simulates customers' journeys through `model` (the core's `simulate`): the same seed,
/// model and options give the same log. Options: `customers` (default 10,000), `seed` (0),
/// `start` (a time), `days` (180), `eventsPerCustomer` (20).
#[napi(ts_args_type = "model: Model, options?: SimulateOptions | null")]
pub fn simulate(env: Env, model: Unknown, options: Option<Unknown>) -> napi::Result<EventLog> {
    run(&env, || {
        let cfg = sim_config(options.as_ref())?;
        let m = model_arg(&env, &model)?;
        Ok(EventLog::wrap(an::simulate(&m.inner, &cfg)))
    })
}

/// `simulate` on a worker thread.
#[napi(
    ts_args_type = "model: Model, options?: SimulateOptions | null",
    ts_return_type = "Promise<EventLog>"
)]
pub fn simulate_async(
    env: Env,
    model: Unknown,
    options: Option<Unknown>,
) -> napi::Result<AsyncTask<SimulateTask>> {
    run(&env, || {
        let cfg = sim_config(options.as_ref())?;
        let model = model_arg(&env, &model)?.inner.clone();
        Ok(AsyncTask::new(SimulateTask {
            model,
            cfg,
            failure: None,
        }))
    })
}

/// Simulates on a worker thread.
pub struct SimulateTask {
    model: jornada::Model,
    cfg: SimConfig,
    failure: Option<Failure>,
}

impl Task for SimulateTask {
    type Output = EventLog;
    type JsValue = EventLog;

    fn compute(&mut self) -> napi::Result<EventLog> {
        let (m, cfg) = (&self.model, &self.cfg);
        compute(&mut self.failure, || {
            Ok(EventLog::wrap(an::simulate(m, cfg)))
        })
    }

    fn resolve(&mut self, _env: Env, output: EventLog) -> napi::Result<EventLog> {
        Ok(output)
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<EventLog> {
        Err(reject(&env, &mut self.failure, err))
    }
}
