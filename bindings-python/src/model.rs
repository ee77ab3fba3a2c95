//! `jornada.Model`: a validated journey model.

use crate::errors::to_py;
use crate::table::html;
use crate::values::json_to_py;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// A validated journey model: channels, identity kinds, event kinds, ordered stages and rules.
///
/// Load one with `Model.preset(name)`, `Model.from_json(text)` or `Model.from_file(path)`;
/// `to_json()` gives its canonical JSON form back.
///
/// >>> import jornada as jd
/// >>> model = jd.Model.preset("ecommerce")
/// >>> model.stages[:3]
/// ['visitor', 'browsing', 'interested']
/// >>> jd.Model.from_json(model.to_json()) == model
/// True
#[pyclass(frozen, eq, module = "jornada")]
#[derive(Clone, PartialEq)]
pub struct Model {
    pub(crate) inner: jornada::Model,
}

#[pymethods]
impl Model {
    /// One of the bundled models: `seven_phase`, `five_stage_loyalty`,
    /// `five_stage_retention` or `ecommerce`.
    #[classmethod]
    fn preset(_cls: &Bound<'_, PyType>, py: Python<'_>, name: &str) -> PyResult<Model> {
        jornada::Model::preset(name)
            .map(|inner| Model { inner })
            .map_err(|e| to_py(py, &e))
    }

    /// The names of the bundled models.
    #[staticmethod]
    fn presets() -> Vec<&'static str> {
        jornada::model::presets::NAMES.to_vec()
    }

    /// Parses and validates a model from its JSON text; every problem is reported at once in
    /// `InvalidModelError.problems`.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, py: Python<'_>, text: &str) -> PyResult<Model> {
        jornada::Model::from_json(text)
            .map(|inner| Model { inner })
            .map_err(|e| to_py(py, &e))
    }

    /// Reads a model from a JSON file.
    #[classmethod]
    fn from_file(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        path: std::path::PathBuf,
    ) -> PyResult<Model> {
        jornada::Model::from_file(&path)
            .map(|inner| Model { inner })
            .map_err(|e| to_py(py, &e))
    }

    /// The canonical JSON form (pretty-printed).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The model as a dict (its canonical JSON form, parsed).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = serde_json::to_value(self.inner.spec())
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        json_to_py(py, &v)
    }

    /// The model's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// Stage names in order; the first is the initial stage.
    #[getter]
    fn stages(&self) -> Vec<String> {
        self.inner.stage_names().map(String::from).collect()
    }

    /// Channel names.
    #[getter]
    fn channels(&self) -> Vec<String> {
        self.inner.channel_names().map(String::from).collect()
    }

    /// Event kind names.
    #[getter]
    fn event_kinds(&self) -> Vec<String> {
        self.inner.event_kind_names().map(String::from).collect()
    }

    /// Identity kinds, most preferred first.
    #[getter]
    fn identity_kinds(&self) -> Vec<String> {
        self.inner.identity_kind_names().map(String::from).collect()
    }

    /// Rule names in precedence order.
    #[getter]
    fn rules(&self) -> Vec<String> {
        self.inner.rule_names().map(String::from).collect()
    }

    /// How far out of order one customer's touchpoints may arrive, in milliseconds.
    #[getter]
    fn allowed_lateness_ms(&self) -> i64 {
        self.inner.allowed_lateness().millis()
    }

    /// Non-fatal findings, as `(path, code, message)` tuples (e.g. `unreachable_stage`).
    #[getter]
    fn warnings(&self) -> Vec<(String, &'static str, String)> {
        self.inner
            .warnings()
            .iter()
            .map(|p| (p.path.clone(), p.code, p.message.clone()))
            .collect()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let from_json = slf.get_type().getattr("from_json")?;
        Ok((from_json, (slf.get().inner.to_json(),)))
    }

    fn __repr__(&self) -> String {
        format!(
            "Model({:?}: {} stages, {} rules)",
            self.inner.name(),
            self.inner.stage_names().count(),
            self.inner.rule_names().count()
        )
    }

    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<String> {
        html(slf.py())?
            .call_method1("model_html", (slf,))?
            .extract()
    }
}
