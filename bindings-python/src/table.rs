//! Tables out: [`Table`], an Arrow record batch that Python reads through the Arrow PyCapsule
//! interface (`__arrow_c_stream__`), so pyarrow, Polars and pandas take it without copies, and
//! [`Columns`], the way Rust code builds one. Every tabular result of the binding (stage counts,
//! outcome tables, event logs, and the analyses to come) is a `Table`.

use crate::errors::{BindResult, Fail};
use arrow_array::cast::AsArray;
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::types::{Float64Type, Int64Type, TimestampMillisecondType, UInt64Type};
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, RecordBatchIterator, StringArray,
    TimestampMillisecondArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyCapsule, PyDict, PyList};
use std::sync::Arc;

const STREAM: &std::ffi::CStr = c"arrow_array_stream";

/// Builds a table column by column.
#[derive(Default)]
pub struct Columns {
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
}

impl Columns {
    /// An empty set of columns.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(mut self, name: &str, array: ArrayRef) -> Self {
        self.fields
            .push(Field::new(name, array.data_type().clone(), true));
        self.arrays.push(array);
        self
    }

    /// A text column.
    pub fn str<'a>(self, name: &str, values: impl IntoIterator<Item = Option<&'a str>>) -> Self {
        let a: StringArray = values.into_iter().collect();
        self.push(name, Arc::new(a))
    }

    /// A count column.
    pub fn u64(self, name: &str, values: impl IntoIterator<Item = u64>) -> Self {
        let a: UInt64Array = values.into_iter().map(Some).collect();
        self.push(name, Arc::new(a))
    }

    /// A number column.
    pub fn f64(self, name: &str, values: impl IntoIterator<Item = Option<f64>>) -> Self {
        let a: Float64Array = values.into_iter().collect();
        self.push(name, Arc::new(a))
    }

    /// A boolean column.
    pub fn bool(self, name: &str, values: impl IntoIterator<Item = Option<bool>>) -> Self {
        let a: BooleanArray = values.into_iter().collect();
        self.push(name, Arc::new(a))
    }

    /// A time column (epoch milliseconds, shown in UTC).
    pub fn time(self, name: &str, values: impl IntoIterator<Item = Option<i64>>) -> Self {
        let a: TimestampMillisecondArray = values.into_iter().collect();
        self.push(name, Arc::new(a.with_timezone("UTC")))
    }

    /// The table.
    pub fn finish(self) -> BindResult<Table> {
        let schema = Arc::new(Schema::new(self.fields));
        let batch = RecordBatch::try_new(schema, self.arrays)
            .map_err(|e| Fail::Py(PyValueError::new_err(e.to_string())))?;
        Ok(Table { batch })
    }
}

/// A table of results (Arrow data held by Rust).
///
/// It converts with `to_pandas()`, `to_polars()`, `to_arrow()` (each needs that library), or
/// `to_pydict()` / `to_pylist()` (plain Python); any library that reads the Arrow PyCapsule
/// interface takes it directly (`pyarrow.table(t)`, `polars.DataFrame(t)`).
#[pyclass(frozen, module = "jornada")]
pub struct Table {
    batch: RecordBatch,
}

static CONVERT: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
static HTML: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
static PLOT: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn convert(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    CONVERT
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("jornada._convert")?.unbind())
        })
        .map(|m| m.bind(py))
}

/// The `jornada._html` module.
pub fn html(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    HTML.get_or_try_init(py, || Ok::<_, PyErr>(py.import("jornada._html")?.unbind()))
        .map(|m| m.bind(py))
}

/// The `jornada._plot` module (matplotlib charts of results).
pub fn plot_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    PLOT.get_or_try_init(py, || Ok::<_, PyErr>(py.import("jornada._plot")?.unbind()))
        .map(|m| m.bind(py))
}

impl Table {
    /// The record batch.
    pub fn batch(&self) -> &RecordBatch {
        &self.batch
    }

    /// Wraps a record batch.
    pub fn from_batch(batch: RecordBatch) -> Table {
        Table { batch }
    }

    fn column_list<'py>(&self, py: Python<'py>, i: usize) -> PyResult<Bound<'py, PyAny>> {
        let a = self.batch.column(i);
        let list = PyList::empty(py);
        match a.data_type() {
            DataType::Utf8 => {
                for v in a.as_string::<i32>() {
                    list.append(v)?;
                }
            }
            DataType::UInt64 => {
                for v in a.as_primitive::<UInt64Type>() {
                    list.append(v)?;
                }
            }
            DataType::Int64 => {
                for v in a.as_primitive::<Int64Type>() {
                    list.append(v)?;
                }
            }
            DataType::Float64 => {
                for v in a.as_primitive::<Float64Type>() {
                    list.append(v)?;
                }
            }
            DataType::Boolean => {
                for v in a.as_boolean() {
                    list.append(v)?;
                }
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                let ms: Vec<Option<i64>> = a
                    .as_primitive::<TimestampMillisecondType>()
                    .iter()
                    .collect();
                return convert(py)?.call_method1("datetimes_from_ms", (ms,));
            }
            other => {
                return Err(PyValueError::new_err(format!(
                    "column type {other} has no Python conversion"
                )))
            }
        }
        Ok(list.into_any())
    }
}

#[pymethods]
impl Table {
    /// Exports the table through the Arrow PyCapsule interface (a stream of one batch).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema; // The schema is fixed; consumers cast if they need to.
        let schema = self.batch.schema();
        let reader = RecordBatchIterator::new(vec![Ok(self.batch.clone())], schema);
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, STREAM)
    }

    /// Number of rows.
    fn __len__(&self) -> usize {
        self.batch.num_rows()
    }

    /// Number of rows.
    #[getter]
    fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// Column names, in order.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// The columns as a dict of lists (times as UTC datetimes).
    fn to_pydict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (i, f) in self.batch.schema().fields().iter().enumerate() {
            d.set_item(f.name(), self.column_list(py, i)?)?;
        }
        Ok(d)
    }

    /// The rows as a list of dicts.
    fn to_pylist<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        convert(slf.py())?.call_method1("table_to_pylist", (slf,))
    }

    /// As a `pyarrow.Table` (needs pyarrow).
    fn to_arrow<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        convert(slf.py())?.call_method1("to_pyarrow", (slf,))
    }

    /// As a `pandas.DataFrame` (needs pandas).
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        convert(slf.py())?.call_method1("to_pandas", (slf,))
    }

    /// As a `polars.DataFrame` (needs polars).
    fn to_polars<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        convert(slf.py())?.call_method1("to_polars", (slf,))
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        html(slf.py())?
            .call_method1("table_repr", (slf,))?
            .extract()
    }

    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<String> {
        html(slf.py())?
            .call_method1("table_html", (slf,))?
            .extract()
    }

    /// The kind of result this table holds, which picks its chart: `"funnel"`, `"attribution"`,
    /// `"retention"`, `"time_in_stage"`, `"transitions"`, `"paths"`, `"stage_counts"`, or
    /// `None` (no chart), read from its columns.
    #[getter]
    fn chart_kind<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        html(slf.py())?.call_method1("chart_kind", (slf,))
    }

    /// Plots the result with matplotlib and returns the Axes (funnel bars, attribution bars by
    /// model, retention heatmap, time-in-stage ranges, a transition matrix, path or stage
    /// bars); `ax` draws into existing Axes. Needs matplotlib; a `ValueError` for tables
    /// without a chart (`chart_kind` is `None`).
    #[pyo3(signature = (ax=None))]
    fn plot<'py>(
        slf: &Bound<'py, Self>,
        ax: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        plot_module(slf.py())?.call_method1("plot_table", (slf, ax))
    }
}
