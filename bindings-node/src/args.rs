//! Arguments of any JavaScript type, checked here so that a wrong type is an `Error` with the
//! core's `wrong_type` code (not napi's own error codes).

use crate::errors::{Failure, Res};
use jornada::{Error, Location, Timestamp};
use napi::bindgen_prelude::{FromNapiValue, Unknown};
use napi::{sys, JsValue, ValueType};
use std::ptr;

use crate::read::wrong_type as wrong;

pub(crate) fn type_name(v: &Unknown) -> &'static str {
    match v.get_type() {
        Ok(ValueType::Undefined) => "undefined",
        Ok(ValueType::Null) => "null",
        Ok(ValueType::Boolean) => "a boolean",
        Ok(ValueType::Number) => "a number",
        Ok(ValueType::String) => "a string",
        Ok(ValueType::Object) => "an object",
        Ok(ValueType::Function) => "a function",
        Ok(ValueType::Symbol) => "a symbol",
        Ok(ValueType::BigInt) => "a BigInt",
        _ => "another type",
    }
}

/// A string argument.
pub(crate) fn string(v: &Unknown, field: &str) -> Res<String> {
    if v.get_type()? != ValueType::String {
        return Err(wrong(field, "a string", v));
    }
    Ok(unsafe { String::from_napi_value(v.value().env, v.raw()) }?)
}

/// A boolean argument.
pub(crate) fn boolean(v: &Unknown, field: &str) -> Res<bool> {
    if v.get_type()? != ValueType::Boolean {
        return Err(wrong(field, "a boolean", v));
    }
    Ok(unsafe { bool::from_napi_value(v.value().env, v.raw()) }?)
}

/// An event time: RFC 3339 text, epoch milliseconds (a whole number) or a `Date`.
pub(crate) fn timestamp(v: &Unknown, field: &str) -> Res<Timestamp> {
    let env = v.value().env;
    let invalid = |value: String| {
        Failure::Core(Error::InvalidTimestamp {
            loc: Location::field(field),
            value,
        })
    };
    let millis = |x: f64| {
        if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 {
            Timestamp::from_millis_checked(x as i64)
        } else {
            None
        }
    };
    match v.get_type()? {
        ValueType::String => {
            let s = string(v, field)?;
            Timestamp::parse(&s).ok_or_else(|| invalid(s.chars().take(80).collect()))
        }
        ValueType::Number => {
            let x = unsafe { f64::from_napi_value(env, v.raw()) }?;
            millis(x).ok_or_else(|| invalid(x.to_string()))
        }
        ValueType::Object if is_date(v) => {
            let mut x = 0.0;
            unsafe { sys::napi_get_date_value(env, v.raw(), &mut x) };
            millis(x).ok_or_else(|| invalid(format!("Date({x})")))
        }
        _ => Err(wrong(
            field,
            "an RFC 3339 string, epoch milliseconds or a Date",
            v,
        )),
    }
}

fn is_date(v: &Unknown) -> bool {
    let mut yes = false;
    unsafe { sys::napi_is_date(v.value().env, v.raw(), &mut yes) };
    yes
}

/// Whether the value is an array.
pub(crate) fn is_array(v: &Unknown) -> bool {
    let mut yes = false;
    unsafe { sys::napi_is_array(v.value().env, v.raw(), &mut yes) };
    yes
}

/// The bytes of a `Buffer`, `Uint8Array` or `ArrayBuffer`, borrowed for the current call.
///
/// # Safety
/// The slice must not outlive the JavaScript value (the current call).
pub(crate) unsafe fn bytes<'a>(v: &Unknown, field: &str) -> Res<&'a [u8]> {
    let env = v.value().env;
    let mut yes = false;
    let mut data: *mut std::ffi::c_void = ptr::null_mut();
    let mut len = 0usize;
    unsafe { sys::napi_is_typedarray(env, v.raw(), &mut yes) };
    if yes {
        let mut kind = 0;
        let mut ab = ptr::null_mut();
        let mut offset = 0usize;
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
        if kind != sys::TypedarrayType::uint8_array {
            return Err(wrong(field, "a Buffer or Uint8Array", v));
        }
    } else {
        unsafe { sys::napi_is_arraybuffer(env, v.raw(), &mut yes) };
        if !yes {
            return Err(wrong(field, "a Buffer, Uint8Array or ArrayBuffer", v));
        }
        unsafe { sys::napi_get_arraybuffer_info(env, v.raw(), &mut data, &mut len) };
    }
    if len == 0 || data.is_null() {
        return Ok(&[]);
    }
    Ok(unsafe { std::slice::from_raw_parts(data as *const u8, len) })
}
