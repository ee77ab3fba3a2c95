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

/// One input column, each cell already written as JSON text (strings quoted and escaped) into
/// one buffer: no allocation per cell.
#[derive(Default)]
struct Cells {
    data: Vec<u8>,
    /// Per row, the cell's range in `data`; `ABSENT` when absent.
    spans: Vec<(usize, usize)>,
}

const ABSENT: (usize, usize) = (usize::MAX, usize::MAX);

impl Cells {
    fn with_rows(n: u32) -> Cells {
        Cells {
            data: Vec::with_capacity(n as usize * 8),
            spans: Vec::with_capacity(n as usize),
        }
    }

    fn absent(&mut self) {
        self.spans.push(ABSENT);
    }

    /// Writes one cell with `f`.
    fn push(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        let start = self.data.len();
        f(&mut self.data);
        self.spans.push((start, self.data.len()));
    }

    fn get(&self, row: usize) -> Option<&[u8]> {
        match self.spans[row] {
            ABSENT => None,
            (a, b) => Some(&self.data[a..b]),
        }
    }

    fn len(&self) -> usize {
        self.spans.len()
    }
}

fn write_str(out: &mut Vec<u8>, s: &[u8]) {
    let s = String::from_utf8_lossy(s);
    serde_json::to_writer(out, &*s).expect("writing to a Vec");
}

fn write_num(out: &mut Vec<u8>, x: f64) {
    // Finite numbers only reach here (`f64s` rejects the others, `NaN` is absent).
    serde_json::to_writer(out, &x).expect("writing to a Vec");
}

fn write_int(out: &mut Vec<u8>, x: i64) {
    use std::io::Write;
    let _ = write!(out, "{x}");
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

fn text_column(v: &Unknown, path: &str) -> Res<Cells> {
    let env = v.value().env;
    let n = read::array_len(v, path, "an array of strings")?;
    let mut out = Cells::with_rows(n);
    let mut buf = Vec::new();
    for i in 0..n {
        let e = read::element(v, i, path)?;
        if unsafe { string_cell(env, e.raw(), &mut buf) } {
            out.push(|d| write_str(d, &buf));
            continue;
        }
        match e.get_type()? {
            ValueType::Undefined | ValueType::Null => out.absent(),
            ValueType::Number => {
                let x = read::number(&e, &format!("{path}[{i}]"))?;
                if x.fract() != 0.0 || x.abs() >= 9.0e15 {
                    return Err(invalid(
                        &format!("{path}[{i}]"),
                        format!("{x} is not a whole number"),
                    ));
                }
                out.push(|d| write_str(d, (x as i64).to_string().as_bytes()));
            }
            _ => return Err(wrong_type(&format!("{path}[{i}]"), "a string", &e)),
        }
    }
    Ok(out)
}

fn time_column(v: &Unknown, path: &str) -> Res<Cells> {
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
        let xs = read::f64s(v, path)?;
        let mut out = Cells::with_rows(xs.len() as u32);
        for (i, x) in xs.into_iter().enumerate() {
            let t = if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 {
                Timestamp::from_millis_checked(x as i64)
            } else {
                None
            }
            .ok_or_else(|| bad(i, x.to_string()))?;
            out.push(|d| write_int(d, t.0));
        }
        return Ok(out);
    }
    let n = read::array_len(v, path, "a Float64Array or an array of times")?;
    let mut out = Cells::with_rows(n);
    for i in 0..n {
        let e = read::element(v, i, path)?;
        let t = crate::args::timestamp(&e, &format!("{path}[{i}]"))?;
        out.push(|d| write_int(d, t.0));
    }
    Ok(out)
}

fn number_column(v: &Unknown, path: &str) -> Res<Cells> {
    let xs = read::f64s(v, path)?;
    let mut out = Cells::with_rows(xs.len() as u32);
    for (i, x) in xs.into_iter().enumerate() {
        if x.is_nan() {
            out.absent();
        } else if !x.is_finite() {
            return Err(invalid(
                &format!("{path}[{i}]"),
                format!("{x} is not a finite number"),
            ));
        } else {
            out.push(|d| write_num(d, x));
        }
    }
    Ok(out)
}

/// A property column: strings, numbers or booleans (mixed types go to the core, which rejects
/// them per row), `null`/`undefined` absent; or a `Float64Array` (`NaN` absent).
fn prop_column(v: &Unknown, path: &str) -> Res<Cells> {
    if read::typed_array(v).is_some() {
        return number_column(v, path);
    }
    let env = v.value().env;
    let n = read::array_len(v, path, "an array of strings, numbers or booleans")?;
    let mut out = Cells::with_rows(n);
    let mut buf = Vec::new();
    for i in 0..n {
        let e = read::element(v, i, path)?;
        if unsafe { string_cell(env, e.raw(), &mut buf) } {
            out.push(|d| write_str(d, &buf));
            continue;
        }
        let p = format!("{path}[{i}]");
        match e.get_type()? {
            ValueType::Undefined | ValueType::Null => out.absent(),
            ValueType::Number => {
                let x = read::number(&e, &p)?;
                out.push(|d| write_num(d, x));
            }
            ValueType::Boolean => {
                let b = crate::args::boolean(&e, &p)?;
                out.push(|d| d.extend_from_slice(if b { b"true" } else { b"false" }));
            }
            _ => return Err(wrong_type(&p, "a string, number, boolean or null", &e)),
        }
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
    let mut cols: Vec<(String, Cells)> = Vec::new();
    let mut props: Vec<(String, Cells)> = Vec::new();
    for key in keys(columns, "columns")? {
        let Some(v) = o.get(&key)? else { continue };
        let path = o.path(&key);
        match key.as_str() {
            "at" => cols.push((key, time_column(&v, &path)?)),
            "value" => cols.push((key, number_column(&v, &path)?)),
            "properties" => {
                let po = Opts::required(&v, "columns.properties")?;
                for name in keys(&v, "columns.properties")? {
                    if let Some(c) = po.get(&name)? {
                        props.push((name.clone(), prop_column(&c, &po.path(&name))?));
                    }
                }
            }
            _ => cols.push((key, text_column(&v, &path)?)),
        }
    }
    let len = |c: &Cells| c.len();
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
            if let Some(cell) = c.get(row) {
                sep(&mut out);
                out.extend_from_slice(k.as_bytes());
                out.push(b':');
                out.extend_from_slice(cell);
            }
        }
        if props.iter().any(|(_, p)| p.get(row).is_some()) {
            sep(&mut out);
            out.extend_from_slice(b"\"properties\":{");
            let mut pfirst = true;
            for ((_, p), k) in props.iter().zip(&pkeys) {
                if let Some(cell) = p.get(row) {
                    if !pfirst {
                        out.push(b',');
                    }
                    pfirst = false;
                    out.extend_from_slice(k.as_bytes());
                    out.push(b':');
                    out.extend_from_slice(cell);
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
