//! Attribution (the core's `attribution`): from an [`EventLog`](crate::event_log::EventLog) or
//! from aggregated paths. One result row per model and channel: `model`, `channel`,
//! `conversions`, `value`.

use crate::errors::{BindResult, Fail, OrRaise};
use crate::table::{Columns as TableColumns, Table};
use jornada::analytics::attribution::{self as at, AttributionConfig, AttributionModel};
use jornada::analytics::EventLog as CoreLog;
use pyo3::prelude::*;
use pyo3::types::PyDict;

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

fn attribute_log(
    log: &CoreLog,
    py: Python<'_>,
    conversion: &str,
    lookback: Option<&str>,
    model_names: Option<Vec<String>>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<at::Attribution> {
    let mut cfg = AttributionConfig::new(conversion);
    cfg.lookback = match lookback {
        None => None,
        Some(text) => Some(crate::analysis::duration(py, text, "lookback")?),
    };
    cfg.models = models(model_names, false).or_raise(py)?;
    let (n, events) = (log.n_customers(), log.len());
    crate::progress::run(py, progress, "attribution", n, events, |p| {
        at::attribute_with_progress(log, &cfg, p)
    })?
    .map_err(Fail::Core)
    .or_raise(py)
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
    let a = attribute_log(log, py, conversion, lookback, model_names, progress)?;
    table(&a).or_raise(py)
}

/// The journeys `attribution` cuts from the log (the core's `journey_paths`), aggregated in
/// ChannelAttribution's format: one row per distinct path in order of first appearance, `path`
/// (channel names joined by `sep`), `total_conversions`, `total_conversion_value`,
/// `total_null`. `attribution_from_paths` on these rows gives the `attribution` of the log
/// (time decay aside).
pub fn log_attribution_paths(
    log: &CoreLog,
    py: Python<'_>,
    conversion: &str,
    lookback: Option<&str>,
    sep: &str,
) -> PyResult<Table> {
    let mut cfg = AttributionConfig::new(conversion);
    cfg.lookback = match lookback {
        None => None,
        Some(text) => Some(crate::analysis::duration(py, text, "lookback")?),
    };
    cfg.models.clear();
    let t = py
        .detach(|| at::journey_paths(log, &cfg, sep))
        .map_err(Fail::Core)
        .or_raise(py)?;
    TableColumns::new()
        .str("path", t.path.iter().map(|p| Some(p.as_str())))
        .f64(
            "total_conversions",
            t.total_conversions.iter().map(|&x| Some(x)),
        )
        .f64(
            "total_conversion_value",
            t.total_conversion_value.iter().map(|&x| Some(x)),
        )
        .f64("total_null", t.total_null.iter().map(|&x| Some(x)))
        .finish()
        .or_raise(py)
}

/// The same with every model's details, as a dict (see `EventLog.attribution_details`).
pub fn log_attribution_details<'py>(
    log: &CoreLog,
    py: Python<'py>,
    conversion: &str,
    lookback: Option<&str>,
    model_names: Option<Vec<String>>,
) -> PyResult<Bound<'py, PyDict>> {
    let a = attribute_log(log, py, conversion, lookback, model_names, None)?;
    details(py, &a)
}

fn details<'py>(py: Python<'py>, a: &at::Attribution) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("credits", table(a).or_raise(py)?)?;
    let s = &a.summary;
    let summary = PyDict::new(py);
    summary.set_item("conversions", s.conversions)?;
    summary.set_item("value", s.value)?;
    summary.set_item("null_paths", s.null_paths)?;
    summary.set_item("unattributed_conversions", s.unattributed_conversions)?;
    summary.set_item("unattributed_value", s.unattributed_value)?;
    summary.set_item("distinct_paths", s.distinct_paths)?;
    d.set_item("summary", summary)?;

    // Markov: removal effects per channel, the chain's conversion probability, its matrix.
    let markov: Vec<(&str, &at::MarkovDetails)> = a
        .models
        .iter()
        .filter_map(|m| m.markov.as_ref().map(|x| (m.model.name(), x)))
        .collect();
    let effects: Vec<(&str, &str, f64, f64)> = markov
        .iter()
        .flat_map(|(name, m)| {
            a.channels.iter().enumerate().map(move |(i, c)| {
                (
                    *name,
                    c.as_str(),
                    m.removal_effects[i],
                    m.value_removal_effects[i],
                )
            })
        })
        .collect();
    d.set_item(
        "removal_effects",
        TableColumns::new()
            .str("model", effects.iter().map(|r| Some(r.0)))
            .str("channel", effects.iter().map(|r| Some(r.1)))
            .f64("removal_effect", effects.iter().map(|r| Some(r.2)))
            .f64("value_removal_effect", effects.iter().map(|r| Some(r.3)))
            .finish()
            .or_raise(py)?,
    )?;
    d.set_item(
        "markov",
        TableColumns::new()
            .str("model", markov.iter().map(|r| Some(r.0)))
            .u64("order", markov.iter().map(|r| r.1.order as u64))
            .f64(
                "conversion_probability",
                markov.iter().map(|r| Some(r.1.conversion_probability)),
            )
            .finish()
            .or_raise(py)?,
    )?;
    let links: Vec<(&str, &str, &str, f64)> = markov
        .iter()
        .flat_map(|(name, m)| {
            m.transitions.iter().map(move |t| {
                (
                    *name,
                    m.states[t.from].as_str(),
                    m.states[t.to].as_str(),
                    t.probability,
                )
            })
        })
        .collect();
    d.set_item(
        "transition_matrix",
        TableColumns::new()
            .str("model", links.iter().map(|r| Some(r.0)))
            .str("from", links.iter().map(|r| Some(r.1)))
            .str("to", links.iter().map(|r| Some(r.2)))
            .f64("probability", links.iter().map(|r| Some(r.3)))
            .finish()
            .or_raise(py)?,
    )?;
    let shapley: Vec<(&str, String, bool, u64)> = a
        .models
        .iter()
        .filter_map(|m| {
            m.shapley.as_ref().map(|x| {
                (
                    m.model.name(),
                    match x.game {
                        at::ShapleyGame::Subsets => "subsets".to_string(),
                        at::ShapleyGame::Markov { order } => format!("markov (order {order})"),
                    },
                    x.exact,
                    x.samples as u64,
                )
            })
        })
        .collect();
    d.set_item(
        "shapley",
        TableColumns::new()
            .str("model", shapley.iter().map(|r| Some(r.0)))
            .str("game", shapley.iter().map(|r| Some(r.1.as_str())))
            .bool("exact", shapley.iter().map(|r| Some(r.2)))
            .u64("samples", shapley.iter().map(|r| r.3))
            .finish()
            .or_raise(py)?,
    )?;
    Ok(d)
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
