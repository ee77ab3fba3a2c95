//! `jornada.EventLog`: the core's columnar event log, built from a table.
//!
//! The Arrow → [`Columns`] conversion here is the binding's stopgap until the core's
//! `EventLog::from_record_batch` (feature `arrow`) lands; then `from_frame` should call that and
//! this file keeps only the Python-facing class. It only moves data: string columns are
//! dictionary-coded (Arrow dictionaries reused as they are), times converted to epoch
//! milliseconds; every check on values is the core's (`EventLog::from_columns`).

use crate::analysis::{self, Replay};
use crate::arrow_in::{self, ArrowTable, Cell, Col, Want};
use crate::engine::property_columns;
use crate::errors::{BindResult, Fail, OrRaise};
use crate::model::Model;
use crate::table::{html, Columns as TableColumns, Table};
use jornada::analytics::event_log::{NULL_BOOL, NULL_CODE};
use jornada::analytics::{Columns, EventLog as CoreLog, PropColumn};
use jornada::{Error, Location, Timestamp};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyType};
use std::collections::HashMap;
use std::sync::Arc;

/// A columnar, sorted log of touchpoints for batch analytics (sorted by customer, then time).
///
/// >>> import jornada as jd, pyarrow as pa
/// >>> t = pa.table({"user_id": ["u2", "u1", "u1"], "ts": [3000, 1000, 2000],
/// ...               "channel": ["web", "web", "app"], "event": ["view", "view", "buy"],
/// ...               "revenue": [None, None, 30.0]})
/// >>> log = jd.EventLog.from_frame(t, customer="user_id", at="ts", kind="event", value="revenue")
/// >>> len(log), log.customers
/// (3, ['u1', 'u2'])
/// >>> log.to_pydict()["kind"]
/// ['view', 'buy', 'view']
#[pyclass(frozen, module = "jornada")]
pub struct EventLog {
    pub(crate) inner: Arc<CoreLog>,
}

/// Strings to dictionary codes.
#[derive(Default)]
struct Interner<'a> {
    map: HashMap<&'a str, u32>,
    owned: HashMap<String, u32>,
    dict: Vec<Box<str>>,
}

impl<'a> Interner<'a> {
    fn code(&mut self, s: &'a str) -> u32 {
        if let Some(&c) = self.map.get(s) {
            return c;
        }
        let c = self.dict.len() as u32;
        self.dict.push(s.into());
        self.map.insert(s, c);
        c
    }

    fn code_owned(&mut self, s: String) -> u32 {
        if let Some(&c) = self.owned.get(&s) {
            return c;
        }
        let c = self.dict.len() as u32;
        self.dict.push(s.as_str().into());
        self.owned.insert(s, c);
        c
    }
}

fn null_cell(field: &str, column: &str, row: usize) -> Fail {
    Fail::Custom {
        code: "missing_field",
        field: field.into(),
        index: Some(row),
        message: format!("row {row}: `{field}` (column `{column}`) is null"),
    }
}

/// Appends the codes of a text or key column to `out`.
fn push_codes<'a>(
    col: &Col<'a>,
    rows: usize,
    offset: usize,
    (field, column): (&str, &str),
    interner: &mut Interner<'a>,
    out: &mut Vec<u32>,
    nullable: bool,
) -> BindResult<()> {
    if let Col::Dict(keys, values) = col {
        // Each dictionary value is interned once; rows map through their key.
        let mut local: Vec<Option<u32>> = vec![None; values.len()];
        for (i, k) in keys.iter().enumerate() {
            match k {
                Some(k) => {
                    let k = *k as usize;
                    let code = match local.get(k).copied().flatten() {
                        Some(c) => c,
                        None => {
                            let c = values.get(k).map(|s| interner.code(s)).unwrap_or(NULL_CODE);
                            if let Some(slot) = local.get_mut(k) {
                                *slot = Some(c);
                            }
                            c
                        }
                    };
                    out.push(code);
                }
                None if nullable => out.push(NULL_CODE),
                None => return Err(null_cell(field, column, offset + i)),
            }
        }
        return Ok(());
    }
    for i in 0..rows {
        let code = match col.get(i) {
            Cell::Str(s) => interner.code(s),
            Cell::I64(v) => interner.code_owned(v.to_string()),
            Cell::U64(v) => interner.code_owned(v.to_string()),
            Cell::Null if nullable => NULL_CODE,
            _ => return Err(null_cell(field, column, offset + i)),
        };
        out.push(code);
    }
    Ok(())
}

fn time_of(cell: Cell<'_>, row: usize, column: &str) -> BindResult<i64> {
    let invalid = |value: String| {
        Fail::Core(Error::InvalidTimestamp {
            loc: Location {
                index: Some(row),
                line: None,
                field: "at".into(),
            },
            value,
        })
    };
    match cell {
        Cell::I64(ms) => Ok(ms),
        Cell::U64(ms) => Err(invalid(ms.to_string())),
        Cell::Str(s) => Timestamp::parse(s)
            .map(|t| t.millis())
            .ok_or_else(|| invalid(s.chars().take(80).collect())),
        Cell::F64(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        Cell::F64(f) => Err(invalid(f.to_string())),
        Cell::Bool(_) | Cell::Null => Err(null_cell("at", column, row)),
    }
}

fn number_of(cell: Cell<'_>) -> f64 {
    match cell {
        Cell::I64(v) => v as f64,
        Cell::U64(v) => v as f64,
        Cell::F64(v) => v,
        _ => f64::NAN,
    }
}

/// Column names for each part of a log.
struct Names {
    customer: String,
    at: String,
    channel: String,
    kind: String,
    value: Option<String>,
    props: Vec<(String, String)>,
}

fn index(table: &ArrowTable, field: &str, column: &str) -> BindResult<usize> {
    table.index_of(column).ok_or_else(|| Fail::Custom {
        code: "missing_field",
        field: field.into(),
        index: None,
        message: format!(
            "the table has no column `{column}` (for `{field}`); its columns are: {}",
            table.column_names().join(", ")
        ),
    })
}

/// Builds the core's columns from a table (the binding's stopgap; see the module docs).
fn columns(table: &ArrowTable, n: &Names) -> BindResult<Columns> {
    let ci = index(table, "customer", &n.customer)?;
    let ti = index(table, "at", &n.at)?;
    let chi = index(table, "channel", &n.channel)?;
    let ki = index(table, "kind", &n.kind)?;
    let vi = match &n.value {
        Some(v) if v == "value" => table.index_of(v),
        Some(v) => Some(index(table, "value", v)?),
        None => None,
    };
    let pis = n
        .props
        .iter()
        .map(|(name, col)| index(table, &format!("properties.{name}"), col))
        .collect::<BindResult<Vec<_>>>()?;

    let rows = table.num_rows();
    let mut c = Columns {
        customer: Vec::with_capacity(rows),
        at: Vec::with_capacity(rows),
        channel: Vec::with_capacity(rows),
        kind: Vec::with_capacity(rows),
        value: if vi.is_some() {
            Vec::with_capacity(rows)
        } else {
            Vec::new()
        },
        ..Default::default()
    };
    let (mut customers, mut channels, mut kinds) = (
        Interner::default(),
        Interner::default(),
        Interner::default(),
    );
    let mut prop_dicts: Vec<Interner<'_>> = n.props.iter().map(|_| Interner::default()).collect();
    let mut props: Vec<Option<PropColumn>> = n.props.iter().map(|_| None).collect();
    let mut offset = 0;
    for batch in &table.batches {
        let len = batch.num_rows();
        let customer = Col::of(batch.column(ci), "customer", &n.customer, Want::Key)?;
        push_codes(
            &customer,
            len,
            offset,
            ("customer", &n.customer),
            &mut customers,
            &mut c.customer,
            false,
        )?;
        let channel = Col::of(batch.column(chi), "channel", &n.channel, Want::Text)?;
        push_codes(
            &channel,
            len,
            offset,
            ("channel", &n.channel),
            &mut channels,
            &mut c.channel,
            false,
        )?;
        let kind = Col::of(batch.column(ki), "kind", &n.kind, Want::Text)?;
        push_codes(
            &kind,
            len,
            offset,
            ("kind", &n.kind),
            &mut kinds,
            &mut c.kind,
            false,
        )?;
        let at = Col::of(batch.column(ti), "at", &n.at, Want::Time)?;
        for i in 0..len {
            c.at.push(time_of(at.get(i), offset + i, &n.at)?);
        }
        if let Some(vi) = vi {
            let column = n.value.as_deref().unwrap_or("value");
            let value = Col::of(batch.column(vi), "value", column, Want::Number)?;
            c.value.extend((0..len).map(|i| number_of(value.get(i))));
        }
        for (p, (&pi, (name, column))) in pis.iter().zip(&n.props).enumerate() {
            let field = format!("properties.{name}");
            let col = Col::of(batch.column(pi), &field, column, Want::Prop)?;
            let slot = &mut props[p];
            if slot.is_none() {
                *slot = Some(match &col {
                    Col::Bool(_) => PropColumn::Bool(vec![NULL_BOOL; offset]),
                    c if c.is_numeric() => PropColumn::Num(vec![f64::NAN; offset]),
                    _ => PropColumn::Str {
                        codes: vec![NULL_CODE; offset],
                        dict: Vec::new(),
                    },
                });
            }
            match slot.as_mut() {
                Some(PropColumn::Str { codes, .. })
                    if col.is_text() || matches!(col, Col::Null) =>
                {
                    push_codes(
                        &col,
                        len,
                        offset,
                        (&field, column),
                        &mut prop_dicts[p],
                        codes,
                        true,
                    )?;
                }
                Some(PropColumn::Num(v)) if col.is_numeric() || matches!(col, Col::Null) => {
                    v.extend((0..len).map(|i| number_of(col.get(i))));
                }
                Some(PropColumn::Bool(v)) if matches!(col, Col::Bool(_) | Col::Null) => {
                    v.extend((0..len).map(|i| match col.get(i) {
                        Cell::Bool(b) => b as u8,
                        _ => NULL_BOOL,
                    }));
                }
                _ => {
                    return Err(Fail::Core(crate::errors::wrong_type(
                        &field,
                        format!("one type in every batch; column `{column}` changes type"),
                    )))
                }
            }
        }
        offset += len;
    }
    c.customer_dict = customers.dict;
    c.channel_dict = channels.dict;
    c.kind_dict = kinds.dict;
    for ((name, _), (col, dict)) in n.props.iter().zip(props.into_iter().zip(prop_dicts)) {
        let col = match col {
            Some(PropColumn::Str { codes, .. }) => PropColumn::Str {
                codes,
                dict: dict.dict,
            },
            Some(other) => other,
            None => PropColumn::Str {
                codes: Vec::new(),
                dict: Vec::new(),
            },
        };
        c.props.push((name.clone(), col));
    }
    Ok(c)
}

impl EventLog {
    fn table(&self, py: Python<'_>) -> PyResult<Table> {
        let log = &*self.inner;
        let mut t = TableColumns::new()
            .str(
                "customer",
                log.customer_codes()
                    .iter()
                    .map(|&c| Some(&*log.customers()[c as usize])),
            )
            .time("at", log.at().iter().map(|&t| Some(t)))
            .str(
                "channel",
                log.channel_codes()
                    .iter()
                    .map(|&c| Some(log.channel_name(c))),
            )
            .str(
                "kind",
                log.kind_codes().iter().map(|&c| Some(log.kind_name(c))),
            )
            .f64(
                "value",
                log.values().iter().map(|&v| (!v.is_nan()).then_some(v)),
            );
        for (name, col) in log.properties() {
            t = match col {
                PropColumn::Str { codes, dict } => t.str(
                    name,
                    codes
                        .iter()
                        .map(|&c| (c != NULL_CODE).then(|| &*dict[c as usize])),
                ),
                PropColumn::Num(v) => t.f64(name, v.iter().map(|&x| (!x.is_nan()).then_some(x))),
                PropColumn::Bool(v) => {
                    t.bool(name, v.iter().map(|&b| (b != NULL_BOOL).then_some(b == 1)))
                }
            };
        }
        t.finish().or_raise(py)
    }
}

#[pymethods]
impl EventLog {
    /// Builds a log from a table (pandas, Polars or pyarrow, through the Arrow PyCapsule
    /// interface), naming its columns: `customer` (strings or integers), `at` (timestamps,
    /// dates, RFC 3339 strings or epoch-millisecond integers), `channel`, `kind`, optional
    /// `value` (numbers; null or NaN is no value) and `properties` (column names, or a dict of
    /// property name to column). Errors name the row and column. The GIL is released while the
    /// log is built and sorted.
    #[classmethod]
    #[pyo3(
        signature = (data, *, customer="customer".to_string(), at="at".to_string(), channel="channel".to_string(), kind="kind".to_string(), value=Some("value".to_string()), properties=None),
        text_signature = "($cls, data, *, customer='customer', at='at', channel='channel', kind='kind', value='value', properties=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn from_frame(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        customer: String,
        at: String,
        channel: String,
        kind: String,
        value: Option<String>,
        properties: Option<Bound<'_, PyAny>>,
    ) -> PyResult<EventLog> {
        let props = property_columns(properties.as_ref()).or_raise(py)?;
        let table = arrow_in::import(data).or_raise(py)?;
        let names = Names {
            customer,
            at,
            channel,
            kind,
            value,
            props,
        };
        let log = py
            .detach(|| -> BindResult<CoreLog> {
                let cols = columns(&table, &names)?;
                Ok(CoreLog::from_columns(cols)?)
            })
            .or_raise(py)?;
        Ok(EventLog {
            inner: Arc::new(log),
        })
    }

    /// Replays the log through `model` (the core's `replay`): a `Replay` with per-customer final
    /// stages (`.table`), `.transitions` and `.actions`. `until`: replay up to this time
    /// (default: the last event); `skip_unknown`: leave out rows whose kind or channel the model
    /// does not declare (default: fail). The GIL is released while it runs. `progress`: a
    /// progress bar of the customers replayed (`None`: tqdm when installed, in a notebook or
    /// terminal, for a large log; `True`, `False`, or a callable `f(done, total)`).
    #[pyo3(signature = (model, *, until=None, skip_unknown=false, progress=None))]
    fn replay(
        &self,
        py: Python<'_>,
        model: &Model,
        until: Option<Bound<'_, PyAny>>,
        skip_unknown: bool,
        progress: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Replay> {
        analysis::log_replay(
            &self.inner,
            py,
            model,
            until,
            skip_unknown,
            progress.as_ref(),
        )
    }

    /// Time in each stage of `model` (replays the log; see `Replay.time_in_stage`; `progress`
    /// as in `replay`).
    #[pyo3(signature = (model, *, until=None, skip_unknown=false, progress=None))]
    fn time_in_stage(
        &self,
        py: Python<'_>,
        model: &Model,
        until: Option<Bound<'_, PyAny>>,
        skip_unknown: bool,
        progress: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Table> {
        analysis::log_time_in_stage(
            &self.inner,
            py,
            model,
            until,
            skip_unknown,
            progress.as_ref(),
        )
    }

    /// A funnel over event kinds (the core's `funnel`, ClickHouse `windowFunnel` semantics):
    /// `steps` are event kinds, `window` a duration (`"7d"`), `mode` one of `window_funnel`,
    /// `strict_order`, `strict_order_steps`, `any`. One row per step: `step`, `customers`,
    /// `conversion_from_first`, `conversion_from_previous`, `drop_off`,
    /// `median_from_previous_ms`, `p90_from_previous_ms`. The GIL is released while it runs.
    #[pyo3(signature = (steps, *, window="7d", mode="window_funnel"))]
    fn funnel(
        &self,
        py: Python<'_>,
        steps: Vec<String>,
        window: &str,
        mode: &str,
    ) -> PyResult<Table> {
        analysis::log_funnel(&self.inner, py, steps, window, mode)
    }

    /// Attribution of the conversions (events of kind `conversion`) to the channels touched
    /// within `lookback` (a duration, `None` for no limit) before them, by `models` (names:
    /// `first_touch`, `last_touch`, `linear`, `position` / `position_based`, `time_decay`,
    /// `markov`, `shapley`; default all). One row per model and channel: `model`, `channel`,
    /// `conversions`, `value`. The GIL is released while it runs; `progress` as in `replay`
    /// (customers whose journeys are cut; the models run after).
    #[pyo3(
        signature = (*, conversion, lookback=Some("30d".to_string()), models=None, progress=None),
        text_signature = "($self, *, conversion, lookback='30d', models=None, progress=None)"
    )]
    fn attribution(
        &self,
        py: Python<'_>,
        conversion: &str,
        lookback: Option<String>,
        models: Option<Vec<String>>,
        progress: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Table> {
        crate::attribution::log_attribution(
            &self.inner,
            py,
            conversion,
            lookback.as_deref(),
            models,
            progress.as_ref(),
        )
    }

    /// Directly-follows graph (the core's `directly_follows`) by `kind` or `channel`: one row
    /// per edge, `from`, `to`, `count`, `probability`, `median_ms`.
    #[pyo3(signature = (*, by="kind"))]
    fn transitions(&self, py: Python<'_>, by: &str) -> PyResult<Table> {
        crate::paths::log_transitions(&self.inner, py, by)
    }

    /// The `top` most common paths (the core's `top_paths`) of up to `max_steps` labels by
    /// `kind` or `channel`: `path` (joined by `" > "`), `customers`, `share`.
    #[pyo3(signature = (*, top=20, by="kind", max_steps=5, collapse_repeats=false))]
    fn paths(
        &self,
        py: Python<'_>,
        top: usize,
        by: &str,
        max_steps: usize,
        collapse_repeats: bool,
    ) -> PyResult<Table> {
        crate::paths::log_paths(&self.inner, py, top, by, max_steps, collapse_repeats)
    }

    /// Retention (the core's `retention`) by `period` (`day`, `week` (ISO) or `month`, UTC),
    /// cohorts by first touch: one row per cohort and offset, `cohort`, `customers`, `offset`,
    /// `active`, `share`; at most `periods` offsets per cohort when given.
    #[pyo3(signature = (*, period="week", periods=None))]
    fn retention(&self, py: Python<'_>, period: &str, periods: Option<usize>) -> PyResult<Table> {
        crate::retention::log_retention(&self.inner, py, period, periods)
    }

    /// Customer effort (the core's `effort`): the event kinds that are a `conversion`, a
    /// `support` contact and a `cart` (each `None` for no such figures; a kind must be in the
    /// log), 30-minute sessions. One row per customer.
    #[pyo3(
        signature = (*, conversion=Some("purchase".to_string()), support=Some("support_contact".to_string()), cart=Some("add_to_cart".to_string())),
        text_signature = "($self, *, conversion='purchase', support='support_contact', cart='add_to_cart')"
    )]
    fn effort(
        &self,
        py: Python<'_>,
        conversion: Option<String>,
        support: Option<String>,
        cart: Option<String>,
    ) -> PyResult<Table> {
        crate::effort::log_effort(
            &self.inner,
            py,
            conversion.as_deref(),
            support.as_deref(),
            cart.as_deref(),
        )
    }

    /// Number of events.
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Number of distinct customers.
    #[getter]
    fn n_customers(&self) -> usize {
        self.inner.n_customers()
    }

    /// Customer keys, sorted.
    #[getter]
    fn customers(&self) -> Vec<String> {
        self.inner
            .customers()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// Channel names, sorted.
    #[getter]
    fn channels(&self) -> Vec<String> {
        self.inner
            .channels()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// Event kind names, sorted.
    #[getter]
    fn kinds(&self) -> Vec<String> {
        self.inner.kinds().iter().map(|s| s.to_string()).collect()
    }

    /// Property names, sorted.
    #[getter]
    fn properties(&self) -> Vec<String> {
        self.inner
            .properties()
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Approximate heap bytes held by the log.
    #[getter]
    fn memory_bytes(&self) -> usize {
        self.inner.memory_bytes()
    }

    /// The log as a table (`customer`, `at`, `channel`, `kind`, `value`, then properties), in
    /// the log's order.
    fn to_table(&self, py: Python<'_>) -> PyResult<Table> {
        self.table(py)
    }

    /// The log as a dict of lists.
    fn to_pydict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Bound::new(py, self.table(py)?)?.call_method0("to_pydict")
    }

    /// As a `pyarrow.Table` (needs pyarrow).
    fn to_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Bound::new(py, self.table(py)?)?.call_method0("to_arrow")
    }

    /// As a `pandas.DataFrame` (needs pandas).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Bound::new(py, self.table(py)?)?.call_method0("to_pandas")
    }

    /// As a `polars.DataFrame` (needs polars).
    fn to_polars<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Bound::new(py, self.table(py)?)?.call_method0("to_polars")
    }

    /// Exports the log through the Arrow PyCapsule interface.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        Bound::new(py, self.table(py)?)?
            .call_method1("__arrow_c_stream__", (requested_schema,))?
            .cast_into::<PyCapsule>()
            .map_err(PyErr::from)
    }

    fn __repr__(&self) -> String {
        format!(
            "EventLog({} events, {} customers, {} channels, {} kinds)",
            self.inner.len(),
            self.inner.n_customers(),
            self.inner.channels().len(),
            self.inner.kinds().len()
        )
    }

    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<String> {
        html(slf.py())?
            .call_method1("event_log_html", (slf,))?
            .extract()
    }
}
