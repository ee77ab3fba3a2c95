//! Paths: what customers do next. Directly-follows graphs, the most common paths (variants) and
//! their conversion, Sankey links and the step matrix.
//!
//! # Sequences
//! Each customer's events, in log order (time, then kind and channel names), become a sequence
//! of *labels*: the event kind, the channel, or a caller's per-row label ([`PathLabel`]; rows
//! labelled [`NO_LABEL`] are left out). With `collapse_repeats`, a run of equal consecutive
//! labels counts once, as its first event (so times are measured from the run's first event).
//!
//! # Directly-follows graph
//! [`directly_follows`]: for every customer and every pair of consecutive labels `a, b` in their
//! sequence, one `a → b` transition, with the time between the two events. Per edge: `count`;
//! `probability` = count(a → b) / all transitions out of `a` (so the edges leaving a label sum
//! to 1; a sequence's last label has no transition out); `median_ms` (nearest rank, the lower
//! middle for an even count). Per label: `occurrences` (events in sequences), `starts` and
//! `ends` (customers whose sequence starts or ends with it).
//!
//! # Paths, Sankey and step matrix
//! A customer's *path* is the first `max_steps` labels of their sequence. With a `conversion`
//! filter, the path stops before the customer's first converting event, and the customer
//! *converted* when they have one at all (so a variant's conversion is the share of the
//! customers who began that way who then converted, at any later time). [`top_paths`] counts
//! customers per distinct path (the empty path included: customers whose first event
//! converts, or with no labelled event), ordered by customers, then by labels in label order.
//! [`sankey`]: nodes are (position, label) with the customers whose path has that label there;
//! links join consecutive positions. [`step_matrix`]: per position `i` and label, the customers
//! whose path has that label at `i`, and their share of all customers with a non-empty path.
//!
//! ```
//! use jornada::analytics::{directly_follows, top_paths, EventFilter, EventLog, PathSpec};
//! use jornada::Timestamp;
//! let mut b = EventLog::builder();
//! let t = Timestamp::from_millis;
//! for (c, at, kind) in [("a", 0, "view"), ("a", 10, "cart"), ("a", 30, "buy"),
//!                       ("b", 0, "view"), ("b", 20, "cart"), ("c", 0, "view")] {
//!     b.push(c, t(at), "web", kind, None)?;
//! }
//! let log = b.finish()?;
//! let dfg = directly_follows(&log, &PathSpec::default())?;
//! assert_eq!(dfg.count("view", "cart"), 2);
//! assert_eq!(dfg.edge("view", "cart").unwrap().median_ms, 10);
//! let spec = PathSpec { conversion: Some(EventFilter::kind("buy")), ..PathSpec::default() };
//! let top = top_paths(&log, &spec)?;
//! assert_eq!(top.variants[0].steps, ["view", "cart"]); // a and b, one converted
//! assert_eq!(top.variants[0].conversion, 0.5);
//! # Ok::<(), jornada::Error>(())
//! ```

use super::select::{map_customers, map_owned, ratio, Compiled, EventFilter, CHUNK};
use crate::analytics::event_log::EventLog;
use crate::error::{Error, Location, Result};
use hashbrown::HashMap;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::collections::BTreeMap;

/// A row without a label in a [`PathLabel::Custom`] column.
pub const NO_LABEL: u32 = u32::MAX;

/// What a path step is.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum PathLabel {
    /// The event kind.
    #[default]
    Kind,
    /// The channel.
    Channel,
    /// A caller's label per row of the log (in the log's row order, see
    /// [`EventLog::input_rows`] to map from input order), e.g. the journey stage after each
    /// event.
    Custom {
        /// Label names; a row's code indexes them.
        names: Vec<String>,
        /// Per row, a code or [`NO_LABEL`].
        codes: Vec<u32>,
    },
}

/// Options of the path analyses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathSpec {
    /// What a step is (default: the event kind).
    #[serde(default)]
    pub label: PathLabel,
    /// Count a run of equal consecutive labels once.
    #[serde(default)]
    pub collapse_repeats: bool,
    /// Path length for paths, Sankey and step matrix (default 5).
    #[serde(default = "default_steps")]
    pub max_steps: usize,
    /// How many variants [`top_paths`] returns (default 20).
    #[serde(default = "default_top")]
    pub top: usize,
    /// What converting is; paths stop before the first converting event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion: Option<EventFilter>,
}

fn default_steps() -> usize {
    5
}

fn default_top() -> usize {
    20
}

impl Default for PathSpec {
    fn default() -> Self {
        PathSpec {
            label: PathLabel::Kind,
            collapse_repeats: false,
            max_steps: default_steps(),
            top: default_top(),
            conversion: None,
        }
    }
}

/// One edge of a directly-follows graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edge {
    /// Index of the label it leaves.
    pub from: usize,
    /// Index of the label it enters.
    pub to: usize,
    /// Transitions.
    pub count: u64,
    /// count / transitions out of `from`.
    pub probability: f64,
    /// Median time between the two events, milliseconds.
    pub median_ms: i64,
}

/// A directly-follows graph. See the [module docs](self#directly-follows-graph).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DirectlyFollows {
    /// Label names (in label order: kinds and channels by name, custom labels as given).
    pub labels: Vec<String>,
    /// Events per label in the sequences.
    pub occurrences: Vec<u64>,
    /// Customers whose sequence starts with the label.
    pub starts: Vec<u64>,
    /// Customers whose sequence ends with the label.
    pub ends: Vec<u64>,
    /// Edges with at least one transition, ordered by (from, to).
    pub edges: Vec<Edge>,
}

impl DirectlyFollows {
    /// The edge between two labels, by name.
    pub fn edge(&self, from: &str, to: &str) -> Option<&Edge> {
        let f = self.labels.iter().position(|l| l == from)?;
        let t = self.labels.iter().position(|l| l == to)?;
        self.edges.iter().find(|e| e.from == f && e.to == t)
    }

    /// Transitions between two labels, by name (0 when none).
    pub fn count(&self, from: &str, to: &str) -> u64 {
        self.edge(from, to).map_or(0, |e| e.count)
    }
}

/// One path variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathVariant {
    /// The labels.
    pub steps: Vec<String>,
    /// Customers whose path this is.
    pub customers: u64,
    /// customers / all customers.
    pub share: f64,
    /// Of them, customers who converted.
    pub converted: u64,
    /// converted / customers (0 without a conversion filter).
    pub conversion: f64,
}

/// The most common paths. See the [module docs](self#paths-sankey-and-step-matrix).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopPaths {
    /// Customers in the log.
    pub customers: u64,
    /// Distinct paths.
    pub distinct: u64,
    /// The top variants.
    pub variants: Vec<PathVariant>,
    /// Customers whose path is not among the top variants.
    pub other_customers: u64,
    /// Of them, customers who converted.
    pub other_converted: u64,
}

/// A Sankey node: a label at a position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SankeyNode {
    /// Position in the path (0-based).
    pub step: usize,
    /// Label index.
    pub label: usize,
    /// Customers.
    pub customers: u64,
}

/// A Sankey link between consecutive positions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SankeyLink {
    /// Position of the source (0-based); the target is at `step + 1`.
    pub step: usize,
    /// Source label index.
    pub from: usize,
    /// Target label index.
    pub to: usize,
    /// Customers.
    pub customers: u64,
}

/// Sankey nodes and links for the first `max_steps` steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sankey {
    /// Label names.
    pub labels: Vec<String>,
    /// Nodes ordered by (step, label).
    pub nodes: Vec<SankeyNode>,
    /// Links ordered by (step, from, to).
    pub links: Vec<SankeyLink>,
}

/// The step matrix: who does what at each position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepMatrix {
    /// Label names.
    pub labels: Vec<String>,
    /// Customers with a non-empty path.
    pub customers: u64,
    /// `counts[i][label]`: customers whose path has `label` at position `i`.
    pub counts: Vec<Vec<u64>>,
    /// `shares[i][label]` = counts / customers.
    pub shares: Vec<Vec<f64>>,
}

/// Labels resolved against a log.
struct Labels<'a> {
    names: Vec<String>,
    col: LabelCol<'a>,
}

enum LabelCol<'a> {
    U16(&'a [u16]),
    U32(&'a [u32]),
}

impl<'a> Labels<'a> {
    fn new(log: &'a EventLog, l: &'a PathLabel) -> Result<Self> {
        Ok(match l {
            PathLabel::Kind => Labels {
                names: log.kinds().iter().map(|s| s.to_string()).collect(),
                col: LabelCol::U16(log.kind_codes()),
            },
            PathLabel::Channel => Labels {
                names: log.channels().iter().map(|s| s.to_string()).collect(),
                col: LabelCol::U16(log.channel_codes()),
            },
            PathLabel::Custom { names, codes } => {
                if codes.len() != log.len() {
                    return Err(Error::InvalidValue {
                        loc: Location::field("label.codes"),
                        message: format!("{} codes for a log of {} rows", codes.len(), log.len()),
                    });
                }
                if let Some(row) = codes
                    .iter()
                    .position(|&c| c != NO_LABEL && c as usize >= names.len())
                {
                    return Err(Error::InvalidValue {
                        loc: Location {
                            index: Some(row),
                            line: None,
                            field: "label.codes".into(),
                        },
                        message: format!("code {} has no name", codes[row]),
                    });
                }
                Labels {
                    names: names.clone(),
                    col: LabelCol::U32(codes),
                }
            }
        })
    }

    #[inline(always)]
    fn get(&self, row: usize) -> u32 {
        match self.col {
            LabelCol::U16(c) => c[row] as u32,
            LabelCol::U32(c) => c[row],
        }
    }
}

/// Walks a customer's labelled, optionally collapsed sequence: `f(label, row)`.
#[inline(always)]
fn walk(
    labels: &Labels,
    rows: std::ops::Range<usize>,
    collapse: bool,
    mut f: impl FnMut(u32, usize) -> bool,
) {
    let mut prev = NO_LABEL;
    for r in rows {
        let l = labels.get(r);
        if l == NO_LABEL || (collapse && l == prev) {
            continue;
        }
        prev = l;
        if !f(l, r) {
            break;
        }
    }
}

struct DfgPart {
    counts: Vec<u64>,
    occurrences: Vec<u64>,
    starts: Vec<u64>,
    ends: Vec<u64>,
}

/// One chunk's gaps, grouped by cell: `small[offsets[cell]..offsets[cell + 1]]` holds the gaps
/// that fit in 32 bits, `big` the others (49.7 days and more).
struct DfgGaps {
    offsets: Vec<usize>,
    small: Vec<u32>,
    big: Vec<(u32, i64)>,
}

/// Visits each transition of a customer's sequence, `f(cell, gap, label entered)`; returns
/// the sequence's first and last label ([`NO_LABEL`] when empty).
#[inline(always)]
fn transitions(
    labels: &Labels,
    at: &[i64],
    rows: std::ops::Range<usize>,
    collapse: bool,
    nl: usize,
    mut f: impl FnMut(usize, i64, u32),
) -> (u32, u32) {
    let mut first = NO_LABEL;
    let mut prev = NO_LABEL;
    let mut prev_t = 0i64;
    walk(labels, rows, collapse, |l, r| {
        let t = at[r];
        if prev == NO_LABEL {
            first = l;
        } else {
            f(prev as usize * nl + l as usize, t - prev_t, l);
        }
        prev = l;
        prev_t = t;
        true
    });
    (first, prev)
}

/// The directly-follows graph of the log's sequences. See the
/// [module docs](self#directly-follows-graph).
pub fn directly_follows(log: &EventLog, spec: &PathSpec) -> Result<DirectlyFollows> {
    let labels = Labels::new(log, &spec.label)?;
    let nl = labels.names.len();
    if nl > DENSE_LABELS {
        return directly_follows_sparse(log, labels, spec.collapse_repeats);
    }
    let cells = nl * nl;
    let at = log.at();
    let collapse = spec.collapse_repeats;
    // Pass 1: counts per chunk (they size pass 2's buffers exactly).
    let parts = map_customers(log.n_customers(), |range| {
        let mut p = DfgPart {
            counts: vec![0; cells],
            occurrences: vec![0; nl],
            starts: vec![0; nl],
            ends: vec![0; nl],
        };
        for c in range {
            let (first, last) = transitions(
                &labels,
                at,
                log.customer_rows(c),
                collapse,
                nl,
                |cell, _, l| {
                    p.counts[cell] += 1;
                    p.occurrences[l as usize] += 1;
                },
            );
            if first != NO_LABEL {
                p.starts[first as usize] += 1;
                p.occurrences[first as usize] += 1;
                p.ends[last as usize] += 1;
            }
        }
        p
    });
    // Pass 2: the gaps, grouped by cell.
    let gaps = map_customers(log.n_customers(), |range| {
        let counts = &parts[range.start / CHUNK].counts;
        let mut offsets = Vec::with_capacity(cells + 1);
        let mut total = 0usize;
        offsets.push(0);
        for &c in counts {
            total += c as usize;
            offsets.push(total);
        }
        let mut next = offsets.clone();
        let mut small = vec![0u32; total];
        let mut big = Vec::new();
        for c in range {
            transitions(
                &labels,
                at,
                log.customer_rows(c),
                collapse,
                nl,
                |cell, gap, _| match u32::try_from(gap) {
                    Ok(g) => {
                        small[next[cell]] = g;
                        next[cell] += 1;
                    }
                    Err(_) => big.push((cell as u32, gap)),
                },
            );
        }
        // Cells with big gaps left holes at their ends: close them up.
        let mut packed = Vec::with_capacity(cells + 1);
        let mut out = Vec::new();
        let holes = next.iter().zip(&offsets[1..]).any(|(n, o)| n != o);
        packed.push(0);
        for cell in 0..cells {
            if holes {
                out.extend_from_slice(&small[offsets[cell]..next[cell]]);
                packed.push(out.len());
            } else {
                packed.push(offsets[cell + 1]);
            }
        }
        DfgGaps {
            offsets: packed,
            small: if holes { out } else { small },
            big,
        }
    });
    let mut counts = vec![0u64; cells];
    let mut occurrences = vec![0u64; nl];
    let mut starts = vec![0u64; nl];
    let mut ends = vec![0u64; nl];
    for p in &parts {
        for (a, b) in counts.iter_mut().zip(&p.counts) {
            *a += b;
        }
        for (a, b) in occurrences.iter_mut().zip(&p.occurrences) {
            *a += b;
        }
        for (a, b) in starts.iter_mut().zip(&p.starts) {
            *a += b;
        }
        for (a, b) in ends.iter_mut().zip(&p.ends) {
            *a += b;
        }
    }
    drop(parts);
    let live: Vec<usize> = (0..cells).filter(|&c| counts[c] > 0).collect();
    let medians = map_owned(live.clone(), |cell| {
        let mut small: Vec<u32> = Vec::with_capacity(counts[cell] as usize);
        let mut big: Vec<i64> = Vec::new();
        for g in &gaps {
            small.extend_from_slice(&g.small[g.offsets[cell]..g.offsets[cell + 1]]);
            big.extend(g.big.iter().filter(|b| b.0 as usize == cell).map(|b| b.1));
        }
        // Nearest rank (the lower middle); every big gap is above every small one.
        let rank = (small.len() + big.len()).div_ceil(2);
        if rank <= small.len() {
            *small.select_nth_unstable(rank - 1).1 as i64
        } else {
            *big.select_nth_unstable(rank - small.len() - 1).1
        }
    });
    let out: Vec<u64> = (0..nl)
        .map(|a| counts[a * nl..(a + 1) * nl].iter().sum())
        .collect();
    let edges = live
        .iter()
        .zip(medians)
        .map(|(&cell, median_ms)| {
            let (from, to) = (cell / nl, cell % nl);
            Edge {
                from,
                to,
                count: counts[cell],
                probability: ratio(counts[cell], out[from]),
                median_ms,
            }
        })
        .collect();
    Ok(DirectlyFollows {
        labels: labels.names,
        occurrences,
        starts,
        ends,
        edges,
    })
}

type Path = SmallVec<[u32; 8]>;

/// Label counts up to which the analyses keep dense per-unit-of-work tables (`labels²` cells);
/// beyond, they count sparsely, so memory follows the data, not the number of labels.
const DENSE_LABELS: usize = 64;

/// The directly-follows graph for many labels: transitions listed and sorted by edge.
fn directly_follows_sparse(
    log: &EventLog,
    labels: Labels,
    collapse: bool,
) -> Result<DirectlyFollows> {
    let nl = labels.names.len();
    let at = log.at();
    let parts = map_customers(log.n_customers(), |range| {
        let mut trans: Vec<(u64, i64)> = Vec::new();
        let mut per_label: HashMap<u32, [u64; 3]> = HashMap::new();
        for c in range {
            let mut first = NO_LABEL;
            let mut prev = NO_LABEL;
            let mut prev_t = 0i64;
            walk(&labels, log.customer_rows(c), collapse, |l, r| {
                let t = at[r];
                per_label.entry(l).or_default()[0] += 1;
                if prev == NO_LABEL {
                    first = l;
                } else {
                    trans.push((prev as u64 * nl as u64 + l as u64, t - prev_t));
                }
                prev = l;
                prev_t = t;
                true
            });
            if first != NO_LABEL {
                per_label.entry(first).or_default()[1] += 1;
                per_label.entry(prev).or_default()[2] += 1;
            }
        }
        (trans, per_label)
    });
    let mut occurrences = vec![0u64; nl];
    let mut starts = vec![0u64; nl];
    let mut ends = vec![0u64; nl];
    let mut trans: Vec<(u64, i64)> = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    for (t, per_label) in parts {
        trans.extend_from_slice(&t);
        for (l, [o, s, e]) in per_label {
            occurrences[l as usize] += o;
            starts[l as usize] += s;
            ends[l as usize] += e;
        }
    }
    sort_unstable(&mut trans);
    let mut edges: Vec<Edge> = Vec::new();
    let mut out = vec![0u64; nl];
    let mut i = 0;
    while i < trans.len() {
        let cell = trans[i].0;
        let j = i + trans[i..].partition_point(|x| x.0 == cell);
        let n = (j - i) as u64;
        let (from, to) = ((cell / nl as u64) as usize, (cell % nl as u64) as usize);
        out[from] += n;
        edges.push(Edge {
            from,
            to,
            count: n,
            probability: 0.0,
            median_ms: trans[i + (j - i).div_ceil(2) - 1].1,
        });
        i = j;
    }
    for e in &mut edges {
        e.probability = ratio(e.count, out[e.from]);
    }
    Ok(DirectlyFollows {
        labels: labels.names,
        occurrences,
        starts,
        ends,
        edges,
    })
}

/// Sorts by the whole tuple (so equal elements are identical and the order is deterministic).
fn sort_unstable<T: Ord + Send>(v: &mut [T]) {
    #[cfg(feature = "parallel")]
    {
        use rayon::slice::ParallelSliceMut;
        v.par_sort_unstable();
    }
    #[cfg(not(feature = "parallel"))]
    v.sort_unstable();
}

/// Longest path the path analyses take.
pub const MAX_PATH_STEPS: usize = 1000;

/// Each customer's path and whether they converted, folded by `fold` per chunk.
fn paths<T: Send>(
    log: &EventLog,
    spec: &PathSpec,
    init: impl Fn() -> T + Sync + Send,
    fold: impl Fn(&mut T, &[u32], bool) + Sync + Send,
) -> Result<(Vec<String>, Vec<T>)> {
    if spec.max_steps > MAX_PATH_STEPS {
        return Err(Error::InvalidValue {
            loc: Location::field("max_steps"),
            message: format!("at most {MAX_PATH_STEPS} steps"),
        });
    }
    let labels = Labels::new(log, &spec.label)?;
    let conversion = match &spec.conversion {
        Some(f) => Some(Compiled::new(log, f, "conversion")?),
        None => None,
    };
    let k = spec.max_steps;
    let collapse = spec.collapse_repeats;
    let parts = map_customers(log.n_customers(), |range| {
        let mut acc = init();
        let mut path = Path::new();
        for c in range {
            path.clear();
            let rows = log.customer_rows(c);
            let converted_at = conversion
                .as_ref()
                .and_then(|conv| rows.clone().find(|&r| conv.matches(r)));
            let end = converted_at.unwrap_or(rows.end);
            walk(&labels, rows.start..end, collapse, |l, _| {
                if path.len() == k {
                    return false;
                }
                path.push(l);
                true
            });
            fold(&mut acc, &path, converted_at.is_some());
        }
        acc
    });
    Ok((labels.names, parts))
}

/// The most common paths and their conversion. See the
/// [module docs](self#paths-sankey-and-step-matrix).
pub fn top_paths(log: &EventLog, spec: &PathSpec) -> Result<TopPaths> {
    let (names, parts) = paths(
        log,
        spec,
        HashMap::<Path, (u64, u64)>::new,
        |m, path, converted| {
            let e = m.entry(Path::from_slice(path)).or_insert((0, 0));
            e.0 += 1;
            e.1 += converted as u64;
        },
    )?;
    let mut all: HashMap<Path, (u64, u64)> = HashMap::new();
    for p in parts {
        if all.is_empty() {
            all = p;
            continue;
        }
        for (k, (c, v)) in p {
            let e = all.entry(k).or_insert((0, 0));
            e.0 += c;
            e.1 += v;
        }
    }
    let mut variants: Vec<(Path, (u64, u64))> = all.into_iter().collect();
    variants.sort_unstable_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(&b.0)));
    let customers = log.n_customers() as u64;
    let distinct = variants.len() as u64;
    let rest = variants.split_off(spec.top.min(variants.len()));
    Ok(TopPaths {
        customers,
        distinct,
        variants: variants
            .into_iter()
            .map(|(p, (c, v))| PathVariant {
                steps: p.iter().map(|&l| names[l as usize].clone()).collect(),
                customers: c,
                share: ratio(c, customers),
                converted: v,
                conversion: ratio(v, c),
            })
            .collect(),
        other_customers: rest.iter().map(|x| x.1 .0).sum(),
        other_converted: rest.iter().map(|x| x.1 .1).sum(),
    })
}

/// Counts per (position, label) and per (position, from, to), for Sankey and step matrix.
struct Positions {
    nodes: BTreeMap<(usize, u32), u64>,
    links: BTreeMap<(usize, u32, u32), u64>,
    non_empty: u64,
}

/// One unit of work's counts: dense tables for few labels, maps for many.
enum PosAcc {
    Dense {
        nodes: Vec<u64>,
        links: Vec<u64>,
        non_empty: u64,
    },
    Sparse {
        nodes: HashMap<(usize, u32), u64>,
        links: HashMap<(usize, u32, u32), u64>,
        non_empty: u64,
    },
}

fn positions(log: &EventLog, spec: &PathSpec) -> Result<(Vec<String>, Positions)> {
    let nl = match &spec.label {
        PathLabel::Kind => log.kinds().len(),
        PathLabel::Channel => log.channels().len(),
        PathLabel::Custom { names, .. } => names.len(),
    };
    let k = spec.max_steps;
    let dense = nl <= DENSE_LABELS && k <= 64;
    let (names, parts) = paths(
        log,
        spec,
        || {
            if dense {
                PosAcc::Dense {
                    nodes: vec![0; k * nl],
                    links: vec![0; k.saturating_sub(1) * nl * nl],
                    non_empty: 0,
                }
            } else {
                PosAcc::Sparse {
                    nodes: HashMap::new(),
                    links: HashMap::new(),
                    non_empty: 0,
                }
            }
        },
        |p, path, _| match p {
            PosAcc::Dense {
                nodes,
                links,
                non_empty,
            } => {
                *non_empty += !path.is_empty() as u64;
                for (i, &l) in path.iter().enumerate() {
                    nodes[i * nl + l as usize] += 1;
                    if i + 1 < path.len() {
                        links[(i * nl + l as usize) * nl + path[i + 1] as usize] += 1;
                    }
                }
            }
            PosAcc::Sparse {
                nodes,
                links,
                non_empty,
            } => {
                *non_empty += !path.is_empty() as u64;
                for (i, &l) in path.iter().enumerate() {
                    *nodes.entry((i, l)).or_default() += 1;
                    if i + 1 < path.len() {
                        *links.entry((i, l, path[i + 1])).or_default() += 1;
                    }
                }
            }
        },
    )?;
    let mut total = Positions {
        nodes: BTreeMap::new(),
        links: BTreeMap::new(),
        non_empty: 0,
    };
    for p in parts {
        match p {
            PosAcc::Dense {
                nodes,
                links,
                non_empty,
            } => {
                total.non_empty += non_empty;
                for (i, c) in nodes.into_iter().enumerate().filter(|x| x.1 > 0) {
                    *total.nodes.entry((i / nl, (i % nl) as u32)).or_default() += c;
                }
                for (i, c) in links.into_iter().enumerate().filter(|x| x.1 > 0) {
                    let key = (i / (nl * nl), (i / nl % nl) as u32, (i % nl) as u32);
                    *total.links.entry(key).or_default() += c;
                }
            }
            PosAcc::Sparse {
                nodes,
                links,
                non_empty,
            } => {
                total.non_empty += non_empty;
                for (key, c) in nodes {
                    *total.nodes.entry(key).or_default() += c;
                }
                for (key, c) in links {
                    *total.links.entry(key).or_default() += c;
                }
            }
        }
    }
    Ok((names, total))
}

/// Sankey nodes and links for the first `max_steps` steps of each customer's path. See the
/// [module docs](self#paths-sankey-and-step-matrix).
///
/// ```
/// use jornada::analytics::{sankey, EventLog, PathLabel, PathSpec};
/// use jornada::Timestamp;
/// let mut b = EventLog::builder();
/// for (c, at, channel) in [("a", 0, "store"), ("a", 1, "sms"), ("a", 2, "web"), ("b", 0, "store"), ("b", 5, "web")] {
///     b.push(c, Timestamp::from_millis(at), channel, "touch", None)?;
/// }
/// let spec = PathSpec { label: PathLabel::Channel, max_steps: 2, ..PathSpec::default() };
/// let s = sankey(&b.finish()?, &spec)?;
/// let links: Vec<(&str, &str, u64)> = s.links.iter()
///     .map(|l| (s.labels[l.from].as_str(), s.labels[l.to].as_str(), l.customers)).collect();
/// assert_eq!(links, [("store", "sms", 1), ("store", "web", 1)]);
/// # Ok::<(), jornada::Error>(())
/// ```
pub fn sankey(log: &EventLog, spec: &PathSpec) -> Result<Sankey> {
    let (labels, p) = positions(log, spec)?;
    Ok(Sankey {
        labels,
        nodes: p
            .nodes
            .into_iter()
            .map(|((step, label), customers)| SankeyNode {
                step,
                label: label as usize,
                customers,
            })
            .collect(),
        links: p
            .links
            .into_iter()
            .map(|((step, from, to), customers)| SankeyLink {
                step,
                from: from as usize,
                to: to as usize,
                customers,
            })
            .collect(),
    })
}

/// The step matrix for the first `max_steps` steps. See the
/// [module docs](self#paths-sankey-and-step-matrix).
///
/// ```
/// use jornada::analytics::{step_matrix, EventLog, PathSpec};
/// use jornada::Timestamp;
/// let mut b = EventLog::builder();
/// for (c, at, kind) in [("a", 0, "view"), ("a", 1, "cart"), ("b", 0, "view"), ("b", 1, "view")] {
///     b.push(c, Timestamp::from_millis(at), "web", kind, None)?;
/// }
/// let m = step_matrix(&b.finish()?, &PathSpec { max_steps: 2, ..PathSpec::default() })?;
/// assert_eq!(m.labels, ["cart", "view"]);
/// assert_eq!(m.shares, [vec![0.0, 1.0], vec![0.5, 0.5]]); // step 2: half cart, half view
/// # Ok::<(), jornada::Error>(())
/// ```
pub fn step_matrix(log: &EventLog, spec: &PathSpec) -> Result<StepMatrix> {
    let (labels, p) = positions(log, spec)?;
    let nl = labels.len();
    if spec.max_steps.saturating_mul(nl) > MAX_MATRIX_CELLS {
        return Err(Error::Capacity {
            message: format!(
                "a step matrix of {} steps by {nl} labels is more than {MAX_MATRIX_CELLS} cells; use fewer steps or the Sankey links",
                spec.max_steps
            ),
        });
    }
    let mut counts = vec![vec![0u64; nl]; spec.max_steps];
    for ((i, l), c) in p.nodes {
        counts[i][l as usize] = c;
    }
    let shares = counts
        .iter()
        .map(|row| row.iter().map(|&c| ratio(c, p.non_empty)).collect())
        .collect();
    Ok(StepMatrix {
        labels,
        customers: p.non_empty,
        counts,
        shares,
    })
}

/// Largest step matrix (steps × labels).
const MAX_MATRIX_CELLS: usize = 10_000_000;
