//! The analyses of an [`EventLog`]: simulate, replay, time in stage, funnel. Thin: every figure
//! is the core's (`jornada::analytics`); this module converts arguments and builds result
//! tables column by column. Long computations release the GIL.

use crate::errors::{BindResult, Fail, OrRaise};
use crate::event_log::EventLog;
use crate::model::Model;
use crate::table::{html, Columns as TableColumns, Table};
use jornada::analytics::replay::{NO_CHANNEL, NO_RULE, NO_STAGE};
use jornada::analytics::{
    self as an, Breakdown, EventLog as CoreLog, Exclusion, FunnelOrder, FunnelSpec, FunnelStep,
    ReplayOptions, SimConfig, StepStats,
};
use jornada::{Duration, Timestamp};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::BTreeMap;
use std::sync::Arc;

fn value_error(msg: String) -> PyErr {
    PyValueError::new_err(msg)
}

/// Parses a duration such as `"7d"`, `"12h"`, `"30m"`.
pub fn duration(py: Python<'_>, text: &str, what: &str) -> PyResult<Duration> {
    Duration::parse(text)
        .ok_or_else(|| {
            Fail::Core(jornada::Error::InvalidDuration {
                loc: jornada::Location::field(what),
                value: text.to_string(),
            })
        })
        .or_raise(py)
}

/// Simulates `customers` customers' journeys through `model` (the core's `simulate`): the same
/// seed, model and arguments give the same log. The GIL is released while it runs. `progress`:
/// a progress bar of the customers simulated (`None`: tqdm when installed, interactive and
/// large; `True`, `False`, or a callable `f(done, total)`).
#[pyfunction]
#[pyo3(signature = (model, *, customers=10_000, seed=0, start=None, days=180, events_per_customer=20.0, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn simulate(
    py: Python<'_>,
    model: &Model,
    customers: usize,
    seed: u64,
    start: Option<Bound<'_, PyAny>>,
    days: u32,
    events_per_customer: f64,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<EventLog> {
    let mut cfg = SimConfig {
        customers,
        seed,
        days,
        events_per_customer,
        ..SimConfig::default()
    };
    if let Some(s) = start {
        cfg.start = crate::time::timestamp(&s, "start")?
            .map_err(Fail::Core)
            .or_raise(py)?;
    }
    let m = &model.inner;
    let events = (customers as f64 * events_per_customer.max(0.0)) as usize;
    let log = crate::progress::run(py, progress.as_ref(), "simulate", customers, events, |p| {
        an::simulate_with_progress(m, &cfg, p)
    })?;
    Ok(EventLog {
        inner: Arc::new(log),
    })
}

/// The result of replaying a log through a model: per-customer final stages (`table`), every
/// stage transition (`transitions`) and every action (`actions`), as tables.
#[pyclass(frozen, module = "jornada")]
pub struct Replay {
    log: Arc<CoreLog>,
    inner: an::Replay,
}

impl Replay {
    /// The core's replay.
    pub fn core(&self) -> &an::Replay {
        &self.inner
    }

    fn customer(&self, c: u32) -> Option<&str> {
        Some(&*self.log.customers()[c as usize])
    }

    fn final_table(&self) -> BindResult<Table> {
        let r = &self.inner;
        let n = r.n_customers();
        let t = r.transitions();
        let entered = (0..n).map(|c| {
            let h = r.history(c);
            (!h.is_empty()).then(|| t.at[h.end - 1])
        });
        let first = (0..n).map(|c| {
            let h = r.history(c);
            (!h.is_empty()).then(|| t.at[h.start])
        });
        TableColumns::new()
            .str("customer", (0..n as u32).map(|c| self.customer(c)))
            .str("stage", (0..n).map(|c| r.final_stage(c)))
            .time("entered_at", entered)
            .time("first_seen", first)
            .u64(
                "transitions",
                (0..n).map(|c| r.history(c).len().saturating_sub(1) as u64),
            )
            .finish()
    }

    fn transitions_table(&self) -> BindResult<Table> {
        let r = &self.inner;
        let t = r.transitions();
        TableColumns::new()
            .str("customer", t.customer.iter().map(|&c| self.customer(c)))
            .str(
                "from_stage",
                t.from
                    .iter()
                    .map(|&s| (s != NO_STAGE).then(|| r.stage_name(s))),
            )
            .str("to_stage", t.to.iter().map(|&s| Some(r.stage_name(s))))
            .time("at", t.at.iter().map(|&a| Some(a)))
            .str(
                "rule",
                t.rule
                    .iter()
                    .map(|&x| (x != NO_RULE).then(|| r.rule_name(x))),
            )
            .str(
                "channel",
                t.channel
                    .iter()
                    .map(|&x| (x != NO_CHANNEL).then(|| r.channel_name(x))),
            )
            .finish()
    }

    fn actions_table(&self) -> BindResult<Table> {
        let r = &self.inner;
        let a = r.actions();
        TableColumns::new()
            .str("customer", a.customer.iter().map(|&c| self.customer(c)))
            .str("action", a.action.iter().map(|&x| Some(r.action_name(x))))
            .str(
                "channel",
                a.channel
                    .iter()
                    .map(|&x| (x != NO_CHANNEL).then(|| r.channel_name(x))),
            )
            .time("at", a.at.iter().map(|&t| Some(t)))
            .str(
                "rule",
                a.rule
                    .iter()
                    .map(|&x| (x != NO_RULE).then(|| r.rule_name(x))),
            )
            .str("stage", a.stage.iter().map(|&s| Some(r.stage_name(s))))
            .bool("suppressed", a.suppressed.iter().map(|&b| Some(b)))
            .finish()
    }
}

/// Time in each stage (the core's `time_in_stage`), as a table.
fn time_in_stage_table(r: &an::Replay) -> BindResult<Table> {
    let rows = an::stages::time_in_stage(r);
    TableColumns::new()
        .str("stage", rows.iter().map(|s| Some(&*s.stage)))
        .u64("completed", rows.iter().map(|s| s.completed))
        .u64("open", rows.iter().map(|s| s.open))
        .f64("mean_ms", rows.iter().map(|s| s.mean_ms))
        .f64(
            "median_ms",
            rows.iter().map(|s| s.median_ms.map(|x| x as f64)),
        )
        .f64("p90_ms", rows.iter().map(|s| s.p90_ms.map(|x| x as f64)))
        .finish()
}

fn do_replay(
    py: Python<'_>,
    log: &Arc<CoreLog>,
    model: &Model,
    until: Option<Bound<'_, PyAny>>,
    skip_unknown: bool,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Replay> {
    let mut opts = ReplayOptions::default();
    if let Some(u) = until {
        let t: Timestamp = crate::time::timestamp(&u, "until")?
            .map_err(Fail::Core)
            .or_raise(py)?;
        opts.until = Some(t);
    }
    if skip_unknown {
        opts.on_unknown = an::OnUnknown::Skip;
    }
    let m = &model.inner;
    let (n, events) = (log.n_customers(), log.len());
    let inner = crate::progress::run(py, progress, "replay", n, events, |p| {
        an::replay_with_progress(m, log, &opts, p)
    })?
    .map_err(Fail::Core)
    .or_raise(py)?;
    Ok(Replay {
        log: log.clone(),
        inner,
    })
}

#[pymethods]
impl Replay {
    /// Per customer: final `stage`, when it was entered (`entered_at`), the first entry
    /// (`first_seen`) and the number of `transitions` after the initial entry.
    #[getter]
    fn table(&self, py: Python<'_>) -> PyResult<Table> {
        self.final_table().or_raise(py)
    }

    /// Every stage transition: `customer`, `from_stage` (null for the initial entry),
    /// `to_stage`, `at`, `rule`, `channel` (null for timeouts).
    #[getter]
    fn transitions(&self, py: Python<'_>) -> PyResult<Table> {
        self.transitions_table().or_raise(py)
    }

    /// Every action: `customer`, `action`, `channel`, `at`, `rule`, `stage`, `suppressed`.
    #[getter]
    fn actions(&self, py: Python<'_>) -> PyResult<Table> {
        self.actions_table().or_raise(py)
    }

    /// Rows replayed and left out: `{"events", "skipped_unknown_kind",
    /// "skipped_unknown_channel", "after_until"}`.
    #[getter]
    fn stats(&self) -> Vec<(&'static str, u64)> {
        let s = self.inner.stats();
        vec![
            ("events", s.events),
            ("skipped_unknown_kind", s.skipped_unknown_kind),
            ("skipped_unknown_channel", s.skipped_unknown_channel),
            ("after_until", s.after_until),
        ]
    }

    /// Time in each stage: `stage`, `completed` and `open` stays, `mean_ms`, `median_ms`,
    /// `p90_ms` (nearest rank, over completed stays).
    fn time_in_stage(&self, py: Python<'_>) -> PyResult<Table> {
        time_in_stage_table(&self.inner).or_raise(py)
    }

    fn __len__(&self) -> usize {
        self.inner.n_customers()
    }

    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Bound::new(py, self.table(py)?)?.call_method0("to_pandas")
    }

    fn to_polars<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Bound::new(py, self.table(py)?)?.call_method0("to_polars")
    }

    fn to_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Bound::new(py, self.table(py)?)?.call_method0("to_arrow")
    }

    fn __repr__(&self) -> String {
        format!(
            "Replay({} customers, {} transitions, {} actions)",
            self.inner.n_customers(),
            self.inner.transitions().len(),
            self.inner.actions().len()
        )
    }

    /// The stage flow as a Sankey chart (inline SVG, from the report crate) over the table.
    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<String> {
        html(slf.py())?
            .call_method1("replay_html", (slf,))?
            .extract()
    }

    /// Plots the stage flow with matplotlib (a matrix of moves between stages) and returns the
    /// Axes; `ax` draws into existing Axes. Needs matplotlib.
    #[pyo3(signature = (ax=None))]
    fn plot<'py>(
        slf: &Bound<'py, Self>,
        ax: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::table::plot_module(slf.py())?.call_method1("plot_replay", (slf, ax))
    }
}

fn funnel_order(mode: &str) -> PyResult<FunnelOrder> {
    Ok(match mode {
        "window_funnel" | "default" => FunnelOrder::Default,
        "strict_order" => FunnelOrder::StrictOrder,
        "strict_order_steps" => FunnelOrder::StrictOrderSteps,
        "any" | "any_order" => FunnelOrder::Any,
        other => {
            return Err(value_error(format!(
            "mode: expected window_funnel, strict_order, strict_order_steps or any, got {other:?}"
        )))
        }
    })
}

/// Replays the log through `model` (the core's `replay`). `until`: replay up to this time
/// (default: the last event); `skip_unknown`: leave out rows whose kind or channel the model
/// does not declare (default: fail). The GIL is released while it runs; `progress` as in
/// [`simulate`].
pub fn log_replay(
    log: &Arc<CoreLog>,
    py: Python<'_>,
    model: &Model,
    until: Option<Bound<'_, PyAny>>,
    skip_unknown: bool,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Replay> {
    do_replay(py, log, model, until, skip_unknown, progress)
}

/// Time in each stage of `model` (replays the log first; see `Replay.time_in_stage`).
pub fn log_time_in_stage(
    log: &Arc<CoreLog>,
    py: Python<'_>,
    model: &Model,
    until: Option<Bound<'_, PyAny>>,
    skip_unknown: bool,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Table> {
    do_replay(py, log, model, until, skip_unknown, progress)?.time_in_stage(py)
}

/// A Python value (a dict, list, str) as the core's serde type `T`, through JSON text (the
/// specs are small); a value that does not fit is `invalid_value` naming `field`.
pub fn from_py<T: serde::de::DeserializeOwned>(
    obj: &Bound<'_, PyAny>,
    field: &str,
) -> BindResult<T> {
    let py = obj.py();
    let text: String = py
        .import("json")?
        .call_method1("dumps", (obj,))
        .map_err(|_| {
            Fail::Core(jornada::Error::InvalidValue {
                loc: jornada::Location::field(field),
                message: format!(
                    "expected JSON-like data (dicts, lists, str, numbers), got a {}",
                    crate::errors::type_name(obj)
                ),
            })
        })?
        .extract()?;
    serde_json::from_str(&text).map_err(|e| {
        Fail::Core(jornada::Error::InvalidValue {
            loc: jornada::Location::field(field),
            message: e.to_string(),
        })
    })
}

fn funnel_step(obj: &Bound<'_, PyAny>, i: usize) -> BindResult<FunnelStep> {
    if let Ok(kind) = obj.extract::<String>() {
        return Ok(FunnelStep::kind(&kind));
    }
    from_py(obj, &format!("steps[{i}]"))
}

fn breakdown(obj: &Bound<'_, PyAny>) -> BindResult<Breakdown> {
    if let Ok(by) = obj.extract::<String>() {
        return match by.as_str() {
            "channel" => Ok(Breakdown::Channel),
            "first_touch_channel" => Ok(Breakdown::FirstTouchChannel),
            _ => Ok(Breakdown::Property { name: by }),
        };
    }
    if obj.is_instance_of::<PyDict>() && obj.contains("by")? {
        return from_py(obj, "breakdown");
    }
    // Any other mapping (a dict, a pandas Series' to_dict()) is customer key -> group.
    let groups = obj.call_method0("items")?;
    let mut map = BTreeMap::new();
    for item in groups.try_iter()? {
        let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
        map.insert(k.str()?.to_string(), v.str()?.to_string());
    }
    Ok(Breakdown::Cohort { groups: map })
}

fn step_columns<'a>(
    t: TableColumns,
    s: impl Iterator<Item = &'a StepStats> + Clone,
) -> TableColumns {
    t.str("step", s.clone().map(|x| Some(x.name.as_str())))
        .u64("customers", s.clone().map(|x| x.customers))
        .f64(
            "conversion_from_first",
            s.clone().map(|x| Some(x.conversion_from_first)),
        )
        .f64(
            "conversion_from_previous",
            s.clone().map(|x| Some(x.conversion_from_previous)),
        )
        .u64("drop_off", s.clone().map(|x| x.drop_off))
        .f64(
            "median_from_previous_ms",
            s.clone()
                .map(|x| x.median_from_previous_ms.map(|v| v as f64)),
        )
        .f64(
            "p90_from_previous_ms",
            s.map(|x| x.p90_from_previous_ms.map(|v| v as f64)),
        )
}

/// A funnel (the core's `funnel`, ClickHouse `windowFunnel` semantics): `steps` are event kinds
/// or step dicts (`kinds`, `channels`, `when`, `name`, `min_gap`, `max_gap`), `window` a
/// duration (`"7d"`), `mode` one of `window_funnel`, `strict_order`, `strict_order_steps`,
/// `any`; `exclude` a list of exclusion dicts (`kinds`, `channels`, `when`, `from_step`,
/// `to_step`); `breakdown` `"channel"` (of the step-1 event), `"first_touch_channel"`, a
/// property name, a dict `{"by": ...}` in the core's form, or a mapping customer → group. One
/// row per step: `step`, `customers`, `conversion_from_first`, `conversion_from_previous`,
/// `drop_off`, `median_from_previous_ms`, `p90_from_previous_ms`; with a breakdown, one row per
/// group and step, after a `group` column.
#[allow(clippy::too_many_arguments)]
pub fn log_funnel(
    log: &CoreLog,
    py: Python<'_>,
    steps: &Bound<'_, PyAny>,
    window: &str,
    mode: &str,
    exclude: Option<&Bound<'_, PyAny>>,
    breakdown_by: Option<&Bound<'_, PyAny>>,
) -> PyResult<Table> {
    let window = duration(py, window, "window")?;
    let steps = steps
        .try_iter()?
        .enumerate()
        .map(|(i, s)| funnel_step(&s?, i))
        .collect::<BindResult<Vec<_>>>()
        .or_raise(py)?;
    let mut spec = FunnelSpec::new(steps, window).order(funnel_order(mode)?);
    if let Some(ex) = exclude {
        for (i, e) in ex.try_iter()?.enumerate() {
            let e: Exclusion = from_py(&e?, &format!("exclude[{i}]")).or_raise(py)?;
            spec = spec.exclude(e);
        }
    }
    if let Some(b) = breakdown_by {
        spec = spec.breakdown(breakdown(b).or_raise(py)?);
    }
    let report = py
        .detach(|| an::funnel(log, &spec))
        .map_err(Fail::Core)
        .or_raise(py)?;
    if spec.breakdown.is_none() {
        return step_columns(TableColumns::new(), report.steps.iter())
            .finish()
            .or_raise(py);
    }
    let rows: Vec<(Option<&str>, &StepStats)> = report
        .breakdown
        .iter()
        .flat_map(|g| g.steps.iter().map(move |s| (g.label.as_deref(), s)))
        .collect();
    step_columns(
        TableColumns::new().str("group", rows.iter().map(|r| r.0)),
        rows.iter().map(|r| r.1),
    )
    .finish()
    .or_raise(py)
}
