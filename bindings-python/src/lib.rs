//! The Python binding of jornada: the `jornada._jornada` extension module.
//!
//! Each concept lives in its own module; this file only registers them. The pure-Python package
//! `jornada` (in `python/jornada/`) re-exports these classes and adds the exceptions
//! (`_errors.py`), conversions to pandas/Polars/pyarrow (`_convert.py`) and notebook HTML
//! (`_html.py`, with SVG charts from the report crate through [`charts`]) and matplotlib plots
//! (`_plot.py`).
//!
//! Bindings convert and delegate: touchpoints from dicts and table rows are read by the core's
//! own parser through serde ([`pyde`], [`rowde`]), so every rule and error code is the core's.
//! `Engine.ingest` of a usual dict takes a shorter way ([`fastdict`]): the dict converted
//! straight into the core's borrowed `Row`, checked by the core, with the serde path for every
//! other dict and for every error.
#![deny(unsafe_op_in_unsafe_fn)]

/// The extension module's own allocations (engines, batches, results) use mimalloc, tuned for
/// ingest when the module loads ([`jornada_alloc`]; README, Benchmarks).
#[global_allocator]
static ALLOC: jornada_alloc::MiMalloc = jornada_alloc::MiMalloc;

mod analysis;
mod arrow_in;
mod attribution;
mod charts;
mod effort;
mod engine;
mod errors;
mod event_log;
mod fastdict;
mod model;
mod paths;
mod progress;
mod pyde;
mod records;
mod retention;
mod rowde;
mod score;
mod table;
mod time;
mod values;

use pyo3::prelude::*;

/// Every error code with its description: `[(code, description), ...]`.
#[pyfunction]
fn error_codes() -> Vec<(&'static str, &'static str)> {
    jornada::error_codes().to_vec()
}

/// Every model problem code (found in `InvalidModelError.problems` and `Model.warnings`).
#[pyfunction]
fn problem_codes() -> Vec<(&'static str, &'static str)> {
    jornada::error::PROBLEM_CODES.to_vec()
}

/// The extension module.
#[pymodule]
fn _jornada(m: &Bound<'_, PyModule>) -> PyResult<()> {
    jornada_alloc::tune();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(problem_codes, m)?)?;
    m.add_class::<model::Model>()?;
    m.add_class::<engine::Engine>()?;
    m.add_class::<event_log::EventLog>()?;
    m.add_class::<table::Table>()?;
    m.add_class::<analysis::Replay>()?;
    m.add_function(wrap_pyfunction!(attribution::_attribution_from_paths, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::simulate, m)?)?;
    charts::register(m)?;
    m.add_class::<records::Outcome>()?;
    m.add_class::<records::Transition>()?;
    m.add_class::<records::Action>()?;
    m.add_class::<records::Merge>()?;
    m.add_class::<records::Rejected>()?;
    m.add_class::<records::Erasure>()?;
    m.add_class::<records::CustomerView>()?;
    m.add_class::<records::StageVisit>()?;
    m.add_class::<records::ConsentEntry>()?;
    Ok(())
}
