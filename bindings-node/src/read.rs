//! Reading option objects and column arrays from JavaScript values, with the core's error codes:
//! a value of the wrong type is `wrong_type` naming its path (`options.window`,
//! `columns.at[3]`), a throwing getter or proxy is `invalid_value`.

use crate::args;
use crate::errors::{Failure, Res};
use jornada::{Error, Location, Timestamp};
use napi::bindgen_prelude::{FromNapiValue, Unknown};
use napi::{sys, JsValue, ValueType};
use std::ptr;

pub(crate) fn wrong_type(path: &str, expected: &str, v: &Unknown) -> Failure {
    Failure::Core(Error::WrongType {
        loc: Location::field(path),
        expected: format!("{expected}, got {}", args::type_name(v)),
    })
}

pub(crate) fn invalid(path: &str, message: String) -> Failure {
    Failure::Core(Error::InvalidValue {
        loc: Location::field(path),
        message,
    })
}

fn clear_exception(env: sys::napi_env) {
    let mut pending = false;
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    if pending {
        let mut exc = ptr::null_mut();
        unsafe { sys::napi_get_and_clear_last_exception(env, &mut exc) };
    }
}

/// Whether a value is `undefined` or `null` (an absent option).
pub(crate) fn absent(v: &Unknown) -> Res<bool> {
    Ok(matches!(
        v.get_type()?,
        ValueType::Undefined | ValueType::Null
    ))
}

/// An object of named options (absent: every option has its default).
pub(crate) struct Opts<'a> {
    env: sys::napi_env,
    obj: Option<sys::napi_value>,
    prefix: &'static str,
    _v: std::marker::PhantomData<&'a ()>,
}

impl<'a> Opts<'a> {
    /// `v` must be `undefined`, `null` or an object; `prefix` names it in errors (`options`).
    pub(crate) fn new(v: Option<&Unknown<'a>>, prefix: &'static str) -> Res<Opts<'a>> {
        let mut o = Opts {
            env: ptr::null_mut(),
            obj: None,
            prefix,
            _v: std::marker::PhantomData,
        };
        if let Some(v) = v {
            o.env = v.value().env;
            match v.get_type()? {
                ValueType::Undefined | ValueType::Null => {}
                ValueType::Object if !args::is_array(v) => o.obj = Some(v.raw()),
                _ => return Err(wrong_type(prefix, "an object of options", v)),
            }
        }
        Ok(o)
    }

    /// Like [`Opts::new`], but `undefined` and `null` are `wrong_type` too.
    pub(crate) fn required(v: &Unknown<'a>, prefix: &'static str) -> Res<Opts<'a>> {
        if absent(v)? {
            return Err(wrong_type(prefix, "an object", v));
        }
        Opts::new(Some(v), prefix)
    }

    pub(crate) fn path(&self, key: &str) -> String {
        format!("{}.{key}", self.prefix)
    }

    /// The option `key`, `None` when absent (`undefined` or `null`).
    pub(crate) fn get(&self, key: &str) -> Res<Option<Unknown<'a>>> {
        let Some(obj) = self.obj else {
            return Ok(None);
        };
        let mut out = ptr::null_mut();
        let name = std::ffi::CString::new(key).expect("option names have no NUL");
        let status =
            unsafe { sys::napi_get_named_property(self.env, obj, name.as_ptr(), &mut out) };
        if status != sys::Status::napi_ok {
            clear_exception(self.env);
            return Err(invalid(&self.path(key), "reading the option threw".into()));
        }
        let v = unsafe { Unknown::from_raw_unchecked(self.env, out) };
        Ok(if absent(&v)? { None } else { Some(v) })
    }

    /// Whether the option is present and explicitly `null` (as opposed to absent).
    pub(crate) fn is_null(&self, key: &str) -> Res<bool> {
        let Some(obj) = self.obj else {
            return Ok(false);
        };
        let mut out = ptr::null_mut();
        let name = std::ffi::CString::new(key).expect("option names have no NUL");
        let status =
            unsafe { sys::napi_get_named_property(self.env, obj, name.as_ptr(), &mut out) };
        if status != sys::Status::napi_ok {
            clear_exception(self.env);
            return Err(invalid(&self.path(key), "reading the option threw".into()));
        }
        let v = unsafe { Unknown::from_raw_unchecked(self.env, out) };
        Ok(v.get_type()? == ValueType::Null)
    }

    pub(crate) fn string(&self, key: &str) -> Res<Option<String>> {
        self.get(key)?
            .map(|v| args::string(&v, &self.path(key)))
            .transpose()
    }

    pub(crate) fn boolean(&self, key: &str) -> Res<Option<bool>> {
        self.get(key)?
            .map(|v| args::boolean(&v, &self.path(key)))
            .transpose()
    }

    pub(crate) fn strings(&self, key: &str) -> Res<Option<Vec<String>>> {
        self.get(key)?
            .map(|v| strings(&v, &self.path(key)))
            .transpose()
    }

    pub(crate) fn timestamp(&self, key: &str) -> Res<Option<Timestamp>> {
        self.get(key)?
            .map(|v| args::timestamp(&v, &self.path(key)))
            .transpose()
    }

    /// A whole number in `0..=max`.
    pub(crate) fn count(&self, key: &str, max: f64) -> Res<Option<f64>> {
        let Some(v) = self.get(key)? else {
            return Ok(None);
        };
        let x = number(&v, &self.path(key))?;
        if !(x.fract() == 0.0 && (0.0..=max).contains(&x)) {
            return Err(invalid(
                &self.path(key),
                format!("expected a whole number from 0 to {max}, got {x}"),
            ));
        }
        Ok(Some(x))
    }

    pub(crate) fn number(&self, key: &str) -> Res<Option<f64>> {
        self.get(key)?
            .map(|v| number(&v, &self.path(key)))
            .transpose()
    }
}

/// A finite number.
pub(crate) fn number(v: &Unknown, path: &str) -> Res<f64> {
    if v.get_type()? != ValueType::Number {
        return Err(wrong_type(path, "a number", v));
    }
    let x = unsafe { f64::from_napi_value(v.value().env, v.raw()) }?;
    if !x.is_finite() {
        return Err(invalid(path, format!("{x} is not a finite number")));
    }
    Ok(x)
}

/// The length of an array, or `wrong_type`.
pub(crate) fn array_len(v: &Unknown, path: &str, expected: &str) -> Res<u32> {
    if !args::is_array(v) {
        return Err(wrong_type(path, expected, v));
    }
    let mut n = 0u32;
    unsafe { sys::napi_get_array_length(v.value().env, v.raw(), &mut n) };
    Ok(n)
}

/// Element `i` of an array (a hole is `undefined`).
pub(crate) fn element<'a>(list: &Unknown<'a>, i: u32, path: &str) -> Res<Unknown<'a>> {
    let env = list.value().env;
    let mut out = ptr::null_mut();
    if unsafe { sys::napi_get_element(env, list.raw(), i, &mut out) } != sys::Status::napi_ok {
        clear_exception(env);
        return Err(invalid(
            &format!("{path}[{i}]"),
            "reading the element threw".into(),
        ));
    }
    Ok(unsafe { Unknown::from_raw_unchecked(env, out) })
}

/// An array of strings.
pub(crate) fn strings(v: &Unknown, path: &str) -> Res<Vec<String>> {
    let n = array_len(v, path, "an array of strings")?;
    (0..n)
        .map(|i| args::string(&element(v, i, path)?, &format!("{path}[{i}]")))
        .collect()
}

/// The kind and data of a typed array, if `v` is one.
pub(crate) fn typed_array(v: &Unknown) -> Option<(sys::napi_typedarray_type, *const u8, usize)> {
    let env = v.value().env;
    let mut yes = false;
    unsafe { sys::napi_is_typedarray(env, v.raw(), &mut yes) };
    if !yes {
        return None;
    }
    let (mut kind, mut len, mut data, mut ab, mut offset) =
        (0, 0usize, ptr::null_mut(), ptr::null_mut(), 0usize);
    unsafe {
        sys::napi_get_typedarray_info(
            env,
            v.raw(),
            &mut kind,
            &mut len,
            &mut data,
            &mut ab,
            &mut offset,
        )
    };
    Some((kind, data as *const u8, len))
}

/// Numbers from a `Float64Array` or an array of numbers (`null`/`undefined` is `NaN`, which
/// callers read as "missing").
pub(crate) fn f64s(v: &Unknown, path: &str) -> Res<Vec<f64>> {
    if let Some((kind, data, len)) = typed_array(v) {
        if kind != sys::TypedarrayType::float64_array {
            return Err(wrong_type(path, "a Float64Array or an array of numbers", v));
        }
        if len == 0 || data.is_null() {
            return Ok(Vec::new());
        }
        // The data of a Float64Array is 8-byte aligned; copy it out.
        let s = unsafe { std::slice::from_raw_parts(data as *const f64, len) };
        return Ok(s.to_vec());
    }
    let n = array_len(v, path, "a Float64Array or an array of numbers")?;
    (0..n)
        .map(|i| {
            let e = element(v, i, path)?;
            if absent(&e)? {
                Ok(f64::NAN)
            } else {
                number(&e, &format!("{path}[{i}]"))
            }
        })
        .collect()
}
