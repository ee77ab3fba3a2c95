//! `ingestColumns`: touchpoints as columns (one array per field) instead of one object each.
//!
//! Reading a list of objects costs about six Node-API calls per field (property names, lookups,
//! types, string lengths and copies); a column of strings costs two per cell
//! (`napi_get_element`, `napi_get_value_string_utf8` into a reused buffer) and a `Float64Array`
//! none. Rows go to the core as a [`TouchpointBatch`] (`Engine::ingest_columns`), so validation
//! and batch semantics are the core's, as for `ingestMany`. A rejected row is written as its line
//! of canonical JSON and read by the core's JSON reader, whose error it gets: rejections are
//! exactly those of the JSON lines the columns stand for (which this module used to send). A
//! table with a column that is no touchpoint field is sent as those JSON lines (its rows are all
//! rejected with `unknown_field`).

use crate::errors::{Failure, Res};
use crate::read::{self, invalid, wrong_type, Opts};
use jornada::batch::Row;
use jornada::{Engine, Error, Location, PropValue, Timestamp, TouchpointBatch};
use napi::bindgen_prelude::{FromNapiValue, JsObjectValue, Object, Unknown};
use napi::{sys, JsValue, ValueType};
use std::ptr;

/// One input column: its cells, strings in one buffer (no allocation per cell).
#[derive(Default)]
struct Cells {
    data: String,
    cells: Vec<Cell>,
}

#[derive(Clone, Copy)]
enum Cell {
    Absent,
    /// A range of `data`.
    Str(u32, u32),
    Num(f64),
    Int(i64),
    Bool(bool),
}

impl Cells {
    fn with_rows(n: u32) -> Cells {
        Cells {
            data: String::with_capacity(n as usize * 8),
            cells: Vec::with_capacity(n as usize),
        }
    }

    fn absent(&mut self) {
        self.cells.push(Cell::Absent);
    }

    fn push(&mut self, c: Cell) {
        self.cells.push(c);
    }

    fn push_str(&mut self, s: &[u8]) -> Res<()> {
        let start = self.data.len();
        self.data.push_str(&String::from_utf8_lossy(s));
        if self.data.len() > u32::MAX as usize {
            return Err(Failure::Core(Error::Capacity {
                message: "a column holds at most 4 GiB of text".into(),
            }));
        }
        self.cells
            .push(Cell::Str(start as u32, self.data.len() as u32));
        Ok(())
    }

    fn cell(&self, row: usize) -> Cell {
        self.cells[row]
    }

    fn str(&self, row: usize) -> Option<&str> {
        match self.cells[row] {
            Cell::Str(a, b) => Some(&self.data[a as usize..b as usize]),
            _ => None,
        }
    }

    /// Writes the cell of `row` as JSON; `false` when absent.
    fn write(&self, row: usize, out: &mut Vec<u8>) -> bool {
        match self.cells[row] {
            Cell::Absent => return false,
            Cell::Str(a, b) => write_str(out, &self.data.as_bytes()[a as usize..b as usize]),
            Cell::Num(x) => write_num(out, x),
            Cell::Int(i) => write_int(out, i),
            Cell::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        }
        true
    }

    fn len(&self) -> usize {
        self.cells.len()
    }
}

/// A number as the core reads it back from the JSON this module writes for it (`write_num`).
fn as_json_reads(x: f64) -> f64 {
    if x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_992.0 {
        return x;
    }
    serde_json::to_string(&x)
        .ok()
        .and_then(|t| serde_json::from_str::<f64>(&t).ok())
        .unwrap_or(x)
}

fn write_str(out: &mut Vec<u8>, s: &[u8]) {
    let s = std::str::from_utf8(s).expect("cells are UTF-8");
    serde_json::to_writer(out, s).expect("writing to a Vec");
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
            out.push_str(&buf)?;
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
                out.push_str((x as i64).to_string().as_bytes())?;
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
            out.push(Cell::Int(t.0));
        }
        return Ok(out);
    }
    let n = read::array_len(v, path, "a Float64Array or an array of times")?;
    let mut out = Cells::with_rows(n);
    for i in 0..n {
        let e = read::element(v, i, path)?;
        let t = crate::args::timestamp(&e, &format!("{path}[{i}]"))?;
        out.push(Cell::Int(t.0));
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
            out.push(Cell::Num(x));
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
            out.push_str(&buf)?;
            continue;
        }
        let p = format!("{path}[{i}]");
        match e.get_type()? {
            ValueType::Undefined | ValueType::Null => out.absent(),
            ValueType::Number => {
                let x = read::number(&e, &p)?;
                out.push(Cell::Num(x));
            }
            ValueType::Boolean => {
                let b = crate::args::boolean(&e, &p)?;
                out.push(Cell::Bool(b));
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

/// The columns of a call, checked: equal lengths, cells of the right types.
pub(crate) struct Table {
    cols: Vec<(String, Cells)>,
    props: Vec<(String, Cells)>,
    rows: usize,
    /// JSON field names of `cols` and `props`, quoted.
    keys: Vec<String>,
    pkeys: Vec<String>,
}

/// Reads and checks `columns`.
pub(crate) fn table(columns: &Unknown) -> Res<Table> {
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
    let quote = |k: &String| serde_json::to_string(k).expect("a string serializes");
    Ok(Table {
        keys: cols.iter().map(|(k, _)| quote(k)).collect(),
        pkeys: props.iter().map(|(k, _)| quote(k)).collect(),
        cols,
        props,
        rows: n,
    })
}

impl Table {
    /// Writes row `row` as one line of canonical JSON (without the newline).
    fn line(&self, row: usize, out: &mut Vec<u8>) {
        out.push(b'{');
        let mut first = true;
        for ((_, c), k) in self.cols.iter().zip(&self.keys) {
            let mark = out.len();
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(k.as_bytes());
            out.push(b':');
            if c.write(row, out) {
                first = false;
            } else {
                out.truncate(mark);
            }
        }
        if self
            .props
            .iter()
            .any(|(_, p)| !matches!(p.cell(row), Cell::Absent))
        {
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(b"\"properties\":{");
            let mut pfirst = true;
            for ((_, p), k) in self.props.iter().zip(&self.pkeys) {
                let mark = out.len();
                if !pfirst {
                    out.push(b',');
                }
                out.extend_from_slice(k.as_bytes());
                out.push(b':');
                if p.write(row, out) {
                    pfirst = false;
                } else {
                    out.truncate(mark);
                }
            }
            out.push(b'}');
        }
        out.push(b'}');
    }

    /// Applies the rows in one core call; rejections by row index, with the errors of the rows'
    /// JSON lines.
    pub(crate) fn apply(&self, engine: &mut Engine) -> Res<jornada::Outcome> {
        let ids: Vec<&str> = engine.model().identity_kind_names().collect();
        let mut id_col = None;
        let mut channel = None;
        let mut kind = None;
        let mut at = None;
        let mut value = None;
        let mut key_cols: Vec<(&str, &Cells)> = Vec::new();
        for (name, c) in &self.cols {
            match name.as_str() {
                "id" => id_col = Some(c),
                "channel" => channel = Some(c),
                "kind" => kind = Some(c),
                "at" => at = Some(c),
                "value" => value = Some(c),
                other => match ids.iter().find(|k| **k == other) {
                    Some(k) => key_cols.push((k, c)),
                    // Not a touchpoint field: every row is rejected as its JSON line is.
                    None => return Ok(self.apply_lines(engine)),
                },
            }
        }
        let mut batch = TouchpointBatch::with_capacity(self.rows);
        let mut keys: Vec<(&str, &str)> = Vec::with_capacity(key_cols.len());
        let mut props: Vec<(&str, PropValue)> = Vec::with_capacity(self.props.len());
        for row in 0..self.rows {
            keys.clear();
            for (k, c) in &key_cols {
                if let Some(v) = c.str(row) {
                    keys.push((k, v));
                }
            }
            props.clear();
            for (name, p) in &self.props {
                let v = match p.cell(row) {
                    Cell::Absent => continue,
                    Cell::Str(..) => PropValue::Str(p.str(row).unwrap_or_default().into()),
                    Cell::Num(x) => PropValue::Num(as_json_reads(x)),
                    Cell::Int(i) => PropValue::Num(i as f64),
                    Cell::Bool(b) => PropValue::Bool(b),
                };
                props.push((name, v));
            }
            let time = at.and_then(|c| match c.cell(row) {
                Cell::Int(t) => Some(Timestamp(t)),
                _ => None,
            });
            let value = value.and_then(|c| match c.cell(row) {
                Cell::Num(x) => Some(as_json_reads(x)),
                _ => None,
            });
            batch.push_row(Row {
                id: id_col.and_then(|c| c.str(row)),
                keys: &keys,
                channel: channel.and_then(|c| c.str(row)),
                kind: kind.and_then(|c| c.str(row)),
                at: time,
                value,
                properties: &props,
            })?;
        }
        let mut out = engine.ingest_columns(&batch);
        let mut line = Vec::new();
        for r in &mut out.rejected {
            line.clear();
            self.line(r.index, &mut line);
            let text = std::str::from_utf8(&line).expect("lines are UTF-8");
            if let Err(e) = jornada::Touchpoint::from_json(engine.model(), text) {
                r.error = e.at_index(r.index);
            }
        }
        Ok(out)
    }

    /// The rows as JSON lines through the core's JSON-lines reader.
    fn apply_lines(&self, engine: &mut Engine) -> jornada::Outcome {
        let mut lines = Vec::with_capacity(self.rows * 96);
        for row in 0..self.rows {
            self.line(row, &mut lines);
            lines.push(b'\n');
        }
        let mut out = engine.ingest_json_lines(&lines);
        for r in &mut out.rejected {
            r.error = crate::batch::without_line(r.error.clone());
        }
        out
    }
}
