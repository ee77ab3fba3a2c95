//! [`TouchpointBatch`]: many touchpoints in columns, for [`Engine::ingest_columns`].
//!
//! A batch keeps its rows in flat columns: times as `i64`s, channel, kind, identity-kind and
//! property names coded against one small dictionary of the batch, identity key values and ids
//! in one text buffer. Filling one costs no allocation per row (beyond amortized column growth)
//! and ingesting it looks every distinct name up in the model once per batch instead of once per
//! touchpoint. This is the shape bindings fill from a columnar source (an Arrow table, a list of
//! dicts) before handing a whole batch to the engine.
//!
//! Ingesting a batch gives exactly what [`Engine::ingest_batch`] gives for the same touchpoints
//! in the same order: the same outcome (rejections included, with the same errors and indexes)
//! and the same final state.
//!
//! ```
//! use jornada::{Engine, Model, Timestamp, TouchpointBatch, batch::Row};
//! let mut engine = Engine::new(Model::preset("ecommerce").unwrap());
//! let mut batch = TouchpointBatch::new();
//! for (customer, kind, at) in [("c1", "page_view", 0), ("c1", "add_to_cart", 60_000), ("c2", "page_view", 0)] {
//!     batch.push_row(Row::new(&[("customer_id", customer)], "web", kind, Timestamp(at)));
//! }
//! batch.push_row(Row { value: Some(59.9), ..Row::new(&[("customer_id", "c1")], "web", "purchase", Timestamp(120_000)) });
//! batch.push_row(Row::new(&[("customer_id", "c3")], "fax", "page_view", Timestamp(0)));
//! assert_eq!(batch.len(), 5);
//! let out = engine.ingest_columns(&batch);
//! assert_eq!((out.rejected[0].index, out.rejected[0].error.code()), (4, "unknown_channel"));
//! assert_eq!(engine.customer("c1").unwrap().stage.as_deref(), Some("customer"));
//! assert_eq!(engine.customer_ids(), ["c1", "c2"]);
//! ```
//!
//! [`Engine::ingest_columns`]: crate::Engine::ingest_columns
//! [`Engine::ingest_batch`]: crate::Engine::ingest_batch

use crate::error::{Error, Result};
use crate::model::{ChannelId, Compiled, IdentityId, KindId};
use crate::time::Timestamp;
use crate::touchpoint::{resolve_row, Parsed, RowRef, Touchpoint};
use crate::value::PropValue;
use hashbrown::HashMap;

/// One touchpoint's parts, borrowed, for [`TouchpointBatch::push_row`] and
/// [`Engine::ingest_row`](crate::Engine::ingest_row). The fields mean what they mean in
/// [`Touchpoint`]. A channel, kind or time may be missing (`None`), as a cell of a table or a
/// field of a record may be: such a row is accepted into a batch and rejected by the engine with
/// a `missing_field` error naming the field, like a JSON touchpoint without it.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// Optional unique id.
    pub id: Option<&'a str>,
    /// Identity keys `(identity kind, value)`, in order.
    pub keys: &'a [(&'a str, &'a str)],
    /// Channel name (`None`: missing).
    pub channel: Option<&'a str>,
    /// Event kind name (`None`: missing).
    pub kind: Option<&'a str>,
    /// When it happened (`None`: missing).
    pub at: Option<Timestamp>,
    /// Optional value (revenue).
    pub value: Option<f64>,
    /// Properties, in order.
    pub properties: &'a [(&'a str, PropValue)],
}

impl<'a> Row<'a> {
    /// A row with keys, channel, kind and time, and no id, value or properties.
    pub fn new(
        keys: &'a [(&'a str, &'a str)],
        channel: &'a str,
        kind: &'a str,
        at: Timestamp,
    ) -> Self {
        Row {
            id: None,
            keys,
            channel: Some(channel),
            kind: Some(kind),
            at: Some(at),
            value: None,
            properties: &[],
        }
    }

    /// Checks the row against the model, as [`Engine::ingest_row`](crate::Engine::ingest_row)
    /// does before it changes anything: `Err` here means `ingest_row` of this row fails with
    /// that error and leaves the engine as it was; `Ok` means any error of `ingest_row` comes
    /// from the engine's state (a late event, a capacity limit). A binding with a fast
    /// conversion uses it to tell the two apart on its error path.
    ///
    /// ```
    /// use jornada::{batch::Row, Model, Timestamp};
    /// let model = Model::preset("ecommerce").unwrap();
    /// let keys = [("customer_id", "c1")];
    /// assert!(Row::new(&keys, "web", "page_view", Timestamp(0)).check(&model).is_ok());
    /// let err = Row::new(&keys, "fax", "page_view", Timestamp(0)).check(&model).unwrap_err();
    /// assert_eq!(err.code(), "unknown_channel");
    /// ```
    pub fn check(&self, model: &crate::Model) -> Result<()> {
        self.resolve(&model.inner).map(|_| ())
    }

    /// Checks the row against the model and resolves its names (the rules of [`Touchpoint`]s).
    pub(crate) fn resolve(&self, m: &Compiled) -> Result<Parsed<'a>> {
        let (channel, kind) = (self.channel, self.kind);
        resolve_row(
            m,
            RowRef {
                id: self.id,
                keys: self
                    .keys
                    .iter()
                    .map(|&(k, v)| (k, m.identity_ix.get(k).copied(), v)),
                channel: channel.map(|c| (c, m.channel_ix.get(c).copied())),
                kind: kind.map(|k| (k, m.kind_ix.get(k).copied())),
                at: self.at,
                value: self.value,
                props: self.properties.iter().map(|(n, v)| (*n, v)),
            },
        )
    }
}

/// Marks a row without an id.
const NO_ID: u32 = u32::MAX;
/// Marks a row without a channel or kind.
const NO_NAME: u32 = u32::MAX;

/// Touchpoints in columns (see the [module docs](self)).
#[derive(Debug, Clone, Default)]
pub struct TouchpointBatch {
    /// The batch's dictionary: channel, kind, identity-kind and property names.
    names: Vec<Box<str>>,
    name_ix: HashMap<Box<str>, u32>,
    at: Vec<i64>,
    /// The rows without a time, ascending (their `at` entry is 0).
    no_at: Vec<u32>,
    channel: Vec<u32>,
    kind: Vec<u32>,
    /// Per row, the end of its keys in `keys`.
    key_end: Vec<u32>,
    /// `(identity-kind name code, start, end)` of each key value in `text`.
    keys: Vec<(u32, u32, u32)>,
    /// Per row, the id's `(start, end)` in `text` (start [`NO_ID`]: none).
    id: Vec<(u32, u32)>,
    value: Vec<Option<f64>>,
    /// Per row, the end of its properties in `props`.
    prop_end: Vec<u32>,
    props: Vec<(u32, PropValue)>,
    /// Key values and ids.
    text: String,
}

impl TouchpointBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty batch with room for `rows` rows.
    pub fn with_capacity(rows: usize) -> Self {
        TouchpointBatch {
            at: Vec::with_capacity(rows),
            channel: Vec::with_capacity(rows),
            kind: Vec::with_capacity(rows),
            key_end: Vec::with_capacity(rows),
            keys: Vec::with_capacity(rows),
            id: Vec::with_capacity(rows),
            value: Vec::with_capacity(rows),
            prop_end: Vec::with_capacity(rows),
            text: String::with_capacity(rows * 8),
            ..Default::default()
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.at.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// Removes every row, keeping the allocated columns and the dictionary for reuse.
    pub fn clear(&mut self) {
        self.at.clear();
        self.no_at.clear();
        self.channel.clear();
        self.kind.clear();
        self.key_end.clear();
        self.keys.clear();
        self.id.clear();
        self.value.clear();
        self.prop_end.clear();
        self.props.clear();
        self.text.clear();
    }

    fn code(&mut self, name: &str) -> u32 {
        if let Some(&c) = self.name_ix.get(name) {
            return c;
        }
        let c = self.names.len() as u32;
        self.names.push(name.into());
        self.name_ix.insert(name.into(), c);
        c
    }

    fn push_text(&mut self, s: &str) -> Result<(u32, u32)> {
        let start = self.text.len();
        let end = start + s.len();
        if end >= NO_ID as usize {
            return Err(Error::Capacity {
                message: "a touchpoint batch holds at most 4 GiB of key and id text".into(),
            });
        }
        self.text.push_str(s);
        Ok((start as u32, end as u32))
    }

    /// Appends a row. Nothing is checked against a model here: a row the engine does not accept
    /// is rejected (with its index) when the batch is ingested. The only error is
    /// [`Error::Capacity`] when the batch's text or rows exceed 4 GiB / 4 billion, and then the
    /// batch is left as it was.
    pub fn push_row(&mut self, row: Row<'_>) -> Result<()> {
        let text_len = self.text.len();
        let keys_len = self.keys.len();
        let r = self.try_push(row);
        if r.is_err() {
            self.text.truncate(text_len);
            self.keys.truncate(keys_len);
        }
        r
    }

    fn try_push(&mut self, row: Row<'_>) -> Result<()> {
        if self.len() >= u32::MAX as usize - 1 {
            return Err(Error::Capacity {
                message: "a touchpoint batch holds at most 4 billion rows".into(),
            });
        }
        for (kind, value) in row.keys {
            let k = self.code(kind);
            let (s, e) = self.push_text(value)?;
            self.keys.push((k, s, e));
        }
        let id = match row.id {
            Some(id) => self.push_text(id)?,
            None => (NO_ID, NO_ID),
        };
        // Nothing can fail from here on.
        let channel = row.channel.map_or(NO_NAME, |c| self.code(c));
        let kind = row.kind.map_or(NO_NAME, |k| self.code(k));
        for (name, v) in row.properties {
            let n = self.code(name);
            self.props.push((n, v.clone()));
        }
        if row.at.is_none() {
            self.no_at.push(self.at.len() as u32);
        }
        self.at.push(row.at.map_or(0, |t| t.0));
        self.channel.push(channel);
        self.kind.push(kind);
        self.key_end.push(self.keys.len() as u32);
        self.id.push(id);
        self.value.push(row.value);
        self.prop_end.push(self.props.len() as u32);
        Ok(())
    }

    /// Appends an owned touchpoint (see [`push_row`](Self::push_row)).
    pub fn push(&mut self, tp: &Touchpoint) -> Result<()> {
        let keys: smallvec::SmallVec<[(&str, &str); 2]> = tp
            .keys
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let props: Vec<(&str, PropValue)> = tp
            .properties
            .iter()
            .map(|(n, v)| (n.as_str(), v.clone()))
            .collect();
        self.push_row(Row {
            id: tp.id.as_deref(),
            keys: &keys,
            channel: Some(&tp.channel),
            kind: Some(&tp.kind),
            at: Some(tp.at),
            value: tp.value,
            properties: &props,
        })
    }

    fn range(&self, v: &[u32], i: usize) -> std::ops::Range<usize> {
        let start = if i == 0 { 0 } else { v[i - 1] as usize };
        start..v[i] as usize
    }

    fn text(&self, (s, e): (u32, u32)) -> &str {
        &self.text[s as usize..e as usize]
    }

    fn at(&self, i: usize) -> Option<Timestamp> {
        match self.no_at.is_empty() || self.no_at.binary_search(&(i as u32)).is_err() {
            true => Some(Timestamp(self.at[i])),
            false => None,
        }
    }

    fn name(&self, c: u32) -> Option<&str> {
        (c != NO_NAME).then(|| &*self.names[c as usize])
    }

    /// Row `i` as an owned touchpoint: `None` past the end, and an [`Error::MissingField`] for
    /// a row without a channel, kind or time (which a [`Touchpoint`] always has).
    pub fn get(&self, i: usize) -> Option<Result<Touchpoint>> {
        if i >= self.len() {
            return None;
        }
        let missing = |f: &str| {
            Err(Error::MissingField {
                loc: crate::error::Location::field(f),
            }
            .at_index(i))
        };
        let Some(channel) = self.name(self.channel[i]) else {
            return Some(missing("channel"));
        };
        let Some(kind) = self.name(self.kind[i]) else {
            return Some(missing("kind"));
        };
        let Some(at) = self.at(i) else {
            return Some(missing("at"));
        };
        let name = |c: u32| self.names[c as usize].to_string();
        let id = self.id[i];
        Some(Ok(Touchpoint {
            id: (id.0 != NO_ID).then(|| self.text(id).to_string()),
            keys: self.keys[self.range(&self.key_end, i)]
                .iter()
                .map(|&(k, s, e)| (name(k), self.text((s, e)).to_string()))
                .collect(),
            channel: channel.to_string(),
            kind: kind.to_string(),
            at,
            value: self.value[i],
            properties: self.props[self.range(&self.prop_end, i)]
                .iter()
                .map(|(n, v)| (name(*n), v.clone()))
                .collect(),
        }))
    }

    /// The rows as owned touchpoints, or the error of the first row without a channel, kind or
    /// time (see [`get`](Self::get)).
    pub fn to_touchpoints(&self) -> Result<Vec<Touchpoint>> {
        (0..self.len()).filter_map(|i| self.get(i)).collect()
    }

    /// The batch's names looked up in a model, once per batch.
    pub(crate) fn lookup(&self, m: &Compiled) -> Lookup {
        Lookup {
            channel: self
                .names
                .iter()
                .map(|n| m.channel_ix.get(n).copied())
                .collect(),
            kind: self
                .names
                .iter()
                .map(|n| m.kind_ix.get(n).copied())
                .collect(),
            identity: self
                .names
                .iter()
                .map(|n| m.identity_ix.get(n).copied())
                .collect(),
        }
    }

    /// Row `i` checked against the model (the rules of [`Touchpoint`]s, same errors).
    #[inline]
    pub(crate) fn resolve(&self, m: &Compiled, l: &Lookup, i: usize) -> Result<Parsed<'_>> {
        let name = |c: u32| &*self.names[c as usize];
        let id = self.id[i];
        let (ch, kd) = (self.channel[i], self.kind[i]);
        resolve_row(
            m,
            RowRef {
                id: (id.0 != NO_ID).then(|| self.text(id)),
                keys: self.keys[self.range(&self.key_end, i)]
                    .iter()
                    .map(|&(k, s, e)| (name(k), l.identity[k as usize], self.text((s, e)))),
                channel: (ch != NO_NAME).then(|| (name(ch), l.channel[ch as usize])),
                kind: (kd != NO_NAME).then(|| (name(kd), l.kind[kd as usize])),
                at: self.at(i),
                value: self.value[i],
                props: self.props[self.range(&self.prop_end, i)]
                    .iter()
                    .map(|(n, v)| (name(*n), v)),
            },
        )
    }
}

/// A batch's dictionary resolved against a model: per name code, the id it has as a channel, an
/// event kind and an identity kind.
pub(crate) struct Lookup {
    channel: Vec<Option<ChannelId>>,
    kind: Vec<Option<KindId>>,
    identity: Vec<Option<IdentityId>>,
}

impl<'t> FromIterator<&'t Touchpoint> for TouchpointBatch {
    /// A batch of touchpoints.
    ///
    /// # Panics
    /// Past 4 GiB of key and id text or 4 billion rows (use [`push`](Self::push) to handle it).
    fn from_iter<I: IntoIterator<Item = &'t Touchpoint>>(iter: I) -> Self {
        let mut b = TouchpointBatch::new();
        for tp in iter {
            b.push(tp).expect("batch capacity");
        }
        b
    }
}

impl From<&[Touchpoint]> for TouchpointBatch {
    /// A batch of touchpoints (see [`FromIterator`] for the capacity limit).
    fn from(tps: &[Touchpoint]) -> Self {
        let mut b = TouchpointBatch::with_capacity(tps.len());
        for tp in tps {
            b.push(tp).expect("batch capacity");
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Model};

    fn tp(key: (&str, &str), channel: &str, kind: &str, at: i64) -> Touchpoint {
        Touchpoint::new(channel, kind, Timestamp(at)).key(key.0, key.1)
    }

    #[test]
    fn bad_rows_are_rejected_like_ingest_batch() {
        let c1 = ("customer_id", "c1");
        let tps = vec![
            tp(c1, "web", "page_view", 0),
            tp(c1, "fax", "page_view", 1),
            tp(c1, "web", "teleport", 2),
            tp(("shoe_size", "42"), "web", "page_view", 3),
            tp(("customer_id", ""), "web", "page_view", 4),
            tp(c1, "web", "purchase", 5).value(f64::INFINITY),
            tp(c1, "web", "add_to_cart", 6)
                .id("e1")
                .property("sku", "A1")
                .property("qty", 2i64),
            tp(c1, "web", "add_to_cart", 7).id("e1"),
            Touchpoint::new("web", "page_view", Timestamp(8)),
            tp(c1, "web", "page_view", i64::MIN),
        ];
        let model = Model::preset("ecommerce").unwrap();
        let batch = TouchpointBatch::from(&tps[..]);
        assert_eq!(batch.to_touchpoints().unwrap(), tps);
        assert!(batch.get(tps.len()).is_none());
        let (mut a, mut b) = (Engine::new(model.clone()), Engine::new(model));
        let want = a.ingest_batch(&tps);
        let got = b.ingest_columns(&batch);
        let codes: Vec<(usize, &str)> = got
            .rejected
            .iter()
            .map(|r| (r.index, r.error.code()))
            .collect();
        assert_eq!(
            codes,
            [
                (1, "unknown_channel"),
                (2, "unknown_event_kind"),
                (3, "unknown_identity_kind"),
                (4, "invalid_value"),
                (5, "invalid_value"),
                (8, "missing_identity"),
                (9, "invalid_timestamp"),
            ]
        );
        assert_eq!(got.duplicates, ["e1"]);
        assert_eq!(got, want);
        assert_eq!(a.snapshot(), b.snapshot());
    }

    #[test]
    fn clear_keeps_nothing_of_the_rows() {
        let mut batch = TouchpointBatch::with_capacity(4);
        batch
            .push_row(Row {
                id: Some("e1"),
                value: Some(1.5),
                properties: &[("sku", PropValue::from("A1"))],
                ..Row::new(&[("customer_id", "c1")], "web", "purchase", Timestamp(0))
            })
            .unwrap();
        assert_eq!(batch.len(), 1);
        batch.clear();
        assert!(batch.is_empty());
        batch
            .push_row(Row::new(
                &[("email", "a@b")],
                "app",
                "page_view",
                Timestamp(9),
            ))
            .unwrap();
        assert_eq!(
            batch.to_touchpoints().unwrap(),
            [Touchpoint::new("app", "page_view", Timestamp(9)).key("email", "a@b")]
        );
    }

    #[test]
    fn missing_cells_are_rejected_like_json_without_the_field() {
        let keys = [("customer_id", "c1")];
        let full = Row::new(&keys, "web", "page_view", Timestamp(1_000));
        let rows = [
            Row {
                channel: None,
                ..full
            },
            Row { kind: None, ..full },
            full,
            Row { at: None, ..full },
            Row {
                channel: None,
                kind: None,
                at: None,
                ..full
            },
        ];
        let lines = [
            r#"{"customer_id":"c1","kind":"page_view","at":1000}"#,
            r#"{"customer_id":"c1","channel":"web","at":1000}"#,
            r#"{"customer_id":"c1","channel":"web","kind":"page_view","at":1000}"#,
            r#"{"customer_id":"c1","channel":"web","kind":"page_view"}"#,
            r#"{"customer_id":"c1"}"#,
        ];
        let mut batch = TouchpointBatch::new();
        for r in rows {
            batch.push_row(r).unwrap();
        }
        let model = Model::preset("ecommerce").unwrap();
        let (mut a, mut b) = (Engine::new(model.clone()), Engine::new(model.clone()));
        let want = a.ingest_json_lines(lines.join("\n").as_bytes());
        let got = b.ingest_columns(&batch);
        let fields = |o: &crate::Outcome| -> Vec<(usize, String, String)> {
            o.rejected
                .iter()
                .map(|r| {
                    let field = r.error.location().map(|l| l.field.clone());
                    (
                        r.index,
                        r.error.code().to_string(),
                        field.unwrap_or_default(),
                    )
                })
                .collect()
        };
        let expect: Vec<(usize, String, String)> =
            [(0, "channel"), (1, "kind"), (3, "at"), (4, "channel")]
                .iter()
                .map(|&(i, f)| (i, "missing_field".to_string(), f.to_string()))
                .collect();
        assert_eq!(fields(&got), expect);
        assert_eq!(fields(&want), expect);
        assert_eq!(got.transitions, want.transitions);
        assert_eq!(a.snapshot(), b.snapshot());
        // One row at a time, through `Engine::ingest_row`.
        let mut c = Engine::new(model);
        for (i, r) in rows.iter().enumerate() {
            let res = c.ingest_row(*r);
            assert_eq!(res.is_err(), i != 2, "row {i}");
        }
        assert_eq!(c.snapshot(), b.snapshot());
        // Owned touchpoints exist only for complete rows.
        assert_eq!(batch.get(3).unwrap().unwrap_err().code(), "missing_field");
        assert!(batch.get(2).unwrap().is_ok());
        let err = batch.to_touchpoints().unwrap_err();
        assert_eq!(err.location().and_then(|l| l.index), Some(0));
    }
}
