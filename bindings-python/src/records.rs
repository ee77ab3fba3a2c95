//! Small read-only record types: what a call caused (`Outcome` and its parts) and what the
//! engine knows about a customer (`CustomerView`). Each has readable `repr`s, `==`, and
//! `to_dict()` giving the core's canonical JSON form (times as RFC 3339 text).

use crate::errors::{to_py as error_to_py, OrRaise};
use crate::table::{html, Columns, Table};
use crate::time::to_datetime;
use crate::values::to_py;
use jornada::Timestamp;
use pyo3::prelude::*;

/// A Python literal for an optional string.
fn lit(s: Option<&str>) -> String {
    match s {
        None => "None".into(),
        Some(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
    }
}

/// A stage transition of one customer.
#[pyclass(frozen, eq, module = "jornada")]
#[derive(Clone, PartialEq)]
pub struct Transition(pub jornada::Transition);

#[pymethods]
impl Transition {
    /// The customer's id.
    #[getter]
    fn customer(&self) -> &str {
        &self.0.customer
    }
    /// The stage left (`None` on entering the initial stage at the first touchpoint).
    #[getter]
    fn from_(&self) -> Option<&str> {
        self.0.from.as_deref()
    }
    /// The stage entered.
    #[getter]
    fn to(&self) -> &str {
        &self.0.to
    }
    /// When (event time), a UTC datetime.
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_datetime(py, self.0.at)
    }
    /// When, in epoch milliseconds.
    #[getter]
    fn at_ms(&self) -> i64 {
        self.0.at.millis()
    }
    /// The rule that fired (`None` for the entry into the initial stage).
    #[getter]
    fn rule(&self) -> Option<&str> {
        self.0.rule.as_deref()
    }
    /// The channel of the touchpoint that caused it (`None` for timeouts).
    #[getter]
    fn channel(&self) -> Option<&str> {
        self.0.channel.as_deref()
    }
    /// The canonical JSON form as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
    fn __repr__(&self) -> String {
        let t = &self.0;
        format!(
            "Transition(customer={}, from_={}, to={}, at='{}', rule={}, channel={})",
            lit(Some(&t.customer)),
            lit(t.from.as_deref()),
            lit(Some(&t.to)),
            t.at,
            lit(t.rule.as_deref()),
            lit(t.channel.as_deref())
        )
    }
}

/// Something for the host to do (send the abandoned-cart SMS...).
#[pyclass(frozen, eq, module = "jornada")]
#[derive(Clone, PartialEq)]
pub struct Action(pub jornada::Action);

#[pymethods]
impl Action {
    /// The customer's id.
    #[getter]
    fn customer(&self) -> &str {
        &self.0.customer
    }
    /// The action's name.
    #[getter]
    fn action(&self) -> &str {
        &self.0.action
    }
    /// The channel it contacts the customer on, if any.
    #[getter]
    fn channel(&self) -> Option<&str> {
        self.0.channel.as_deref()
    }
    /// Parameters from the model.
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &*self.0.params)
    }
    /// When (event time), a UTC datetime.
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_datetime(py, self.0.at)
    }
    /// When, in epoch milliseconds.
    #[getter]
    fn at_ms(&self) -> i64 {
        self.0.at.millis()
    }
    /// The customer's stage after the rule fired.
    #[getter]
    fn stage(&self) -> &str {
        &self.0.stage
    }
    /// The rule that fired (`None` for `on_enter` actions of the initial stage).
    #[getter]
    fn rule(&self) -> Option<&str> {
        self.0.rule.as_deref()
    }
    /// `True` when the channel's consent was not given: do not contact the customer.
    #[getter]
    fn suppressed(&self) -> bool {
        self.0.suppressed
    }
    /// The canonical JSON form as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
    fn __repr__(&self) -> String {
        let a = &self.0;
        let params = serde_json::to_string(&*a.params).unwrap_or_default();
        format!(
            "Action(customer={}, action={}, channel={}, at='{}', stage={}, rule={}, suppressed={}, params={})",
            lit(Some(&a.customer)),
            lit(Some(&a.action)),
            lit(a.channel.as_deref()),
            a.at,
            lit(Some(&a.stage)),
            lit(a.rule.as_deref()),
            if a.suppressed { "True" } else { "False" },
            params
        )
    }
}

/// Profiles that became one (or a customer renamed by a more preferred key).
#[pyclass(frozen, eq, module = "jornada")]
#[derive(Clone, PartialEq)]
pub struct Merge(pub jornada::Merge);

#[pymethods]
impl Merge {
    /// The surviving customer id.
    #[getter]
    fn into(&self) -> &str {
        &self.0.into
    }
    /// Ids that now name `into`.
    #[getter]
    fn from_(&self) -> Vec<String> {
        self.0.from.clone()
    }
    /// Event time of the touchpoint that caused it, a UTC datetime.
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_datetime(py, self.0.at)
    }
    /// The canonical JSON form as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
    fn __repr__(&self) -> String {
        let from: Vec<String> = self.0.from.iter().map(|f| lit(Some(f))).collect();
        format!(
            "Merge(into={}, from_=[{}], at='{}')",
            lit(Some(&self.0.into)),
            from.join(", "),
            self.0.at
        )
    }
}

/// A touchpoint of a batch that was not accepted, and why.
#[pyclass(frozen, module = "jornada")]
#[derive(Clone)]
pub struct Rejected(pub jornada::Rejected);

#[pymethods]
impl Rejected {
    /// Its position in the batch (the row of a table).
    #[getter]
    fn index(&self) -> usize {
        self.0.index
    }
    /// The error code (`unknown_channel`...).
    #[getter]
    fn code(&self) -> &'static str {
        self.0.error.code()
    }
    /// The field at fault (`at`, `properties.rating`), if one is.
    #[getter]
    fn path(&self) -> Option<&str> {
        self.0.error.path().filter(|p| !p.is_empty())
    }
    /// The 1-based line of JSON-lines input.
    #[getter]
    fn line(&self) -> Option<usize> {
        self.0.error.location().and_then(|l| l.line)
    }
    /// The error message.
    #[getter]
    fn message(&self) -> String {
        self.0.error.to_string()
    }
    /// The error as an exception object (a `JornadaError` subclass), to raise or inspect.
    #[getter]
    fn error<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        error_to_py(py, &self.0.error)
            .into_value(py)
            .into_bound(py)
            .into_any()
    }
    /// `{"index", "code", "path", "line", "message"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(
            py,
            &serde_json::json!({
                "index": self.0.index,
                "code": self.0.error.code(),
                "path": self.path(),
                "line": self.line(),
                "message": self.message(),
            }),
        )
    }
    fn __repr__(&self) -> String {
        format!(
            "Rejected(index={}, code='{}', path={}, message={})",
            self.0.index,
            self.code(),
            lit(self.path()),
            lit(Some(&self.message()))
        )
    }
}

/// What `Engine.erase` removed.
#[pyclass(frozen, eq, module = "jornada")]
#[derive(Clone, PartialEq)]
pub struct Erasure(pub jornada::Erasure);

#[pymethods]
impl Erasure {
    /// The customer erased.
    #[getter]
    fn customer(&self) -> &str {
        &self.0.customer
    }
    /// Identity keys removed.
    #[getter]
    fn keys(&self) -> usize {
        self.0.keys
    }
    /// Touchpoints removed.
    #[getter]
    fn events(&self) -> usize {
        self.0.events
    }
    /// The canonical JSON form as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
    fn __repr__(&self) -> String {
        format!(
            "Erasure(customer={}, keys={}, events={})",
            lit(Some(&self.0.customer)),
            self.0.keys,
            self.0.events
        )
    }
}

/// What one engine call caused: transitions, actions, retractions, merges, duplicates and
/// rejected touchpoints (a net delta; see the README's semantics).
#[pyclass(frozen, module = "jornada")]
pub struct Outcome(pub jornada::Outcome);

fn transitions_table(py: Python<'_>, list: &[jornada::Transition]) -> PyResult<Table> {
    Columns::new()
        .str("customer", list.iter().map(|t| Some(t.customer.as_str())))
        .str("from", list.iter().map(|t| t.from.as_deref()))
        .str("to", list.iter().map(|t| Some(&*t.to)))
        .time("at", list.iter().map(|t| Some(t.at.millis())))
        .str("rule", list.iter().map(|t| t.rule.as_deref()))
        .str("channel", list.iter().map(|t| t.channel.as_deref()))
        .finish()
        .or_raise(py)
}

fn actions_table(py: Python<'_>, list: &[jornada::Action]) -> PyResult<Table> {
    let params: Vec<String> = list
        .iter()
        .map(|a| serde_json::to_string(&*a.params).unwrap_or_default())
        .collect();
    Columns::new()
        .str("customer", list.iter().map(|a| Some(a.customer.as_str())))
        .str("action", list.iter().map(|a| Some(&*a.action)))
        .str("channel", list.iter().map(|a| a.channel.as_deref()))
        .time("at", list.iter().map(|a| Some(a.at.millis())))
        .str("stage", list.iter().map(|a| Some(&*a.stage)))
        .str("rule", list.iter().map(|a| a.rule.as_deref()))
        .bool("suppressed", list.iter().map(|a| Some(a.suppressed)))
        .str("params", params.iter().map(|p| Some(p.as_str())))
        .finish()
        .or_raise(py)
}

#[pymethods]
impl Outcome {
    /// Stage transitions, in order.
    #[getter]
    fn transitions(&self) -> Vec<Transition> {
        self.0.transitions.iter().cloned().map(Transition).collect()
    }
    /// Actions (suppressed ones included), in order.
    #[getter]
    fn actions(&self) -> Vec<Action> {
        self.0.actions.iter().cloned().map(Action).collect()
    }
    /// Transitions reported earlier that no longer hold.
    #[getter]
    fn retracted_transitions(&self) -> Vec<Transition> {
        self.0
            .retracted_transitions
            .iter()
            .cloned()
            .map(Transition)
            .collect()
    }
    /// Actions reported earlier that no longer hold.
    #[getter]
    fn retracted_actions(&self) -> Vec<Action> {
        self.0
            .retracted_actions
            .iter()
            .cloned()
            .map(Action)
            .collect()
    }
    /// Profile merges and renames.
    #[getter]
    fn merges(&self) -> Vec<Merge> {
        self.0.merges.iter().cloned().map(Merge).collect()
    }
    /// Ids of touchpoints already ingested (nothing changed).
    #[getter]
    fn duplicates(&self) -> Vec<String> {
        self.0.duplicates.clone()
    }
    /// Touchpoints of a batch that were not accepted.
    #[getter]
    fn rejected(&self) -> Vec<Rejected> {
        self.0.rejected.iter().cloned().map(Rejected).collect()
    }
    /// The transitions (or, with `retracted=True`, the retracted ones) as a table.
    #[pyo3(signature = (retracted=false))]
    fn transitions_table(&self, py: Python<'_>, retracted: bool) -> PyResult<Table> {
        transitions_table(
            py,
            if retracted {
                &self.0.retracted_transitions
            } else {
                &self.0.transitions
            },
        )
    }
    /// The actions (or, with `retracted=True`, the retracted ones) as a table; `params` is JSON
    /// text.
    #[pyo3(signature = (retracted=false))]
    fn actions_table(&self, py: Python<'_>, retracted: bool) -> PyResult<Table> {
        actions_table(
            py,
            if retracted {
                &self.0.retracted_actions
            } else {
                &self.0.actions
            },
        )
    }
    /// The canonical JSON form as a dict; `rejected` elements are
    /// `{"index", "code", "path", "line", "message"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let d = to_py(py, &self.0)?;
        let rejected: Vec<Bound<'py, PyAny>> = self
            .rejected()
            .iter()
            .map(|r| r.to_dict(py))
            .collect::<PyResult<_>>()?;
        d.set_item("rejected", rejected)?;
        Ok(d)
    }
    /// Whether anything happened.
    fn __bool__(&self) -> bool {
        !self.0.is_empty()
    }
    fn __repr__(&self) -> String {
        let o = &self.0;
        let parts: Vec<String> = [
            (o.transitions.len(), "transition"),
            (o.actions.len(), "action"),
            (o.retracted_transitions.len(), "retracted transition"),
            (o.retracted_actions.len(), "retracted action"),
            (o.merges.len(), "merge"),
            (o.duplicates.len(), "duplicate"),
            (o.rejected.len(), "rejected"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| {
            let plural = if *n == 1 || *what == "rejected" {
                ""
            } else {
                "s"
            };
            format!("{n} {what}{plural}")
        })
        .collect();
        if parts.is_empty() {
            "Outcome(nothing happened)".into()
        } else {
            format!("Outcome({})", parts.join(", "))
        }
    }
    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<String> {
        html(slf.py())?
            .call_method1("outcome_html", (slf,))?
            .extract()
    }
}

/// One stay in a stage.
#[pyclass(frozen, eq, module = "jornada")]
#[derive(Clone, PartialEq)]
pub struct StageVisit(pub jornada::StageVisit);

#[pymethods]
impl StageVisit {
    /// The stage.
    #[getter]
    fn stage(&self) -> &str {
        &self.0.stage
    }
    /// When the customer entered it, a UTC datetime.
    #[getter]
    fn entered_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_datetime(py, self.0.entered_at)
    }
    /// The rule that moved them there (`None` for the initial stage).
    #[getter]
    fn rule(&self) -> Option<&str> {
        self.0.rule.as_deref()
    }
    /// The channel of the touchpoint that did (`None` for timeouts).
    #[getter]
    fn channel(&self) -> Option<&str> {
        self.0.channel.as_deref()
    }
    /// The canonical JSON form as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
    fn __repr__(&self) -> String {
        format!(
            "StageVisit(stage={}, entered_at='{}', rule={}, channel={})",
            lit(Some(&self.0.stage)),
            self.0.entered_at,
            lit(self.0.rule.as_deref()),
            lit(self.0.channel.as_deref())
        )
    }
}

/// A consent change.
#[pyclass(frozen, eq, module = "jornada")]
#[derive(Clone, PartialEq)]
pub struct ConsentEntry(pub jornada::ConsentEntry);

#[pymethods]
impl ConsentEntry {
    /// The channel.
    #[getter]
    fn channel(&self) -> &str {
        &self.0.channel
    }
    /// Granted (`True`) or withdrawn.
    #[getter]
    fn granted(&self) -> bool {
        self.0.granted
    }
    /// From when, a UTC datetime.
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_datetime(py, self.0.at)
    }
    /// The canonical JSON form as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
    fn __repr__(&self) -> String {
        format!(
            "ConsentEntry(channel={}, granted={}, at='{}')",
            lit(Some(&self.0.channel)),
            if self.0.granted { "True" } else { "False" },
            self.0.at
        )
    }
}

/// A customer as the engine sees them now.
#[pyclass(frozen, eq, module = "jornada")]
#[derive(Clone, PartialEq)]
pub struct CustomerView(pub jornada::CustomerView);

fn opt_time<'py>(py: Python<'py>, t: Option<Timestamp>) -> PyResult<Option<Bound<'py, PyAny>>> {
    t.map(|t| to_datetime(py, t)).transpose()
}

#[pymethods]
impl CustomerView {
    /// The customer's id.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }
    /// Current stage (`None` for a customer known only through consent).
    #[getter]
    fn stage(&self) -> Option<&str> {
        self.0.stage.as_deref()
    }
    /// Since when, a UTC datetime.
    #[getter]
    fn since<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_time(py, self.0.since)
    }
    /// Identity keys `(kind, value)`, most preferred first.
    #[getter]
    fn keys(&self) -> Vec<(String, String)> {
        self.0
            .keys
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }
    /// Every stage entered, in order.
    #[getter]
    fn history(&self) -> Vec<StageVisit> {
        self.0.history.iter().cloned().map(StageVisit).collect()
    }
    /// Number of touchpoints.
    #[getter]
    fn touchpoints(&self) -> usize {
        self.0.touchpoints
    }
    /// Time of the latest touchpoint, a UTC datetime.
    #[getter]
    fn last_seen<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_time(py, self.0.last_seen)
    }
    /// Consent changes, in time order.
    #[getter]
    fn consent(&self) -> Vec<ConsentEntry> {
        self.0.consent.iter().cloned().map(ConsentEntry).collect()
    }
    /// The canonical JSON form as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
    fn __repr__(&self) -> String {
        let c = &self.0;
        format!(
            "CustomerView(id={}, stage={}, since={}, touchpoints={}, keys={})",
            lit(Some(&c.id)),
            lit(c.stage.as_deref()),
            c.since.map_or("None".into(), |t| format!("'{t}'")),
            c.touchpoints,
            c.keys.len()
        )
    }
    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<String> {
        html(slf.py())?
            .call_method1("customer_html", (slf,))?
            .extract()
    }
}
