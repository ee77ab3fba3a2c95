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

fn path_spec(by: &str, max_steps: usize, collapse_repeats: bool) -> PyResult<PathSpec> {
    Ok(PathSpec {
        label: label(by)?,
        max_steps,
        collapse_repeats,
        ..PathSpec::default()
    })
}

/// Sankey links between consecutive positions of the customers' paths (the core's `sankey`):
/// `step` (the source's position, 0-based), `from`, `to`, `customers`.
pub fn log_sankey(
    log: &CoreLog,
    py: Python<'_>,
    by: &str,
    max_steps: usize,
    collapse_repeats: bool,
) -> PyResult<Table> {
    let spec = path_spec(by, max_steps, collapse_repeats)?;
    let s = py
        .detach(|| an::sankey(log, &spec))
        .map_err(Fail::Core)
        .or_raise(py)?;
    let l = &s.links;
    TableColumns::new()
        .u64("step", l.iter().map(|x| x.step as u64))
        .str("from", l.iter().map(|x| Some(s.labels[x.from].as_str())))
        .str("to", l.iter().map(|x| Some(s.labels[x.to].as_str())))
        .u64("customers", l.iter().map(|x| x.customers))
        .finish()
        .or_raise(py)
}

/// The step matrix (the core's `step_matrix`), long form: one row per position and label
/// present there, `step` (0-based), `label`, `customers` (whose path has the label there),
/// `share` (of the customers with a non-empty path).
pub fn log_step_matrix(
    log: &CoreLog,
    py: Python<'_>,
    by: &str,
    max_steps: usize,
    collapse_repeats: bool,
) -> PyResult<Table> {
    let spec = path_spec(by, max_steps, collapse_repeats)?;
    let m = py
        .detach(|| an::step_matrix(log, &spec))
        .map_err(Fail::Core)
        .or_raise(py)?;
    let mut rows: Vec<(u64, &str, u64, f64)> = Vec::new();
    for (i, (counts, shares)) in m.counts.iter().zip(&m.shares).enumerate() {
        for (l, (&c, &s)) in counts.iter().zip(shares).enumerate() {
            if c > 0 {
                rows.push((i as u64, m.labels[l].as_str(), c, s));
            }
        }
    }
    TableColumns::new()
        .u64("step", rows.iter().map(|r| r.0))
        .str("label", rows.iter().map(|r| Some(r.1)))
        .u64("customers", rows.iter().map(|r| r.2))
        .f64("share", rows.iter().map(|r| Some(r.3)))
        .finish()
        .or_raise(py)
}
