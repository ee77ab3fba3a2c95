//! Cutting journeys out of an [`EventLog`]: one path per conversion, one null path per customer
//! (see the `attribution` module docs for the definition).

use super::heuristic::decay_weights;
use super::map_parallel;
use super::paths::{merge, PathSet, PathSetBuilder, PathTable};
use super::{AttributionConfig, AttributionModel, Dimension};
use crate::analytics::event_log::{PropColumn, NULL_CODE};
use crate::analytics::EventLog;
use crate::error::{Error, Location, Result};
use hashbrown::HashMap;

/// What cutting a log yields.
pub(crate) struct Cut {
    pub paths: PathSet,
    /// Per time-decay model of the config (in order): credited conversions and value per
    /// channel of `paths`.
    pub decay: Vec<(Vec<f64>, Vec<f64>)>,
    pub unattributed_conversions: f64,
    pub unattributed_value: f64,
}

/// The journeys of a log as aggregated paths in ChannelAttribution's format: what
/// [`attribute`](super::attribute) runs its path models on. Rows are the distinct paths in the
/// order they first appear (customers by key, then time), channel names joined by
/// `separator`; [`attribute_paths`](super::attribute_paths) on these rows gives exactly the
/// results of [`attribute`](super::attribute) (time decay aside). Only the journey options of
/// `config` matter (not its models).
///
/// ```
/// use jornada::analytics::{attribution::{journey_paths, AttributionConfig}, EventLog};
/// use jornada::Timestamp;
/// let t = Timestamp::from_millis;
/// let mut b = EventLog::builder();
/// b.push("ana", t(1), "email", "open", None)?;
/// b.push("ana", t(2), "web", "visit", None)?;
/// b.push("ana", t(3), "web", "purchase", Some(20.0))?;
/// b.push("ana", t(4), "sms", "click", None)?;
/// b.push("bo", t(1), "email", "open", None)?;
/// b.push("bo", t(2), "web", "visit", None)?;
/// let table = journey_paths(&b.finish()?, &AttributionConfig::new("purchase"), " > ")?;
/// assert_eq!(table.path, ["email > web", "sms"]);
/// assert_eq!(table.total_conversions, [1.0, 0.0]);
/// assert_eq!(table.total_conversion_value, [20.0, 0.0]);
/// assert_eq!(table.total_null, [1.0, 1.0]);
/// # Ok::<(), jornada::Error>(())
/// ```
///
/// An empty `separator`, or one that occurs in a channel (or property value) on some path, is
/// an `invalid_value` error: the paths could not be split back into the same channels.
pub fn journey_paths(
    log: &EventLog,
    config: &AttributionConfig,
    separator: &str,
) -> Result<PathTable> {
    let bad = |message: String| Error::InvalidValue {
        loc: Location::field("separator"),
        message,
    };
    if separator.is_empty() {
        return Err(bad("the separator is empty".into()));
    }
    let mut config = config.clone();
    config.models.clear();
    let set = cut(log, &config, &|_| {})?.paths;
    if let Some(name) = set.channels.iter().find(|c| c.contains(separator)) {
        return Err(bad(format!(
            "`{name}` contains the separator `{separator}`: the paths could not be split back"
        )));
    }
    Ok(PathTable::from_set(&set, separator))
}

/// The journey options resolved against the log's dictionaries.
struct Plan<'a> {
    conversion: u16,
    touch_kind: Vec<bool>,
    touch_channel: Vec<bool>,
    lookback: Option<i64>,
    null_paths: bool,
    half_lives: Vec<i64>,
    dim: Dim<'a>,
    dim_names: Vec<&'a str>,
}

#[derive(Clone, Copy)]
enum Dim<'a> {
    Channel(&'a [u16]),
    Property(&'a [u32]),
}

fn plan<'a>(log: &'a EventLog, config: &AttributionConfig) -> Result<Plan<'a>> {
    let conversion =
        log.kind_code(&config.conversion_kind)
            .ok_or_else(|| Error::UnknownEventKind {
                loc: Location::field("conversion_kind"),
                kind: config.conversion_kind.clone(),
            })?;
    let mut touch_kind = vec![config.touch_kinds.is_none(); log.kinds().len()];
    if let Some(kinds) = &config.touch_kinds {
        for (i, k) in kinds.iter().enumerate() {
            let code = log.kind_code(k).ok_or_else(|| Error::UnknownEventKind {
                loc: Location::field(format!("touch_kinds[{i}]")),
                kind: k.clone(),
            })?;
            touch_kind[code as usize] = true;
        }
    }
    touch_kind[conversion as usize] = false;
    let mut touch_channel = vec![config.touch_channels.is_none(); log.channels().len()];
    if let Some(channels) = &config.touch_channels {
        for (i, c) in channels.iter().enumerate() {
            let code = log.channel_code(c).ok_or_else(|| Error::UnknownChannel {
                loc: Location::field(format!("touch_channels[{i}]")),
                channel: c.clone(),
            })?;
            touch_channel[code as usize] = true;
        }
    }
    let lookback = match config.lookback {
        Some(d) if d.millis() < 0 => {
            return Err(Error::InvalidValue {
                loc: Location::field("lookback"),
                message: format!("{d} is negative"),
            })
        }
        Some(d) => Some(d.millis()),
        None => None,
    };
    let (dim, dim_names) = match &config.dimension {
        Dimension::Channel => (
            Dim::Channel(log.channel_codes()),
            log.channels().iter().map(|s| &**s).collect(),
        ),
        Dimension::Property(name) => match log.property(name) {
            Some(PropColumn::Str { codes, dict }) => {
                (Dim::Property(codes), dict.iter().map(|s| &**s).collect())
            }
            Some(_) => {
                return Err(Error::InvalidValue {
                    loc: Location::field("dimension"),
                    message: format!("property `{name}` is not a string column"),
                })
            }
            None => {
                return Err(Error::InvalidValue {
                    loc: Location::field("dimension"),
                    message: format!("the log has no property `{name}`"),
                })
            }
        },
    };
    let half_lives = config
        .models
        .iter()
        .filter_map(|m| match m {
            AttributionModel::TimeDecay { half_life } => Some(half_life.millis()),
            _ => None,
        })
        .collect();
    Ok(Plan {
        conversion,
        touch_kind,
        touch_channel,
        lookback,
        null_paths: config.null_paths,
        half_lives,
        dim,
        dim_names,
    })
}

pub(crate) fn cut(
    log: &EventLog,
    config: &AttributionConfig,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Cut> {
    cut_blocks(log, config, cfg!(feature = "parallel"), progress)
}

/// Customers are scanned in blocks of about this many rows; the blocks depend only on the log,
/// so the result is the same whether they run in parallel or not.
const BLOCK_ROWS: usize = 1 << 16;

/// Consecutive customer ranges of about [`BLOCK_ROWS`] rows each.
fn blocks(offsets: &[u32]) -> Vec<(usize, usize)> {
    let n = offsets.len() - 1;
    let mut out = Vec::with_capacity(offsets[n] as usize / BLOCK_ROWS + 1);
    let mut first = 0;
    for c in 0..n {
        if (offsets[c + 1] - offsets[first]) as usize >= BLOCK_ROWS {
            out.push((first, c + 1));
            first = c + 1;
        }
    }
    if first < n {
        out.push((first, n));
    }
    out
}

/// Cuts the journeys block by block (with rayon when `parallel`), then merges the blocks in
/// order: the same sums in the same order either way. `progress(k)` after each block of `k`
/// customers.
fn cut_blocks(
    log: &EventLog,
    config: &AttributionConfig,
    parallel: bool,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Cut> {
    let plan = plan(log, config)?;
    let ranges = blocks(log.offsets());
    let scan = |&(first, last): &(usize, usize)| {
        let block = match plan.dim {
            Dim::Channel(codes) => scan_block(log, &plan, first, last, |r| u32::from(codes[r])),
            Dim::Property(codes) => scan_block(log, &plan, first, last, |r| codes[r]),
        };
        progress(last - first);
        block
    };
    let scanned: Vec<Block> = if parallel {
        map_parallel(&ranges, scan)
    } else {
        ranges.iter().map(scan).collect()
    };
    let n_dim = plan.dim_names.len();
    let mut decay = vec![(vec![0.0; n_dim], vec![0.0; n_dim]); plan.half_lives.len()];
    let (mut unattributed_conversions, mut unattributed_value) = (0.0, 0.0);
    let mut builders = Vec::with_capacity(scanned.len());
    for block in scanned {
        builders.push(block.paths);
        for (acc, (conv, value)) in block.decay.into_iter().zip(&mut decay) {
            acc.add_into(conv, value);
        }
        unattributed_conversions += block.unattributed_conversions;
        unattributed_value += block.unattributed_value;
    }
    let (paths, remap) = merge(builders, &plan.dim_names);
    let n = paths.channels.len();
    let decay = decay
        .into_iter()
        .map(|(conv, value)| {
            let mut c = vec![0.0; n];
            let mut v = vec![0.0; n];
            for (code, &new) in remap.iter().enumerate() {
                if new != u32::MAX {
                    c[new as usize] = conv[code];
                    v[new as usize] = value[code];
                }
            }
            (c, v)
        })
        .collect();
    Ok(Cut {
        paths,
        decay,
        unattributed_conversions,
        unattributed_value,
    })
}

/// Time-decay credits of one block: dense for small dictionaries, sparse otherwise.
enum Acc {
    Dense(Vec<f64>, Vec<f64>),
    Sparse(HashMap<u32, (f64, f64)>),
}

impl Acc {
    fn new(n_dim: usize) -> Acc {
        if n_dim <= 4096 {
            Acc::Dense(vec![0.0; n_dim], vec![0.0; n_dim])
        } else {
            Acc::Sparse(HashMap::new())
        }
    }

    fn add(&mut self, code: u32, w: f64, value: f64) {
        match self {
            Acc::Dense(c, v) => {
                c[code as usize] += w;
                v[code as usize] += w * value;
            }
            Acc::Sparse(map) => {
                let e = map.entry(code).or_insert((0.0, 0.0));
                e.0 += w;
                e.1 += w * value;
            }
        }
    }

    /// Adds this block's credits to the totals (one addition per code and block, so the
    /// order of a sparse map does not matter).
    fn add_into(self, conv: &mut [f64], value: &mut [f64]) {
        match self {
            Acc::Dense(c, v) => {
                for (code, (c, v)) in c.into_iter().zip(v).enumerate() {
                    if c != 0.0 || v != 0.0 {
                        conv[code] += c;
                        value[code] += v;
                    }
                }
            }
            Acc::Sparse(map) => {
                for (code, (c, v)) in map {
                    conv[code as usize] += c;
                    value[code as usize] += v;
                }
            }
        }
    }
}

/// What one block of customers yields.
struct Block {
    paths: PathSetBuilder,
    /// Per time-decay model.
    decay: Vec<Acc>,
    unattributed_conversions: f64,
    unattributed_value: f64,
}

/// Per-customer scan state, reused across a block's customers.
struct Scan {
    /// Touches since the previous conversion: dimension code and time.
    codes: Vec<u32>,
    times: Vec<i64>,
    weights: Vec<f64>,
    block: Block,
}

/// Scans customers `first..last`.
fn scan_block(
    log: &EventLog,
    plan: &Plan,
    first: usize,
    last: usize,
    dim: impl Fn(usize) -> u32,
) -> Block {
    let (at, kind, channel, values) = (
        log.at(),
        log.kind_codes(),
        log.channel_codes(),
        log.values(),
    );
    let offsets = log.offsets();
    let rows = (offsets[last] - offsets[first]) as usize;
    let mut s = Scan {
        codes: Vec::new(),
        times: Vec::new(),
        weights: Vec::new(),
        block: Block {
            paths: PathSetBuilder::with_capacity(rows),
            decay: plan
                .half_lives
                .iter()
                .map(|_| Acc::new(plan.dim_names.len()))
                .collect(),
            unattributed_conversions: 0.0,
            unattributed_value: 0.0,
        },
    };
    let is_touch = |row: usize| -> Option<u32> {
        if plan.touch_kind[kind[row] as usize] && plan.touch_channel[channel[row] as usize] {
            let d = dim(row);
            (d != NULL_CODE).then_some(d)
        } else {
            None
        }
    };
    for c in first..last {
        let (start, end) = (offsets[c] as usize, offsets[c + 1] as usize);
        s.codes.clear();
        s.times.clear();
        let mut row = start;
        while row < end {
            let t = at[row];
            let mut group_end = row + 1;
            while group_end < end && at[group_end] == t {
                group_end += 1;
            }
            // Touches of this millisecond first, then its conversions.
            for r in row..group_end {
                if let Some(d) = is_touch(r) {
                    s.codes.push(d);
                    s.times.push(t);
                }
            }
            for r in row..group_end {
                if kind[r] == plan.conversion {
                    let v = if values[r].is_nan() { 0.0 } else { values[r] };
                    s.conversion(plan, t, v);
                }
            }
            row = group_end;
        }
        if plan.null_paths {
            if let Some(&last) = s.times.last() {
                let from = window_start(&s.times, last, plan.lookback);
                s.block.paths.add(&s.codes[from..], 0.0, 0.0, 1.0);
            }
        }
    }
    s.block
}

/// Index of the first touch at or after `anchor - lookback` (times are sorted).
fn window_start(times: &[i64], anchor: i64, lookback: Option<i64>) -> usize {
    match lookback {
        Some(l) => {
            let from = anchor.saturating_sub(l);
            times.partition_point(|&x| x < from)
        }
        None => 0,
    }
}

impl Scan {
    fn conversion(&mut self, plan: &Plan, t: i64, value: f64) {
        let from = window_start(&self.times, t, plan.lookback);
        let block = &mut self.block;
        if from == self.codes.len() {
            block.unattributed_conversions += 1.0;
            block.unattributed_value += value;
        } else {
            let (codes, times) = (&self.codes[from..], &self.times[from..]);
            block.paths.add(codes, 1.0, value, 0.0);
            for (k, &h) in plan.half_lives.iter().enumerate() {
                decay_weights(times, h, &mut self.weights);
                for (&c, &w) in codes.iter().zip(&self.weights) {
                    block.decay[k].add(c, w, value);
                }
            }
        }
        self.codes.clear();
        self.times.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;

    #[test]
    fn blocks_cover_every_customer_once() {
        assert_eq!(blocks(&[0]), []);
        assert_eq!(blocks(&[0, 3, 5]), [(0, 2)]);
        let big = BLOCK_ROWS as u32;
        assert_eq!(
            blocks(&[0, big - 1, big + 2, 2 * big + 2, 2 * big + 3]),
            [(0, 2), (2, 3), (3, 4)]
        );
    }

    #[test]
    fn parallel_and_serial_cuts_are_identical() {
        // Enough customers for several blocks; a pseudo-random but fixed log.
        let mut b = EventLog::builder();
        let mut x: u64 = 1;
        let mut next = |m: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % m
        };
        let channels = ["web", "app", "email", "sms"];
        let kinds = ["view", "view", "view", "click", "buy"];
        for _ in 0..3 * BLOCK_ROWS {
            let customer = format!("c{}", next(20_000));
            let t = Timestamp::from_millis(next(1_000_000) as i64 * 1000);
            let kind = kinds[next(5) as usize];
            let value = (kind == "buy").then(|| next(10_000) as f64 / 100.0);
            b.push(&customer, t, channels[next(4) as usize], kind, value)
                .unwrap();
        }
        let log = b.finish().unwrap();
        assert!(blocks(log.offsets()).len() >= 3);
        let mut config = AttributionConfig::new("buy");
        config.lookback = Some(crate::Duration::from_millis(200_000_000));
        // Progress: one call per block, with the block's customers, in all the whole log.
        let calls = std::sync::Mutex::new(Vec::new());
        let a = cut_blocks(&log, &config, true, &|k| calls.lock().unwrap().push(k)).unwrap();
        let mut calls = calls.into_inner().unwrap();
        calls.sort_unstable();
        let mut want: Vec<usize> = blocks(log.offsets()).iter().map(|&(f, l)| l - f).collect();
        want.sort_unstable();
        assert_eq!(calls, want);
        assert_eq!(calls.iter().sum::<usize>(), log.n_customers());
        let b = cut_blocks(&log, &config, false, &|_| {}).unwrap();
        let (ta, tb) = (
            PathTable::from_set(&a.paths, ">"),
            PathTable::from_set(&b.paths, ">"),
        );
        assert_eq!(ta, tb);
        assert_eq!(a.decay, b.decay);
        assert_eq!(a.unattributed_value, b.unattributed_value);
        assert!(ta.total_conversions.iter().sum::<f64>() > 1000.0);
    }

    #[test]
    fn a_separator_that_cannot_split_the_paths_back_is_an_error() {
        let t = Timestamp::from_millis;
        let mut b = EventLog::builder();
        b.push("ana", t(1), "paid>search", "click", None).unwrap();
        b.push("ana", t(2), "web", "buy", Some(5.0)).unwrap(); // a conversion: `web` is on no path
        b.push("bo", t(1), "a-b", "click", None).unwrap(); // a null path
        let log = b.finish().unwrap();
        let config = AttributionConfig::new("buy");
        for (sep, says) in [("", "empty"), (">", "`paid>search`"), ("-", "`a-b`")] {
            let err = journey_paths(&log, &config, sep).unwrap_err();
            assert_eq!(err.code(), "invalid_value");
            let text = err.to_string();
            assert!(text.contains("separator") && text.contains(says), "{text}");
        }
        // `w` is only in `web`, on no path: fine.
        let table = journey_paths(&log, &config, "w").unwrap();
        assert_eq!(table.path, ["paid>search", "a-b"]);
        assert_eq!(table.total_conversions, [1.0, 0.0]);
        assert_eq!(table.total_conversion_value, [5.0, 0.0]);
        assert_eq!(table.total_null, [0.0, 1.0]);
    }
}
