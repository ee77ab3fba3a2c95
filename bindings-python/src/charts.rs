//! Inline SVG charts for notebooks: thin wrappers over the report crate's charts
//! (`jornada_report::svg`), so a notebook's `_repr_html_` draws exactly what `jornada report`
//! draws. Each function takes plain numbers and labels (the columns of a result table) and
//! returns one `<svg>` element as text: no scripts, nothing fetched, every label escaped.
//! `jornada._html` picks the chart for a result and calls these.

use crate::analysis::Replay;
use jornada::analytics::stages::transition_matrix;
use jornada_report::svg::{self, FunnelBar, RangeRow, SankeyNode};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Fails unless `got` has `want` items (`what` names the argument).
fn same_len(what: &str, got: usize, want: usize) -> PyResult<()> {
    if got == want {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!(
            "{what}: expected {want} values (one per label), got {got}"
        )))
    }
}

/// Horizontal bars, one per label (`percent=True` labels the values as percentages of 1).
///
/// >>> svg = svg_bar_chart("Customers per stage", ["cart", "customer"], [12.0, 3.0])
/// >>> svg.startswith("<svg") and "cart" in svg
/// True
#[pyfunction]
#[pyo3(signature = (title, labels, values, *, percent=false))]
pub fn svg_bar_chart(
    title: &str,
    labels: Vec<String>,
    values: Vec<f64>,
    percent: bool,
) -> PyResult<String> {
    same_len("values", values.len(), labels.len())?;
    let items: Vec<(String, f64)> = labels.into_iter().zip(values).collect();
    let pct = |x: f64| svg::percent(x);
    let fmt: Option<&dyn Fn(f64) -> String> = if percent { Some(&pct) } else { None };
    Ok(svg::bar_chart(title, &items, fmt))
}

/// A funnel: one bar per step, as wide as the customers reaching it, labelled with the count,
/// the share of the first step and `from_previous` (the conversion from the step before;
/// `None` for the first).
///
/// >>> svg = svg_funnel_chart("Funnel", ["view", "buy"], [100.0, 25.0], [None, 0.25])
/// >>> "25.0%" in svg
/// True
#[pyfunction]
pub fn svg_funnel_chart(
    title: &str,
    labels: Vec<String>,
    customers: Vec<f64>,
    from_previous: Vec<Option<f64>>,
) -> PyResult<String> {
    same_len("customers", customers.len(), labels.len())?;
    same_len("from_previous", from_previous.len(), labels.len())?;
    let steps: Vec<FunnelBar> = labels
        .into_iter()
        .zip(customers)
        .zip(from_previous)
        .map(|((label, customers), from_previous)| FunnelBar {
            label,
            customers,
            from_previous,
        })
        .collect();
    Ok(svg::funnel_chart(title, &steps))
}

/// A Sankey diagram of a flow between labelled nodes: `links` are `(from, to, value)` with
/// indexes into `labels`. `columns` places each node; by default each node goes one column
/// right of the furthest earlier node flowing into it (`jornada_report::svg::flow_columns`),
/// so give the labels in a meaningful order (a model's stages). Links of a node to itself are
/// left out (a Sankey cannot draw them).
///
/// >>> svg = svg_sankey("Flow", ["visitor", "cart", "customer"], [(0, 1, 40.0), (1, 2, 10.0)])
/// >>> "customer" in svg and "<path" in svg
/// True
#[pyfunction]
#[pyo3(signature = (title, labels, links, columns=None))]
pub fn svg_sankey(
    title: &str,
    labels: Vec<String>,
    links: Vec<(usize, usize, f64)>,
    columns: Option<Vec<usize>>,
) -> PyResult<String> {
    let n = labels.len();
    if let Some(i) = links.iter().position(|&(a, b, _)| a >= n || b >= n) {
        return Err(PyValueError::new_err(format!(
            "links[{i}]: node index out of range (there are {n} labels)"
        )));
    }
    let links: Vec<(usize, usize, f64)> = links.into_iter().filter(|l| l.0 != l.1).collect();
    let columns = match columns {
        Some(c) => {
            same_len("columns", c.len(), n)?;
            c
        }
        None => svg::flow_columns(n, &links),
    };
    let nodes: Vec<SankeyNode> = labels
        .into_iter()
        .zip(columns)
        .map(|(label, column)| SankeyNode { label, column })
        .collect();
    Ok(svg::sankey(title, &nodes, &links))
}

/// A heatmap of shares in `[0, 1]`: `cells[i][j]` for row `rows[i]` and column `cols[j]`
/// (`None`: no data).
///
/// >>> svg = svg_heatmap("Retention", ["2026-03-02"], ["+0", "+1"], [[1.0, 0.25]])
/// >>> "25%" in svg
/// True
#[pyfunction]
pub fn svg_heatmap(
    title: &str,
    rows: Vec<String>,
    cols: Vec<String>,
    cells: Vec<Vec<Option<f64>>>,
) -> PyResult<String> {
    same_len("cells", cells.len(), rows.len())?;
    if let Some(i) = cells.iter().position(|r| r.len() > cols.len()) {
        return Err(PyValueError::new_err(format!(
            "cells[{i}]: {} values for {} columns",
            cells[i].len(),
            cols.len()
        )));
    }
    Ok(svg::heatmap(title, &rows, &cols, &cells))
}

/// Distributions side by side (time in stage): per label a bar to the `median`, a thinner bar
/// to the `p90`, a tick at the `mean`, and the `count` of observations. `durations=True`
/// (default) reads the values as milliseconds and labels them `45 s`, `30 min`, `5.0 h`,
/// `3.0 d`; otherwise as plain numbers.
///
/// >>> svg = svg_range_chart("Time in stage", ["cart"], [1_800_000.0], [5_400_000.0], [2_700_000.0], [12])
/// >>> "30 min" in svg and "n=12" in svg
/// True
#[pyfunction]
#[pyo3(signature = (title, labels, median, p90, mean, count, *, durations=true))]
pub fn svg_range_chart(
    title: &str,
    labels: Vec<String>,
    median: Vec<f64>,
    p90: Vec<f64>,
    mean: Vec<f64>,
    count: Vec<u64>,
    durations: bool,
) -> PyResult<String> {
    let n = labels.len();
    same_len("median", median.len(), n)?;
    same_len("p90", p90.len(), n)?;
    same_len("mean", mean.len(), n)?;
    same_len("count", count.len(), n)?;
    let rows: Vec<RangeRow> = (0..n)
        .map(|i| RangeRow {
            label: labels[i].clone(),
            median: median[i],
            p90: p90[i],
            mean: mean[i],
            count: count[i],
        })
        .collect();
    let fmt: &dyn Fn(f64) -> String = if durations {
        &svg::duration
    } else {
        &svg::number
    };
    Ok(svg::range_chart(title, &rows, fmt))
}

/// A duration in milliseconds as the charts label it (`45 s`, `30 min`, `5.0 h`, `3.0 d`).
///
/// >>> duration_label(90 * 60_000)
/// '1.5 h'
#[pyfunction]
pub fn duration_label(ms: f64) -> String {
    svg::duration(ms)
}

/// The stage flow of a replay (the core's `transition_matrix`): the model's stages in order
/// and every observed stage-to-stage move as `(from, to, count)` (indexes into the stages; the
/// initial entry of a customer is not a move).
///
/// >>> import jornada as jd
/// >>> log = jd.simulate(jd.Model.preset("ecommerce"), customers=200, seed=1)
/// >>> stages, links = stage_flow(log.replay(jd.Model.preset("ecommerce")))
/// >>> stages[0], all(c > 0 for _, _, c in links)
/// ('visitor', True)
#[pyfunction]
pub fn stage_flow(py: Python<'_>, replay: &Replay) -> (Vec<String>, Vec<(usize, usize, u64)>) {
    let m = py.detach(|| transition_matrix(replay.core()));
    let n = m.n();
    let links = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .filter_map(|(i, j)| {
            let c = m.counts[i * n + j];
            (c > 0).then_some((i, j, c))
        })
        .collect();
    (m.stages.iter().map(|s| s.to_string()).collect(), links)
}

/// Registers the chart functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(svg_bar_chart, m)?)?;
    m.add_function(wrap_pyfunction!(svg_funnel_chart, m)?)?;
    m.add_function(wrap_pyfunction!(svg_sankey, m)?)?;
    m.add_function(wrap_pyfunction!(svg_heatmap, m)?)?;
    m.add_function(wrap_pyfunction!(svg_range_chart, m)?)?;
    m.add_function(wrap_pyfunction!(duration_label, m)?)?;
    m.add_function(wrap_pyfunction!(stage_flow, m)?)?;
    Ok(())
}
