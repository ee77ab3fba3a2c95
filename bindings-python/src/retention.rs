//! Retention (the core's `retention`): cohorts by the period of the first touch and the
//! customers active in each later period, one row per cohort and offset.

use crate::errors::{Fail, OrRaise};
use crate::table::{Columns as TableColumns, Table};
use jornada::analytics::{self as an, EventFilter, EventLog as CoreLog, Period, RetentionSpec};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Rows `cohort` (start of the period), `customers` (in the cohort), `offset` (periods after
/// the cohort's), `active` (customers active then), `share` (active / customers); with
/// `repeat` (the purchase event kind) also the cohort's `buyers`, `repeat_buyers` and
/// `repeat_rate` (repeat buyers / buyers; a repeat counts within `repeat_within` of the first
/// purchase when given).
pub fn log_retention(
    log: &CoreLog,
    py: Python<'_>,
    period: &str,
    periods: Option<usize>,
    repeat: Option<&str>,
    repeat_within: Option<&str>,
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
    spec.repeat = repeat.map(EventFilter::kind);
    if let Some(w) = repeat_within {
        spec.repeat_within = Some(crate::analysis::duration(py, w, "repeat_within")?);
    }
    let r = py
        .detach(|| an::retention(log, &spec))
        .map_err(Fail::Core)
        .or_raise(py)?;
    let (mut cohort, mut customers, mut offset, mut active, mut share) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut buyers, mut repeat_buyers, mut rate) = (Vec::new(), Vec::new(), Vec::new());
    for c in &r.cohorts {
        for (k, (&a, &s)) in c.active.iter().zip(&c.share).enumerate() {
            buyers.push(c.buyers);
            repeat_buyers.push(c.repeat_buyers);
            rate.push(Some(c.repeat_rate));
            cohort.push(Some(c.start.0));
            customers.push(c.customers);
            offset.push(k as u64);
            active.push(a);
            share.push(Some(s));
        }
    }
    let t = TableColumns::new()
        .time("cohort", cohort)
        .u64("customers", customers)
        .u64("offset", offset)
        .u64("active", active)
        .f64("share", share);
    let t = if r.repeat.is_some() {
        t.u64("buyers", buyers)
            .u64("repeat_buyers", repeat_buyers)
            .f64("repeat_rate", rate)
    } else {
        t
    };
    t.finish().or_raise(py)
}

/// Repeat purchases over all customers: `(buyers, repeat_buyers, rate)`.
pub fn log_repeat_purchase(
    log: &CoreLog,
    py: Python<'_>,
    purchase: &str,
    within: Option<&str>,
) -> PyResult<(u64, u64, f64)> {
    let mut spec = RetentionSpec::new(Period::Month);
    spec.repeat = Some(EventFilter::kind(purchase));
    if let Some(w) = within {
        spec.repeat_within = Some(crate::analysis::duration(py, w, "within")?);
    }
    let r = py
        .detach(|| an::retention(log, &spec))
        .map_err(Fail::Core)
        .or_raise(py)?;
    let rp = r.repeat.expect("asked for repeat figures");
    Ok((rp.buyers, rp.repeat_buyers, rp.rate))
}
