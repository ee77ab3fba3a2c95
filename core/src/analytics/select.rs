//! What the analyses share: [`EventFilter`] (which events a funnel step, an exclusion, a
//! conversion or a support contact is), compiled against a log's dictionaries and property
//! columns; nearest-rank percentiles; the deterministic split of work by customer.
//!
//! # Names
//! Filters name kinds and channels. They are resolved against the log's dictionaries when an
//! analysis starts; a name the log does not have is an error, `unknown_event_kind` or
//! `unknown_channel`, whose field names the option (`steps[2].kinds[0]`). A log that never saw a
//! kind cannot answer a question about it, and a typo should not read as "zero customers".
//!
//! # Conditions
//! `when` takes the model's condition language ([`ConditionSpec`], the same JSON as a rule's
//! `when`): `{"prop": "rating", "op": ">=", "value": 4}`, `=`, `!=`, `<`, `<=`, `>`, `>=`, `in`,
//! `exists`, `contains`, combined with `all`, `any`, `not`; `$value` is the event's value. As in
//! models, a comparison with a missing property is false (so `not` of it is true). A property
//! the log has no column for is missing on every row. Comparing a column with an operand of
//! another type is an error (`wrong_type`, naming the field), since the log's column types are
//! known.

use crate::analytics::event_log::{EventLog, PropColumn, NULL_BOOL, NULL_CODE};
use crate::error::{Error, Location, Result};
use crate::model::spec::ConditionSpec;
use crate::time::Duration;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Which events something is: any of `kinds` (empty: any kind), on any of `channels` (empty:
/// any channel), satisfying `when` (absent: always).
///
/// ```
/// use jornada::analytics::EventFilter;
/// let f = EventFilter::kind("review")
///     .on_channels(["web", "app"])
///     .when_json(r#"{"prop": "rating", "op": ">=", "value": 4}"#)?;
/// assert_eq!(f.kinds, ["review"]);
/// let any: EventFilter = serde_json::from_str(r#"{"kinds": ["purchase"]}"#).unwrap();
/// assert_eq!(any, EventFilter::kind("purchase"));
/// # Ok::<(), jornada::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventFilter {
    /// Event kinds, any of; empty matches every kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// Channels, any of; empty matches every channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    /// A condition on the event's properties and value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<ConditionSpec>,
}

impl EventFilter {
    /// Events of one kind.
    pub fn kind(kind: &str) -> Self {
        EventFilter {
            kinds: vec![kind.to_string()],
            ..Default::default()
        }
    }

    /// Events of any of these kinds.
    pub fn kinds<S: AsRef<str>>(kinds: impl IntoIterator<Item = S>) -> Self {
        EventFilter {
            kinds: kinds.into_iter().map(|k| k.as_ref().to_string()).collect(),
            ..Default::default()
        }
    }

    /// Every event.
    pub fn any() -> Self {
        EventFilter::default()
    }

    /// Narrowed to these channels.
    pub fn on_channels<S: AsRef<str>>(mut self, channels: impl IntoIterator<Item = S>) -> Self {
        self.channels = channels
            .into_iter()
            .map(|c| c.as_ref().to_string())
            .collect();
        self
    }

    /// Narrowed by a condition.
    pub fn when(mut self, condition: ConditionSpec) -> Self {
        self.when = Some(condition);
        self
    }

    /// Narrowed by a condition written as JSON (`{"prop": "rating", "op": ">=", "value": 4}`).
    pub fn when_json(self, json: &str) -> Result<Self> {
        let cond: ConditionSpec = serde_json::from_str(json).map_err(|e| Error::InvalidJson {
            loc: Location::field("when"),
            message: e.to_string(),
        })?;
        Ok(self.when(cond))
    }

    /// A short label: the kinds joined by `|` (`*` for any kind), then `@channels` when
    /// narrowed, then ` if …` when there is a condition.
    pub fn label(&self) -> String {
        let mut s = if self.kinds.is_empty() {
            "*".to_string()
        } else {
            self.kinds.join("|")
        };
        if !self.channels.is_empty() {
            s.push('@');
            s.push_str(&self.channels.join("|"));
        }
        if let Some(c) = &self.when {
            s.push_str(" if ");
            s.push_str(&serde_json::to_string(c).unwrap_or_default());
        }
        s
    }
}

/// Resolves a kind name, or the coded error naming `field`.
pub(crate) fn kind_code(log: &EventLog, name: &str, field: String) -> Result<u16> {
    log.kind_code(name).ok_or_else(|| Error::UnknownEventKind {
        loc: Location::field(field),
        kind: name.to_string(),
    })
}

/// Resolves a channel name, or the coded error naming `field`.
pub(crate) fn channel_code(log: &EventLog, name: &str, field: String) -> Result<u16> {
    log.channel_code(name).ok_or_else(|| Error::UnknownChannel {
        loc: Location::field(field),
        channel: name.to_string(),
    })
}

/// A filter resolved against one log.
#[derive(Debug)]
pub(crate) struct Compiled<'a> {
    /// Per kind code.
    pub kind_ok: Vec<bool>,
    /// Per channel code.
    pub channel_ok: Vec<bool>,
    /// The condition, when there is one.
    pub pred: Option<Pred<'a>>,
    kinds: &'a [u16],
    channels: &'a [u16],
}

impl<'a> Compiled<'a> {
    /// Compiles `f` against `log`; `field` prefixes error paths (`steps[1]`).
    pub fn new(log: &'a EventLog, f: &EventFilter, field: &str) -> Result<Self> {
        let dot = if field.is_empty() { "" } else { "." };
        let mut kind_ok = vec![f.kinds.is_empty(); log.kinds().len()];
        for (i, k) in f.kinds.iter().enumerate() {
            kind_ok[kind_code(log, k, format!("{field}{dot}kinds[{i}]"))? as usize] = true;
        }
        let mut channel_ok = vec![f.channels.is_empty(); log.channels().len()];
        for (i, c) in f.channels.iter().enumerate() {
            channel_ok[channel_code(log, c, format!("{field}{dot}channels[{i}]"))? as usize] = true;
        }
        let pred = match &f.when {
            Some(c) => Some(compile_condition(log, c, &format!("{field}{dot}when"))?),
            None => None,
        };
        Ok(Compiled {
            kind_ok,
            channel_ok,
            pred,
            kinds: log.kind_codes(),
            channels: log.channel_codes(),
        })
    }

    /// A filter matching no event.
    pub fn never(log: &'a EventLog) -> Self {
        Compiled {
            kind_ok: vec![false; log.kinds().len()],
            channel_ok: vec![false; log.channels().len()],
            pred: None,
            kinds: log.kind_codes(),
            channels: log.channel_codes(),
        }
    }

    /// Whether `row` matches.
    #[inline]
    pub fn matches(&self, row: usize) -> bool {
        self.kind_ok[self.kinds[row] as usize]
            && self.channel_ok[self.channels[row] as usize]
            && self.pred.as_ref().is_none_or(|p| p.eval(row))
    }

    /// Whether the filter matches every event.
    pub fn is_all(&self) -> bool {
        self.pred.is_none() && self.kind_ok.iter().all(|x| *x) && self.channel_ok.iter().all(|x| *x)
    }
}

/// Several filters folded into one bitmask per row: bit `i` is set when filter `i` matches.
/// Kind and channel are two small table lookups (a filter accepts a row when it accepts both
/// its kind and its channel); conditions are evaluated only where those already match.
#[derive(Debug)]
pub(crate) struct MaskTable<'a> {
    by_kind: Vec<u32>,
    by_channel: Vec<u32>,
    /// No filter narrows channels: the channel need not be read.
    any_channel: bool,
    cond_bits: u32,
    preds: Vec<(u32, Pred<'a>)>,
    kinds: &'a [u16],
    channels: &'a [u16],
}

impl<'a> MaskTable<'a> {
    /// At most 32 filters.
    pub fn new(log: &'a EventLog, filters: Vec<Compiled<'a>>) -> Self {
        assert!(filters.len() <= 32, "at most 32 filters");
        let mut by_kind = vec![0u32; log.kinds().len()];
        let mut by_channel = vec![0u32; log.channels().len()];
        let mut cond_bits = 0;
        let mut preds = Vec::new();
        for (i, f) in filters.into_iter().enumerate() {
            let bit = 1u32 << i;
            for (m, ok) in by_kind.iter_mut().zip(&f.kind_ok) {
                if *ok {
                    *m |= bit;
                }
            }
            for (m, ok) in by_channel.iter_mut().zip(&f.channel_ok) {
                if *ok {
                    *m |= bit;
                }
            }
            if let Some(p) = f.pred {
                cond_bits |= bit;
                preds.push((bit, p));
            }
        }
        let all = if by_channel.is_empty() {
            0
        } else {
            by_channel.iter().fold(u32::MAX, |a, &m| a & m)
        };
        let used = by_kind.iter().fold(0, |a, &m| a | m);
        MaskTable {
            any_channel: all & used == used,
            by_kind,
            by_channel,
            cond_bits,
            preds,
            kinds: log.kind_codes(),
            channels: log.channel_codes(),
        }
    }

    /// The bitmask of filters matching `row`.
    #[inline(always)]
    pub fn mask(&self, row: usize) -> u32 {
        let mut m = self.by_kind[self.kinds[row] as usize];
        if !self.any_channel {
            m &= self.by_channel[self.channels[row] as usize];
        }
        if m & self.cond_bits == 0 {
            return m;
        }
        self.mask_slow(row, m)
    }

    /// The bitmask for a row whose kind code the caller already has (and the channel, read
    /// only when some filter narrows channels).
    #[inline(always)]
    pub fn mask_of(&self, kind: u16, channels: &[u16], i: usize, row: usize) -> u32 {
        let mut m = self.by_kind[kind as usize];
        if !self.any_channel {
            m &= self.by_channel[channels[i] as usize];
        }
        if m & self.cond_bits == 0 {
            return m;
        }
        self.mask_slow(row, m)
    }

    #[inline(never)]
    fn mask_slow(&self, row: usize, mut m: u32) -> u32 {
        for (bit, p) in &self.preds {
            if m & bit != 0 && !p.eval(row) {
                m &= !bit;
            }
        }
        m
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn num(self, a: f64, b: f64) -> bool {
        match self {
            Op::Eq => a == b,
            Op::Ne => a != b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
        }
    }
    fn ord(self, o: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Op::Eq => o == Equal,
            Op::Ne => o != Equal,
            Op::Lt => o == Less,
            Op::Le => o != Greater,
            Op::Gt => o == Greater,
            Op::Ge => o != Less,
        }
    }
}

/// A condition compiled against a log's columns.
#[derive(Debug)]
pub(crate) enum Pred<'a> {
    Const(bool),
    All(Vec<Pred<'a>>),
    Any(Vec<Pred<'a>>),
    Not(Box<Pred<'a>>),
    /// String column: per dictionary code, whether it satisfies; missing is false.
    Str {
        codes: &'a [u32],
        ok: Vec<bool>,
    },
    /// Number column (`NaN` missing) compared with a number.
    Num {
        col: &'a [f64],
        op: Op,
        v: f64,
    },
    /// Number column in a set.
    NumIn {
        col: &'a [f64],
        vals: Vec<f64>,
    },
    /// Boolean column equal (or not) to a value; missing is false.
    Bool {
        col: &'a [u8],
        eq: bool,
        v: u8,
    },
    /// The column has a value.
    Exists(Col<'a>),
}

/// A column, for `exists`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Col<'a> {
    Str(&'a [u32]),
    Num(&'a [f64]),
    Bool(&'a [u8]),
}

impl Pred<'_> {
    /// Evaluates the condition on a row.
    pub fn eval(&self, row: usize) -> bool {
        match self {
            Pred::Const(b) => *b,
            Pred::All(ps) => ps.iter().all(|p| p.eval(row)),
            Pred::Any(ps) => ps.iter().any(|p| p.eval(row)),
            Pred::Not(p) => !p.eval(row),
            Pred::Str { codes, ok } => match codes[row] {
                NULL_CODE => false,
                c => ok[c as usize],
            },
            Pred::Num { col, op, v } => {
                let x = col[row];
                !x.is_nan() && op.num(x, *v)
            }
            Pred::NumIn { col, vals } => {
                let x = col[row];
                !x.is_nan() && vals.contains(&x)
            }
            Pred::Bool { col, eq, v } => {
                let x = col[row];
                x != NULL_BOOL && ((x == *v) == *eq)
            }
            Pred::Exists(c) => match c {
                Col::Str(c) => c[row] != NULL_CODE,
                Col::Num(c) => !c[row].is_nan(),
                Col::Bool(c) => c[row] != NULL_BOOL,
            },
        }
    }
}

fn invalid(path: &str, message: impl Into<String>) -> Error {
    Error::InvalidValue {
        loc: Location::field(path),
        message: message.into(),
    }
}

fn wrong_type(path: &str, expected: &str) -> Error {
    Error::WrongType {
        loc: Location::field(path),
        expected: expected.into(),
    }
}

enum Scalar {
    Str(String),
    Num(f64),
    Bool(bool),
}

fn scalar(v: &serde_json::Value, path: &str) -> Result<Scalar> {
    match v {
        serde_json::Value::String(s) => Ok(Scalar::Str(s.clone())),
        serde_json::Value::Bool(b) => Ok(Scalar::Bool(*b)),
        serde_json::Value::Number(n) => n
            .as_f64()
            .filter(|x| x.is_finite())
            .map(Scalar::Num)
            .ok_or_else(|| invalid(path, "not a finite number")),
        _ => Err(wrong_type(path, "a string, number or boolean")),
    }
}

/// Compiles a condition against `log`'s columns; errors name `path` (`steps[0].when.value`).
pub(crate) fn compile_condition<'a>(
    log: &'a EventLog,
    c: &ConditionSpec,
    path: &str,
) -> Result<Pred<'a>> {
    let forms = [
        c.all.is_some(),
        c.any.is_some(),
        c.not.is_some(),
        c.prop.is_some(),
    ];
    if forms.iter().filter(|f| **f).count() != 1 {
        return Err(invalid(
            path,
            "a condition has exactly one of `all`, `any`, `not`, `prop`",
        ));
    }
    if let Some(list) = &c.all {
        return Ok(Pred::All(
            list.iter()
                .enumerate()
                .map(|(i, c)| compile_condition(log, c, &format!("{path}.all[{i}]")))
                .collect::<Result<_>>()?,
        ));
    }
    if let Some(list) = &c.any {
        return Ok(Pred::Any(
            list.iter()
                .enumerate()
                .map(|(i, c)| compile_condition(log, c, &format!("{path}.any[{i}]")))
                .collect::<Result<_>>()?,
        ));
    }
    if let Some(inner) = &c.not {
        return Ok(Pred::Not(Box::new(compile_condition(
            log,
            inner,
            &format!("{path}.not"),
        )?)));
    }
    let name = c.prop.as_deref().unwrap_or_default();
    if name.is_empty() {
        return Err(invalid(&format!("{path}.prop"), "property name is empty"));
    }
    let col: Option<Col<'a>> = if name == "$value" {
        Some(Col::Num(log.values()))
    } else {
        log.property(name).map(|c| match c {
            PropColumn::Str { codes, .. } => Col::Str(codes),
            PropColumn::Num(v) => Col::Num(v),
            PropColumn::Bool(v) => Col::Bool(v),
        })
    };
    let dict: &[Box<str>] = match log.property(name) {
        Some(PropColumn::Str { dict, .. }) => dict,
        _ => &[],
    };
    let op = c.op.as_deref().unwrap_or("");
    let vpath = format!("{path}.value");
    let type_name = |col: &Col| match col {
        Col::Str(_) => "string",
        Col::Num(_) => "number",
        Col::Bool(_) => "bool",
    };
    match op {
        "exists" => {
            if c.value.is_some() {
                return Err(invalid(&vpath, "`exists` takes no value"));
            }
            Ok(col.map_or(Pred::Const(false), Pred::Exists))
        }
        "in" => {
            let Some(serde_json::Value::Array(items)) = &c.value else {
                return Err(wrong_type(&vpath, "a list of values"));
            };
            let items = items
                .iter()
                .enumerate()
                .map(|(i, v)| scalar(v, &format!("{vpath}[{i}]")))
                .collect::<Result<Vec<_>>>()?;
            let Some(col) = col else {
                return Ok(Pred::Const(false));
            };
            for (i, item) in items.iter().enumerate() {
                let ok = matches!(
                    (&col, item),
                    (Col::Str(_), Scalar::Str(_))
                        | (Col::Num(_), Scalar::Num(_))
                        | (Col::Bool(_), Scalar::Bool(_))
                );
                if !ok {
                    return Err(wrong_type(&format!("{vpath}[{i}]"), type_name(&col)));
                }
            }
            Ok(match col {
                Col::Str(codes) => Pred::Str {
                    codes,
                    ok: dict
                        .iter()
                        .map(|d| {
                            items
                                .iter()
                                .any(|s| matches!(s, Scalar::Str(s) if **d == **s))
                        })
                        .collect(),
                },
                Col::Num(col) => Pred::NumIn {
                    col,
                    vals: items
                        .iter()
                        .filter_map(|s| match s {
                            Scalar::Num(x) => Some(*x),
                            _ => None,
                        })
                        .collect(),
                },
                Col::Bool(col) => {
                    let t = items.iter().any(|s| matches!(s, Scalar::Bool(true)));
                    let f = items.iter().any(|s| matches!(s, Scalar::Bool(false)));
                    match (t, f) {
                        (true, true) => Pred::Exists(Col::Bool(col)),
                        (true, false) => Pred::Bool {
                            col,
                            eq: true,
                            v: 1,
                        },
                        (false, true) => Pred::Bool {
                            col,
                            eq: true,
                            v: 0,
                        },
                        (false, false) => Pred::Const(false),
                    }
                }
            })
        }
        "contains" => {
            let Some(serde_json::Value::String(needle)) = &c.value else {
                return Err(wrong_type(&vpath, "a string"));
            };
            match col {
                None => Ok(Pred::Const(false)),
                Some(Col::Str(codes)) => Ok(Pred::Str {
                    codes,
                    ok: dict.iter().map(|d| d.contains(needle.as_str())).collect(),
                }),
                Some(other) => Err(wrong_type(
                    &format!("{path}.prop"),
                    &format!(
                        "a string property for `contains` (it is a {})",
                        type_name(&other)
                    ),
                )),
            }
        }
        "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" => {
            let op = match op {
                "=" | "==" => Op::Eq,
                "!=" => Op::Ne,
                "<" => Op::Lt,
                "<=" => Op::Le,
                ">" => Op::Gt,
                _ => Op::Ge,
            };
            let Some(v) = &c.value else {
                return Err(wrong_type(&vpath, "a string, number or boolean"));
            };
            let v = scalar(v, &vpath)?;
            if matches!(v, Scalar::Bool(_)) && !matches!(op, Op::Eq | Op::Ne) {
                return Err(invalid(&format!("{path}.op"), "booleans are not ordered"));
            }
            let Some(col) = col else {
                return Ok(Pred::Const(false));
            };
            match (col, v) {
                (Col::Str(codes), Scalar::Str(s)) => Ok(Pred::Str {
                    codes,
                    ok: dict.iter().map(|d| op.ord((**d).cmp(s.as_str()))).collect(),
                }),
                (Col::Num(col), Scalar::Num(v)) => Ok(Pred::Num { col, op, v }),
                (Col::Bool(col), Scalar::Bool(b)) => Ok(Pred::Bool {
                    col,
                    eq: op == Op::Eq,
                    v: b as u8,
                }),
                (col, _) => Err(wrong_type(&vpath, type_name(&col))),
            }
        }
        other => Err(invalid(
            &format!("{path}.op"),
            format!("unknown operator `{other}` (use =, !=, <, <=, >, >=, in, exists, contains)"),
        )),
    }
}

/// The nearest-rank percentile `pct` (1 to 100) of `v`: the smallest value with at least
/// `pct`% of the values at or below it, i.e. the `⌈pct·n/100⌉`-th smallest. The median is
/// `pct = 50` (the lower middle value for an even count). `None` for no values. Reorders `v`.
pub(crate) fn percentile(v: &mut [i64], pct: u32) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    let n = v.len();
    let rank = ((n * pct as usize).div_ceil(100)).clamp(1, n);
    let (_, x, _) = v.select_nth_unstable(rank - 1);
    Some(*x)
}

/// `a / b`, or 0 when `b` is 0.
pub(crate) fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Customers per unit of work.
pub(crate) const CHUNK: usize = 4096;

/// Runs `f` over consecutive ranges of customer codes and returns the results in customer
/// order, on rayon's pool with the `parallel` feature, else on this thread. The ranges do not
/// depend on the number of threads, so neither do the results.
pub(crate) fn map_customers<T, F>(n_customers: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(Range<usize>) -> T + Sync + Send,
{
    let chunks = n_customers.div_ceil(CHUNK);
    let range = move |i: usize| i * CHUNK..((i + 1) * CHUNK).min(n_customers);
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..chunks).into_par_iter().map(|i| f(range(i))).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        (0..chunks).map(|i| f(range(i))).collect()
    }
}

/// Like [`map_customers`], with each unit of work also given its customers' slots of `out`
/// (`out[i]` belongs to customer `i`).
pub(crate) fn map_customers_into<T, U, F>(out: &mut [U], f: F) -> Vec<T>
where
    T: Send,
    U: Send,
    F: Fn(Range<usize>, &mut [U]) -> T + Sync + Send,
{
    let n = out.len();
    let range = move |i: usize| i * CHUNK..((i + 1) * CHUNK).min(n);
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        out.par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(i, slots)| f(range(i), slots))
            .collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        out.chunks_mut(CHUNK)
            .enumerate()
            .map(|(i, slots)| f(range(i), slots))
            .collect()
    }
}

/// Runs `f` over owned items, results in order.
pub(crate) fn map_owned<T, U, F>(items: Vec<T>, f: F) -> Vec<U>
where
    T: Send,
    U: Send,
    F: Fn(T) -> U + Sync + Send,
{
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.into_iter().map(f).collect()
    }
}

/// Serde for [`Duration`] as text (`"7d"`) or integer milliseconds.
pub(crate) mod duration_serde {
    use super::*;
    use serde::{de, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Duration, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration (`30m`, `7d`) or milliseconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Duration, E> {
                Duration::parse(v).ok_or_else(|| E::custom(format!("invalid duration `{v}`")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Duration, E> {
                i64::try_from(v)
                    .map(Duration)
                    .map_err(|_| E::custom("duration out of range"))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Duration, E> {
                if v < 0 {
                    return Err(E::custom("a duration is not negative"));
                }
                Ok(Duration(v))
            }
        }
        d.deserialize_any(V)
    }

    /// For `Option<Duration>`.
    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            d: &Option<Duration>,
            s: S,
        ) -> std::result::Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.collect_str(d),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> std::result::Result<Option<Duration>, D::Error> {
            #[derive(Deserialize)]
            struct W(#[serde(with = "super")] Duration);
            Option::<W>::deserialize(d).map(|o| o.map(|w| w.0))
        }
    }
}

/// Checks a duration option is not negative.
pub(crate) fn non_negative(d: Duration, field: &str) -> Result<i64> {
    if d.0 < 0 {
        return Err(invalid(field, "a duration is not negative"));
    }
    Ok(d.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PropValue, Timestamp};

    fn log() -> EventLog {
        let mut b = EventLog::builder();
        let t = Timestamp::from_millis;
        b.push_with_props(
            "a",
            t(1),
            "web",
            "review",
            Some(10.0),
            &[
                ("rating", PropValue::Num(5.0)),
                ("sku", PropValue::from("A1")),
                ("ok", PropValue::Bool(true)),
            ],
        )
        .unwrap();
        b.push_with_props(
            "a",
            t(2),
            "app",
            "review",
            None,
            &[
                ("rating", PropValue::Num(2.0)),
                ("sku", PropValue::from("B2")),
            ],
        )
        .unwrap();
        b.push("b", t(3), "web", "view", None).unwrap();
        b.finish().unwrap()
    }

    fn rows(log: &EventLog, f: &EventFilter) -> Vec<usize> {
        let c = Compiled::new(log, f, "f").unwrap();
        (0..log.len()).filter(|&r| c.matches(r)).collect()
    }

    #[test]
    fn filters_match_kinds_channels_and_conditions() {
        let log = log();
        assert_eq!(rows(&log, &EventFilter::kind("review")), [0, 1]);
        assert_eq!(
            rows(&log, &EventFilter::kind("review").on_channels(["app"])),
            [1]
        );
        assert_eq!(rows(&log, &EventFilter::any()), [0, 1, 2]);
        let w = |j: &str| rows(&log, &EventFilter::any().when_json(j).unwrap());
        assert_eq!(w(r#"{"prop": "rating", "op": ">=", "value": 4}"#), [0]);
        assert_eq!(w(r#"{"prop": "rating", "op": "!=", "value": 4}"#), [0, 1]);
        assert_eq!(
            w(r#"{"not": {"prop": "rating", "op": "<", "value": 4}}"#),
            [0, 2]
        );
        assert_eq!(
            w(r#"{"prop": "sku", "op": "in", "value": ["B2", "C"]}"#),
            [1]
        );
        assert_eq!(w(r#"{"prop": "sku", "op": "contains", "value": "1"}"#), [0]);
        assert_eq!(w(r#"{"prop": "sku", "op": ">", "value": "A9"}"#), [1]);
        assert_eq!(w(r#"{"prop": "ok", "op": "=", "value": true}"#), [0]);
        assert!(w(r#"{"prop": "ok", "op": "!=", "value": true}"#).is_empty());
        assert_eq!(w(r#"{"prop": "ok", "op": "exists"}"#), [0]);
        assert_eq!(w(r#"{"prop": "$value", "op": ">", "value": 5}"#), [0]);
        assert!(w(r#"{"prop": "nope", "op": "=", "value": 5}"#).is_empty());
        assert_eq!(
            w(
                r#"{"any": [{"prop": "sku", "op": "=", "value": "B2"}, {"prop": "ok", "op": "exists"}]}"#
            ),
            [0, 1]
        );
    }

    #[test]
    fn errors_name_the_field() {
        let log = log();
        let err = Compiled::new(&log, &EventFilter::kind("buy"), "steps[1]").unwrap_err();
        assert_eq!(err.code(), "unknown_event_kind");
        assert_eq!(err.path(), Some("steps[1].kinds[0]"));
        let err = Compiled::new(
            &log,
            &EventFilter::kind("view").on_channels(["fax"]),
            "steps[0]",
        )
        .unwrap_err();
        assert_eq!(err.code(), "unknown_channel");
        assert_eq!(err.path(), Some("steps[0].channels[0]"));
        let f = EventFilter::any()
            .when_json(r#"{"prop": "rating", "op": "=", "value": "5"}"#)
            .unwrap();
        let err = Compiled::new(&log, &f, "x").unwrap_err();
        assert_eq!(err.code(), "wrong_type");
        assert_eq!(err.path(), Some("x.when.value"));
        let f = EventFilter::any()
            .when_json(r#"{"prop": "rating", "op": "~", "value": 5}"#)
            .unwrap();
        assert_eq!(
            Compiled::new(&log, &f, "x").unwrap_err().path(),
            Some("x.when.op")
        );
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&mut [], 50), None);
        assert_eq!(percentile(&mut [7], 90), Some(7));
        assert_eq!(percentile(&mut [4, 1, 3, 2], 50), Some(2));
        assert_eq!(percentile(&mut [5, 1, 3, 2, 4], 50), Some(3));
        let mut v: Vec<i64> = (1..=10).rev().collect();
        assert_eq!(percentile(&mut v, 90), Some(9));
        let mut v: Vec<i64> = (1..=11).collect();
        assert_eq!(percentile(&mut v, 90), Some(10));
    }

    #[test]
    fn mask_table_folds_filters() {
        let log = log();
        let fs = vec![
            Compiled::new(&log, &EventFilter::kind("review"), "").unwrap(),
            Compiled::new(
                &log,
                &EventFilter::any()
                    .when_json(r#"{"prop": "rating", "op": "<", "value": 3}"#)
                    .unwrap(),
                "",
            )
            .unwrap(),
            Compiled::new(&log, &EventFilter::any().on_channels(["web"]), "").unwrap(),
        ];
        let t = MaskTable::new(&log, fs);
        assert_eq!(t.mask(0), 0b101);
        assert_eq!(t.mask(1), 0b011);
        assert_eq!(t.mask(2), 0b100);
    }
}
