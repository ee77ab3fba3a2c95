//! Arrow import and export of [`EventLog`]s (feature `arrow`, arrow-rs `arrow-array` and
//! `arrow-schema` only).
//!
//! [`EventLog::from_record_batch`] (or [`EventLog::from_record_batches`]) reads a table with one
//! row per event; [`ColumnNames`] says which columns hold what:
//!
//! | role | default name | Arrow types accepted | nulls |
//! | --- | --- | --- | --- |
//! | customer, channel, kind | `customer`, `channel`, `kind` | `Utf8`, `LargeUtf8`, `Utf8View`, `Dictionary(any integer, one of those)`; for the customer also any integer type (the key is its decimal text) | error `missing_field` naming the row and column |
//! | at | `at` | `Timestamp` (s, ms, µs, ns; any time zone: the values are UTC instants), `Date64`, `Date32`, `Int64` (epoch milliseconds), or strings (RFC 3339 or epoch milliseconds) | error `missing_field` |
//! | value (optional) | `value` | any integer or float type, or `Null` (no values) | missing (also `NaN`) |
//! | properties | all other columns ([`PropertyColumns::Rest`]), or a list | strings (as above) → string, integers and floats → number, `Boolean` → bool; `Null`: no values (a property with no value in any batch is left out) | missing |
//!
//! A required column that is absent is a `missing_field` error naming the column; a column of
//! another type is `wrong_type`, naming the column and the types accepted. Sub-millisecond
//! timestamps are floored to the millisecond. Strings are not copied per row: each distinct
//! value is stored once, and dictionary arrays map straight onto the log's dictionary codes.
//! Row numbers in errors count from 0 across all batches. Integers beyond 2^53 lose precision
//! as numbers.
//!
//! [`EventLog::to_record_batch`] writes the log back (in the log's sorted order) with the
//! default names: strings as `Dictionary(UInt32 or UInt16, Utf8)`, `at` as
//! `Timestamp(Millisecond, "UTC")`, `value` and number properties as nullable `Float64`.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
//! use jornada::analytics::{ColumnNames, EventLog};
//! let batch = RecordBatch::try_from_iter([
//!     ("customer", Arc::new(StringArray::from(vec!["c1", "c2", "c1"])) as _),
//!     ("at", Arc::new(TimestampMillisecondArray::from(vec![3_000, 1_000, 2_000])) as _),
//!     ("channel", Arc::new(StringArray::from(vec!["web", "app", "web"])) as _),
//!     ("kind", Arc::new(StringArray::from(vec!["purchase", "page_view", "page_view"])) as _),
//!     ("value", Arc::new(Float64Array::from(vec![Some(30.0), None, None])) as _),
//!     ("sku", Arc::new(StringArray::from(vec![Some("A1"), None, Some("B2")])) as _),
//! ]).unwrap();
//! let log = EventLog::from_record_batch(&batch, &ColumnNames::default())?;
//! assert_eq!(log.len(), 3);
//! assert_eq!(&log.at()[log.customer_rows(0)], [2_000, 3_000]); // c1, in time order
//! assert!(log.property("sku").is_some());
//! let back = EventLog::from_record_batch(&log.to_record_batch()?, &ColumnNames::default())?;
//! assert_eq!(back.at(), log.at());
//! # Ok::<(), jornada::Error>(())
//! ```

use super::event_log::{Columns, EventLog, PropColumn, NULL_BOOL, NULL_CODE};
use crate::error::{Error, Location, Result};
use crate::time::Timestamp;
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{
    Array, ArrayRef, BooleanArray, DictionaryArray, Float64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use hashbrown::HashMap;
use std::sync::Arc;

pub use super::names::{ColumnNames, PropertyColumns};

const STRING_TYPES: &str =
    "a string column (Utf8, LargeUtf8, Utf8View, or a Dictionary of one of those)";
const NUMBER_TYPES: &str = "a number column (any integer or float type)";
const TIME_TYPES: &str = "a time column (Timestamp of any unit and time zone, Date64, Date32, Int64 epoch milliseconds, or RFC 3339 strings)";
const PROPERTY_TYPES: &str = "a string, number or Boolean column";

fn at_row(row: usize, field: &str) -> Location {
    Location {
        index: Some(row),
        line: None,
        field: field.into(),
    }
}

fn wrong_type(column: &str, expected: &str, found: &DataType) -> Error {
    Error::WrongType {
        loc: Location::field(column),
        expected: format!("{expected}, found {found}"),
    }
}

/// Distinct strings and per-row codes, borrowing the strings from the batches.
#[derive(Default)]
struct StrAcc<'a> {
    dict: Vec<Box<str>>,
    map: HashMap<&'a str, u32>,
    codes: Vec<u32>,
}

impl<'a> StrAcc<'a> {
    #[inline]
    fn intern(&mut self, s: &'a str) -> u32 {
        if let Some(&c) = self.map.get(s) {
            return c;
        }
        let c = self.dict.len() as u32;
        self.dict.push(s.into());
        self.map.insert(s, c);
        c
    }

    /// Appends the codes of a string (or dictionary-of-strings) array; nulls get [`NULL_CODE`].
    fn push_array(&mut self, a: &'a dyn Array, column: &str) -> Result<()> {
        match a.data_type() {
            DataType::Utf8 => self.push_plain(a.as_string::<i32>().iter()),
            DataType::LargeUtf8 => self.push_plain(a.as_string::<i64>().iter()),
            DataType::Utf8View => self.push_plain(a.as_string_view().iter()),
            DataType::Dictionary(_, v)
                if matches!(
                    **v,
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                ) =>
            {
                let d = a.as_any_dictionary();
                let values = d.values();
                // Each distinct value once; then keys map straight onto codes.
                let rows = std::mem::take(&mut self.codes);
                self.push_array(values.as_ref(), column)?;
                let value_codes = std::mem::replace(&mut self.codes, rows);
                let keys = d.keys();
                if values.is_empty() {
                    self.codes.extend(std::iter::repeat_n(NULL_CODE, a.len()));
                    if keys.null_count() != keys.len() {
                        return Err(wrong_type(
                            column,
                            "a dictionary whose keys index its values",
                            a.data_type(),
                        ));
                    }
                    return Ok(());
                }
                let norm = d.normalized_keys();
                self.codes.reserve(a.len());
                for (i, &k) in norm.iter().enumerate() {
                    self.codes.push(if keys.is_null(i) {
                        NULL_CODE
                    } else {
                        value_codes[k]
                    });
                }
                Ok(())
            }
            other => Err(wrong_type(column, STRING_TYPES, other)),
        }
    }

    fn push_plain(&mut self, it: impl Iterator<Item = Option<&'a str>>) -> Result<()> {
        for s in it {
            let c = match s {
                Some(s) => self.intern(s),
                None => NULL_CODE,
            };
            self.codes.push(c);
        }
        Ok(())
    }
}

fn is_string_type(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => {
            matches!(
                **v,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            )
        }
        _ => false,
    }
}

/// An integer column as decimal text (nulls kept); `None` for any other type.
fn integer_keys_as_text(a: &ArrayRef) -> Option<ArrayRef> {
    fn text<T: ArrowPrimitiveType>(a: &dyn Array) -> ArrayRef
    where
        T::Native: std::fmt::Display,
    {
        Arc::new(StringArray::from_iter(
            a.as_primitive::<T>()
                .iter()
                .map(|v| v.map(|v| v.to_string())),
        ))
    }
    Some(match a.data_type() {
        DataType::Int8 => text::<Int8Type>(a),
        DataType::Int16 => text::<Int16Type>(a),
        DataType::Int32 => text::<Int32Type>(a),
        DataType::Int64 => text::<Int64Type>(a),
        DataType::UInt8 => text::<UInt8Type>(a),
        DataType::UInt16 => text::<UInt16Type>(a),
        DataType::UInt32 => text::<UInt32Type>(a),
        DataType::UInt64 => text::<UInt64Type>(a),
        _ => return None,
    })
}

/// Appends a numeric array as `f64` (nulls as `NaN`); `None` when the type is not numeric.
fn push_numbers(a: &dyn Array, out: &mut Vec<f64>) -> Option<()> {
    fn prim<T: ArrowPrimitiveType>(
        a: &dyn Array,
        out: &mut Vec<f64>,
        f: impl Fn(T::Native) -> f64,
    ) {
        let p = a.as_primitive::<T>();
        out.reserve(p.len());
        for i in 0..p.len() {
            out.push(if p.is_null(i) {
                f64::NAN
            } else {
                f(p.value(i))
            });
        }
    }
    match a.data_type() {
        DataType::Int8 => prim::<Int8Type>(a, out, f64::from),
        DataType::Int16 => prim::<Int16Type>(a, out, f64::from),
        DataType::Int32 => prim::<Int32Type>(a, out, f64::from),
        DataType::Int64 => prim::<Int64Type>(a, out, |x| x as f64),
        DataType::UInt8 => prim::<UInt8Type>(a, out, f64::from),
        DataType::UInt16 => prim::<UInt16Type>(a, out, f64::from),
        DataType::UInt32 => prim::<UInt32Type>(a, out, f64::from),
        DataType::UInt64 => prim::<UInt64Type>(a, out, |x| x as f64),
        DataType::Float16 => prim::<Float16Type>(a, out, |x| x.to_f64()),
        DataType::Float32 => prim::<Float32Type>(a, out, f64::from),
        DataType::Float64 => prim::<Float64Type>(a, out, |x| x),
        // A column of nothing but nulls (pandas' all-None object column): no values.
        DataType::Null => out.extend(std::iter::repeat_n(f64::NAN, a.len())),
        _ => return None,
    }
    Some(())
}

/// Appends event times in epoch milliseconds; `row0` is the first row's number.
fn push_times(a: &dyn Array, column: &str, row0: usize, out: &mut Vec<i64>) -> Result<()> {
    fn ints<T: ArrowPrimitiveType<Native = i64>>(
        a: &dyn Array,
        column: &str,
        row0: usize,
        out: &mut Vec<i64>,
        f: impl Fn(i64) -> Option<i64>,
    ) -> Result<()> {
        let p = a.as_primitive::<T>();
        out.reserve(p.len());
        for i in 0..p.len() {
            if p.is_null(i) {
                return Err(Error::MissingField {
                    loc: at_row(row0 + i, column),
                });
            }
            let v = p.value(i);
            out.push(f(v).ok_or_else(|| Error::InvalidTimestamp {
                loc: at_row(row0 + i, column),
                value: v.to_string(),
            })?);
        }
        Ok(())
    }
    match a.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            ints::<TimestampSecondType>(a, column, row0, out, |s| s.checked_mul(1000))
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            ints::<TimestampMillisecondType>(a, column, row0, out, Some)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            ints::<TimestampMicrosecondType>(a, column, row0, out, |us| Some(us.div_euclid(1000)))
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            ints::<TimestampNanosecondType>(a, column, row0, out, |ns| {
                Some(ns.div_euclid(1_000_000))
            })
        }
        DataType::Date64 => ints::<Date64Type>(a, column, row0, out, Some),
        DataType::Int64 => ints::<Int64Type>(a, column, row0, out, Some),
        DataType::Date32 => {
            let p = a.as_primitive::<Date32Type>();
            for i in 0..p.len() {
                if p.is_null(i) {
                    return Err(Error::MissingField {
                        loc: at_row(row0 + i, column),
                    });
                }
                out.push(p.value(i) as i64 * 86_400_000);
            }
            Ok(())
        }
        t if is_string_type(t) => {
            // Parse each distinct text once.
            let mut acc = StrAcc::default();
            acc.push_array(a, column)?;
            let mut parsed: Vec<Option<i64>> = vec![None; acc.dict.len()];
            out.reserve(acc.codes.len());
            for (i, &c) in acc.codes.iter().enumerate() {
                if c == NULL_CODE {
                    return Err(Error::MissingField {
                        loc: at_row(row0 + i, column),
                    });
                }
                let ms = match parsed[c as usize] {
                    Some(ms) => ms,
                    None => {
                        let text = &acc.dict[c as usize];
                        let ms = Timestamp::parse(text)
                            .ok_or_else(|| Error::InvalidTimestamp {
                                loc: at_row(row0 + i, column),
                                value: crate::touchpoint::truncate(text),
                            })?
                            .0;
                        parsed[c as usize] = Some(ms);
                        ms
                    }
                };
                out.push(ms);
            }
            Ok(())
        }
        other => Err(wrong_type(column, TIME_TYPES, other)),
    }
}

/// A property column being read.
enum PropAcc<'a> {
    Str(StrAcc<'a>),
    Num(Vec<f64>),
    Bool(Vec<u8>),
}

impl EventLog {
    /// Reads an event log from one Arrow record batch. See the [module docs](self).
    pub fn from_record_batch(batch: &RecordBatch, names: &ColumnNames) -> Result<EventLog> {
        Self::from_record_batches(std::slice::from_ref(batch), names)
    }

    /// Reads an event log from Arrow record batches (rows numbered across all of them). The
    /// property columns are those of the first batch; a later batch without one of them has no
    /// values there. See the [module docs](self).
    pub fn from_record_batches(batches: &[RecordBatch], names: &ColumnNames) -> Result<EventLog> {
        let required = [&names.customer, &names.at, &names.channel, &names.kind];
        let value_name = names.value.as_deref();
        let prop_names: Vec<String> = match &names.properties {
            PropertyColumns::None => Vec::new(),
            PropertyColumns::Only(list) => list.clone(),
            PropertyColumns::Rest => batches
                .first()
                .map(|b| {
                    b.schema()
                        .fields()
                        .iter()
                        .map(|f| f.name().clone())
                        .filter(|n| !required.contains(&n) && Some(n.as_str()) != value_name)
                        .collect()
                })
                .unwrap_or_default(),
        };
        // Integer customer keys become their decimal text (as in touchpoints); converted up
        // front, since the strings are borrowed for the whole read.
        let customer_cols: Vec<Option<ArrayRef>> = batches
            .iter()
            .map(|b| {
                b.column_by_name(&names.customer)
                    .and_then(integer_keys_as_text)
            })
            .collect();
        let mut customer = StrAcc::default();
        let mut channel = StrAcc::default();
        let mut kind = StrAcc::default();
        let mut at: Vec<i64> = Vec::new();
        let mut value: Vec<f64> = Vec::new();
        let mut has_value = false;
        let mut props: Vec<Option<PropAcc>> = prop_names.iter().map(|_| None).collect();
        let mut row0 = 0usize;
        for (batch, customer_text) in batches.iter().zip(&customer_cols) {
            let col = |name: &str| -> Result<&ArrayRef> {
                batch
                    .column_by_name(name)
                    .ok_or_else(|| Error::MissingField {
                        loc: Location::field(name),
                    })
            };
            for (acc, name, text) in [
                (&mut customer, &names.customer, customer_text.as_ref()),
                (&mut channel, &names.channel, None),
                (&mut kind, &names.kind, None),
            ] {
                let start = acc.codes.len();
                acc.push_array(text.map_or_else(|| col(name), Ok)?.as_ref(), name)?;
                if let Some(i) = acc.codes[start..].iter().position(|&c| c == NULL_CODE) {
                    return Err(Error::MissingField {
                        loc: at_row(row0 + i, name),
                    });
                }
            }
            push_times(col(&names.at)?.as_ref(), &names.at, row0, &mut at)?;
            match value_name.and_then(|v| batch.column_by_name(v)) {
                Some(v) => {
                    if !has_value {
                        has_value = true;
                        value = vec![f64::NAN; row0];
                    }
                    push_numbers(v.as_ref(), &mut value).ok_or_else(|| {
                        wrong_type(value_name.unwrap_or_default(), NUMBER_TYPES, v.data_type())
                    })?;
                }
                None if has_value => value.extend(std::iter::repeat_n(f64::NAN, batch.num_rows())),
                None => {}
            }
            for (name, acc) in prop_names.iter().zip(props.iter_mut()) {
                let Some(a) = batch.column_by_name(name) else {
                    if matches!(names.properties, PropertyColumns::Only(_)) {
                        return Err(Error::MissingField {
                            loc: Location::field(name.as_str()),
                        });
                    }
                    pad_prop(acc, batch.num_rows());
                    continue;
                };
                read_prop(acc, a.as_ref(), name, row0)?;
            }
            row0 += batch.num_rows();
        }
        let mut out_props = Vec::new();
        for (name, acc) in prop_names.into_iter().zip(props) {
            let col = match acc {
                None => continue,
                Some(PropAcc::Str(s)) => PropColumn::Str {
                    codes: s.codes,
                    dict: s.dict,
                },
                Some(PropAcc::Num(v)) => PropColumn::Num(v),
                Some(PropAcc::Bool(v)) => PropColumn::Bool(v),
            };
            out_props.push((name, col));
        }
        EventLog::from_columns(Columns {
            customer_dict: customer.dict,
            customer: customer.codes,
            at,
            channel_dict: channel.dict,
            channel: channel.codes,
            kind_dict: kind.dict,
            kind: kind.codes,
            value,
            props: out_props,
        })
    }

    /// The log as one Arrow record batch, rows in the log's order, with the default column
    /// names (see the [module docs](self)). Errors with `invalid_value` when a property is
    /// named like one of the other columns.
    pub fn to_record_batch(&self) -> Result<RecordBatch> {
        let dict32 = |codes: Vec<Option<u32>>, dict: &[Box<str>]| -> ArrayRef {
            let values = StringArray::from_iter_values(dict.iter().map(|s| &**s));
            Arc::new(
                DictionaryArray::<UInt32Type>::try_new(codes.into(), Arc::new(values))
                    .expect("codes index the dictionary"),
            )
        };
        let dict16 = |codes: &[u16], dict: &[Box<str>]| -> ArrayRef {
            let values = StringArray::from_iter_values(dict.iter().map(|s| &**s));
            Arc::new(
                DictionaryArray::<UInt16Type>::try_new(codes.to_vec().into(), Arc::new(values))
                    .expect("codes index the dictionary"),
            )
        };
        let dict_type = |k: DataType| DataType::Dictionary(Box::new(k), Box::new(DataType::Utf8));
        let mut fields = vec![
            Field::new("customer", dict_type(DataType::UInt32), false),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                false,
            ),
            Field::new("channel", dict_type(DataType::UInt16), false),
            Field::new("kind", dict_type(DataType::UInt16), false),
            Field::new("value", DataType::Float64, true),
        ];
        let mut columns: Vec<ArrayRef> = vec![
            dict32(
                self.customer_codes().iter().map(|&c| Some(c)).collect(),
                self.customers(),
            ),
            Arc::new(TimestampMillisecondArray::from(self.at().to_vec()).with_timezone("UTC")),
            dict16(self.channel_codes(), self.channels()),
            dict16(self.kind_codes(), self.kinds()),
            Arc::new(Float64Array::from_iter(
                self.values().iter().map(|v| (!v.is_nan()).then_some(*v)),
            )),
        ];
        for (name, col) in self.properties() {
            if ["customer", "at", "channel", "kind", "value"].contains(&name.as_str()) {
                return Err(Error::InvalidValue {
                    loc: Location::field(format!("properties.{name}")),
                    message: "a property column cannot take the name of another column".into(),
                });
            }
            let (t, a): (DataType, ArrayRef) = match col {
                PropColumn::Str { codes, dict } => (
                    dict_type(DataType::UInt32),
                    dict32(
                        codes
                            .iter()
                            .map(|&c| (c != NULL_CODE).then_some(c))
                            .collect(),
                        dict,
                    ),
                ),
                PropColumn::Num(v) => (
                    DataType::Float64,
                    Arc::new(Float64Array::from_iter(
                        v.iter().map(|x| (!x.is_nan()).then_some(*x)),
                    )),
                ),
                PropColumn::Bool(v) => (
                    DataType::Boolean,
                    Arc::new(BooleanArray::from_iter(
                        v.iter().map(|&b| (b != NULL_BOOL).then_some(b == 1)),
                    )),
                ),
            };
            fields.push(Field::new(name, t, true));
            columns.push(a);
        }
        Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .expect("columns match the schema"))
    }
}

fn pad_prop(acc: &mut Option<PropAcc>, n: usize) {
    match acc {
        None => {}
        Some(PropAcc::Str(s)) => s.codes.extend(std::iter::repeat_n(NULL_CODE, n)),
        Some(PropAcc::Num(v)) => v.extend(std::iter::repeat_n(f64::NAN, n)),
        Some(PropAcc::Bool(v)) => v.extend(std::iter::repeat_n(NULL_BOOL, n)),
    }
}

fn read_prop<'a>(
    acc: &mut Option<PropAcc<'a>>,
    a: &'a dyn Array,
    name: &str,
    row0: usize,
) -> Result<()> {
    let t = a.data_type();
    if *t == DataType::Null {
        // Nothing but nulls: no values here, whatever the property's type elsewhere.
        pad_prop(acc, a.len());
        return Ok(());
    }
    let kind = if is_string_type(t) {
        0
    } else if *t == DataType::Boolean {
        2
    } else if t.is_numeric()
        && !matches!(
            t,
            DataType::Decimal32(..)
                | DataType::Decimal64(..)
                | DataType::Decimal128(..)
                | DataType::Decimal256(..)
        )
    {
        1
    } else {
        return Err(wrong_type(name, PROPERTY_TYPES, t));
    };
    if acc.is_none() {
        *acc = Some(match kind {
            0 => PropAcc::Str(StrAcc {
                codes: vec![NULL_CODE; row0],
                ..Default::default()
            }),
            1 => PropAcc::Num(vec![f64::NAN; row0]),
            _ => PropAcc::Bool(vec![NULL_BOOL; row0]),
        });
    }
    match (acc.as_mut().expect("set above"), kind) {
        (PropAcc::Str(s), 0) => s.push_array(a, name),
        (PropAcc::Num(v), 1) => {
            push_numbers(a, v).expect("checked numeric");
            Ok(())
        }
        (PropAcc::Bool(v), 2) => {
            let b = a.as_boolean();
            v.extend(b.iter().map(|x| match x {
                None => NULL_BOOL,
                Some(x) => x as u8,
            }));
            Ok(())
        }
        (prev, _) => {
            let expected = match prev {
                PropAcc::Str(_) => STRING_TYPES,
                PropAcc::Num(_) => NUMBER_TYPES,
                PropAcc::Bool(_) => "a Boolean column",
            };
            Err(wrong_type(
                name,
                &format!("{expected} (as in the first batch)"),
                t,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::StringDictionaryBuilder;
    use arrow_array::{
        Date32Array, Date64Array, Float32Array, Int16Array, Int64Array, Int8Array,
        LargeStringArray, StringViewArray, TimestampMicrosecondArray, TimestampNanosecondArray,
        TimestampSecondArray, UInt64Array,
    };

    fn strs(v: &[&str]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(cols).unwrap()
    }

    /// A two-row batch with the given `at` column and plain string columns.
    fn with_at(at: ArrayRef) -> RecordBatch {
        batch(vec![
            ("customer", strs(&["a", "b"])),
            ("at", at),
            ("channel", strs(&["web", "app"])),
            ("kind", strs(&["view", "buy"])),
        ])
    }

    fn read(b: &RecordBatch) -> Result<EventLog> {
        EventLog::from_record_batch(b, &ColumnNames::default())
    }

    fn names(d: &[Box<str>]) -> Vec<&str> {
        d.iter().map(|s| &**s).collect()
    }

    #[test]
    fn every_string_type_reads_the_same() {
        let utf8 = with_at(Arc::new(Int64Array::from(vec![1, 2])));
        let mut dict = StringDictionaryBuilder::<Int8Type>::new();
        dict.append_value("a");
        dict.append_value("b");
        let large: ArrayRef = Arc::new(LargeStringArray::from(vec!["web", "app"]));
        let view: ArrayRef = Arc::new(StringViewArray::from(vec!["view", "buy"]));
        let other = batch(vec![
            ("customer", Arc::new(dict.finish())),
            ("at", Arc::new(Int64Array::from(vec![1, 2]))),
            ("channel", large),
            ("kind", view),
        ]);
        let (x, y) = (read(&utf8).unwrap(), read(&other).unwrap());
        assert_eq!(names(x.customers()), ["a", "b"]);
        assert_eq!(x.customers(), y.customers());
        assert_eq!(x.channels(), y.channels());
        assert_eq!(x.kinds(), y.kinds());
        assert_eq!(x.kind_codes(), y.kind_codes());
        assert_eq!(x.at(), y.at());
    }

    #[test]
    fn dictionary_with_unused_and_repeated_values() {
        // Keys [1, 1, 0] over values ["b", "a", "b"]: rows a, a, b.
        let keys = arrow_array::UInt16Array::from(vec![1, 1, 0]);
        let values = Arc::new(StringArray::from(vec!["b", "a", "b"]));
        let d = DictionaryArray::<UInt16Type>::try_new(keys, values).unwrap();
        let b = batch(vec![
            ("customer", Arc::new(d)),
            ("at", Arc::new(Int64Array::from(vec![3, 1, 2]))),
            ("channel", strs(&["web", "web", "web"])),
            ("kind", strs(&["v", "v", "v"])),
        ]);
        let log = read(&b).unwrap();
        assert_eq!(names(log.customers()), ["a", "b"]);
        assert_eq!(log.offsets(), [0, 2, 3]);
        assert_eq!(log.at(), [1, 3, 2]);
    }

    #[test]
    fn every_time_type() {
        let ms = 1_772_323_200_123i64;
        let cases: Vec<(ArrayRef, i64)> = vec![
            (
                Arc::new(TimestampSecondArray::from(vec![ms / 1000, 0])),
                ms / 1000 * 1000,
            ),
            (
                Arc::new(TimestampMillisecondArray::from(vec![ms, 0]).with_timezone("+02:00")),
                ms,
            ),
            (
                Arc::new(TimestampMicrosecondArray::from(vec![ms * 1000 + 999, 0])),
                ms,
            ),
            (
                Arc::new(TimestampNanosecondArray::from(vec![ms * 1_000_000 + 5, 0])),
                ms,
            ),
            (Arc::new(Date64Array::from(vec![ms, 0])), ms),
            (
                Arc::new(Date32Array::from(vec![20_513, 0])),
                20_513 * 86_400_000,
            ),
            (Arc::new(Int64Array::from(vec![ms, 0])), ms),
            (strs(&["2026-03-01T02:00:00.123+02:00", "0"]), ms),
            (
                Arc::new(LargeStringArray::from(vec!["1772323200123", "0"])),
                ms,
            ),
        ];
        for (at, want) in cases {
            let t = at.data_type().clone();
            let log = read(&with_at(at)).unwrap();
            assert_eq!(log.at()[0], want, "{t}");
            assert_eq!(log.at()[1], 0, "{t}");
        }
        // Floor, not truncation, before 1970.
        let log = read(&with_at(Arc::new(TimestampMicrosecondArray::from(vec![
            -1, 0,
        ]))))
        .unwrap();
        assert_eq!(log.at()[0], -1);
    }

    #[test]
    fn values_and_properties_of_every_type() {
        let b = batch(vec![
            ("customer", strs(&["a", "a", "a"])),
            ("at", Arc::new(Int64Array::from(vec![1, 2, 3]))),
            ("channel", strs(&["web", "web", "web"])),
            ("kind", strs(&["v", "v", "v"])),
            (
                "value",
                Arc::new(Int16Array::from(vec![Some(5), None, Some(-2)])),
            ),
            (
                "rating",
                Arc::new(Float32Array::from(vec![Some(4.5), None, Some(f32::NAN)])),
            ),
            (
                "n8",
                Arc::new(Int8Array::from(vec![Some(1), Some(2), None])),
            ),
            ("big", Arc::new(UInt64Array::from(vec![1, 2, 3]))),
            (
                "sku",
                Arc::new(StringViewArray::from(vec![Some("A"), None, Some("A")])),
            ),
            (
                "vip",
                Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
            ),
        ]);
        let log = read(&b).unwrap();
        assert_eq!(log.values()[0], 5.0);
        assert!(log.values()[1].is_nan());
        assert_eq!(log.values()[2], -2.0);
        use crate::PropValue as P;
        let get = |p: &str, r: usize| log.property(p).unwrap().get(r);
        assert_eq!(get("rating", 0), Some(P::Num(4.5)));
        assert_eq!(get("rating", 1), None);
        assert_eq!(get("rating", 2), None, "NaN is missing");
        assert_eq!(get("n8", 1), Some(P::Num(2.0)));
        assert_eq!(get("big", 2), Some(P::Num(3.0)));
        assert_eq!(get("sku", 0), Some(P::from("A")));
        assert_eq!(get("sku", 1), None);
        assert_eq!(get("vip", 0), Some(P::Bool(true)));
        assert_eq!(get("vip", 1), Some(P::Bool(false)));
        assert_eq!(get("vip", 2), None);
        // An explicit list: only those; no value column.
        let only = ColumnNames {
            value: None,
            properties: PropertyColumns::Only(vec!["sku".into()]),
            ..Default::default()
        };
        let log = EventLog::from_record_batch(&b, &only).unwrap();
        assert_eq!(log.properties().len(), 1);
        assert!(log.values().iter().all(|v| v.is_nan()));
        let none = ColumnNames {
            properties: PropertyColumns::None,
            ..Default::default()
        };
        assert!(EventLog::from_record_batch(&b, &none)
            .unwrap()
            .properties()
            .is_empty());
    }

    #[test]
    fn errors_name_the_column_and_row() {
        // A missing required column.
        let b = batch(vec![
            ("customer", strs(&["a"])),
            ("at", Arc::new(Int64Array::from(vec![1]))),
            ("kind", strs(&["v"])),
        ]);
        let e = read(&b).unwrap_err();
        assert_eq!(e.code(), "missing_field");
        assert_eq!(e.to_string(), "missing field at field `channel`");
        // A null customer, kind, channel, time.
        for col in ["customer", "channel", "kind"] {
            let mut cols = vec![
                ("customer", strs(&["a", "b"])),
                ("at", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
                ("channel", strs(&["web", "app"])),
                ("kind", strs(&["v", "w"])),
            ];
            for c in &mut cols {
                if c.0 == col {
                    c.1 = Arc::new(StringArray::from(vec![Some("x"), None]));
                }
            }
            let e = read(&batch(cols)).unwrap_err();
            assert_eq!(e.code(), "missing_field");
            assert_eq!(
                e.to_string(),
                format!("missing field at event 1, field `{col}`")
            );
        }
        let e = read(&with_at(Arc::new(Int64Array::from(vec![Some(1), None])))).unwrap_err();
        assert_eq!(e.to_string(), "missing field at event 1, field `at`");
        // Wrong types.
        let e = read(&with_at(Arc::new(Float32Array::from(vec![1.0, 2.0])))).unwrap_err();
        assert_eq!(e.code(), "wrong_type");
        assert!(e
            .to_string()
            .starts_with("wrong type at field `at`: expected a time column"));
        let b = batch(vec![
            ("customer", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
            ("at", Arc::new(Int64Array::from(vec![1]))),
            ("channel", strs(&["web"])),
            ("kind", strs(&["v"])),
        ]);
        let log = read(&b).unwrap();
        assert_eq!(
            names(log.customers()),
            ["1"],
            "integer keys are their decimal text"
        );
        let b = batch(vec![
            (
                "customer",
                Arc::new(Float64Array::from(vec![1.0])) as ArrayRef,
            ),
            ("at", Arc::new(Int64Array::from(vec![1]))),
            ("channel", strs(&["web"])),
            ("kind", strs(&["v"])),
        ]);
        let e = read(&b).unwrap_err();
        assert_eq!(e.code(), "wrong_type");
        assert!(
            e.to_string()
                .contains("field `customer`: expected a string column"),
            "{e}"
        );
        let b = batch(vec![
            (
                "customer",
                Arc::new(UInt64Array::from(vec![Some(u64::MAX), None])) as ArrayRef,
            ),
            ("at", Arc::new(Int64Array::from(vec![1, 2]))),
            ("channel", strs(&["web", "web"])),
            ("kind", strs(&["v", "v"])),
        ]);
        let e = read(&b).unwrap_err();
        assert_eq!(e.to_string(), "missing field at event 1, field `customer`");
        let b = batch(vec![
            (
                "customer",
                Arc::new(Int8Array::from(vec![-3, 12, -3])) as ArrayRef,
            ),
            ("at", Arc::new(Int64Array::from(vec![1, 2, 3]))),
            ("channel", strs(&["web", "web", "web"])),
            ("kind", strs(&["v", "v", "v"])),
        ]);
        let log = read(&b).unwrap();
        assert_eq!(names(log.customers()), ["-3", "12"]);
        assert_eq!(log.offsets(), [0, 2, 3]);
        let b = batch(vec![
            ("customer", strs(&["a"])),
            ("at", Arc::new(Int64Array::from(vec![1]))),
            ("channel", strs(&["web"])),
            ("kind", strs(&["v"])),
            ("value", strs(&["12"])),
        ]);
        assert!(read(&b)
            .unwrap_err()
            .to_string()
            .contains("field `value`: expected a number"));
        let b = batch(vec![
            ("customer", strs(&["a"])),
            ("at", Arc::new(Int64Array::from(vec![1]))),
            ("channel", strs(&["web"])),
            ("kind", strs(&["v"])),
            ("when", Arc::new(Date32Array::from(vec![1]))),
        ]);
        let e = read(&b).unwrap_err();
        assert!(e
            .to_string()
            .contains("field `when`: expected a string, number or Boolean"));
        // A bad RFC 3339 text, an out-of-range time.
        let e = read(&with_at(strs(&["2026-03-01T00:00:00Z", "yesterday"]))).unwrap_err();
        assert_eq!(e.code(), "invalid_timestamp");
        assert!(e.to_string().contains("event 1, field `at`"), "{e}");
        let e = read(&with_at(Arc::new(TimestampSecondArray::from(vec![
            1,
            i64::MAX,
        ]))))
        .unwrap_err();
        assert_eq!(e.code(), "invalid_timestamp");
        // A listed property that is absent.
        let only = ColumnNames {
            properties: PropertyColumns::Only(vec!["sku".into()]),
            ..Default::default()
        };
        let e =
            EventLog::from_record_batch(&with_at(Arc::new(Int64Array::from(vec![1, 2]))), &only)
                .unwrap_err();
        assert_eq!(e.to_string(), "missing field at field `sku`");
    }

    #[test]
    fn null_typed_value_and_property_columns_have_no_values() {
        let nulls: ArrayRef = Arc::new(arrow_array::NullArray::new(2));
        let b = batch(vec![
            ("customer", strs(&["a", "b"])),
            ("at", Arc::new(Int64Array::from(vec![1, 2]))),
            ("channel", strs(&["web", "web"])),
            ("kind", strs(&["v", "v"])),
            ("value", nulls.clone()),
            ("p", nulls.clone()),
        ]);
        let log = read(&b).unwrap();
        assert!(log.values().iter().all(|v| v.is_nan()));
        assert!(
            log.property("p").is_none(),
            "no values in any batch: left out"
        );
        // Null in one batch, numbers in the next: the first batch's rows have no value.
        let b2 = batch(vec![
            ("customer", strs(&["c", "d"])),
            ("at", Arc::new(Int64Array::from(vec![3, 4]))),
            ("channel", strs(&["web", "web"])),
            ("kind", strs(&["v", "v"])),
            ("value", Arc::new(Float64Array::from(vec![1.5, 2.5]))),
            ("p", Arc::new(Float64Array::from(vec![7.0, 8.0]))),
        ]);
        let log = EventLog::from_record_batches(&[b, b2], &ColumnNames::default()).unwrap();
        assert_eq!(log.values()[..2].iter().filter(|v| v.is_nan()).count(), 2);
        assert_eq!(&log.values()[2..], [1.5, 2.5]);
        use crate::PropValue as P;
        let p = log.property("p").unwrap();
        assert_eq!((p.get(0), p.get(1)), (None, None));
        assert_eq!((p.get(2), p.get(3)), (Some(P::Num(7.0)), Some(P::Num(8.0))));
    }

    #[test]
    fn several_batches_number_rows_across_them() {
        let b1 = with_at(Arc::new(Int64Array::from(vec![1, 2])));
        let mut dict = StringDictionaryBuilder::<Int32Type>::new();
        dict.append_value("web");
        dict.append_null();
        let b2 = batch(vec![
            ("customer", strs(&["a", "c"])),
            ("at", Arc::new(Int64Array::from(vec![3, 4]))),
            ("channel", Arc::new(dict.finish())),
            ("kind", strs(&["view", "buy"])),
        ]);
        let e =
            EventLog::from_record_batches(&[b1.clone(), b2], &ColumnNames::default()).unwrap_err();
        assert_eq!(e.to_string(), "missing field at event 3, field `channel`");
        let b3 = batch(vec![
            ("customer", strs(&["a"])),
            ("at", Arc::new(Int64Array::from(vec![0]))),
            ("channel", strs(&["sms"])),
            ("kind", strs(&["view"])),
            ("value", Arc::new(Float64Array::from(vec![9.5]))),
        ]);
        let log = EventLog::from_record_batches(&[b1, b3], &ColumnNames::default()).unwrap();
        assert_eq!(log.len(), 3);
        assert_eq!(names(log.channels()), ["app", "sms", "web"]);
        assert_eq!(log.input_rows()[0], 2, "a's first event is input row 2");
        assert_eq!(log.values()[0], 9.5);
        assert!(log.values()[1].is_nan());
    }

    #[test]
    fn round_trip_through_a_record_batch() {
        let mut b = EventLog::builder();
        use crate::PropValue as P;
        b.push_with_props(
            "c2",
            Timestamp(5),
            "web",
            "view",
            Some(1.5),
            &[("sku", P::from("A")), ("vip", P::Bool(true))],
        )
        .unwrap();
        b.push_with_props(
            "c1",
            Timestamp(7),
            "app",
            "buy",
            None,
            &[("n", P::Num(3.0))],
        )
        .unwrap();
        b.push("c1", Timestamp(6), "web", "view", None).unwrap();
        let log = b.finish().unwrap();
        let batch = log.to_record_batch().unwrap();
        assert_eq!(batch.num_rows(), 3);
        let back = read(&batch).unwrap();
        assert_eq!(back.customers(), log.customers());
        assert_eq!(back.at(), log.at());
        assert_eq!(back.channel_codes(), log.channel_codes());
        assert_eq!(back.kind_codes(), log.kind_codes());
        // (Debug, since NaN marks missing numbers and NaN != NaN.)
        assert_eq!(
            format!("{:?}", back.properties()),
            format!("{:?}", log.properties())
        );
        for (x, y) in back.values().iter().zip(log.values()) {
            assert!(x == y || (x.is_nan() && y.is_nan()));
        }
        let empty = EventLog::builder().finish().unwrap();
        assert_eq!(empty.to_record_batch().unwrap().num_rows(), 0);
    }
}
