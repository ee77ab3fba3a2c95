//! `jornada.EventLog`: the core's columnar event log, built from a table.
//!
//! `from_frame` imports the table through the Arrow PyCapsule stream (zero-copy) and hands the
//! record batches to the core's `EventLog::from_record_batches` (feature `arrow`): every
//! conversion and check on values is the core's; the binding only picks and names columns.

use crate::analysis::{self, Replay};
use crate::arrow_in::{self, ArrowTable};
use crate::engine::property_columns;
use crate::errors::{BindResult, Fail, OrRaise};
use crate::model::Model;
use crate::table::{html, Columns as TableColumns, Table};
use arrow_array::RecordBatch;
use arrow_schema::Schema;
use jornada::analytics::event_log::{NULL_BOOL, NULL_CODE};
use jornada::analytics::{ColumnNames, EventLog as CoreLog, PropColumn, PropertyColumns};
use jornada::Error;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict, PyType};
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

/// A column read: the field it feeds (`customer`, `properties.sku`), its name in the narrowed
/// batch, the caller's column name, its position in the table.
type Picked = (String, String, String, usize);

/// The columns `from_frame` reads: a role (the touchpoint field, `properties.NAME`) and the
/// table's column.
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

/// Reads the table with the core's `EventLog::from_record_batches`. The binding only picks the
/// columns: each batch is narrowed to the named columns (the arrays are shared, not copied),
/// property columns renamed to their property names; then core errors about a column are
/// reported with the role it plays.
fn read_log(table: &ArrowTable, n: &Names) -> BindResult<CoreLog> {
    // (field, name in the narrowed batch, the caller's column, its position)
    let mut picked: Vec<Picked> = Vec::new();
    for (field, column) in [
        ("customer", &n.customer),
        ("at", &n.at),
        ("channel", &n.channel),
        ("kind", &n.kind),
    ] {
        let i = index(table, field, column)?;
        picked.push((field.into(), column.clone(), column.clone(), i));
    }
    let value = match &n.value {
        // The default name is optional: no such column, no values.
        Some(v) if v == "value" => table.index_of(v).map(|i| (v.clone(), i)),
        Some(v) => Some((v.clone(), index(table, "value", v)?)),
        None => None,
    };
    if let Some((column, i)) = &value {
        picked.push(("value".into(), column.clone(), column.clone(), *i));
    }
    let mut prop_names = Vec::with_capacity(n.props.len());
    for (name, column) in &n.props {
        let field = format!("properties.{name}");
        let i = index(table, &field, column)?;
        if picked.iter().any(|(_, c, _, _)| c == name) {
            return Err(Fail::Custom {
                code: "invalid_value",
                field,
                index: None,
                message: format!(
                    "property `{name}` (column `{column}`) takes the name of a column read as another field"
                ),
            });
        }
        prop_names.push(name.clone());
        picked.push((field, name.clone(), column.clone(), i));
    }
    let schema = Arc::new(Schema::new(
        picked
            .iter()
            .map(|(_, name, _, i)| table.schema.field(*i).clone().with_name(name.clone()))
            .collect::<Vec<_>>(),
    ));
    let batches = table
        .batches
        .iter()
        .map(|b| {
            RecordBatch::try_new(
                schema.clone(),
                picked
                    .iter()
                    .map(|(_, _, _, i)| b.column(*i).clone())
                    .collect(),
            )
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            Fail::Py(PyTypeError::new_err(format!(
                "the Arrow data could not be read: {e}"
            )))
        })?;
    let names = ColumnNames {
        customer: n.customer.clone(),
        at: n.at.clone(),
        channel: n.channel.clone(),
        kind: n.kind.clone(),
        value: value.map(|(c, _)| c),
        properties: PropertyColumns::Only(prop_names),
    };
    CoreLog::from_record_batches(&batches, &names).map_err(|e| name_column(e, &picked))
}

/// A core error about a column of the narrowed batch as the same error about the field it
/// feeds, its message naming the caller's column.
fn name_column(e: Error, picked: &[Picked]) -> Fail {
    let found = e.location().and_then(|loc| {
        picked
            .iter()
            .find(|p| p.1 == loc.field)
            .map(|p| (loc.index, p))
    });
    let Some((index, (field, _, column, _))) = found else {
        return Fail::Core(e);
    };
    Fail::Custom {
        code: e.code(),
        field: field.clone(),
        index,
        message: format!("column `{column}` (`{field}`): {e}"),
    }
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
            .detach(|| -> BindResult<CoreLog> { read_log(&table, &names) })
            .or_raise(py)?;
        Ok(EventLog {
            inner: Arc::new(log),
        })
    }

    /// Builds a log from JSON lines (`str` or `bytes`, one event object per line) with the core's
    /// reader (`EventLog::from_json_lines`, the same rules as the CLI and Node): the fields are
    /// named as in `from_frame`; `properties` is `None` (no properties), a list of field names
    /// (looked up on the line, then in its nested `properties` object), or `"*"` (every other
    /// field and the nested object's entries). Errors name the event's `index`, `line` and field.
    ///
    /// >>> import jornada as jd
    /// >>> log = jd.EventLog.from_json_lines('{"customer": "c1", "at": 0, "channel": "web", '
    /// ...     '"kind": "buy", "value": 5, "properties": {"sku": "A1"}}\n', properties=["sku"])
    /// >>> len(log), log.properties
    /// (1, ['sku'])
    #[classmethod]
    #[pyo3(
        signature = (data, *, customer="customer".to_string(), at="at".to_string(), channel="channel".to_string(), kind="kind".to_string(), value=Some("value".to_string()), properties=None),
        text_signature = "($cls, data, *, customer='customer', at='at', channel='channel', kind='kind', value='value', properties=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn from_json_lines(
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
        let bytes = crate::engine::text_bytes(py, data)?;
        let properties = match &properties {
            None => PropertyColumns::None,
            Some(p) if p.extract::<String>().is_ok_and(|s| s == "*") => PropertyColumns::Rest,
            Some(p) => match p.extract::<Vec<String>>() {
                Ok(names) if !p.is_instance_of::<pyo3::types::PyString>() => {
                    PropertyColumns::Only(names)
                }
                _ => {
                    return Err(crate::errors::to_py(
                        py,
                        &crate::errors::wrong_type(
                            "properties",
                            format!(
                                "None, a list of field names or \"*\", got a {}",
                                crate::errors::type_name(p)
                            ),
                        ),
                    ))
                }
            },
        };
        let names = ColumnNames {
            customer,
            at,
            channel,
            kind,
            value,
            properties,
        };
        let log = py
            .detach(|| CoreLog::from_json_lines(&bytes, &names))
            .map_err(Fail::Core)
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

    /// A funnel (the core's `funnel`, ClickHouse `windowFunnel` semantics). `steps`: event
    /// kinds, or dicts `{"kinds": [...], "channels": [...], "when": {...}, "name": ...,
    /// "min_gap": "5m", "max_gap": "1d"}` (gaps: time since the previous step's event).
    /// `window`: a duration (`"7d"`); `mode`: `window_funnel`, `strict_order`,
    /// `strict_order_steps` or `any`. `exclude`: dicts `{"kinds": [...], "from_step": 0,
    /// "to_step": 2}`: a chain with such an event strictly between those steps (0-based) does
    /// not count. `breakdown`: `"channel"` (of the step-1 event), `"first_touch_channel"`, a
    /// property name (of the step-1 event), or a mapping customer → group (cohorts).
    ///
    /// One row per step: `step`, `customers`, `conversion_from_first`,
    /// `conversion_from_previous`, `drop_off`, `median_from_previous_ms`,
    /// `p90_from_previous_ms`; with a breakdown, a `group` column first and one row per group
    /// and step. The GIL is released while it runs.
    #[pyo3(signature = (steps, *, window="7d", mode="window_funnel", exclude=None, breakdown=None))]
    fn funnel(
        &self,
        py: Python<'_>,
        steps: &Bound<'_, PyAny>,
        window: &str,
        mode: &str,
        exclude: Option<Bound<'_, PyAny>>,
        breakdown: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Table> {
        analysis::log_funnel(
            &self.inner,
            py,
            steps,
            window,
            mode,
            exclude.as_ref(),
            breakdown.as_ref(),
        )
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

    /// The journeys `attribution` cuts (same `conversion` and `lookback`), aggregated in
    /// ChannelAttribution's path format: one row per distinct path in order of first
    /// appearance, `path` (channel names joined by `sep`), `total_conversions`,
    /// `total_conversion_value`, `total_null`. `attribution_from_paths` on this table gives
    /// this log's `attribution` (time decay aside). A `sep` that is empty or occurs in a
    /// channel name on some path raises `InvalidValueError`. The GIL is released while it runs.
    #[pyo3(
        signature = (*, conversion, lookback=Some("30d".to_string()), sep=">".to_string()),
        text_signature = "($self, *, conversion, lookback='30d', sep='>')"
    )]
    fn attribution_paths(
        &self,
        py: Python<'_>,
        conversion: &str,
        lookback: Option<String>,
        sep: String,
    ) -> PyResult<Table> {
        crate::attribution::log_attribution_paths(
            &self.inner,
            py,
            conversion,
            lookback.as_deref(),
            &sep,
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
    /// `active`, `share`; at most `periods` offsets per cohort when given. With `repeat` (the
    /// purchase event kind), also the cohort's `buyers`, `repeat_buyers` and `repeat_rate`
    /// (repeat buyers / buyers), a repeat counting within `repeat_within` (a duration) of the
    /// first purchase when given.
    #[pyo3(signature = (*, period="week", periods=None, repeat=None, repeat_within=None))]
    fn retention(
        &self,
        py: Python<'_>,
        period: &str,
        periods: Option<usize>,
        repeat: Option<&str>,
        repeat_within: Option<&str>,
    ) -> PyResult<Table> {
        crate::retention::log_retention(&self.inner, py, period, periods, repeat, repeat_within)
    }

    /// Repeat purchases over all customers (the core's retention figures): a dict with
    /// `buyers` (customers with an event of kind `purchase`), `repeat_buyers` (with a second
    /// one, within `within` of the first when given) and `rate` (repeat buyers / buyers).
    #[pyo3(signature = (purchase="purchase", *, within=None))]
    fn repeat_purchase<'py>(
        &self,
        py: Python<'py>,
        purchase: &str,
        within: Option<&str>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (buyers, repeat, rate) =
            crate::retention::log_repeat_purchase(&self.inner, py, purchase, within)?;
        let d = PyDict::new(py);
        d.set_item("buyers", buyers)?;
        d.set_item("repeat_buyers", repeat)?;
        d.set_item("rate", rate)?;
        Ok(d)
    }

    /// Sankey links of the customers' first `max_steps` steps (the core's `sankey`) by `kind`
    /// or `channel`: `step` (the source position, 0-based), `from`, `to`, `customers`.
    #[pyo3(signature = (*, by="kind", max_steps=5, collapse_repeats=false))]
    fn sankey(
        &self,
        py: Python<'_>,
        by: &str,
        max_steps: usize,
        collapse_repeats: bool,
    ) -> PyResult<Table> {
        crate::paths::log_sankey(&self.inner, py, by, max_steps, collapse_repeats)
    }

    /// The step matrix (the core's `step_matrix`): who does what at each of the first
    /// `max_steps` positions, one row per position and label present there: `step`
    /// (0-based), `label`, `customers`, `share` (of the customers with a non-empty path).
    #[pyo3(signature = (*, by="kind", max_steps=5, collapse_repeats=false))]
    fn step_matrix(
        &self,
        py: Python<'_>,
        by: &str,
        max_steps: usize,
        collapse_repeats: bool,
    ) -> PyResult<Table> {
        crate::paths::log_step_matrix(&self.inner, py, by, max_steps, collapse_repeats)
    }

    /// Attribution with the models' details (the same arguments as `attribution`): a dict of
    /// `credits` (the `attribution` table), `summary` (a dict: `conversions`, `value`,
    /// `null_paths`, `unattributed_conversions`, `unattributed_value`, `distinct_paths`),
    /// `removal_effects` (Markov: `model`, `channel`, `removal_effect`,
    /// `value_removal_effect`), `markov` (`model`, `order`, `conversion_probability`),
    /// `transition_matrix` (the fitted chain: `model`, `from`, `to`, `probability`, states
    /// `(start)`, channels, `(conversion)`, `(null)`) and `shapley` (`model`, `game`, `exact`,
    /// `samples`).
    #[pyo3(
        signature = (*, conversion, lookback=Some("30d".to_string()), models=None),
        text_signature = "($self, *, conversion, lookback='30d', models=None)"
    )]
    fn attribution_details<'py>(
        &self,
        py: Python<'py>,
        conversion: &str,
        lookback: Option<String>,
        models: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        crate::attribution::log_attribution_details(
            &self.inner,
            py,
            conversion,
            lookback.as_deref(),
            models,
        )
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
