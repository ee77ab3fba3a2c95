//! Event times between Python and the core.
//!
//! In: RFC 3339 text and epoch milliseconds go to the core's parser unchanged; a `datetime`
//! (or `pandas.Timestamp`) is written as RFC 3339 by `isoformat()` (a naive one is taken as UTC)
//! and parsed by the core too, so every form follows the same rules (fractions of a millisecond
//! are cut). Out: a tz-aware `datetime` in UTC.

use crate::errors::{type_name, wrong_type};
use jornada::{Error, Location, Timestamp};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyInt, PyString, PyType};

static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static FROM_MS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Whether `obj` is a `datetime.datetime` (or a subclass such as `pandas.Timestamp`).
pub fn is_datetime(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    let dt = DATETIME.import(obj.py(), "datetime", "datetime")?;
    obj.is_instance(dt)
}

/// A `datetime` as RFC 3339 text (naive = UTC).
pub fn datetime_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let iso: String = obj.call_method0("isoformat")?.extract()?;
    let naive = obj.call_method0("utcoffset")?.is_none();
    Ok(if naive { iso + "Z" } else { iso })
}

fn invalid(field: &str, value: impl Into<String>) -> Error {
    Error::InvalidTimestamp {
        loc: Location::field(field),
        value: value.into(),
    }
}

/// Reads an event time: RFC 3339 text, epoch milliseconds (int) or a `datetime`.
/// Python-level failures (an exception raised by `isoformat`) pass through as they are.
pub fn timestamp(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<Result<Timestamp, Error>> {
    if obj.is_instance_of::<PyBool>() {
        return Ok(Err(wrong_type(field, expected_time("a bool"))));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let text = s.to_cow()?;
        return Ok(Timestamp::parse(&text).ok_or_else(|| invalid(field, clip(&text))));
    }
    if obj.is_instance_of::<PyInt>() {
        return Ok(match obj.extract::<i64>() {
            Ok(ms) => {
                Timestamp::from_millis_checked(ms).ok_or_else(|| invalid(field, ms.to_string()))
            }
            Err(_) => Err(invalid(field, clip(&obj.str()?.to_cow()?))),
        });
    }
    if is_datetime(obj)? {
        let text = datetime_text(obj)?;
        return Ok(Timestamp::parse(&text).ok_or_else(|| invalid(field, text)));
    }
    Ok(Err(wrong_type(
        field,
        expected_time(&format!("a {}", type_name(obj))),
    )))
}

fn expected_time(got: &str) -> String {
    format!("an RFC 3339 string, epoch milliseconds (int) or a datetime, got {got}")
}

fn clip(s: &str) -> String {
    if s.len() <= 80 {
        return s.to_string();
    }
    let mut end = 80;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// A timestamp as a tz-aware UTC `datetime`.
pub fn to_datetime<'py>(py: Python<'py>, t: Timestamp) -> PyResult<Bound<'py, PyAny>> {
    let f = FROM_MS.import(py, "jornada._convert", "datetime_from_ms")?;
    f.call1((t.millis(),))
}
