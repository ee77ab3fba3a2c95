//! Retention (the core's `retention`): cohorts by the period of the first touch and the
//! customers active in each later period, one row per cohort and offset.

use crate::errors::{Fail, OrRaise};
use crate::table::{Columns as TableColumns, Table};
use jornada::analytics::{self as an, EventLog as CoreLog, Period, RetentionSpec};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Rows `cohort` (start of the period), `customers` (in the cohort), `offset` (periods after
/// the cohort's), `active` (customers active then), `share` (active / customers).
pub fn log_retention(
    log: &CoreLog,
    py: Python<'_>,
    period: &str,
    periods: Option<usize>,
) -> PyResult<Table> {
    let period = match period {
        "day" => Period::Day,
        "week" => Period::Week,
        "month" => Period::Month,
        other => {
            return Err(PyValueError::new_err(format!(
                "period: expected day, week or month, got {other:?}"
            )))
        }
    };
    let mut spec = RetentionSpec::new(period);
    spec.periods = periods;
    let r = py
        .detach(|| an::retention(log, &spec))
        .map_err(Fail::Core)
        .or_raise(py)?;
    let (mut cohort, mut customers, mut offset, mut active, mut share) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for c in &r.cohorts {
        for (k, (&a, &s)) in c.active.iter().zip(&c.share).enumerate() {
            cohort.push(Some(c.start.0));
            customers.push(c.customers);
            offset.push(k as u64);
            active.push(a);
            share.push(Some(s));
        }
    }
    TableColumns::new()
        .time("cohort", cohort)
        .u64("customers", customers)
        .u64("offset", offset)
        .u64("active", active)
        .f64("share", share)
        .finish()
        .or_raise(py)
}
