//! JavaScript touchpoint values to their canonical JSON text.
//!
//! The binding hands touchpoints to the core in the core's canonical JSON form, so every rule about
//! what a touchpoint may hold (fields, identity kinds, types, lengths, unknown fields) is the
//! core's own. This module only writes a JavaScript value as JSON, the way `JSON.stringify` would,
//! with these differences: a `Date` is written as its epoch milliseconds, a `BigInt` as an
//! integer, a whole number as an integer, and values JSON cannot hold (`NaN`, `Infinity`, an
//! invalid `Date`, functions, symbols) are conversion errors that name their field instead of
//! silently becoming `null` or vanishing. `undefined` means absent, as in `JSON.stringify`.
//!
//! The touchpoint format has no nested values, so containers below the touchpoint's own fields
//! (an object inside `properties`, any array, any typed array or buffer) are written empty: the
//! core rejects them by their type and never reads their contents. This bounds the work and the
//! recursion for any input (deeply nested or cyclic objects, huge arrays).
//!
//! Reading a value can run user code (getters, proxies); an exception it throws is caught and
//! becomes a conversion error of that touchpoint.

use jornada::{Error, Location};
use napi::sys;
use std::ptr;

/// Why a value could not be written.
pub(crate) struct Fail(pub Error);

/// The writer's per-call state: reusable buffers.
#[derive(Default)]
pub(crate) struct Writer {
    /// Scratch for strings read from JavaScript.
    text: Vec<u8>,
    /// The path of the field being written (`properties.rating`).
    path: String,
}

/// Largest integer written as an integer (2^53, the limit of exact integers in a double).
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

fn ok(status: sys::napi_status) -> bool {
    status == sys::Status::napi_ok
}

impl Writer {
    /// Writes one touchpoint (any JavaScript value) as one line of JSON, without the newline.
    /// On failure nothing is appended.
    ///
    /// # Safety
    /// `env` and `value` must be valid for the current call on the JavaScript thread.
    pub(crate) unsafe fn touchpoint(
        &mut self,
        env: sys::napi_env,
        value: sys::napi_value,
        out: &mut Vec<u8>,
    ) -> Result<(), Fail> {
        let start = out.len();
        self.path.clear();
        let r = unsafe { self.value(env, value, 0, out) }.map(|written| {
            if !written {
                out.extend_from_slice(b"null");
            }
        });
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    /// Writes a value; `Ok(false)` (nothing written) for `undefined`.
    unsafe fn value(
        &mut self,
        env: sys::napi_env,
        v: sys::napi_value,
        depth: u8,
        out: &mut Vec<u8>,
    ) -> Result<bool, Fail> {
        let mut t = 0;
        self.check(env, unsafe { sys::napi_typeof(env, v, &mut t) })?;
        match t {
            sys::ValueType::napi_undefined => return Ok(false),
            sys::ValueType::napi_null => out.extend_from_slice(b"null"),
            sys::ValueType::napi_boolean => {
                let mut b = false;
                self.check(env, unsafe { sys::napi_get_value_bool(env, v, &mut b) })?;
                out.extend_from_slice(if b { b"true" } else { b"false" });
            }
            sys::ValueType::napi_number => {
                let mut x = 0.0;
                self.check(env, unsafe { sys::napi_get_value_double(env, v, &mut x) })?;
                self.number(x, "a number", out)?;
            }
            sys::ValueType::napi_string => {
                unsafe { self.read_string(env, v) }?;
                write_json_string(&self.text, out);
            }
            sys::ValueType::napi_bigint => {
                let mut i = 0i64;
                let mut lossless = false;
                self.check(env, unsafe {
                    sys::napi_get_value_bigint_int64(env, v, &mut i, &mut lossless)
                })?;
                if lossless {
                    push_display(out, i);
                } else {
                    let mut u = 0u64;
                    self.check(env, unsafe {
                        sys::napi_get_value_bigint_uint64(env, v, &mut u, &mut lossless)
                    })?;
                    if !lossless {
                        return Err(self.invalid("a BigInt beyond 64 bits"));
                    }
                    push_display(out, u);
                }
            }
            sys::ValueType::napi_object => unsafe { self.object(env, v, depth, out) }?,
            sys::ValueType::napi_function => return Err(self.wrong("a function")),
            sys::ValueType::napi_symbol => return Err(self.wrong("a symbol")),
            _ => return Err(self.wrong("an external value")),
        }
        Ok(true)
    }

    unsafe fn object(
        &mut self,
        env: sys::napi_env,
        v: sys::napi_value,
        depth: u8,
        out: &mut Vec<u8>,
    ) -> Result<(), Fail> {
        let mut yes = false;
        self.check(env, unsafe { sys::napi_is_array(env, v, &mut yes) })?;
        if yes {
            out.extend_from_slice(b"[]");
            return Ok(());
        }
        self.check(env, unsafe { sys::napi_is_date(env, v, &mut yes) })?;
        if yes {
            let mut ms = 0.0;
            self.check(env, unsafe { sys::napi_get_date_value(env, v, &mut ms) })?;
            return self.number(ms, "a Date", out);
        }
        for check in [
            sys::napi_is_typedarray,
            sys::napi_is_arraybuffer,
            sys::napi_is_dataview,
        ] {
            self.check(env, unsafe { check(env, v, &mut yes) })?;
            if yes {
                out.extend_from_slice(b"{}");
                return Ok(());
            }
        }
        if depth >= 2 {
            out.extend_from_slice(b"{}");
            return Ok(());
        }
        let mut names = ptr::null_mut();
        self.check(env, unsafe {
            sys::napi_get_all_property_names(
                env,
                v,
                sys::KeyCollectionMode::own_only,
                sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
                sys::KeyConversion::numbers_to_strings,
                &mut names,
            )
        })?;
        let mut n = 0u32;
        self.check(env, unsafe {
            sys::napi_get_array_length(env, names, &mut n)
        })?;
        out.push(b'{');
        let mut first = true;
        let path_len = self.path.len();
        for i in 0..n {
            let mut key = ptr::null_mut();
            self.check(env, unsafe {
                sys::napi_get_element(env, names, i, &mut key)
            })?;
            let mut val = ptr::null_mut();
            self.check(env, unsafe {
                sys::napi_get_property(env, v, key, &mut val)
            })?;
            unsafe { self.read_string(env, key) }?;
            if !self.path.is_empty() {
                self.path.push('.');
            }
            self.path.push_str(&String::from_utf8_lossy(&self.text));
            let mark = out.len();
            if !first {
                out.push(b',');
            }
            write_json_string(&self.text, out);
            out.push(b':');
            let written = unsafe { self.value(env, val, depth + 1, out) }?;
            if written {
                first = false;
            } else {
                out.truncate(mark);
            }
            self.path.truncate(path_len);
        }
        out.push(b'}');
        Ok(())
    }

    fn number(&self, x: f64, what: &str, out: &mut Vec<u8>) -> Result<(), Fail> {
        if !x.is_finite() {
            let shown = if x.is_nan() {
                "NaN".to_string()
            } else {
                x.to_string()
            };
            if self.path == "at" {
                return Err(Fail(Error::InvalidTimestamp {
                    loc: Location::field("at"),
                    value: shown,
                }));
            }
            return Err(self.invalid(&format!("{what} that is not finite ({shown})")));
        }
        if x.fract() == 0.0 && x.abs() <= MAX_EXACT {
            push_display(out, x as i64);
        } else {
            // serde_json writes finite doubles exactly (shortest round-trip form).
            serde_json::to_writer(&mut *out, &x).expect("a finite double writes");
        }
        Ok(())
    }

    /// Reads a JavaScript string as UTF-8 into `self.text`.
    unsafe fn read_string(&mut self, env: sys::napi_env, v: sys::napi_value) -> Result<(), Fail> {
        let mut len = 0usize;
        self.check(env, unsafe {
            sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len)
        })?;
        self.text.clear();
        self.text.reserve(len + 1);
        let mut written = 0usize;
        let status = unsafe {
            sys::napi_get_value_string_utf8(
                env,
                v,
                self.text.as_mut_ptr().cast(),
                len + 1,
                &mut written,
            )
        };
        self.check(env, status)?;
        // SAFETY: napi wrote `written` (<= len) bytes into the reserved capacity.
        unsafe { self.text.set_len(written.min(len)) };
        if std::str::from_utf8(&self.text).is_err() {
            self.text = String::from_utf8_lossy(&self.text)
                .into_owned()
                .into_bytes();
        }
        Ok(())
    }

    /// Turns a failed napi call into a conversion error; a pending JavaScript exception (a
    /// throwing getter or proxy trap) is cleared and its message kept.
    fn check(&self, env: sys::napi_env, status: sys::napi_status) -> Result<(), Fail> {
        if ok(status) {
            return Ok(());
        }
        let mut message = format!("reading it failed (napi status {status})");
        let mut pending = false;
        if ok(unsafe { sys::napi_is_exception_pending(env, &mut pending) }) && pending {
            let mut exc = ptr::null_mut();
            if ok(unsafe { sys::napi_get_and_clear_last_exception(env, &mut exc) }) {
                message = format!("reading it threw: {}", unsafe { describe(env, exc) });
            }
        }
        Err(self.invalid(&message))
    }

    fn loc(&self) -> Location {
        Location::field(self.path.clone())
    }

    fn wrong(&self, got: &str) -> Fail {
        Fail(Error::WrongType {
            loc: self.loc(),
            expected: format!("a JSON value (string, number, boolean, null, object), got {got}"),
        })
    }

    fn invalid(&self, message: &str) -> Fail {
        Fail(Error::InvalidValue {
            loc: self.loc(),
            message: message.to_string(),
        })
    }
}

/// `String(value)` of a thrown value, at most 200 bytes; never fails.
unsafe fn describe(env: sys::napi_env, v: sys::napi_value) -> String {
    let mut s = ptr::null_mut();
    if !ok(unsafe { sys::napi_coerce_to_string(env, v, &mut s) }) {
        let mut pending = false;
        if ok(unsafe { sys::napi_is_exception_pending(env, &mut pending) }) && pending {
            let mut exc = ptr::null_mut();
            unsafe { sys::napi_get_and_clear_last_exception(env, &mut exc) };
        }
        return "an exception".into();
    }
    let mut buf = [0u8; 201];
    let mut len = 0usize;
    if !ok(unsafe {
        sys::napi_get_value_string_utf8(env, s, buf.as_mut_ptr().cast(), buf.len(), &mut len)
    }) {
        return "an exception".into();
    }
    String::from_utf8_lossy(&buf[..len.min(200)]).into_owned()
}

fn push_display(out: &mut Vec<u8>, n: impl std::fmt::Display) {
    use std::io::Write;
    write!(out, "{n}").expect("writing to a Vec cannot fail");
}

/// Writes `s` (UTF-8) as a JSON string literal.
fn write_json_string(s: &[u8], out: &mut Vec<u8>) {
    if s.iter().all(|&b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s);
        out.push(b'"');
    } else {
        let text = std::str::from_utf8(s).expect("read_string keeps UTF-8");
        serde_json::to_writer(&mut *out, text).expect("a string writes");
    }
}
