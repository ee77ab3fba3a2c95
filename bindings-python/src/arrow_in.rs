//! Tables in: any object with the Arrow PyCapsule interface (`__arrow_c_stream__` or
//! `__arrow_c_array__`: pyarrow, Polars, pandas ≥ 2.2, DuckDB...) read zero-copy into Arrow
//! record batches, and typed read-only views of their columns.
//!
//! A column view turns one Arrow column into cells the core understands (strings, integers,
//! floats, booleans, nulls); temporal columns (timestamps of any unit and time zone, dates)
//! become epoch milliseconds, rounded down. Other types are a `wrong_type` error naming the
//! column.

use crate::errors::{type_name, wrong_type, BindResult, Fail};
use arrow_array::cast::AsArray;
use arrow_array::ffi::{from_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use arrow_array::types::*;
use arrow_array::{
    make_array, Array, ArrayRef, BooleanArray, LargeStringArray, RecordBatch, StringArray,
    StringViewArray,
};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use jornada::Error;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyCapsule, PyTuple};

const STREAM: &std::ffi::CStr = c"arrow_array_stream";
const SCHEMA: &std::ffi::CStr = c"arrow_schema";
const ARRAY: &std::ffi::CStr = c"arrow_array";

static TO_ARROW: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static VIA_PYARROW: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// An imported table: its schema and record batches (sharing the producer's memory).
pub struct ArrowTable {
    /// The columns.
    pub schema: SchemaRef,
    /// The rows, in order.
    pub batches: Vec<RecordBatch>,
}

impl ArrowTable {
    /// Column names, for messages.
    pub fn column_names(&self) -> Vec<&str> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect()
    }

    /// The position of a column.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.schema.index_of(name).ok()
    }
}

/// Reads a table. Objects without the Arrow PyCapsule interface are handed to
/// `jornada._convert.to_arrow` (older pandas through pyarrow); anything else is `wrong_type`.
pub fn import(obj: &Bound<'_, PyAny>) -> BindResult<ArrowTable> {
    let py = obj.py();
    match import_capsules(obj) {
        Ok(Some(t)) => return Ok(t),
        Ok(None) => {}
        Err(e) => {
            // Some producers export layouts arrow-rs refuses (Polars: a buffer on all-null
            // columns); pyarrow reads them and exports the standard layout. Only on failure.
            let repaired = VIA_PYARROW
                .import(py, "jornada._convert", "via_pyarrow")?
                .call1((obj,))?;
            if !repaired.is_none() {
                if let Ok(Some(t)) = import_capsules(&repaired) {
                    return Ok(t);
                }
            }
            return Err(e);
        }
    }
    let convert = TO_ARROW.import(py, "jornada._convert", "to_arrow_source")?;
    let converted = convert.call1((obj,))?;
    if !converted.is_none() {
        if let Some(t) = import_capsules(&converted)? {
            return Ok(t);
        }
    }
    Err(Fail::Core(wrong_type(
        "",
        format!(
            "a table (pandas, Polars or pyarrow: an object with __arrow_c_stream__) or a list of dicts, got a {}",
            type_name(obj)
        ),
    )))
}

fn arrow_err(e: impl std::fmt::Display) -> Fail {
    Fail::Py(PyTypeError::new_err(format!(
        "the Arrow data could not be read: {e}"
    )))
}

fn import_capsules(obj: &Bound<'_, PyAny>) -> BindResult<Option<ArrowTable>> {
    if obj.hasattr("__arrow_c_stream__")? {
        let capsule = obj.call_method0("__arrow_c_stream__")?;
        let capsule = capsule.cast::<PyCapsule>().map_err(PyErr::from)?;
        let ptr = capsule.pointer_checked(Some(STREAM))?;
        // SAFETY: the capsule holds an `ArrowArrayStream` (its name says so); `from_raw` moves it
        // out and marks the original released, as the PyCapsule protocol prescribes.
        let stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.as_ptr().cast()) };
        let reader = ArrowArrayStreamReader::try_new(stream).map_err(arrow_err)?;
        let schema = arrow_array::RecordBatchReader::schema(&reader);
        let batches = reader.collect::<Result<Vec<_>, _>>().map_err(arrow_err)?;
        return Ok(Some(ArrowTable { schema, batches }));
    }
    if obj.hasattr("__arrow_c_array__")? {
        let pair = obj.call_method0("__arrow_c_array__")?;
        let pair = pair.cast::<PyTuple>().map_err(PyErr::from)?;
        let schema_capsule = pair.get_item(0)?;
        let array_capsule = pair.get_item(1)?;
        let schema_capsule = schema_capsule.cast::<PyCapsule>().map_err(PyErr::from)?;
        let array_capsule = array_capsule.cast::<PyCapsule>().map_err(PyErr::from)?;
        let schema_ptr = schema_capsule.pointer_checked(Some(SCHEMA))?;
        let array_ptr = array_capsule.pointer_checked(Some(ARRAY))?;
        // SAFETY: the capsules hold an `ArrowSchema` and an `ArrowArray` (their names say so); the
        // schema is borrowed, the array moved out and marked released.
        let (schema, data) = unsafe {
            let schema: &FFI_ArrowSchema = &*schema_ptr.as_ptr().cast();
            let array = FFI_ArrowArray::from_raw(array_ptr.as_ptr().cast());
            (schema, from_ffi(array, schema).map_err(arrow_err)?)
        };
        let dtype = DataType::try_from(schema).map_err(arrow_err)?;
        let array = make_array(data);
        let DataType::Struct(_) = dtype else {
            return Err(Fail::Core(wrong_type(
                "",
                format!("a table (a struct array), got an Arrow array of type {dtype}"),
            )));
        };
        let batch = RecordBatch::from(array.as_struct().clone());
        let schema: SchemaRef = batch.schema();
        return Ok(Some(ArrowTable {
            schema,
            batches: vec![batch],
        }));
    }
    Ok(None)
}

/// One cell of a column.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    /// No value.
    Null,
    /// Text.
    Str(&'a str),
    /// A signed integer (or a time in epoch milliseconds).
    I64(i64),
    /// An unsigned integer beyond `i64`.
    U64(u64),
    /// A float.
    F64(f64),
    /// A boolean.
    Bool(bool),
}

/// A string column.
pub enum StrCol<'a> {
    /// `utf8`.
    Utf8(&'a StringArray),
    /// `large_utf8`.
    Large(&'a LargeStringArray),
    /// `utf8_view`.
    View(&'a StringViewArray),
}

impl<'a> StrCol<'a> {
    fn of(array: &'a dyn Array) -> Option<StrCol<'a>> {
        Some(match array.data_type() {
            DataType::Utf8 => StrCol::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => StrCol::Large(array.as_string::<i64>()),
            DataType::Utf8View => StrCol::View(array.as_string_view()),
            _ => return None,
        })
    }

    /// The string at `i`, `None` when null.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            StrCol::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            StrCol::Large(a) => a.is_valid(i).then(|| a.value(i)),
            StrCol::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        match self {
            StrCol::Utf8(a) => a.len(),
            StrCol::Large(a) => a.len(),
            StrCol::View(a) => a.len(),
        }
    }
}

/// A typed, read-only view of one column of one record batch.
pub enum Col<'a> {
    /// Every entry null (Arrow `null` type).
    Null,
    /// Strings.
    Str(StrCol<'a>),
    /// Dictionary-encoded strings (pandas categoricals, Polars categoricals/enums): per row the
    /// index of its value (`None`: null), and the values.
    Dict(Vec<Option<u32>>, StrCol<'a>),
    /// Signed integers, widened.
    I64(Vec<i64>, Option<NullBuffer>),
    /// Signed 64-bit integers as they are.
    I64Ref(&'a [i64], Option<&'a NullBuffer>),
    /// Unsigned 64-bit integers.
    U64(&'a [u64], Option<&'a NullBuffer>),
    /// Floats, widened.
    F64(Vec<f64>, Option<NullBuffer>),
    /// 64-bit floats as they are.
    F64Ref(&'a [f64], Option<&'a NullBuffer>),
    /// Booleans.
    Bool(&'a BooleanArray),
    /// Times in epoch milliseconds (from timestamps or dates).
    Time(Vec<i64>, Option<NullBuffer>),
}

fn valid(nulls: Option<&NullBuffer>, i: usize) -> bool {
    nulls.is_none_or(|n| n.is_valid(i))
}

/// What a column may hold, by the touchpoint field it feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Names (`channel`, `kind`): strings.
    Text,
    /// Keys (identity kinds, `id`, the customer): strings or integers.
    Key,
    /// `value`: numbers.
    Number,
    /// `at`: timestamps, dates, strings, integers (epoch ms), whole floats.
    Time,
    /// Properties: strings, numbers, booleans.
    Prop,
}

impl<'a> Col<'a> {
    /// A view of `array` for touchpoint field `field`, read from column `column`; an Arrow type
    /// the field cannot take is a `wrong_type` error naming both.
    pub fn of(
        array: &'a ArrayRef,
        field: &str,
        column: &str,
        want: Want,
    ) -> Result<Col<'a>, Error> {
        let col = Col::view(array, field, column, want == Want::Time)?;
        let ok = match (&col, want) {
            (Col::Null, _) => true,
            (_, Want::Text) => col.is_text(),
            (_, Want::Key) => col.is_text() || col.is_integer(),
            (_, Want::Number) => col.is_numeric(),
            (_, Want::Time) => !matches!(col, Col::Bool(_)),
            (_, Want::Prop) => true,
        };
        if ok {
            Ok(col)
        } else {
            Err(bad_type(field, column, &array.data_type().to_string()))
        }
    }

    fn view(array: &'a ArrayRef, field: &str, column: &str, time: bool) -> Result<Col<'a>, Error> {
        let a: &'a dyn Array = array.as_ref();
        let widen_i = |v: Vec<i64>| Col::I64(v, a.nulls().cloned());
        Ok(match a.data_type() {
            DataType::Null => Col::Null,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                Col::Str(StrCol::of(a).expect("a string type"))
            }
            DataType::Dictionary(_, value_type) => {
                let dict = a.as_any_dictionary();
                let Some(values) = StrCol::of(dict.values().as_ref()) else {
                    return Err(bad_type(
                        field,
                        column,
                        &format!("dictionary of {value_type}"),
                    ));
                };
                let n_values = values.len();
                let keys: Vec<Option<u32>> = if n_values == 0 {
                    vec![None; a.len()]
                } else {
                    dict.normalized_keys()
                        .into_iter()
                        .enumerate()
                        .map(|(i, k)| {
                            (dict.keys().is_valid(i) && values.get(k).is_some()).then_some(k as u32)
                        })
                        .collect()
                };
                Col::Dict(keys, values)
            }
            DataType::Int8 => widen_i(ints::<Int8Type>(a)),
            DataType::Int16 => widen_i(ints::<Int16Type>(a)),
            DataType::Int32 => widen_i(ints::<Int32Type>(a)),
            DataType::UInt8 => widen_i(ints::<UInt8Type>(a)),
            DataType::UInt16 => widen_i(ints::<UInt16Type>(a)),
            DataType::UInt32 => widen_i(ints::<UInt32Type>(a)),
            DataType::Int64 => {
                let p = a.as_primitive::<Int64Type>();
                Col::I64Ref(p.values(), p.nulls())
            }
            DataType::UInt64 => {
                let p = a.as_primitive::<UInt64Type>();
                Col::U64(p.values(), p.nulls())
            }
            DataType::Float16 => Col::F64(
                a.as_primitive::<Float16Type>()
                    .values()
                    .iter()
                    .map(|x| x.to_f64())
                    .collect(),
                a.nulls().cloned(),
            ),
            DataType::Float32 => Col::F64(
                a.as_primitive::<Float32Type>()
                    .values()
                    .iter()
                    .map(|&x| x as f64)
                    .collect(),
                a.nulls().cloned(),
            ),
            DataType::Float64 => {
                let p = a.as_primitive::<Float64Type>();
                Col::F64Ref(p.values(), p.nulls())
            }
            DataType::Boolean => Col::Bool(a.as_boolean()),
            DataType::Timestamp(unit, _) if time => {
                let ms = match unit {
                    TimeUnit::Second => {
                        scale(a.as_primitive::<TimestampSecondType>().values(), 1000, 1)
                    }
                    TimeUnit::Millisecond => a
                        .as_primitive::<TimestampMillisecondType>()
                        .values()
                        .to_vec(),
                    TimeUnit::Microsecond => scale(
                        a.as_primitive::<TimestampMicrosecondType>().values(),
                        1,
                        1000,
                    ),
                    TimeUnit::Nanosecond => scale(
                        a.as_primitive::<TimestampNanosecondType>().values(),
                        1,
                        1_000_000,
                    ),
                };
                Col::Time(ms, a.nulls().cloned())
            }
            DataType::Date32 if time => Col::Time(
                a.as_primitive::<Date32Type>()
                    .values()
                    .iter()
                    .map(|&d| d as i64 * 86_400_000)
                    .collect(),
                a.nulls().cloned(),
            ),
            DataType::Date64 if time => Col::Time(
                a.as_primitive::<Date64Type>().values().to_vec(),
                a.nulls().cloned(),
            ),
            other => return Err(bad_type(field, column, &other.to_string())),
        })
    }

    /// The cell at row `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Cell<'a> {
        match self {
            Col::Null => Cell::Null,
            Col::Str(s) => s.get(i).map_or(Cell::Null, Cell::Str),
            Col::Dict(keys, values) => match keys.get(i).copied().flatten() {
                Some(k) => values.get(k as usize).map_or(Cell::Null, Cell::Str),
                None => Cell::Null,
            },
            Col::I64(v, n) | Col::Time(v, n) => {
                if valid(n.as_ref(), i) {
                    Cell::I64(v[i])
                } else {
                    Cell::Null
                }
            }
            Col::I64Ref(v, n) => {
                if valid(*n, i) {
                    Cell::I64(v[i])
                } else {
                    Cell::Null
                }
            }
            Col::U64(v, n) => {
                if !valid(*n, i) {
                    Cell::Null
                } else if let Ok(x) = i64::try_from(v[i]) {
                    Cell::I64(x)
                } else {
                    Cell::U64(v[i])
                }
            }
            Col::F64(v, n) => {
                if valid(n.as_ref(), i) {
                    Cell::F64(v[i])
                } else {
                    Cell::Null
                }
            }
            Col::F64Ref(v, n) => {
                if valid(*n, i) {
                    Cell::F64(v[i])
                } else {
                    Cell::Null
                }
            }
            Col::Bool(b) => {
                if b.is_valid(i) {
                    Cell::Bool(b.value(i))
                } else {
                    Cell::Null
                }
            }
        }
    }

    /// Whether the column holds text.
    pub fn is_text(&self) -> bool {
        matches!(self, Col::Str(_) | Col::Dict(..))
    }

    /// Whether the column holds integers.
    pub fn is_integer(&self) -> bool {
        matches!(self, Col::I64(..) | Col::I64Ref(..) | Col::U64(..))
    }

    /// Whether the column holds numbers.
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Col::I64(..) | Col::I64Ref(..) | Col::U64(..) | Col::F64(..) | Col::F64Ref(..)
        )
    }
}

fn ints<T: ArrowPrimitiveType>(a: &dyn Array) -> Vec<i64>
where
    T::Native: Into<i64>,
{
    a.as_primitive::<T>()
        .values()
        .iter()
        .map(|&x| x.into())
        .collect()
}

/// `v * mul / div`, rounded down, saturating (an out-of-range time stays out of range and is
/// rejected by the core).
fn scale(v: &[i64], mul: i64, div: i64) -> Vec<i64> {
    v.iter()
        .map(|&x| x.saturating_mul(mul).div_euclid(div))
        .collect()
}

fn bad_type(field: &str, column: &str, dtype: &str) -> Error {
    let expected = match field {
        "at" => "a timestamp, date, string (RFC 3339) or integer (epoch ms) column",
        "value" => "a numeric column",
        "channel" | "kind" => "a string column",
        f if f.starts_with("properties.") => "a string, numeric or boolean column",
        _ => "a string or integer column",
    };
    let named = if column == field {
        format!("column `{column}`")
    } else {
        format!("column `{column}` (for `{field}`)")
    };
    wrong_type(field, format!("{expected}; {named} has Arrow type {dtype}"))
}
