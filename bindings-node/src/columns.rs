//! `ingestColumns`: touchpoints as columns (one array per field) instead of one object each.
//!
//! Reading a list of objects costs about six Node-API calls per field (property names, lookups,
//! types, string lengths and copies); a column of strings costs two per cell
//! (`napi_get_element`, `napi_get_value_string_utf8` into a reused buffer) and a `Float64Array`
//! none. Rows are written as lines of canonical JSON and go to the core's `ingest_json_lines`,
//! so parsing, validation and batch semantics are the core's, as for `ingestMany`.

use crate::errors::{Failure, Res};
use crate::read::{self, invalid, wrong_type, Opts};
use jornada::{Engine, Error, Location, Timestamp};
use napi::bindgen_prelude::{FromNapiValue, JsObjectValue, Object, Unknown};
use napi::{sys, JsValue, ValueType};
use std::ptr;

/// One input column.
enum Col {
    /// Strings (or integer ids written as numbers); `None` is absent.
    Text(Vec<Option<String>>),
    /// JSON numbers already written (`None` absent): `at` as integer milliseconds, `value`.
    Raw(Vec<Option<String>>),
}

/// Reads a string cell into `buf` (reused); `Ok(false)` when the cell is not a string.
///
/// # Safety
/// `env` and `v` must be valid for the current call.
unsafe fn string_cell(env: sys::napi_env, v: sys::napi_value, buf: &mut Vec<u8>) -> bool {
    if buf.len() < 256 {
        buf.resize(256, 0);
    }
    let mut len = 0usize;
    let st = unsafe {
        sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr() as *mut _, buf.len(), &mut len)
    };
    if st != sys::Status::napi_ok {
        return false;
    }
    if len + 1 >= buf.len() {
        // Possibly truncated: ask for the length, then copy it all.
        unsafe { sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len) };
        buf.resize(len + 1, 0);
        unsafe {
            sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr() as *mut _, buf.len(), &mut len)
        };
    }
    buf.truncate(len);
    true
}

fn text_column(v: &Unknown, path: &str) -> Res<Vec<Option<String>>> {
    let env = v.value().env;
    let n = read::array_len(v, path, "an array of strings")?;
    let mut out = Vec::with_capacity(n as usize);
    let mut buf = Vec::new();
    for i in 0..n {
        let e = read::element(v, i, path)?;
        if unsafe { string_cell(env, e.raw(), &mut buf) } {
            out.push(Some(String::from_utf8_lossy(&buf).into_owned()));
            continue;
        }
        match e.get_type()? {
            ValueType::Undefined | ValueType::Null => out.push(None),
            ValueType::Number => {
                let x = read::number(&e, &format!("{path}[{i}]"))?;
                if x.fract() != 0.0 || x.abs() >= 9.0e15 {
                    return Err(invalid(
                        &format!("{path}[{i}]"),
                        format!("{x} is not a whole number"),
                    ));
                }
                out.push(Some((x as i64).to_string()));
            }
            _ => return Err(wrong_type(&format!("{path}[{i}]"), "a string", &e)),
        }
    }
    Ok(out)
}

fn time_column(v: &Unknown, path: &str) -> Res<Vec<Option<String>>> {
    let bad = |i: usize, value: String| {
        Failure::Core(Error::InvalidTimestamp {
            loc: Location {
                index: Some(i),
                line: None,
                field: path.into(),
            },
            value,
        })
    };
    if read::typed_array(v).is_some() {
        return read::f64s(v, path)?
            .into_iter()
            .enumerate()
            .map(|(i, x)| {
                if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 {
                    Timestamp::from_millis_checked(x as i64)
                } else {
                    None
                }
                .map(|t| Some(t.0.to_string()))
                .ok_or_else(|| bad(i, x.to_string()))
            })
            .collect();
    }
    let n = read::array_len(v, path, "a Float64Array or an array of times")?;
    (0..n)
        .map(|i| {
            let e = read::element(v, i, path)?;
            Ok(Some(
                crate::args::timestamp(&e, &format!("{path}[{i}]"))?
                    .0
                    .to_string(),
            ))
        })
        .collect()
}

fn number_column(v: &Unknown, path: &str) -> Res<Vec<Option<String>>> {
    Ok(read::f64s(v, path)?
        .into_iter()
        .map(|x| (!x.is_nan()).then(|| json_number(x)))
        .collect())
}

fn json_number(x: f64) -> String {
    // Finite numbers only reach here (`f64s` rejects the others, `NaN` is absent).
    serde_json::to_string(&x).unwrap_or_else(|_| "null".into())
}

/// A property column: strings, numbers or booleans (mixed types go to the core, which rejects
/// them per row), `null`/`undefined` absent; or a `Float64Array` (`NaN` absent).
fn prop_column(v: &Unknown, path: &str) -> Res<Vec<Option<String>>> {
    if read::typed_array(v).is_some() {
        return number_column(v, path);
    }
    let env = v.value().env;
    let n = read::array_len(v, path, "an array of strings, numbers or booleans")?;
    let mut out = Vec::with_capacity(n as usize);
    let mut buf = Vec::new();
    for i in 0..n {
        let e = read::element(v, i, path)?;
        if unsafe { string_cell(env, e.raw(), &mut buf) } {
            let s = String::from_utf8_lossy(&buf);
            out.push(Some(
                serde_json::to_string(&*s).expect("a string serializes"),
            ));
            continue;
        }
        let p = format!("{path}[{i}]");
        out.push(match e.get_type()? {
            ValueType::Undefined | ValueType::Null => None,
            ValueType::Number => Some(json_number(read::number(&e, &p)?)),
            ValueType::Boolean => Some(crate::args::boolean(&e, &p)?.to_string()),
            _ => return Err(wrong_type(&p, "a string, number, boolean or null", &e)),
        });
    }
    Ok(out)
}

fn keys(obj: &Unknown, path: &str) -> Res<Vec<String>> {
    let o = unsafe { Object::from_napi_value(obj.value().env, obj.raw()) }?;
    let names = o.get_property_names()?;
    let names = unsafe { Unknown::from_raw_unchecked(obj.value().env, names.raw()) };
    read::strings(&names, path)
}

/// The rows of `columns` as lines of canonical JSON (one per row, each ending in `\n`).
pub(crate) fn lines(columns: &Unknown) -> Res<Vec<u8>> {
    let o = Opts::required(columns, "columns")?;
    let mut cols: Vec<(String, Col)> = Vec::new();
    let mut props: Vec<(String, Vec<Option<String>>)> = Vec::new();
    for key in keys(columns, "columns")? {
        let Some(v) = o.get(&key)? else { continue };
        let path = o.path(&key);
        match key.as_str() {
            "at" => cols.push((key, Col::Raw(time_column(&v, &path)?))),
            "value" => cols.push((key, Col::Raw(number_column(&v, &path)?))),
            "properties" => {
                let po = Opts::required(&v, "columns.properties")?;
                for name in keys(&v, "columns.properties")? {
                    if let Some(c) = po.get(&name)? {
                        props.push((name.clone(), prop_column(&c, &po.path(&name))?));
                    }
                }
            }
            _ => cols.push((key, Col::Text(text_column(&v, &path)?))),
        }
    }
    let len = |c: &Col| match c {
        Col::Text(v) | Col::Raw(v) => v.len(),
    };
    let n = cols
        .first()
        .map(|(_, c)| len(c))
        .or_else(|| props.first().map(|(_, p)| p.len()))
        .unwrap_or(0);
    for (name, c) in &cols {
        if len(c) != n {
            return Err(invalid(
                &format!("columns.{name}"),
                format!("has {} rows, the first column {n}", len(c)),
            ));
        }
    }
    for (name, p) in &props {
        if p.len() != n {
            return Err(invalid(
                &format!("columns.properties.{name}"),
                format!("has {} rows, the first column {n}", p.len()),
            ));
        }
    }
    let keys: Vec<String> = cols
        .iter()
        .map(|(k, _)| serde_json::to_string(k).expect("a string serializes"))
        .collect();
    let pkeys: Vec<String> = props
        .iter()
        .map(|(k, _)| serde_json::to_string(k).expect("a string serializes"))
        .collect();
    let mut out = Vec::with_capacity(n * 96);
    for row in 0..n {
        out.push(b'{');
        let mut first = true;
        let mut sep = |out: &mut Vec<u8>| {
            if !first {
                out.push(b',');
            }
            first = false;
        };
        for ((_, c), k) in cols.iter().zip(&keys) {
            match c {
                Col::Text(v) => {
                    if let Some(s) = &v[row] {
                        sep(&mut out);
                        out.extend_from_slice(k.as_bytes());
                        out.push(b':');
                        serde_json::to_writer(&mut out, s).expect("writing to a Vec");
                    }
                }
                Col::Raw(v) => {
                    if let Some(s) = &v[row] {
                        sep(&mut out);
                        out.extend_from_slice(k.as_bytes());
                        out.push(b':');
                        out.extend_from_slice(s.as_bytes());
                    }
                }
            }
        }
        if props.iter().any(|(_, p)| p[row].is_some()) {
            sep(&mut out);
            out.extend_from_slice(b"\"properties\":{");
            let mut pfirst = true;
            for ((_, p), k) in props.iter().zip(&pkeys) {
                if let Some(s) = &p[row] {
                    if !pfirst {
                        out.push(b',');
                    }
                    pfirst = false;
                    out.extend_from_slice(k.as_bytes());
                    out.push(b':');
                    out.extend_from_slice(s.as_bytes());
                }
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"}\n");
    }
    Ok(out)
}

/// Applies the lines in one core call; rejections carry row indexes (no line numbers).
pub(crate) fn apply(engine: &mut Engine, lines: &[u8]) -> jornada::Outcome {
    let mut out = engine.ingest_json_lines(lines);
    for r in &mut out.rejected {
        r.error = crate::batch::without_line(r.error.clone());
    }
    out
}
