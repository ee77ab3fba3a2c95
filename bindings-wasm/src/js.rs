//! JavaScript values in and out: inputs become the text and numbers the core reads, results
//! become plain JS objects, and every core error becomes a JS `Error` with a `code`.
//!
//! Nothing here panics on any input: every conversion that can fail returns a coded error (see
//! the README's error-handling plan).

use jornada::{Error, Location, Timestamp};
use js_sys::{Array, Date, JsString, Object, Reflect, Uint8Array, JSON};
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

/// Longest accepted input text (a touchpoint, a model, JSON lines, saved state), in UTF-16
/// units, checked before the text is copied into WebAssembly memory.
pub const MAX_INPUT_CHARS: u32 = 32 * 1024 * 1024;

/// A core error as a JS `Error` named `JornadaError`, with `code` (one of `errorCodes()`), and
/// where known `path` (field path or the first model problem's JSON path), `index` (position
/// in a batch), `line` (JSON lines) and `problems` (every model problem: `{path, code,
/// message}`).
pub fn error(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("JornadaError");
    set(&err, "code", &e.code().into());
    if let Some(path) = e.path().filter(|p| !p.is_empty()) {
        set(&err, "path", &path.into());
    }
    if let Some(loc) = e.location() {
        if let Some(i) = loc.index {
            set(&err, "index", &(i as f64).into());
        }
        if let Some(l) = loc.line {
            set(&err, "line", &(l as f64).into());
        }
    }
    if let Error::InvalidModel { problems } = e {
        let list = Array::new();
        for p in problems {
            let o = Object::new();
            set(&o, "path", &p.path.as_str().into());
            set(&o, "code", &p.code.into());
            set(&o, "message", &p.message.as_str().into());
            list.push(&o);
        }
        set(&err, "problems", &list);
    }
    err.into()
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object or Error cannot fail; ignore the Result anyway.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// A core result as a JS result (errors as JS `Error`s).
pub fn coded<T>(r: Result<T, Error>) -> Result<T, JsValue> {
    r.map_err(|e| error(&e))
}

/// A result shape (see [`crate::shapes`]) as a plain JS object.
pub fn object<T: Serialize>(shape: &T) -> Result<JsValue, JsValue> {
    let text = coded(crate::shapes::json(shape))?;
    JSON::parse(&text)
}

fn describe(v: &JsValue) -> String {
    let text = match v.as_string() {
        Some(s) => s,
        None => format!("{v:?}"),
    };
    text.chars().take(80).collect()
}

fn thrown_message(e: &JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(err) => String::from(err.message()),
        None => describe(e),
    }
}

fn checked(s: &JsString, what: &str) -> Result<String, Error> {
    if s.length() > MAX_INPUT_CHARS {
        return Err(Error::Capacity {
            message: format!("{what} is longer than {MAX_INPUT_CHARS} characters"),
        });
    }
    Ok(String::from(s))
}

/// A string argument (customer id, channel, JSON lines...), length-checked.
pub fn string(v: &JsValue, field: &str) -> Result<String, Error> {
    match v.dyn_ref::<JsString>() {
        Some(s) => checked(s, field),
        None => Err(Error::WrongType {
            loc: Location::field(field),
            expected: format!("a string, got {}", describe(v)),
        }),
    }
}

/// The JSON text of an input given as JSON text (a string) or as a value (through
/// `JSON.stringify`, so a `Date` becomes RFC 3339 text and `undefined` fields are left out).
pub fn json_text(v: &JsValue, what: &str) -> Result<String, Error> {
    if let Some(s) = v.dyn_ref::<JsString>() {
        return checked(s, what);
    }
    let text: JsValue = JSON::stringify(v)
        .map_err(|e| Error::InvalidJson {
            loc: Location::default(),
            message: format!("{what} cannot be written as JSON: {}", thrown_message(&e)),
        })?
        .into();
    match text.dyn_ref::<JsString>() {
        Some(s) => checked(s, what),
        None => Err(Error::WrongType {
            loc: Location::default(),
            expected: format!("{what} as an object or JSON text, got {}", describe(v)),
        }),
    }
}

/// A point in time: epoch milliseconds (an integer number), RFC 3339 text or a `Date`.
pub fn timestamp(v: &JsValue, field: &str) -> Result<Timestamp, Error> {
    let invalid = || Error::InvalidTimestamp {
        loc: Location::field(field),
        value: describe(v),
    };
    let ms = if let Some(d) = v.dyn_ref::<Date>() {
        d.get_time()
    } else if let Some(n) = v.as_f64() {
        n
    } else if let Some(s) = v.dyn_ref::<JsString>() {
        return Timestamp::parse(&checked(s, field)?).ok_or_else(invalid);
    } else {
        return Err(Error::WrongType {
            loc: Location::field(field),
            expected: "epoch milliseconds, RFC 3339 text or a Date".into(),
        });
    };
    if !ms.is_finite() || ms.fract() != 0.0 {
        return Err(invalid());
    }
    // `as` saturates; out-of-range values are then refused by the range check.
    Timestamp::from_millis_checked(ms as i64).ok_or_else(invalid)
}

/// A boolean argument.
pub fn boolean(v: &JsValue, field: &str) -> Result<bool, Error> {
    v.as_bool().ok_or_else(|| Error::WrongType {
        loc: Location::field(field),
        expected: format!("true or false, got {}", describe(v)),
    })
}

/// The elements of an array argument.
pub fn array(v: &JsValue, field: &str) -> Result<Vec<JsValue>, Error> {
    match v.dyn_ref::<Array>() {
        Some(a) => Ok(a.iter().collect()),
        None => Err(Error::WrongType {
            loc: Location::field(field),
            expected: "an array".into(),
        }),
    }
}

/// The bytes of a `Uint8Array` argument.
pub fn bytes(v: &JsValue, field: &str) -> Result<Vec<u8>, Error> {
    match v.dyn_ref::<Uint8Array>() {
        Some(a) if a.length() <= MAX_INPUT_CHARS => Ok(a.to_vec()),
        Some(_) => Err(Error::Capacity {
            message: format!("{field} is longer than {MAX_INPUT_CHARS} bytes"),
        }),
        None => Err(Error::WrongType {
            loc: Location::field(field),
            expected: "a Uint8Array".into(),
        }),
    }
}

/// A model: a preset name (`"ecommerce"`), model JSON text, or a model object.
pub fn model(v: &JsValue) -> Result<jornada::Model, Error> {
    let text = json_text(v, "model")?;
    if v.is_string() && !text.trim_start().starts_with('{') {
        return jornada::Model::preset(text.trim());
    }
    jornada::Model::from_json(&text)
}
