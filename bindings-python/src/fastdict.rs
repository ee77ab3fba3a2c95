//! The fast path of `Engine.ingest(dict)`: the usual touchpoint dict converted straight into a
//! borrowed [`Row`] for [`jornada::Engine::ingest_row`], in one walk of the dict with
//! `PyDict_Next` (borrowed references, no list of items, text borrowed from the `str` objects).
//!
//! It only converts; every check is the core's (`ingest_row`). It takes the dicts whose
//! conversion is plain: an exact `dict` whose keys are exact `str`s naming a field
//! (`id`, `channel`, `kind`, `at`, `value`, `properties` or an identity kind of the model) and
//! whose values have the usual types: `str` (`None` where a field may be null), `at` as a `str`,
//! an `int` or a `datetime`, `value` as an `int` or `float`, `properties` a `dict` of `str`,
//! `bool`, `int`, `float` or `None`. Anything else is [`Conv::General`]: the caller takes the
//! general path ([`crate::pyde`]), which reads every dict and reports every error. When
//! `ingest_row` rejects a converted row before changing anything ([`Row::check`] fails), the caller
//! also takes the general path, so an error is always the one the general path gives (the JSON
//! rules report the first bad field in dict order, with their own messages).

use crate::time::{datetime_text, is_datetime};
use jornada::batch::Row;
use jornada::{PropValue, Timestamp};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;
use std::ffi::c_char;

/// Most identity keys the fast path takes in one dict (more take the general path).
const MAX_KEYS: usize = 4;

/// What a top-level key names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Id,
    Channel,
    Kind,
    At,
    Value,
    Properties,
    /// An identity kind (index into [`FastDict::names`]).
    Identity,
}

struct Name {
    /// The interned name: most keys are this very object (string literals are interned).
    object: Py<PyString>,
    slot: Slot,
    name: Box<str>,
    /// The name's hash (`hash(name)`, the same for every equal `str` in this process).
    hash: ffi::Py_hash_t,
}

/// The field names of one model, built once per engine.
pub struct FastDict {
    names: Vec<Name>,
    /// Whether this Python has `PyUnicode_AsUTF8AndSize` in its stable ABI (3.10+). On 3.9
    /// every dict takes the general path.
    enabled: bool,
}

// `PyUnicode_AsUTF8AndSize` is in the stable ABI from Python 3.10; the wheel is built for 3.9+
// (`abi3-py39`), so pyo3 does not declare it. It is only called when the running Python is
// 3.10 or later ([`FastDict::enabled`]).
extern "C" {
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut ffi::PyObject,
        size: *mut ffi::Py_ssize_t,
    ) -> *const c_char;
}

/// The result of converting a dict.
pub enum Conv<'py> {
    /// Take the general path.
    General,
    /// `at` is a `datetime`: convert it (Python code), then walk again with its time.
    Time(Bound<'py, PyAny>),
    /// The row's parts are filled in.
    Row,
}

/// Storage of a converted row (a [`Row`] borrows it).
pub struct Parts<'a> {
    id: Option<&'a str>,
    keys: [(&'a str, &'a str); MAX_KEYS],
    nkeys: usize,
    channel: Option<&'a str>,
    kind: Option<&'a str>,
    at: Option<Timestamp>,
    value: Option<f64>,
    properties: Vec<(&'a str, PropValue)>,
}

impl<'a> Parts<'a> {
    /// No parts yet, `at` given (a `datetime` already converted) or not.
    pub fn new(at: Option<Timestamp>) -> Self {
        Parts {
            id: None,
            keys: [("", ""); MAX_KEYS],
            nkeys: 0,
            channel: None,
            kind: None,
            at,
            value: None,
            properties: Vec::new(),
        }
    }

    /// The row.
    pub fn row(&self) -> Row<'_> {
        Row {
            id: self.id,
            keys: &self.keys[..self.nkeys],
            channel: self.channel,
            kind: self.kind,
            at: self.at,
            value: self.value,
            properties: &self.properties,
        }
    }
}

/// The text of an exact `str`, borrowed, or `None` (and no exception) when it has none
/// (a lone surrogate).
///
/// # Safety
/// `obj` is a live exact `str`, the GIL is held, and the caller keeps the object alive and runs
/// no Python code for `'a`.
#[inline]
unsafe fn utf8<'a>(obj: *mut ffi::PyObject) -> Option<&'a str> {
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: `obj` is a `str` (caller); the call only reads it (and caches its UTF-8 form in it).
    let p = unsafe { PyUnicode_AsUTF8AndSize(obj, &mut size) };
    if p.is_null() {
        // SAFETY: the GIL is held; the exception is that of the call above.
        unsafe { ffi::PyErr_Clear() };
        return None;
    }
    // SAFETY: CPython returns `size` bytes of valid UTF-8 owned by `obj`, which lives for `'a`.
    Some(unsafe {
        std::str::from_utf8_unchecked(std::slice::from_raw_parts(p.cast(), size as usize))
    })
}

/// The value of an exact `int` that fits an `i64`.
///
/// # Safety
/// `obj` is a live exact `int` and the GIL is held.
#[inline]
unsafe fn int(obj: *mut ffi::PyObject) -> Option<i64> {
    let mut overflow = 0;
    // SAFETY: `obj` is an `int`, so the only failure is an overflow, reported in `overflow`.
    let i = unsafe { ffi::PyLong_AsLongLongAndOverflow(obj, &mut overflow) };
    if overflow != 0 {
        return None;
    }
    if i == -1 && unsafe { !ffi::PyErr_Occurred().is_null() } {
        // SAFETY: the GIL is held.
        unsafe { ffi::PyErr_Clear() };
        return None;
    }
    Some(i)
}

/// `value`: an exact `int` (fitting an `i64`) or `float`.
///
/// # Safety
/// `obj` is a live object and the GIL is held.
#[inline]
unsafe fn number(obj: *mut ffi::PyObject) -> Option<f64> {
    // SAFETY: type checks and reads of a live object (caller).
    unsafe {
        if ffi::PyFloat_CheckExact(obj) != 0 {
            Some(ffi::PyFloat_AsDouble(obj))
        } else if ffi::PyLong_CheckExact(obj) != 0 {
            int(obj).map(|i| i as f64)
        } else {
            None
        }
    }
}

/// A property value, `Ok(None)` for `None` (skipped, as `null` in JSON), `Err(())` for a type
/// the fast path does not take.
///
/// # Safety
/// As [`utf8`].
#[inline]
unsafe fn property(obj: *mut ffi::PyObject) -> Result<Option<PropValue>, ()> {
    // SAFETY: type checks and reads of a live object (caller).
    unsafe {
        if ffi::Py_IsNone(obj) != 0 {
            Ok(None)
        } else if ffi::PyUnicode_CheckExact(obj) != 0 {
            utf8(obj).map(|s| Some(PropValue::Str(s.into()))).ok_or(())
        } else if ffi::PyBool_Check(obj) != 0 {
            Ok(Some(PropValue::Bool(obj == ffi::Py_True())))
        } else {
            number(obj).map(|x| Some(PropValue::Num(x))).ok_or(())
        }
    }
}

impl FastDict {
    /// The field names of a model.
    pub fn new(py: Python<'_>, model: &jornada::Model) -> FastDict {
        let fixed = [
            ("id", Slot::Id),
            ("channel", Slot::Channel),
            ("kind", Slot::Kind),
            ("at", Slot::At),
            ("value", Slot::Value),
            ("properties", Slot::Properties),
        ];
        let mut names: Vec<Name> = Vec::new();
        let all = fixed
            .into_iter()
            .chain(model.identity_kind_names().map(|n| (n, Slot::Identity)));
        for (n, slot) in all {
            // A fixed name first: an identity kind of the same name is never read as one (the
            // core's JSON rules read the field as the fixed one too).
            if names.iter().any(|k| &*k.name == n) {
                continue;
            }
            let object = PyString::intern(py, n);
            // SAFETY: `object` is a live `str`; hashing one cannot fail.
            let hash = unsafe { ffi::PyObject_Hash(object.as_ptr()) };
            names.push(Name {
                object: object.unbind(),
                slot,
                name: n.into(),
                hash,
            });
        }
        FastDict {
            names,
            enabled: py.version_info() >= (3, 10),
        }
    }

    /// The field a key names: by identity with the interned name (string literals), else by
    /// hash and text (a dict's keys have their hash computed already, so this is a read).
    ///
    /// # Safety
    /// `key` is a live exact `str` and the GIL is held.
    #[inline]
    unsafe fn name(&self, key: *mut ffi::PyObject) -> Option<&Name> {
        if let Some(n) = self.names.iter().find(|n| n.object.as_ptr() == key) {
            return Some(n);
        }
        // SAFETY: hashing and comparing live `str`s (caller) cannot fail or run Python code.
        let hash = unsafe { ffi::PyObject_Hash(key) };
        self.names.iter().find(|n| {
            n.hash == hash && unsafe { ffi::PyUnicode_Compare(key, n.object.as_ptr()) == 0 }
        })
    }

    /// Converts a touchpoint dict into `parts` (new, from [`Parts::new`]: with `at` given, the
    /// time of a `datetime` already converted, the second walk after [`Conv::Time`]).
    ///
    /// The parts borrow text from the dict's `str` objects: the caller runs no Python code
    /// while it uses them (the walk itself runs none).
    pub fn convert<'a, 'py>(
        &'a self,
        obj: &'a Bound<'py, PyAny>,
        parts: &mut Parts<'a>,
    ) -> Conv<'py> {
        if !self.enabled {
            return Conv::General;
        }
        let d = obj.as_ptr();
        // SAFETY: `obj` is a live object and the GIL is held (`Bound`).
        if unsafe { ffi::PyDict_CheckExact(d) } == 0 {
            return Conv::General;
        }
        let at = parts.at;
        let mut pos: ffi::Py_ssize_t = 0;
        let mut k: *mut ffi::PyObject = std::ptr::null_mut();
        let mut v: *mut ffi::PyObject = std::ptr::null_mut();
        // SAFETY (whole loop): `d` is an exact dict; `PyDict_Next` gives borrowed references to
        // its live keys and values, which stay alive while the dict is unchanged; nothing here
        // runs Python code (only type checks and reads of exact built-in types), so the dict is
        // unchanged while the parts are used (the caller's promise).
        unsafe {
            while ffi::PyDict_Next(d, &mut pos, &mut k, &mut v) != 0 {
                if ffi::PyUnicode_CheckExact(k) == 0 {
                    return Conv::General;
                }
                let Some(name) = self.name(k) else {
                    return Conv::General;
                };
                let none = ffi::Py_IsNone(v) != 0;
                let is_str = ffi::PyUnicode_CheckExact(v) != 0;
                match name.slot {
                    Slot::Channel | Slot::Kind if is_str => {
                        let Some(s) = utf8(v) else {
                            return Conv::General;
                        };
                        if name.slot == Slot::Channel {
                            parts.channel = Some(s);
                        } else {
                            parts.kind = Some(s);
                        }
                    }
                    Slot::Id | Slot::Identity if none => {}
                    Slot::Id | Slot::Identity if is_str => {
                        let Some(s) = utf8(v) else {
                            return Conv::General;
                        };
                        if name.slot == Slot::Id {
                            parts.id = Some(s);
                        } else {
                            if parts.nkeys == MAX_KEYS {
                                return Conv::General;
                            }
                            parts.keys[parts.nkeys] = (&name.name, s);
                            parts.nkeys += 1;
                        }
                    }
                    Slot::At if at.is_some() => {}
                    Slot::At if is_str => match utf8(v).and_then(Timestamp::parse) {
                        Some(t) => parts.at = Some(t),
                        None => return Conv::General,
                    },
                    Slot::At if ffi::PyLong_CheckExact(v) != 0 => match int(v) {
                        Some(ms) => parts.at = Some(Timestamp(ms)),
                        None => return Conv::General,
                    },
                    Slot::At if !none && ffi::PyFloat_CheckExact(v) == 0 => {
                        // Perhaps a datetime: checked and converted outside the walk.
                        return Conv::Time(Bound::from_borrowed_ptr(obj.py(), v));
                    }
                    Slot::Value if none => {}
                    Slot::Value => match number(v) {
                        Some(x) => parts.value = Some(x),
                        None => return Conv::General,
                    },
                    Slot::Properties if none => {}
                    Slot::Properties if ffi::PyDict_CheckExact(v) != 0 => {
                        if !self.properties(v, &mut parts.properties) {
                            return Conv::General;
                        }
                    }
                    _ => return Conv::General,
                }
            }
        }
        Conv::Row
    }

    /// The entries of a `properties` dict; `false` for one the fast path does not take.
    ///
    /// # Safety
    /// `d` is a live exact dict, the GIL is held, and the dict stays unchanged while `out` is
    /// used.
    unsafe fn properties(&self, d: *mut ffi::PyObject, out: &mut Vec<(&str, PropValue)>) -> bool {
        let mut pos: ffi::Py_ssize_t = 0;
        let mut k: *mut ffi::PyObject = std::ptr::null_mut();
        let mut v: *mut ffi::PyObject = std::ptr::null_mut();
        // SAFETY: as in `convert`.
        unsafe {
            out.reserve(ffi::PyDict_Size(d).max(0) as usize);
            while ffi::PyDict_Next(d, &mut pos, &mut k, &mut v) != 0 {
                if ffi::PyUnicode_CheckExact(k) == 0 {
                    return false;
                }
                let Some(name) = utf8(k) else {
                    return false;
                };
                match property(v) {
                    Ok(Some(p)) => out.push((name, p)),
                    Ok(None) => {}
                    Err(()) => return false,
                }
            }
        }
        true
    }
}

/// The time of a `datetime` given as `at` (as the general path reads it), or `None` for any
/// other object or any failure (the general path then reports it).
pub fn datetime_time(obj: &Bound<'_, PyAny>) -> Option<Timestamp> {
    if !is_datetime(obj).ok()? {
        return None;
    }
    Timestamp::parse(&datetime_text(obj).ok()?)
}
