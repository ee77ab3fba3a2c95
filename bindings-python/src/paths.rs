//! Paths (the core's `paths`): the directly-follows graph and the most common paths of an
//! [`EventLog`](crate::event_log::EventLog), by event kind or channel.

use crate::errors::{Fail, OrRaise};
use crate::table::{Columns as TableColumns, Table};
use jornada::analytics::{self as an, EventLog as CoreLog, PathLabel, PathSpec};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn label(by: &str) -> PyResult<PathLabel> {
    match by {
        "kind" => Ok(PathLabel::Kind),
        "channel" => Ok(PathLabel::Channel),
        other => Err(PyValueError::new_err(format!(
            "by: expected kind or channel, got {other:?}"
        ))),
    }
}

/// Directly-follows edges: `from`, `to`, `count`, `probability` (count / transitions out of
/// `from`), `median_ms`.
pub fn log_transitions(log: &CoreLog, py: Python<'_>, by: &str) -> PyResult<Table> {
    let spec = PathSpec {
        label: label(by)?,
        ..PathSpec::default()
    };
    let g = py
        .detach(|| an::directly_follows(log, &spec))
        .map_err(Fail::Core)
        .or_raise(py)?;
    let e = &g.edges;
    TableColumns::new()
        .str("from", e.iter().map(|x| Some(g.labels[x.from].as_str())))
        .str("to", e.iter().map(|x| Some(g.labels[x.to].as_str())))
        .u64("count", e.iter().map(|x| x.count))
        .f64("probability", e.iter().map(|x| Some(x.probability)))
        .f64("median_ms", e.iter().map(|x| Some(x.median_ms as f64)))
        .finish()
        .or_raise(py)
}

/// The `top` most common paths (first `max_steps` labels of each customer's sequence):
/// `path` (labels joined by `" > "`), `customers`, `share`.
pub fn log_paths(
    log: &CoreLog,
    py: Python<'_>,
    top: usize,
    by: &str,
    max_steps: usize,
    collapse_repeats: bool,
) -> PyResult<Table> {
    let spec = PathSpec {
        label: label(by)?,
        top,
        max_steps,
        collapse_repeats,
        ..PathSpec::default()
    };
    let p = py
        .detach(|| an::top_paths(log, &spec))
        .map_err(Fail::Core)
        .or_raise(py)?;
    let v = &p.variants;
    let joined: Vec<String> = v.iter().map(|x| x.steps.join(" > ")).collect();
    TableColumns::new()
        .str("path", joined.iter().map(|s| Some(s.as_str())))
        .u64("customers", v.iter().map(|x| x.customers))
        .f64("share", v.iter().map(|x| Some(x.share)))
        .finish()
        .or_raise(py)
}
