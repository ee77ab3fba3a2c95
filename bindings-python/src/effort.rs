//! Customer effort (the core's `effort`, default options: the `ecommerce` preset's names), one
//! row per customer.

use crate::errors::{Fail, OrRaise};
use crate::table::{Columns as TableColumns, Table};
use jornada::analytics::{self as an, EffortSpec, EventFilter, EventLog as CoreLog};
use pyo3::prelude::*;

/// Per customer: `customer`, `events`, `touches_to_conversion`, `time_to_conversion_ms`,
/// `channels`, `channel_switches`, `support_contacts`, `repeat_contacts`, `carts`,
/// `abandoned_carts`, `recovered_carts`, `sessions`.
pub fn log_effort(
    log: &CoreLog,
    py: Python<'_>,
    conversion: Option<&str>,
    support: Option<&str>,
    cart: Option<&str>,
) -> PyResult<Table> {
    let spec = EffortSpec {
        conversion: conversion.map(EventFilter::kind),
        support: support.map(EventFilter::kind),
        cart: cart.map(EventFilter::kind),
        ..EffortSpec::default()
    };
    let r = py
        .detach(|| an::effort(log, &spec))
        .map_err(Fail::Core)
        .or_raise(py)?;
    let c = &r.customers;
    let n = |f: fn(&an::CustomerEffort) -> u32| c.iter().map(move |x| u64::from(f(x)));
    TableColumns::new()
        .str("customer", log.customers().iter().map(|s| Some(&**s)))
        .u64("events", n(|x| x.events))
        .f64(
            "touches_to_conversion",
            c.iter().map(|x| x.touches_to_conversion.map(f64::from)),
        )
        .f64(
            "time_to_conversion_ms",
            c.iter().map(|x| x.time_to_conversion_ms.map(|v| v as f64)),
        )
        .u64("channels", n(|x| x.channels))
        .u64("channel_switches", n(|x| x.channel_switches))
        .u64("support_contacts", n(|x| x.support_contacts))
        .u64("repeat_contacts", n(|x| x.repeat_contacts))
        .u64("carts", n(|x| x.carts))
        .u64("abandoned_carts", n(|x| x.abandoned_carts))
        .u64("recovered_carts", n(|x| x.recovered_carts))
        .u64("sessions", n(|x| x.sessions))
        .finish()
        .or_raise(py)
}
