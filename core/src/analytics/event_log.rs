//! [`EventLog`]: a columnar, in-memory log of touchpoints for batch analytics.
//!
//! A log holds one row per event: customer key, time, channel, kind, optional value and optional
//! properties. Columns are plain vectors; customers, channels and kinds are dictionary-coded.
//! Input may come in any order: building a log sorts it once, so every analysis can walk the
//! events of one customer as a contiguous slice ([`EventLog::customer_rows`]).
//!
//! # Order
//! Rows are sorted by customer, then time, then kind name, then channel name, then input row.
//! Dictionaries are sorted by name, so codes compare like names and results never depend on the
//! order the input came in (except between rows equal in all of these, which keep input order).
//!
//! # Missing values
//! `value` is `NaN` where an event has no value (inputs must be finite). Property columns mark
//! missing entries as documented on [`PropColumn`].
//!
//! ```
//! use jornada::analytics::EventLog;
//! use jornada::Timestamp;
//! let mut b = EventLog::builder();
//! b.push("c2", Timestamp::from_millis(5_000), "web", "page_view", None)?;
//! b.push("c1", Timestamp::from_millis(9_000), "app", "purchase", Some(30.0))?;
//! b.push("c1", Timestamp::from_millis(1_000), "web", "page_view", None)?;
//! let log = b.finish()?;
//! assert_eq!(log.len(), 3);
//! assert_eq!(log.customers(), [Box::from("c1"), Box::from("c2")]);
//! let rows = log.customer_rows(0); // c1's events, in time order
//! assert_eq!(&log.at()[rows.clone()], [1_000, 9_000]);
//! assert_eq!(log.kind_name(log.kind_codes()[rows.start]), "page_view");
//! # Ok::<(), jornada::Error>(())
//! ```

use crate::error::{Error, Location, Result};
use crate::value::PropValue;
use crate::Timestamp;
use hashbrown::HashMap;
use std::ops::Range;

/// Code marking a missing entry in a string property column.
pub const NULL_CODE: u32 = u32::MAX;
/// Value marking a missing entry in a boolean property column.
pub const NULL_BOOL: u8 = 2;

/// One property column, aligned with the log's rows.
#[derive(Debug, Clone, PartialEq)]
pub enum PropColumn {
    /// Strings, dictionary-coded: `codes[row]` indexes `dict`, [`NULL_CODE`] when missing.
    /// `dict` is sorted by name.
    Str {
        /// Per-row codes.
        codes: Vec<u32>,
        /// Distinct values, sorted.
        dict: Vec<Box<str>>,
    },
    /// Numbers; `NaN` when missing.
    Num(Vec<f64>),
    /// Booleans as `0`/`1`; [`NULL_BOOL`] when missing.
    Bool(Vec<u8>),
}

impl PropColumn {
    /// The value at `row`, if present.
    pub fn get(&self, row: usize) -> Option<PropValue> {
        match self {
            PropColumn::Str { codes, dict } => match codes[row] {
                NULL_CODE => None,
                c => Some(PropValue::Str(dict[c as usize].clone())),
            },
            PropColumn::Num(v) => (!v[row].is_nan()).then(|| PropValue::Num(v[row])),
            PropColumn::Bool(v) => (v[row] != NULL_BOOL).then(|| PropValue::Bool(v[row] == 1)),
        }
    }

    fn len(&self) -> usize {
        match self {
            PropColumn::Str { codes, .. } => codes.len(),
            PropColumn::Num(v) => v.len(),
            PropColumn::Bool(v) => v.len(),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            PropColumn::Str { .. } => "string",
            PropColumn::Num(_) => "number",
            PropColumn::Bool(_) => "bool",
        }
    }

    fn gather(&self, perm: &[u32]) -> PropColumn {
        match self {
            PropColumn::Str { codes, dict } => PropColumn::Str {
                codes: perm.iter().map(|&r| codes[r as usize]).collect(),
                dict: dict.clone(),
            },
            PropColumn::Num(v) => PropColumn::Num(perm.iter().map(|&r| v[r as usize]).collect()),
            PropColumn::Bool(v) => PropColumn::Bool(perm.iter().map(|&r| v[r as usize]).collect()),
        }
    }
}

/// The columns of a log before sorting, as given by a caller (Arrow import, a binding, the
/// builder). Codes index the dictionaries; dictionaries need not be sorted or distinct.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// Customer keys.
    pub customer_dict: Vec<Box<str>>,
    /// Per row, an index into `customer_dict`.
    pub customer: Vec<u32>,
    /// Per row, epoch milliseconds.
    pub at: Vec<i64>,
    /// Channel names.
    pub channel_dict: Vec<Box<str>>,
    /// Per row, an index into `channel_dict`.
    pub channel: Vec<u32>,
    /// Event kind names.
    pub kind_dict: Vec<Box<str>>,
    /// Per row, an index into `kind_dict`.
    pub kind: Vec<u32>,
    /// Per row, the value (`NaN`: none); empty when no row has a value.
    pub value: Vec<f64>,
    /// Property columns by name (string dictionaries need not be sorted or distinct).
    pub props: Vec<(String, PropColumn)>,
}

/// A columnar, sorted event log. See the [module docs](self).
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    customers: Vec<Box<str>>,
    channels: Vec<Box<str>>,
    kinds: Vec<Box<str>>,
    offsets: Vec<u32>,
    customer: Vec<u32>,
    at: Vec<i64>,
    channel: Vec<u16>,
    kind: Vec<u16>,
    value: Vec<f64>,
    row: Vec<u32>,
    props: Vec<(String, PropColumn)>,
}

impl EventLog {
    /// A builder that takes one event at a time.
    pub fn builder() -> EventLogBuilder {
        EventLogBuilder::default()
    }

    /// Builds a log from columns: checks them, merges duplicate dictionary entries, sorts the
    /// dictionaries and the rows. Errors name the input row and column.
    pub fn from_columns(c: Columns) -> Result<EventLog> {
        let n = c.customer.len();
        if n > u32::MAX as usize - 1 {
            return Err(Error::Capacity {
                message: format!("an event log holds at most {} rows", u32::MAX - 1),
            });
        }
        for (name, len) in [
            ("at", c.at.len()),
            ("channel", c.channel.len()),
            ("kind", c.kind.len()),
        ] {
            if len != n {
                return Err(length_mismatch(name, len, n));
            }
        }
        if !c.value.is_empty() && c.value.len() != n {
            return Err(length_mismatch("value", c.value.len(), n));
        }
        for (name, col) in &c.props {
            if col.len() != n {
                return Err(length_mismatch(&format!("properties.{name}"), col.len(), n));
            }
        }
        for (i, &ms) in c.at.iter().enumerate() {
            if Timestamp::from_millis_checked(ms).is_none() {
                return Err(Error::InvalidTimestamp {
                    loc: at_row(i, "at"),
                    value: ms.to_string(),
                });
            }
        }
        for (i, v) in c.value.iter().enumerate() {
            if v.is_infinite() {
                return Err(Error::InvalidValue {
                    loc: at_row(i, "value"),
                    message: format!("{v} is not a finite number"),
                });
            }
        }
        let customer_map = normalise_dict(&c.customer_dict, "customer", u32::MAX as usize)?;
        let channel_map = normalise_dict(&c.channel_dict, "channel", u16::MAX as usize)?;
        let kind_map = normalise_dict(&c.kind_dict, "kind", u16::MAX as usize)?;
        let customer = recode(&c.customer, &customer_map.remap, "customer")?;
        let channel = recode(&c.channel, &channel_map.remap, "channel")?;
        let kind = recode(&c.kind, &kind_map.remap, "kind")?;
        for (name, col) in &c.props {
            if let PropColumn::Num(v) = col {
                if let Some(i) = v.iter().position(|x| x.is_infinite()) {
                    return Err(Error::InvalidValue {
                        loc: at_row(i, &format!("properties.{name}")),
                        message: "not a finite number".into(),
                    });
                }
            }
            if let PropColumn::Bool(v) = col {
                if let Some(i) = v.iter().position(|&x| x > NULL_BOOL) {
                    return Err(Error::InvalidValue {
                        loc: at_row(i, &format!("properties.{name}")),
                        message: format!("boolean code {} is not 0, 1 or {NULL_BOOL}", v[i]),
                    });
                }
            }
        }

        // Stable counting sort by customer, then a stable sort of each customer's rows.
        let n_customers = customer_map.names.len();
        let mut offsets = vec![0u32; n_customers + 1];
        for &cu in &customer {
            offsets[cu as usize + 1] += 1;
        }
        for i in 0..n_customers {
            offsets[i + 1] += offsets[i];
        }
        let mut next = offsets.clone();
        let mut perm = vec![0u32; n];
        for (row, &cu) in customer.iter().enumerate() {
            let slot = &mut next[cu as usize];
            perm[*slot as usize] = row as u32;
            *slot += 1;
        }
        for w in offsets.windows(2) {
            perm[w[0] as usize..w[1] as usize].sort_by_key(|&r| {
                let r = r as usize;
                (c.at[r], kind[r], channel[r])
            });
        }
        drop(next);

        let gather_u16 =
            |col: &[u16]| -> Vec<u16> { perm.iter().map(|&r| col[r as usize]).collect() };
        let mut props: Vec<(String, PropColumn)> = Vec::with_capacity(c.props.len());
        for (name, col) in &c.props {
            if props.iter().any(|(p, _)| p == name) {
                return Err(Error::InvalidValue {
                    loc: Location::field(format!("properties.{name}")),
                    message: "two property columns have this name".into(),
                });
            }
            let col = match col {
                PropColumn::Str { codes, dict } => {
                    let map =
                        normalise_dict(dict, &format!("properties.{name}"), u32::MAX as usize)?;
                    let column = format!("properties.{name}");
                    let out = perm
                        .iter()
                        .map(|&r| match codes[r as usize] {
                            NULL_CODE => Ok(NULL_CODE),
                            code => map
                                .remap
                                .get(code as usize)
                                .copied()
                                .ok_or_else(|| bad_code(r as usize, &column, code)),
                        })
                        .collect::<Result<Vec<u32>>>()?;
                    PropColumn::Str {
                        codes: out,
                        dict: map.names,
                    }
                }
                other => other.gather(&perm),
            };
            props.push((name.clone(), col));
        }
        props.sort_by(|a, b| a.0.cmp(&b.0));

        Ok(EventLog {
            customer: perm.iter().map(|&r| customer[r as usize]).collect(),
            at: perm.iter().map(|&r| c.at[r as usize]).collect(),
            channel: gather_u16(&channel),
            kind: gather_u16(&kind),
            value: if c.value.is_empty() {
                vec![f64::NAN; n]
            } else {
                perm.iter().map(|&r| c.value[r as usize]).collect()
            },
            row: perm,
            props,
            offsets,
            customers: customer_map.names,
            channels: channel_map.names,
            kinds: kind_map.names,
        })
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.at.len()
    }

    /// Whether the log has no events.
    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// Number of distinct customers.
    pub fn n_customers(&self) -> usize {
        self.customers.len()
    }

    /// Customer keys, sorted; a customer's code is its index here.
    pub fn customers(&self) -> &[Box<str>] {
        &self.customers
    }

    /// Channel names, sorted; a channel's code is its index here.
    pub fn channels(&self) -> &[Box<str>] {
        &self.channels
    }

    /// Event kind names, sorted; a kind's code is its index here.
    pub fn kinds(&self) -> &[Box<str>] {
        &self.kinds
    }

    /// The rows of customer `c` (a code), contiguous and in time order.
    pub fn customer_rows(&self, c: usize) -> Range<usize> {
        self.offsets[c] as usize..self.offsets[c + 1] as usize
    }

    /// Row boundaries per customer: customer `c` owns rows `offsets[c]..offsets[c + 1]`.
    pub fn offsets(&self) -> &[u32] {
        &self.offsets
    }

    /// Per row, the customer code.
    pub fn customer_codes(&self) -> &[u32] {
        &self.customer
    }

    /// Per row, epoch milliseconds.
    pub fn at(&self) -> &[i64] {
        &self.at
    }

    /// Per row, the channel code.
    pub fn channel_codes(&self) -> &[u16] {
        &self.channel
    }

    /// Per row, the kind code.
    pub fn kind_codes(&self) -> &[u16] {
        &self.kind
    }

    /// Per row, the value (`NaN`: none).
    pub fn values(&self) -> &[f64] {
        &self.value
    }

    /// Per row, its index in the input the log was built from.
    pub fn input_rows(&self) -> &[u32] {
        &self.row
    }

    /// Property columns, sorted by name.
    pub fn properties(&self) -> &[(String, PropColumn)] {
        &self.props
    }

    /// The property column called `name`.
    pub fn property(&self, name: &str) -> Option<&PropColumn> {
        self.props
            .binary_search_by(|(p, _)| p.as_str().cmp(name))
            .ok()
            .map(|i| &self.props[i].1)
    }

    /// The code of a channel name.
    pub fn channel_code(&self, name: &str) -> Option<u16> {
        find_code(&self.channels, name)
    }

    /// The code of an event kind name.
    pub fn kind_code(&self, name: &str) -> Option<u16> {
        find_code(&self.kinds, name)
    }

    /// The code of a customer key.
    pub fn customer_code(&self, key: &str) -> Option<u32> {
        self.customers
            .binary_search_by(|c| (**c).cmp(key))
            .ok()
            .map(|i| i as u32)
    }

    /// The name of a channel code.
    pub fn channel_name(&self, code: u16) -> &str {
        &self.channels[code as usize]
    }

    /// The name of a kind code.
    pub fn kind_name(&self, code: u16) -> &str {
        &self.kinds[code as usize]
    }

    /// Approximate heap bytes held by the log.
    pub fn memory_bytes(&self) -> usize {
        let dict = |d: &[Box<str>]| d.iter().map(|s| s.len() + 16).sum::<usize>();
        let props: usize = self
            .props
            .iter()
            .map(|(_, c)| match c {
                PropColumn::Str { codes, dict: d } => codes.len() * 4 + dict(d),
                PropColumn::Num(v) => v.len() * 8,
                PropColumn::Bool(v) => v.len(),
            })
            .sum();
        dict(&self.customers)
            + dict(&self.channels)
            + dict(&self.kinds)
            + self.offsets.len() * 4
            + self.len() * (4 + 8 + 2 + 2 + 8 + 4)
            + props
    }
}

fn find_code(dict: &[Box<str>], name: &str) -> Option<u16> {
    dict.binary_search_by(|c| (**c).cmp(name))
        .ok()
        .map(|i| i as u16)
}

fn at_row(row: usize, field: &str) -> Location {
    Location {
        index: Some(row),
        line: None,
        field: field.into(),
    }
}

fn length_mismatch(column: &str, len: usize, n: usize) -> Error {
    Error::InvalidValue {
        loc: Location::field(column),
        message: format!("column has {len} rows, the customer column has {n}"),
    }
}

fn bad_code(row: usize, column: &str, code: u32) -> Error {
    Error::InvalidValue {
        loc: at_row(row, column),
        message: format!("dictionary code {code} is out of range"),
    }
}

struct NormalDict {
    /// Distinct names, sorted.
    names: Vec<Box<str>>,
    /// Input code → sorted code.
    remap: Vec<u32>,
}

fn normalise_dict(dict: &[Box<str>], column: &str, max: usize) -> Result<NormalDict> {
    let mut order: Vec<u32> = (0..dict.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| dict[a as usize].cmp(&dict[b as usize]));
    let mut names: Vec<Box<str>> = Vec::new();
    let mut remap = vec![0u32; dict.len()];
    for &i in &order {
        let name = &dict[i as usize];
        if names.last() != Some(name) {
            names.push(name.clone());
        }
        remap[i as usize] = names.len() as u32 - 1;
    }
    if names.len() > max {
        return Err(Error::Capacity {
            message: format!("more than {max} distinct values in column `{column}`"),
        });
    }
    Ok(NormalDict { names, remap })
}

fn recode<T: TryFrom<u32>>(codes: &[u32], remap: &[u32], column: &str) -> Result<Vec<T>> {
    // A plain loop: collecting an iterator of `Result`s is several times slower here.
    let mut out = Vec::with_capacity(codes.len());
    for (row, &c) in codes.iter().enumerate() {
        match remap.get(c as usize).and_then(|&m| T::try_from(m).ok()) {
            Some(m) => out.push(m),
            None => return Err(bad_code(row, column, c)),
        }
    }
    Ok(out)
}

/// Builds an [`EventLog`] one event at a time (see [`EventLog::builder`]).
#[derive(Debug, Default)]
pub struct EventLogBuilder {
    cols: Columns,
    customers: HashMap<Box<str>, u32>,
    channels: HashMap<Box<str>, u32>,
    kinds: HashMap<Box<str>, u32>,
    prop_dicts: Vec<HashMap<Box<str>, u32>>,
    has_value: bool,
}

fn intern(map: &mut HashMap<Box<str>, u32>, dict: &mut Vec<Box<str>>, name: &str) -> u32 {
    if let Some(&c) = map.get(name) {
        return c;
    }
    let c = dict.len() as u32;
    dict.push(name.into());
    map.insert(name.into(), c);
    c
}

impl EventLogBuilder {
    /// Adds one event. `value` must be finite.
    pub fn push(
        &mut self,
        customer: &str,
        at: Timestamp,
        channel: &str,
        kind: &str,
        value: Option<f64>,
    ) -> Result<()> {
        self.push_with_props(customer, at, channel, kind, value, &[])
    }

    /// Adds one event with properties. A property keeps the type it first appeared with;
    /// another type later is an error naming the row and `properties.<name>`.
    pub fn push_with_props(
        &mut self,
        customer: &str,
        at: Timestamp,
        channel: &str,
        kind: &str,
        value: Option<f64>,
        props: &[(&str, PropValue)],
    ) -> Result<()> {
        let row = self.cols.at.len();
        if Timestamp::from_millis_checked(at.millis()).is_none() {
            return Err(Error::InvalidTimestamp {
                loc: at_row(row, "at"),
                value: at.millis().to_string(),
            });
        }
        if let Some(v) = value {
            if !v.is_finite() {
                return Err(Error::InvalidValue {
                    loc: at_row(row, "value"),
                    message: format!("{v} is not a finite number"),
                });
            }
        }
        for (name, v) in props {
            if let PropValue::Num(x) = v {
                if !x.is_finite() {
                    return Err(Error::InvalidValue {
                        loc: at_row(row, &format!("properties.{name}")),
                        message: format!("{x} is not a finite number"),
                    });
                }
            }
            if let Some((_, col)) = self.cols.props.iter().find(|(p, _)| p == name) {
                let ok = matches!(
                    (col, v),
                    (PropColumn::Str { .. }, PropValue::Str(_))
                        | (PropColumn::Num(_), PropValue::Num(_))
                        | (PropColumn::Bool(_), PropValue::Bool(_))
                );
                if !ok {
                    return Err(Error::WrongType {
                        loc: at_row(row, &format!("properties.{name}")),
                        expected: col.type_name().into(),
                    });
                }
            }
        }
        let c = &mut self.cols;
        c.customer
            .push(intern(&mut self.customers, &mut c.customer_dict, customer));
        c.channel
            .push(intern(&mut self.channels, &mut c.channel_dict, channel));
        c.kind.push(intern(&mut self.kinds, &mut c.kind_dict, kind));
        c.at.push(at.millis());
        if let Some(v) = value {
            if !self.has_value {
                self.has_value = true;
                c.value = vec![f64::NAN; row];
            }
            c.value.push(v);
        } else if self.has_value {
            c.value.push(f64::NAN);
        }
        for (name, v) in props {
            let idx = match c.props.iter().position(|(p, _)| p == name) {
                Some(i) => i,
                None => {
                    let col = match v {
                        PropValue::Str(_) => PropColumn::Str {
                            codes: vec![NULL_CODE; row],
                            dict: Vec::new(),
                        },
                        PropValue::Num(_) => PropColumn::Num(vec![f64::NAN; row]),
                        PropValue::Bool(_) => PropColumn::Bool(vec![NULL_BOOL; row]),
                    };
                    c.props.push((name.to_string(), col));
                    self.prop_dicts.push(HashMap::new());
                    c.props.len() - 1
                }
            };
            let map = &mut self.prop_dicts[idx];
            match (&mut c.props[idx].1, v) {
                (PropColumn::Str { codes, dict }, PropValue::Str(s)) => {
                    codes.push(intern(map, dict, s))
                }
                (PropColumn::Num(col), PropValue::Num(x)) => col.push(*x),
                (PropColumn::Bool(col), PropValue::Bool(b)) => col.push(*b as u8),
                _ => unreachable!("types checked above"),
            }
        }
        // Pad the columns this event did not mention.
        for (_, col) in &mut c.props {
            match col {
                PropColumn::Str { codes, .. } if codes.len() == row => codes.push(NULL_CODE),
                PropColumn::Num(v) if v.len() == row => v.push(f64::NAN),
                PropColumn::Bool(v) if v.len() == row => v.push(NULL_BOOL),
                _ => {}
            }
        }
        Ok(())
    }

    /// Number of events pushed so far.
    pub fn len(&self) -> usize {
        self.cols.at.len()
    }

    /// Whether no event was pushed.
    pub fn is_empty(&self) -> bool {
        self.cols.at.is_empty()
    }

    /// Sorts and returns the log.
    pub fn finish(self) -> Result<EventLog> {
        EventLog::from_columns(self.cols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    fn names(d: &[Box<str>]) -> Vec<&str> {
        d.iter().map(|s| &**s).collect()
    }

    #[test]
    fn sorts_by_customer_time_kind_channel_then_input_order() {
        let mut b = EventLog::builder();
        b.push("b", ts(5), "web", "view", None).unwrap(); // row 0
        b.push("a", ts(7), "web", "view", Some(1.0)).unwrap(); // row 1
        b.push("a", ts(3), "sms", "click", None).unwrap(); // row 2
        b.push("a", ts(7), "app", "buy", None).unwrap(); // row 3
        b.push("a", ts(7), "app", "buy", None).unwrap(); // row 4
        let log = b.finish().unwrap();
        assert_eq!(names(log.customers()), ["a", "b"]);
        assert_eq!(log.offsets(), [0, 4, 5]);
        assert_eq!(log.input_rows(), [2, 3, 4, 1, 0]);
        assert_eq!(log.at(), [3, 7, 7, 7, 5]);
        let kinds: Vec<&str> = log.kind_codes().iter().map(|&k| log.kind_name(k)).collect();
        assert_eq!(kinds, ["click", "buy", "buy", "view", "view"]);
        assert!(log.values()[0].is_nan());
        assert_eq!(log.values()[3], 1.0);
        assert_eq!(log.customer_codes(), [0, 0, 0, 0, 1]);
    }

    #[test]
    fn result_does_not_depend_on_input_order() {
        let events = [
            ("x", 10, "web", "view"),
            ("y", 1, "sms", "click"),
            ("x", 10, "app", "view"),
            ("x", 2, "web", "buy"),
        ];
        let build = |order: &[usize]| {
            let mut b = EventLog::builder();
            for &i in order {
                let (c, t, ch, k) = events[i];
                b.push(c, ts(t), ch, k, None).unwrap();
            }
            let log = b.finish().unwrap();
            (
                log.customers().to_vec(),
                log.at().to_vec(),
                log.channel_codes().to_vec(),
                log.kind_codes().to_vec(),
                log.channels().to_vec(),
            )
        };
        assert_eq!(build(&[0, 1, 2, 3]), build(&[3, 2, 1, 0]));
        assert_eq!(build(&[0, 1, 2, 3]), build(&[1, 3, 0, 2]));
    }

    #[test]
    fn properties_are_padded_and_typed() {
        let mut b = EventLog::builder();
        b.push("a", ts(1), "web", "view", None).unwrap();
        b.push_with_props(
            "a",
            ts(2),
            "web",
            "view",
            None,
            &[
                ("sku", PropValue::Str("A1".into())),
                ("qty", PropValue::Num(2.0)),
            ],
        )
        .unwrap();
        let err = b
            .push_with_props(
                "a",
                ts(3),
                "web",
                "view",
                None,
                &[("qty", PropValue::Bool(true))],
            )
            .unwrap_err();
        assert_eq!(err.code(), "wrong_type");
        assert_eq!(
            err.to_string(),
            "wrong type at event 2, field `properties.qty`: expected number"
        );
        b.push_with_props(
            "a",
            ts(3),
            "web",
            "view",
            None,
            &[("flag", PropValue::Bool(true))],
        )
        .unwrap();
        let log = b.finish().unwrap();
        let sku = log.property("sku").unwrap();
        assert_eq!(sku.get(0), None);
        assert_eq!(sku.get(1), Some(PropValue::Str("A1".into())));
        assert_eq!(sku.get(2), None);
        assert_eq!(
            log.property("qty").unwrap().get(1),
            Some(PropValue::Num(2.0))
        );
        assert_eq!(
            log.property("flag").unwrap().get(2),
            Some(PropValue::Bool(true))
        );
        assert_eq!(log.property("flag").unwrap().get(0), None);
    }

    #[test]
    fn bad_columns_name_row_and_column() {
        let cols = Columns {
            customer_dict: vec!["a".into()],
            customer: vec![0, 1],
            at: vec![0, 0],
            channel_dict: vec!["web".into()],
            channel: vec![0, 0],
            kind_dict: vec!["v".into()],
            kind: vec![0, 0],
            ..Default::default()
        };
        let err = EventLog::from_columns(cols.clone()).unwrap_err();
        assert_eq!(err.code(), "invalid_value");
        assert!(
            err.to_string().contains("event 1, field `customer`"),
            "{err}"
        );

        let mut short = cols.clone();
        short.customer = vec![0, 0];
        short.at = vec![0];
        assert!(EventLog::from_columns(short)
            .unwrap_err()
            .to_string()
            .contains("`at`"));

        let mut far = cols.clone();
        far.customer = vec![0, 0];
        far.at = vec![0, i64::MAX];
        assert_eq!(
            EventLog::from_columns(far).unwrap_err().code(),
            "invalid_timestamp"
        );

        let mut inf = cols;
        inf.customer = vec![0, 0];
        inf.value = vec![1.0, f64::INFINITY];
        assert_eq!(
            EventLog::from_columns(inf).unwrap_err().code(),
            "invalid_value"
        );
        let mut b = EventLog::builder();
        assert_eq!(
            b.push("a", ts(0), "w", "k", Some(f64::NAN))
                .unwrap_err()
                .code(),
            "invalid_value"
        );
    }

    #[test]
    fn duplicate_dictionary_entries_merge() {
        let cols = Columns {
            customer_dict: vec!["b".into(), "a".into(), "b".into()],
            customer: vec![0, 1, 2],
            at: vec![3, 2, 1],
            channel_dict: vec!["web".into(), "web".into()],
            channel: vec![0, 1, 1],
            kind_dict: vec!["v".into()],
            kind: vec![0, 0, 0],
            ..Default::default()
        };
        let log = EventLog::from_columns(cols).unwrap();
        assert_eq!(names(log.customers()), ["a", "b"]);
        assert_eq!(names(log.channels()), ["web"]);
        assert_eq!(log.offsets(), [0, 1, 3]);
        assert_eq!(log.at(), [2, 1, 3]);
        assert_eq!(log.input_rows(), [1, 2, 0]);
    }

    #[test]
    fn empty_log() {
        let log = EventLog::builder().finish().unwrap();
        assert!(log.is_empty());
        assert_eq!(log.n_customers(), 0);
        assert_eq!(log.offsets(), [0]);
    }
}
