//! A serde `Deserializer` over Python objects, so the core reads a touchpoint given as a dict
//! with exactly the rules of its canonical JSON form (`Engine::ingest_from`).
//!
//! Python values map to JSON values: `None` → null, `bool`, `int`, `float`, `str`, a mapping →
//! object, a list or tuple → array. The `at` field also takes a `datetime` (passed to the core as
//! RFC 3339 text, see [`crate::time`]). Any other type is an error that the core cannot name, so
//! the deserializer records a `wrong_type` error with the field path in [`Failure`] and the caller
//! raises that instead of the core's generic one.

use crate::errors::{type_name, wrong_type};
use crate::time::{datetime_text, is_datetime};
use jornada::Error;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PySequence, PyString, PyTuple,
};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;
use std::fmt;

/// The first failure seen while reading Python values: a Python exception (raised by a
/// `__str__`, an `isoformat`...) or a value of a type JSON has no equivalent for.
#[derive(Default)]
pub struct Failure(RefCell<Option<Failed>>);

/// What went wrong.
pub enum Failed {
    /// A Python exception; it is re-raised as it is.
    Python(PyErr),
    /// A value of an unsupported type.
    Core(Error),
}

impl Failure {
    fn set(&self, f: Failed) -> DeError {
        let mut slot = self.0.borrow_mut();
        if slot.is_none() {
            *slot = Some(f);
        }
        DeError("unsupported value".into())
    }

    /// Takes the recorded failure, if any.
    pub fn take(&self) -> Option<Failed> {
        self.0.borrow_mut().take()
    }
}

/// The deserializer's error (the core turns it into `invalid_json`; see [`Failure`]).
#[derive(Debug)]
pub struct DeError(String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
}

/// Where a value is, rendered only when an error names it (`properties.sku`, `tags[2]`).
#[derive(Clone, Copy)]
enum PathRef<'a> {
    Root,
    Key(&'a PathRef<'a>, &'a str),
    Index(&'a PathRef<'a>, usize),
}

impl PathRef<'_> {
    fn render(&self) -> String {
        match self {
            PathRef::Root => String::new(),
            PathRef::Key(PathRef::Root, k) => k.to_string(),
            PathRef::Key(parent, k) => format!("{}.{k}", parent.render()),
            PathRef::Index(parent, i) => format!("{}[{i}]", parent.render()),
        }
    }

    fn is_at(&self) -> bool {
        matches!(self, PathRef::Key(PathRef::Root, "at"))
    }

    /// Whether the value here is usually a name the model knows (a channel or an event kind).
    fn holds_a_name(&self) -> bool {
        matches!(self, PathRef::Key(PathRef::Root, "channel" | "kind"))
    }
}

/// The names a touchpoint usually holds (field names, identity kinds, channels, event kinds). A
/// key or value equal to one of them reaches the core as borrowed text, with no conversion: first
/// by identity with the interned Python string (CPython interns the string literals of a
/// program), else by comparing the text in place (`PyUnicode_CompareWithASCIIString`, names of
/// the same length only). Non-ASCII names take the ordinary path.
pub struct Known {
    /// Field names: the fixed ones and the identity kinds.
    fields: Vec<KnownName>,
    /// Channel and event kind names.
    values: Vec<KnownName>,
}

struct KnownName {
    object: Py<PyString>,
    name: Box<str>,
    /// The name NUL-terminated, for ASCII names (compared in place).
    ascii: Option<std::ffi::CString>,
}

impl Known {
    /// The names of a model.
    pub fn new(py: Python<'_>, model: &jornada::Model) -> Known {
        let fixed = ["id", "channel", "kind", "at", "value", "properties"];
        let list = |names: &mut dyn Iterator<Item = &str>| {
            let mut items: Vec<KnownName> = Vec::new();
            for n in names {
                if items.iter().any(|k| &*k.name == n) {
                    continue;
                }
                items.push(KnownName {
                    object: PyString::intern(py, n).unbind(),
                    name: n.into(),
                    ascii: n
                        .is_ascii()
                        .then(|| std::ffi::CString::new(n).ok())
                        .flatten(),
                });
            }
            items
        };
        Known {
            fields: list(&mut fixed.into_iter().chain(model.identity_kind_names())),
            values: list(&mut model.channel_names().chain(model.event_kind_names())),
        }
    }

    /// The field name equal to `s`, if any.
    #[inline]
    fn field(&self, s: &Bound<'_, PyString>) -> Option<&str> {
        find(&self.fields, s)
    }

    /// The channel or event kind name equal to `s`, if any.
    #[inline]
    fn value(&self, s: &Bound<'_, PyString>) -> Option<&str> {
        find(&self.values, s)
    }
}

#[inline]
fn find<'k>(items: &'k [KnownName], s: &Bound<'_, PyString>) -> Option<&'k str> {
    let p = s.as_ptr();
    if let Some(k) = items.iter().find(|k| k.object.as_ptr() == p) {
        return Some(&k.name);
    }
    // SAFETY: `p` is a live `str` object (the GIL is held through `s`); both calls are in the
    // limited API, raise nothing for a `str` argument and only read it.
    let len = unsafe { pyo3::ffi::PyUnicode_GetLength(p) };
    items
        .iter()
        .filter(|k| k.name.len() as isize == len)
        .find(|k| {
            k.ascii.as_ref().is_some_and(|c| unsafe {
                pyo3::ffi::PyUnicode_CompareWithASCIIString(p, c.as_ptr()) == 0
            })
        })
        .map(|k| &*k.name)
}

/// One Python value, at a field path; `'a` is the lifetime of the known names and the failure
/// slot (text borrowed from the known names lives that long), `'p` that of the path.
pub struct PyDe<'a, 'p, 'py> {
    obj: Bound<'py, PyAny>,
    path: PathRef<'p>,
    failure: &'a Failure,
    known: &'a Known,
}

impl<'a, 'py> PyDe<'a, 'static, 'py> {
    /// The deserializer of a top-level object (a touchpoint).
    pub fn new(obj: Bound<'py, PyAny>, failure: &'a Failure, known: &'a Known) -> Self {
        PyDe {
            obj,
            path: PathRef::Root,
            failure,
            known,
        }
    }
}

impl PyDe<'_, '_, '_> {
    fn py_err(&self, e: PyErr) -> DeError {
        self.failure.set(Failed::Python(e))
    }
}

impl<'de> Deserializer<'de> for PyDe<'de, '_, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let obj = &self.obj;
        if obj.is_none() {
            return v.visit_unit();
        }
        if let Ok(b) = obj.cast::<PyBool>() {
            return v.visit_bool(b.is_true());
        }
        if let Ok(s) = obj.cast::<PyString>() {
            if self.path.holds_a_name() {
                if let Some(name) = self.known.value(s) {
                    return v.visit_borrowed_str(name);
                }
            }
            return match s.to_cow() {
                Ok(std::borrow::Cow::Owned(text)) => v.visit_string(text),
                Ok(std::borrow::Cow::Borrowed(text)) => v.visit_str(text),
                Err(e) => Err(self.py_err(e)),
            };
        }
        if obj.is_instance_of::<PyInt>() {
            if let Ok(i) = obj.extract::<i64>() {
                return v.visit_i64(i);
            }
            if let Ok(u) = obj.extract::<u64>() {
                return v.visit_u64(u);
            }
            // Beyond 64 bits: a JSON parser reads such a literal as a float too.
            return match obj.extract::<f64>() {
                Ok(f) => v.visit_f64(f),
                Err(_) => v.visit_f64(f64::INFINITY),
            };
        }
        if let Ok(f) = obj.cast::<PyFloat>() {
            return v.visit_f64(f.value());
        }
        if let Ok(d) = obj.cast::<PyDict>() {
            let items: Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)> = d.iter().collect();
            return v.visit_map(MapDe {
                items: items.into_iter(),
                value: None,
                base: &self.path,
                failure: self.failure,
                known: self.known,
            });
        }
        if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
            let items: Vec<Bound<'_, PyAny>> = match obj.try_iter() {
                Ok(it) => match it.collect::<PyResult<_>>() {
                    Ok(items) => items,
                    Err(e) => return Err(self.py_err(e)),
                },
                Err(e) => return Err(self.py_err(e)),
            };
            return v.visit_seq(SeqDe {
                items: items.into_iter(),
                index: 0,
                base: &self.path,
                failure: self.failure,
                known: self.known,
            });
        }
        if let Ok(m) = obj.cast::<PyMapping>() {
            let items = match m.items().and_then(|l| {
                l.iter()
                    .map(|kv| kv.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>())
                    .collect::<PyResult<Vec<_>>>()
            }) {
                Ok(items) => items,
                Err(e) => return Err(self.py_err(e)),
            };
            return v.visit_map(MapDe {
                items: items.into_iter(),
                value: None,
                base: &self.path,
                failure: self.failure,
                known: self.known,
            });
        }
        if self.path.is_at() {
            match is_datetime(obj) {
                Ok(true) => {
                    return match datetime_text(obj) {
                        Ok(text) => v.visit_str(&text),
                        Err(e) => Err(self.py_err(e)),
                    }
                }
                Ok(false) => {}
                Err(e) => return Err(self.py_err(e)),
            }
        }
        // numpy scalars and other numbers that are not `int`/`float` subclasses.
        if obj.cast::<PySequence>().is_err() && obj.hasattr("__index__").unwrap_or(false) {
            if let Ok(i) = obj.extract::<i64>() {
                return v.visit_i64(i);
            }
        }
        let expected = if self.path.is_at() {
            "an RFC 3339 string, epoch milliseconds (int) or a datetime"
        } else {
            "a str, int, float, bool, None, dict or list"
        };
        Err(self.failure.set(Failed::Core(wrong_type(
            &self.path.render(),
            format!("{expected}, got a Python {}", type_name(obj)),
        ))))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct MapDe<'a, 'p, 'py, I> {
    items: I,
    value: Option<(Bound<'py, PyAny>, std::borrow::Cow<'a, str>)>,
    base: &'p PathRef<'p>,
    failure: &'a Failure,
    known: &'a Known,
}

impl<'a, 'py, I> MapAccess<'a> for MapDe<'a, '_, 'py, I>
where
    I: Iterator<Item = (Bound<'py, PyAny>, Bound<'py, PyAny>)>,
{
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((k, v)) = self.items.next() else {
            return Ok(None);
        };
        let top = matches!(self.base, PathRef::Root);
        if let Some(name) = k
            .cast::<PyString>()
            .ok()
            .filter(|_| top)
            .and_then(|s| self.known.field(s))
        {
            let r = seed.deserialize(BorrowedStrDe(name)).map(Some);
            self.value = Some((v, std::borrow::Cow::Borrowed(name)));
            return r;
        }
        let name = match k.cast::<PyString>() {
            Ok(s) => match s.to_cow() {
                Ok(c) => c.into_owned(),
                Err(e) => return Err(self.failure.set(Failed::Python(e))),
            },
            Err(_) => {
                let path = self.base.render();
                return Err(self.failure.set(Failed::Core(wrong_type(
                    &path,
                    format!("keys that are str, got a {} key", type_name(&k)),
                ))));
            }
        };
        let r = seed.deserialize(StrDe(&name)).map(Some);
        self.value = Some((v, std::borrow::Cow::Owned(name)));
        r
    }

    fn next_value_seed<S: DeserializeSeed<'a>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        let (obj, name) = self
            .value
            .take()
            .ok_or_else(|| DeError("value before key".into()))?;
        seed.deserialize(PyDe {
            obj,
            path: PathRef::Key(self.base, &name),
            failure: self.failure,
            known: self.known,
        })
    }
}

struct SeqDe<'a, 'p, I> {
    items: I,
    index: usize,
    base: &'p PathRef<'p>,
    failure: &'a Failure,
    known: &'a Known,
}

impl<'a, 'py, I> SeqAccess<'a> for SeqDe<'a, '_, I>
where
    I: Iterator<Item = Bound<'py, PyAny>>,
{
    type Error = DeError;

    fn next_element_seed<S: DeserializeSeed<'a>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, DeError> {
        let Some(obj) = self.items.next() else {
            return Ok(None);
        };
        let path = PathRef::Index(self.base, self.index);
        self.index += 1;
        seed.deserialize(PyDe {
            obj,
            path,
            failure: self.failure,
            known: self.known,
        })
        .map(Some)
    }
}

/// A map key (always a string).
struct StrDe<'a>(&'a str);

impl<'de> Deserializer<'de> for StrDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_str(self.0)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// A map key known to the model, borrowed.
struct BorrowedStrDe<'a>(&'a str);

impl<'de> Deserializer<'de> for BorrowedStrDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_borrowed_str(self.0)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}
