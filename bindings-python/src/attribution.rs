//! Attribution (the core's `attribution`): from an [`EventLog`](crate::event_log::EventLog) or
//! from aggregated paths. One result row per model and channel: `model`, `channel`,
//! `conversions`, `value`.

use crate::errors::{BindResult, Fail, OrRaise};
use crate::table::{Columns as TableColumns, Table};
use jornada::analytics::attribution::{self as at, AttributionConfig, AttributionModel};
use jornada::analytics::EventLog as CoreLog;
use jornada::{Duration, Error, Location};
use pyo3::prelude::*;

/// The models named (`position` is `position_based`); all of them when `None`.
fn models(names: Option<Vec<String>>, paths: bool) -> BindResult<Vec<AttributionModel>> {
    match names {
        None if paths => Ok(AttributionModel::path_defaults()),
        None => Ok(AttributionModel::defaults()),
        Some(names) => names
            .iter()
            .map(|n| {
                let n = if n == "position" { "position_based" } else { n };
                AttributionModel::from_name(n).map_err(Fail::Core)
            })
            .collect(),
    }
}

fn table(a: &at::Attribution) -> BindResult<Table> {
    let n = a.channels.len();
    let rows = a.models.len() * n;
    let mut model = Vec::with_capacity(rows);
    let mut channel = Vec::with_capacity(rows);
    let mut conv = Vec::with_capacity(rows);
    let mut value = Vec::with_capacity(rows);
    for m in &a.models {
        for (i, c) in a.channels.iter().enumerate() {
            model.push(Some(m.model.name()));
            channel.push(Some(c.as_str()));
            conv.push(Some(m.conversions[i]));
            value.push(Some(m.value[i]));
        }
    }
    TableColumns::new()
        .str("model", model)
        .str("channel", channel)
        .f64("conversions", conv)
        .f64("value", value)
        .finish()
}

/// Attribution of the log's conversions (events of kind `conversion`) to the channels touched
/// within `lookback` before them.
pub fn log_attribution(
    log: &CoreLog,
    py: Python<'_>,
    conversion: &str,
    lookback: Option<&str>,
    model_names: Option<Vec<String>>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Table> {
    let mut cfg = AttributionConfig::new(conversion);
    cfg.lookback = match lookback {
        None => None,
        Some(text) => Some(
            Duration::parse(text)
                .ok_or_else(|| {
                    Fail::Core(Error::InvalidDuration {
                        loc: Location::field("lookback"),
                        value: text.to_string(),
                    })
                })
                .or_raise(py)?,
        ),
    };
    cfg.models = models(model_names, false).or_raise(py)?;
    let (n, events) = (log.n_customers(), log.len());
    let a = crate::progress::run(py, progress, "attribution", n, events, |p| {
        at::attribute_with_progress(log, &cfg, p)
    })?
    .map_err(Fail::Core)
    .or_raise(py)?;
    table(&a).or_raise(py)
}

/// Attribution from aggregated paths (`"a > b > c"` with conversions, value and null counts).
#[pyfunction]
#[pyo3(
    signature = (paths, conversions, value=None, nulls=None, *, sep=">".to_string(), models=None),
    text_signature = "(paths, conversions, value=None, nulls=None, *, sep='>', models=None)"
)]
pub fn _attribution_from_paths(
    py: Python<'_>,
    paths: Vec<String>,
    conversions: Vec<f64>,
    value: Option<Vec<f64>>,
    nulls: Option<Vec<f64>>,
    sep: String,
    models: Option<Vec<String>>,
) -> PyResult<Table> {
    let ms = self::models(models, true).or_raise(py)?;
    let a = py
        .detach(|| {
            at::attribute_paths(
                &paths,
                &conversions,
                value.as_deref(),
                nulls.as_deref(),
                &sep,
                &ms,
            )
        })
        .map_err(Fail::Core)
        .or_raise(py)?;
    table(&a).or_raise(py)
}
