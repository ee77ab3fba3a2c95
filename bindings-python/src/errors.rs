//! Core errors as Python exceptions: one class per error code under `jornada.JornadaError`.
//!
//! The classes live in `jornada/_errors.py` (docstrings, `isinstance` against built-in
//! exceptions); this module picks the class by [`jornada::Error::code`] and fills in `code`,
//! `field`, `index`, `line`, `path` and `problems`. A code without a class (a core code added
//! later) falls back to `JornadaError` itself; a test checks that none is missing.

use jornada::{Error, Location};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};

static RAISE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Every failure of a binding call.
#[derive(Debug)]
pub enum Fail {
    /// An error of the core.
    Core(Error),
    /// An error the binding finds in Python-only input (a table's columns), with a core code
    /// and its own message (which names the table's columns).
    Custom {
        /// One of the core's error codes.
        code: &'static str,
        /// The touchpoint field concerned.
        field: String,
        /// The row, when one row is at fault.
        index: Option<usize>,
        /// What and where.
        message: String,
    },
    /// A Python exception, raised as it is.
    Py(PyErr),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Core(e)
    }
}

impl From<PyErr> for Fail {
    fn from(e: PyErr) -> Self {
        Fail::Py(e)
    }
}

impl Fail {
    /// As a Python exception.
    pub fn into_py(self, py: Python<'_>) -> PyErr {
        match self {
            Fail::Core(e) => to_py(py, &e),
            Fail::Py(e) => e,
            Fail::Custom {
                code,
                field,
                index,
                message,
            } => {
                let r = (|| {
                    let kw = PyDict::new(py);
                    kw.set_item("code", code)?;
                    kw.set_item("field", &field)?;
                    kw.set_item("path", &field)?;
                    kw.set_item("index", index)?;
                    make(py, &message, &kw)
                })();
                r.unwrap_or_else(|e| e)
            }
        }
    }
}

/// Shorthand for results of binding calls.
pub type BindResult<T> = Result<T, Fail>;

/// Extension trait: `result.or_raise(py)?` turns a [`Fail`] into a Python exception.
pub trait OrRaise<T> {
    /// The value, or the failure as a Python exception.
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for BindResult<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| e.into_py(py))
    }
}

/// Converts a core error into the matching `jornada` exception.
pub fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    build(py, e).unwrap_or_else(|err| err)
}

fn make(py: Python<'_>, message: &str, kw: &Bound<'_, PyDict>) -> PyResult<PyErr> {
    let make = RAISE.import(py, "jornada._errors", "_make")?;
    let exc = make.call((message,), Some(kw))?;
    Ok(PyErr::from_value(exc))
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let kw = PyDict::new(py);
    kw.set_item("code", e.code())?;
    let loc = e.location();
    kw.set_item(
        "field",
        loc.map(|l| l.field.as_str()).filter(|f| !f.is_empty()),
    )?;
    kw.set_item("index", loc.and_then(|l| l.index))?;
    kw.set_item("line", loc.and_then(|l| l.line))?;
    kw.set_item("path", e.path().filter(|p| !p.is_empty()))?;
    if let Error::InvalidModel { problems } = e {
        let list = PyList::empty(py);
        for p in problems {
            list.append((p.path.as_str(), p.code, p.message.as_str()))?;
        }
        kw.set_item("problems", list)?;
    }
    make(py, &e.to_string(), &kw)
}

/// A `wrong_type` error about a field (a Python value or an Arrow column of the wrong type).
pub fn wrong_type(field: &str, expected: impl Into<String>) -> Error {
    Error::WrongType {
        loc: Location::field(field),
        expected: expected.into(),
    }
}

/// The Python type name of an object, for messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into())
}
