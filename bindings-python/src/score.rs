//! A journey's score (`Engine.score`) as a Python dict: the core's JSON form, with times as
//! tz-aware `datetime`s and durations as `timedelta`s.

use crate::time::to_datetime;
use crate::values::to_py;
use jornada::score::Score;
use jornada::Duration;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};

static TIMEDELTA: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn timedelta<'py>(py: Python<'py>, d: Duration) -> PyResult<Bound<'py, PyAny>> {
    let f = TIMEDELTA.import(py, "jornada._convert", "timedelta_from_ms")?;
    f.call1((d.millis(),))
}

fn opt<'py, T>(
    py: Python<'py>,
    v: Option<T>,
    f: impl FnOnce(Python<'py>, T) -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    match v {
        Some(v) => f(py, v),
        None => Ok(py.None().into_bound(py)),
    }
}

/// `s` as a dict (see `Engine.score`).
pub fn score_to_py<'py>(py: Python<'py>, s: &Score) -> PyResult<Bound<'py, PyAny>> {
    let d = to_py(py, s)?.cast_into::<PyDict>()?;
    d.set_item("entered_at", opt(py, s.entered_at, to_datetime)?)?;
    d.set_item(
        "expected_time_to_convert",
        opt(py, s.expected_time_to_convert, timedelta)?,
    )?;
    let effort = item(&d, "effort")?;
    effort.set_item("elapsed", timedelta(py, s.effort.elapsed)?)?;
    let next = d
        .get_item("next_actions")?
        .ok_or_else(|| missing("next_actions"))?
        .cast_into::<PyList>()?;
    for (item, n) in next.iter().zip(&s.next_actions) {
        let item = item.cast_into::<PyDict>()?;
        item.set_item("due", opt(py, n.due, to_datetime)?)?;
        if let Some(c) = &n.count {
            let count = self::item(&item, "count")?;
            count.set_item("within", opt(py, c.within, timedelta)?)?;
        }
    }
    Ok(d.into_any())
}

fn missing(key: &str) -> PyErr {
    pyo3::exceptions::PyKeyError::new_err(key.to_string())
}

/// The dict under `key` of `d`.
fn item<'py>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<Bound<'py, PyDict>> {
    Ok(d.get_item(key)?
        .ok_or_else(|| missing(key))?
        .cast_into::<PyDict>()?)
}
