//! Cutting journeys out of an [`EventLog`]: one path per conversion, one null path per customer
//! (see the `attribution` module docs for the definition).

use super::heuristic::decay_weights;
use super::paths::{PathSet, PathSetBuilder, PathTable};
use super::{AttributionConfig, AttributionModel, Dimension};
use crate::analytics::event_log::{PropColumn, NULL_CODE};
use crate::analytics::EventLog;
use crate::error::{Error, Location, Result};

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
/// [`attribute`](super::attribute) runs its path models on. Rows are distinct paths sorted by
/// channel names; channel names are joined by `separator`. Only the journey options of
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
pub fn journey_paths(
    log: &EventLog,
    config: &AttributionConfig,
    separator: &str,
) -> Result<PathTable> {
    let mut config = config.clone();
    config.models.clear();
    Ok(PathTable::from_set(&cut(log, &config)?.paths, separator))
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

pub(crate) fn cut(log: &EventLog, config: &AttributionConfig) -> Result<Cut> {
    let plan = plan(log, config)?;
    match plan.dim {
        Dim::Channel(codes) => cut_with(log, &plan, |row| u32::from(codes[row])),
        Dim::Property(codes) => cut_with(log, &plan, |row| codes[row]),
    }
}

/// Per-customer scan state, reused across customers.
struct Scan {
    /// Touches since the previous conversion: dimension code and time.
    codes: Vec<u32>,
    times: Vec<i64>,
    weights: Vec<f64>,
    builder: PathSetBuilder,
    /// Per time-decay model, per dimension code: credited conversions and value.
    decay: Vec<(Vec<f64>, Vec<f64>)>,
    unattributed_conversions: f64,
    unattributed_value: f64,
}

fn cut_with(log: &EventLog, plan: &Plan, dim: impl Fn(usize) -> u32) -> Result<Cut> {
    let (at, kind, channel, values) = (
        log.at(),
        log.kind_codes(),
        log.channel_codes(),
        log.values(),
    );
    let n_dim = plan.dim_names.len();
    let mut s = Scan {
        codes: Vec::new(),
        times: Vec::new(),
        weights: Vec::new(),
        builder: PathSetBuilder::with_capacity(log.len()),
        decay: vec![(vec![0.0; n_dim], vec![0.0; n_dim]); plan.half_lives.len()],
        unattributed_conversions: 0.0,
        unattributed_value: 0.0,
    };
    let is_touch = |row: usize| -> Option<u32> {
        if plan.touch_kind[kind[row] as usize] && plan.touch_channel[channel[row] as usize] {
            let d = dim(row);
            (d != NULL_CODE).then_some(d)
        } else {
            None
        }
    };
    for w in log.offsets().windows(2) {
        let (start, end) = (w[0] as usize, w[1] as usize);
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
                s.builder.add(&s.codes[from..], 0.0, 0.0, 1.0);
            }
        }
    }
    let (paths, remap) = s.builder.finish(&plan.dim_names);
    let n = paths.channels.len();
    let decay = s
        .decay
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
        unattributed_conversions: s.unattributed_conversions,
        unattributed_value: s.unattributed_value,
    })
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
        if from == self.codes.len() {
            self.unattributed_conversions += 1.0;
            self.unattributed_value += value;
        } else {
            let (codes, times) = (&self.codes[from..], &self.times[from..]);
            self.builder.add(codes, 1.0, value, 0.0);
            for (k, &h) in plan.half_lives.iter().enumerate() {
                decay_weights(times, h, &mut self.weights);
                let (dc, dv) = &mut self.decay[k];
                for (&c, &w) in codes.iter().zip(&self.weights) {
                    dc[c as usize] += w;
                    dv[c as usize] += w * value;
                }
            }
        }
        self.codes.clear();
        self.times.clear();
    }
}
