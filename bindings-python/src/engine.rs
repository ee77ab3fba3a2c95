//! `jornada.Engine`: ingest touchpoints (dicts, JSON, tables), advance event time, query
//! customers, consent, erasure, snapshots.

use crate::arrow_in::{self, ArrowTable, Col, Want};
use crate::errors::{to_py, type_name, wrong_type, BindResult, Fail, OrRaise};
use crate::fastdict::{datetime_time, Conv, FastDict, Parts};
use crate::model::Model;
use crate::pyde::{Failed, Failure, Known, PyDe};
use crate::records::{CustomerView, Erasure, Outcome};
use crate::rowde::{RowDe, RowFields};
use crate::table::{html, Columns, Table};
use crate::time::{timestamp, to_datetime};
use crate::values::to_py as value_to_py;
use jornada::Error;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyDict, PyList, PyMapping, PyString, PyTuple};

/// The journey engine for one model.
///
/// >>> import jornada as jd
/// >>> engine = jd.Engine(jd.Model.preset("ecommerce"))
/// >>> out = engine.ingest({"customer_id": "c1", "channel": "web", "kind": "add_to_cart",
/// ...                      "at": "2026-03-01T10:00:00Z"})
/// >>> [t.to for t in out.transitions]
/// ['visitor', 'cart']
/// >>> out = engine.advance_to("2026-03-01T11:00:00Z")   # no purchase within the hour
/// >>> out.actions[0].action, out.actions[0].suppressed   # no SMS consent was given
/// ('abandoned_cart_sms', True)
/// >>> engine.customer("c1").stage
/// 'abandoned_cart'
#[pyclass(module = "jornada")]
pub struct Engine {
    inner: jornada::Engine,
    known: Known,
    fast: FastDict,
}

fn raise<T>(py: Python<'_>, r: Result<T, Error>) -> PyResult<T> {
    r.map_err(|e| to_py(py, &e))
}

/// The exception for a touchpoint read from Python: the deserializer's own finding when it has
/// one (a value of an unsupported type, a Python exception), else the core's error.
fn touchpoint_error(py: Python<'_>, e: Error, failure: &Failure) -> PyErr {
    match failure.take() {
        Some(Failed::Python(err)) => err,
        Some(Failed::Core(err)) => to_py(py, &err),
        None => to_py(py, &e),
    }
}

fn check_mapping(obj: &Bound<'_, PyAny>, index: Option<usize>) -> Result<(), Error> {
    if obj.is_instance_of::<PyDict>() || obj.cast::<PyMapping>().is_ok() {
        return Ok(());
    }
    let e = wrong_type(
        "",
        format!("a dict of touchpoint fields, got a {}", type_name(obj)),
    );
    Err(match index {
        Some(i) => e.at_index(i),
        None => e,
    })
}

/// Where each touchpoint field of a table comes from.
struct Spec {
    /// `(field, column index, column name, what it may hold)`.
    top: Vec<(String, usize, String, Want)>,
    /// `(property name, column index, column name)`.
    props: Vec<(String, usize, String)>,
}

fn missing_column(table: &ArrowTable, field: &str, column: &str) -> Fail {
    Fail::Custom {
        code: "missing_field",
        field: field.into(),
        index: None,
        message: format!(
            "the table has no column `{column}` (for `{field}`); its columns are: {}",
            table.column_names().join(", ")
        ),
    }
}

/// Column-mapping arguments of `ingest_many`.
struct Names<'a, 'py> {
    customer: Option<String>,
    identities: Option<&'a Bound<'py, PyAny>>,
    at: String,
    channel: String,
    kind: String,
    value: Option<String>,
    id: Option<String>,
    properties: Option<&'a Bound<'py, PyAny>>,
}

/// The bytes of `str` or `bytes` data (JSON lines).
pub fn text_bytes(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = data.cast::<PyString>() {
        Ok(s.to_cow()?.as_bytes().to_vec())
    } else if let Ok(b) = data.extract::<PyBackedBytes>() {
        Ok(b.to_vec())
    } else {
        Err(to_py(
            py,
            &wrong_type("", format!("str or bytes, got a {}", type_name(data))),
        ))
    }
}

/// `properties=`: a list of column names, or a dict property name → column name.
pub fn property_columns(props: Option<&Bound<'_, PyAny>>) -> BindResult<Vec<(String, String)>> {
    let Some(p) = props else {
        return Ok(Vec::new());
    };
    if p.is_none() {
        return Ok(Vec::new());
    }
    if let Ok(d) = p.cast::<PyDict>() {
        return d
            .iter()
            .map(|(k, v)| Ok((k.extract::<String>()?, v.extract::<String>()?)))
            .collect::<PyResult<_>>()
            .map_err(Fail::Py);
    }
    if p.is_instance_of::<PyString>() {
        let name: String = p.extract()?;
        return Ok(vec![(name.clone(), name)]);
    }
    let names: Vec<String> = p.extract().map_err(|_| {
        Fail::Core(wrong_type(
            "properties",
            format!(
                "a list of column names or a dict of property name to column, got a {}",
                type_name(p)
            ),
        ))
    })?;
    Ok(names.into_iter().map(|n| (n.clone(), n)).collect())
}

impl Spec {
    fn resolve(table: &ArrowTable, model: &jornada::Model, n: &Names<'_, '_>) -> BindResult<Spec> {
        let kinds: Vec<&str> = model.identity_kind_names().collect();
        let mut idents: Vec<(String, String)> = Vec::new();
        if let (Some(c), Some(first)) = (&n.customer, kinds.first()) {
            idents.push((first.to_string(), c.clone()));
        }
        if let Some(map) = n.identities.filter(|m| !m.is_none()) {
            let d = map.cast::<PyDict>().map_err(|_| {
                Fail::Core(wrong_type(
                    "identities",
                    format!(
                        "a dict of identity kind to column name, got a {}",
                        type_name(map)
                    ),
                ))
            })?;
            for (k, v) in d.iter() {
                let kind: String = k.extract()?;
                let column: String = v.extract()?;
                if !kinds.contains(&kind.as_str()) {
                    return Err(Fail::Core(Error::UnknownIdentityKind {
                        loc: jornada::Location::field("identities"),
                        kind,
                    }));
                }
                idents.retain(|(k, _)| *k != kind);
                idents.push((kind, column));
            }
        }
        for kind in &kinds {
            if !idents.iter().any(|(k, _)| k == kind) && table.index_of(kind).is_some() {
                idents.push((kind.to_string(), kind.to_string()));
            }
        }
        if idents.is_empty() {
            return Err(Fail::Custom {
                code: "missing_identity",
                field: kinds.first().copied().unwrap_or_default().into(),
                index: None,
                message: format!(
                    "no identity column: the model's identity kinds are {}; name a column with \
                     customer=\"...\" or identities={{kind: column}} (the table's columns are: {})",
                    kinds.join(", "),
                    table.column_names().join(", ")
                ),
            });
        }
        let mut top = Vec::new();
        let mut add = |field: &str, column: &str, want: Want, required: bool| -> BindResult<()> {
            match table.index_of(column) {
                Some(i) => top.push((field.to_string(), i, column.to_string(), want)),
                None if required => return Err(missing_column(table, field, column)),
                None => {}
            }
            Ok(())
        };
        if let Some(id) = &n.id {
            add("id", id, Want::Key, id != "id")?;
        }
        for (kind, column) in &idents {
            add(kind, column, Want::Key, true)?;
        }
        add("channel", &n.channel, Want::Text, true)?;
        add("kind", &n.kind, Want::Text, true)?;
        add("at", &n.at, Want::Time, true)?;
        if let Some(v) = &n.value {
            add("value", v, Want::Number, v != "value")?;
        }
        let mut props = Vec::new();
        for (name, column) in property_columns(n.properties)? {
            match table.index_of(&column) {
                Some(i) => props.push((name, i, column)),
                None => {
                    return Err(missing_column(
                        table,
                        &format!("properties.{name}"),
                        &column,
                    ))
                }
            }
        }
        Ok(Spec { top, props })
    }

    /// Typed views of one batch's columns.
    fn fields<'a>(&'a self, batch: &'a arrow_array::RecordBatch) -> Result<RowFields<'a>, Error> {
        let mut top = Vec::with_capacity(self.top.len());
        for (field, i, column, want) in &self.top {
            top.push((
                field.as_str(),
                Col::of(batch.column(*i), field, column, *want)?,
            ));
        }
        let mut props = Vec::with_capacity(self.props.len());
        for (name, i, column) in &self.props {
            let field = format!("properties.{name}");
            props.push((
                name.as_str(),
                Col::of(batch.column(*i), &field, column, Want::Prop)?,
            ));
        }
        Ok(RowFields {
            top,
            props,
            rows: batch.num_rows(),
        })
    }
}

impl Engine {
    fn wrap(py: Python<'_>, inner: jornada::Engine) -> PyResult<Engine> {
        let known = Known::new(py, inner.model());
        let fast = FastDict::new(py, inner.model());
        Ok(Engine { inner, known, fast })
    }

    /// `ingest` of a usual dict through [`FastDict`] and `Engine::ingest_row`; `None` when the
    /// general path must read it: a dict the fast path does not convert, or a row the core
    /// rejects before changing anything (the general path then reports its own error for it).
    fn ingest_fast(&mut self, py: Python<'_>, obj: &Bound<'_, PyAny>) -> Option<PyResult<Outcome>> {
        let Engine { inner, fast, .. } = self;
        let mut parts = Parts::new(None);
        match fast.convert(obj, &mut parts) {
            Conv::Row => {}
            Conv::General => return None,
            Conv::Time(t) => {
                parts = Parts::new(Some(datetime_time(&t)?));
                if !matches!(fast.convert(obj, &mut parts), Conv::Row) {
                    return None;
                }
            }
        }
        let row = parts.row();
        match inner.ingest_row(row) {
            Ok(out) => Some(Ok(Outcome(out))),
            Err(_) if row.check(inner.model()).is_err() => None,
            Err(e) => Some(Err(to_py(py, &e))),
        }
    }

    /// `ingest` through the general path only (serde over the Python objects).
    fn ingest_general(
        &mut self,
        py: Python<'_>,
        touchpoint: &Bound<'_, PyAny>,
    ) -> PyResult<Outcome> {
        raise(py, check_mapping(touchpoint, None))?;
        let failure = Failure::default();
        let Engine { inner, known, .. } = self;
        match inner.ingest_from(PyDe::new(touchpoint.clone(), &failure, known)) {
            Ok(out) => Ok(Outcome(out)),
            Err(e) => Err(touchpoint_error(py, e, &failure)),
        }
    }

    fn ingest_dicts(&mut self, items: Vec<Bound<'_, PyAny>>) -> PyResult<Outcome> {
        let failures: Vec<Failure> = items.iter().map(|_| Failure::default()).collect();
        let mut early = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if let Err(e) = check_mapping(item, Some(i)) {
                early.push(jornada::Rejected { index: i, error: e });
            }
        }
        let mut out = if early.is_empty() {
            let known = &self.known;
            self.inner.ingest_batch_from(
                items
                    .iter()
                    .zip(&failures)
                    .map(|(item, f)| PyDe::new(item.clone(), f, known)),
            )
        } else {
            // Elements that are not mappings are rejected here; the others go as one batch.
            let good: Vec<usize> = (0..items.len())
                .filter(|i| !early.iter().any(|r| r.index == *i))
                .collect();
            let known = &self.known;
            let mut out = self.inner.ingest_batch_from(
                good.iter()
                    .map(|&i| PyDe::new(items[i].clone(), &failures[i], known)),
            );
            for r in &mut out.rejected {
                r.index = good[r.index];
                r.error = r.error.clone().at_index(r.index);
            }
            out.rejected.extend(early);
            out.rejected.sort_by_key(|r| r.index);
            out
        };
        for r in &mut out.rejected {
            match failures.get(r.index).and_then(Failure::take) {
                Some(Failed::Core(e)) => r.error = e.at_index(r.index),
                Some(Failed::Python(e)) => return Err(e),
                None => {}
            }
        }
        Ok(Outcome(out))
    }

    fn ingest_table(
        &mut self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        names: &Names<'_, '_>,
    ) -> BindResult<jornada::Outcome> {
        let table = arrow_in::import(data)?;
        let spec = Spec::resolve(&table, self.inner.model(), names)?;
        let views = table
            .batches
            .iter()
            .map(|b| spec.fields(b))
            .collect::<Result<Vec<_>, Error>>()?;
        let engine = &mut self.inner;
        Ok(py.detach(move || {
            engine.ingest_batch_from(
                views
                    .iter()
                    .flat_map(|f| (0..f.rows).map(move |row| RowDe { fields: f, row })),
            )
        }))
    }
}

#[pymethods]
impl Engine {
    /// An empty engine for a model.
    #[new]
    fn new(py: Python<'_>, model: &Model) -> PyResult<Engine> {
        Engine::wrap(py, jornada::Engine::new(model.inner.clone()))
    }

    /// The model.
    #[getter]
    fn model(&self) -> Model {
        Model {
            inner: self.inner.model().clone(),
        }
    }

    /// The engine's time (the latest touchpoint or `advance_to` time), a UTC datetime, or
    /// `None` before anything happened.
    #[getter]
    fn now<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner.now().map(|t| to_datetime(py, t)).transpose()
    }

    /// Ingests one touchpoint, a dict in the canonical form (`customer_id` or another identity
    /// kind, `channel`, `kind`, `at`, optional `id`, `value`, `properties`); `at` is RFC 3339
    /// text, epoch milliseconds or a datetime (naive = UTC). Raises a `JornadaError` subclass.
    fn ingest(&mut self, py: Python<'_>, touchpoint: &Bound<'_, PyAny>) -> PyResult<Outcome> {
        match self.ingest_fast(py, touchpoint) {
            Some(r) => r,
            None => self.ingest_general(py, touchpoint),
        }
    }

    /// `ingest` through the general path only, for the tests that compare it with the fast
    /// path (not part of the API).
    fn _ingest_general(
        &mut self,
        py: Python<'_>,
        touchpoint: &Bound<'_, PyAny>,
    ) -> PyResult<Outcome> {
        self.ingest_general(py, touchpoint)
    }

    /// Ingests one touchpoint given as JSON text.
    fn ingest_json(&mut self, py: Python<'_>, text: &str) -> PyResult<Outcome> {
        raise(py, self.inner.ingest_json(text)).map(Outcome)
    }

    /// Ingests JSON lines (one touchpoint per line, blank lines skipped), as one call; lines
    /// that fail are listed in `rejected` with their line number.
    fn ingest_json_lines(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Outcome> {
        let bytes = text_bytes(py, data)?;
        let engine = &mut self.inner;
        Ok(Outcome(py.detach(move || engine.ingest_json_lines(&bytes))))
    }

    /// Ingests many touchpoints as one call: a table (pandas, Polars or pyarrow, through the
    /// Arrow PyCapsule interface) or a list of dicts. Every valid touchpoint is applied in order;
    /// the others are listed in `Outcome.rejected` with their row and error code.
    ///
    /// Table columns are found by name: `at`, `channel`, `kind`, and each identity kind of the
    /// model (`customer_id`...), optionally `id` and `value`; name other columns with the keyword
    /// arguments (`customer=` is the model's first identity kind). Property columns are only
    /// read when listed in `properties` (names, or a dict property → column); other columns are
    /// ignored. A null cell is an absent value (as `null` in JSON). The GIL is released while
    /// the engine works.
    #[pyo3(
        signature = (data, *, customer=None, identities=None, at="at".to_string(), channel="channel".to_string(), kind="kind".to_string(), value=Some("value".to_string()), id=Some("id".to_string()), properties=None),
        text_signature = "(self, data, *, customer=None, identities=None, at='at', channel='channel', kind='kind', value='value', id='id', properties=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn ingest_many(
        &mut self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        customer: Option<String>,
        identities: Option<Bound<'_, PyAny>>,
        at: String,
        channel: String,
        kind: String,
        value: Option<String>,
        id: Option<String>,
        properties: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Outcome> {
        if data.is_instance_of::<PyList>() || data.is_instance_of::<PyTuple>() {
            let items: Vec<Bound<'_, PyAny>> = data.try_iter()?.collect::<PyResult<_>>()?;
            return self.ingest_dicts(items);
        }
        let names = Names {
            customer,
            identities: identities.as_ref(),
            at,
            channel,
            kind,
            value,
            id,
            properties: properties.as_ref(),
        };
        self.ingest_table(py, data, &names)
            .or_raise(py)
            .map(Outcome)
    }

    /// Moves event time forward to `at` (never backward) and fires the timeouts due by then.
    fn advance_to(&mut self, py: Python<'_>, at: &Bound<'_, PyAny>) -> PyResult<Outcome> {
        let t = raise(py, timestamp(at, "at")?)?;
        Ok(Outcome(self.inner.advance_to(t)))
    }

    /// Records a consent change for a customer and channel at an event time; actions already
    /// reported whose suppression this changes are retracted and reported again.
    fn set_consent(
        &mut self,
        py: Python<'_>,
        customer: &str,
        channel: &str,
        granted: bool,
        at: &Bound<'_, PyAny>,
    ) -> PyResult<Outcome> {
        let t = raise(py, timestamp(at, "at")?)?;
        raise(py, self.inner.set_consent(customer, channel, granted, t)).map(Outcome)
    }

    /// Erases a customer: profile, keys, touchpoints, consent, history and timers.
    fn erase(&mut self, py: Python<'_>, customer: &str) -> PyResult<Erasure> {
        raise(py, self.inner.erase(customer)).map(Erasure)
    }

    /// The score of a customer's journey now (the core's `Engine::score`), or `None` for an
    /// unknown customer: `stage`, `stage_index`, `entered_at` (datetime), `progress` (0 to 1
    /// through the model's stages, or to the scoring target), `probability_to_convert` and
    /// `expected_time_to_convert` (timedelta; both `None` without a `scoring` table in the model),
    /// `next_actions` (the rules that can fire from here, with `due` for timeouts) and `effort`
    /// (`touches`, `channels`, `channel_switches`, `elapsed` as a timedelta).
    ///
    /// >>> import jornada as jd
    /// >>> engine = jd.Engine(jd.Model.preset("ecommerce"))
    /// >>> _ = engine.ingest({"customer_id": "c1", "channel": "web", "kind": "add_to_cart",
    /// ...                    "at": "2026-03-01T10:00:00Z"})
    /// >>> s = engine.score("c1")
    /// >>> s["stage"], s["next_actions"][0]["trigger"], str(s["next_actions"][0]["due"])
    /// ('cart', 'timeout', '2026-03-01 11:00:00+00:00')
    fn score<'py>(&self, py: Python<'py>, customer: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.inner.score(customer) {
            None => Ok(None),
            Some(s) => crate::score::score_to_py(py, &s).map(Some),
        }
    }

    /// A customer by id (`c1` for the first identity kind, `kind:value` for any), or `None`.
    fn customer(&self, id: &str) -> Option<CustomerView> {
        self.inner.customer(id).map(CustomerView)
    }

    /// A customer by one of their keys, or `None`.
    fn customer_by_key(&self, kind: &str, value: &str) -> Option<CustomerView> {
        self.inner.customer_by_key(kind, value).map(CustomerView)
    }

    /// Ids of all customers, sorted.
    fn customer_ids(&self) -> Vec<String> {
        self.inner.customer_ids()
    }

    /// Number of customers.
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Customers per stage, in stage order, as a table with columns `stage` and `customers`.
    ///
    /// >>> import jornada as jd
    /// >>> engine = jd.Engine(jd.Model.preset("seven_phase"))
    /// >>> engine.stage_counts().to_pydict()["stage"][:2]
    /// ['Awareness', 'Discovery']
    fn stage_counts(&self, py: Python<'_>) -> PyResult<Table> {
        let counts = self.inner.stage_counts();
        Columns::new()
            .str("stage", counts.iter().map(|(s, _)| Some(&**s)))
            .u64("customers", counts.iter().map(|(_, n)| *n))
            .finish()
            .or_raise(py)
    }

    /// Bytes held by the engine, by part (a dict).
    fn memory_usage<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.inner.memory_usage())
    }

    /// The engine's whole state as bytes (versioned, checksummed, with the model).
    fn snapshot<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.snapshot())
    }

    /// An engine from `snapshot()` bytes; damaged bytes raise `CorruptSnapshotError`.
    #[staticmethod]
    fn restore(py: Python<'_>, data: PyBackedBytes) -> PyResult<Engine> {
        let inner = raise(py, py.detach(|| jornada::Engine::restore(&data)))?;
        Engine::wrap(py, inner)
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let restore = slf.get_type().getattr("restore")?;
        let bytes = slf.borrow().snapshot(slf.py());
        Ok((restore, (bytes,)))
    }

    fn __repr__(&self) -> String {
        format!(
            "Engine(model={:?}, customers={}, now={})",
            self.inner.model().name(),
            self.inner.len(),
            self.inner
                .now()
                .map_or("None".to_string(), |t| format!("'{t}'"))
        )
    }

    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<String> {
        html(slf.py())?
            .call_method1("engine_html", (slf,))?
            .extract()
    }
}
