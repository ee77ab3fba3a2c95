//! Touchpoints: what a customer did, where, and when.
//!
//! The canonical JSON form is one flat object. Besides the fixed fields, each identity kind of the
//! model is a field of its own:
//!
//! ```json
//! {"id": "e-1001", "customer_id": "c1", "email": "ana@example.com",
//!  "channel": "web", "kind": "add_to_cart", "at": "2026-03-01T10:00:00Z",
//!  "value": 59.9, "properties": {"sku": "A1", "qty": 2}}
//! ```
//!
//! | field | | |
//! | --- | --- | --- |
//! | `id` | optional | unique id; a touchpoint whose id was already ingested is a duplicate |
//! | *identity kinds* | at least one | string (or integer) keys naming the customer |
//! | `channel` | required | one of the model's channels |
//! | `kind` | required | one of the model's event kinds |
//! | `at` | required | RFC 3339 text or epoch milliseconds |
//! | `value` | optional | a finite number (revenue) |
//! | `properties` | optional | an object of string, number and boolean values (`null` means absent) |
//!
//! Unknown fields are errors (a typo must not pass silently).

use crate::error::{Error, Location, Result};
use crate::model::{ChannelId, Compiled, IdentityId, KindId, Model};
use crate::time::Timestamp;
use crate::value::PropValue;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::fmt;

/// Longest accepted identity key, touchpoint id or property name, in bytes.
pub const MAX_KEY_LEN: usize = 1024;
/// Longest accepted property string value, in bytes.
pub const MAX_STRING_LEN: usize = 65_536;
/// Most properties on one touchpoint.
pub const MAX_PROPERTIES: usize = 256;

/// One touchpoint (an event), in owned form.
///
/// ```
/// use jornada::{Model, Timestamp, Touchpoint};
/// let model = Model::preset("ecommerce").unwrap();
/// let tp = Touchpoint::new("web", "add_to_cart", Timestamp::parse("2026-03-01T10:00:00Z").unwrap())
///     .key("customer_id", "c1")
///     .property("sku", "A1");
/// let json = tp.to_json();
/// assert_eq!(json, r#"{"customer_id":"c1","channel":"web","kind":"add_to_cart","at":"2026-03-01T10:00:00Z","properties":{"sku":"A1"}}"#);
/// assert_eq!(Touchpoint::from_json(&model, &json).unwrap(), tp);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Touchpoint {
    /// Optional unique id (for idempotent ingest).
    pub id: Option<String>,
    /// Identity keys: `(identity kind, value)`.
    pub keys: Vec<(String, String)>,
    /// Channel name.
    pub channel: String,
    /// Event kind name.
    pub kind: String,
    /// When it happened.
    pub at: Timestamp,
    /// Optional value (revenue).
    pub value: Option<f64>,
    /// Properties, in the order given.
    pub properties: Vec<(String, PropValue)>,
}

impl Touchpoint {
    /// A touchpoint with no keys yet; add them with [`key`](Self::key).
    pub fn new(channel: impl Into<String>, kind: impl Into<String>, at: Timestamp) -> Self {
        Touchpoint {
            id: None,
            keys: Vec::new(),
            channel: channel.into(),
            kind: kind.into(),
            at,
            value: None,
            properties: Vec::new(),
        }
    }

    /// Adds an identity key.
    pub fn key(mut self, kind: impl Into<String>, value: impl Into<String>) -> Self {
        self.keys.push((kind.into(), value.into()));
        self
    }

    /// Sets the id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the value.
    pub fn value(mut self, value: f64) -> Self {
        self.value = Some(value);
        self
    }

    /// Adds a property.
    pub fn property(mut self, name: impl Into<String>, value: impl Into<PropValue>) -> Self {
        self.properties.push((name.into(), value.into()));
        self
    }

    /// Parses the canonical JSON form against a model (identity kinds are fields).
    pub fn from_json(model: &Model, text: &str) -> Result<Touchpoint> {
        let p = parse_json(&model.inner, text.as_bytes())?;
        Ok(p.to_owned_touchpoint(&model.inner))
    }

    /// Reads a touchpoint from any serde [`Deserializer`] with exactly the rules of the canonical
    /// JSON form (the same field names, types, `null` handling and error codes). Bindings use it
    /// to read native objects (a Python dict, a row of an Arrow table) without going through JSON
    /// text. An error the deserializer itself raises becomes [`Error::InvalidJson`].
    ///
    /// ```
    /// use jornada::{Model, Touchpoint};
    /// let model = Model::preset("ecommerce").unwrap();
    /// let v = serde_json::json!({"customer_id": 7, "channel": "web", "kind": "page_view", "at": 0});
    /// let tp = Touchpoint::from_deserializer(&model, v).unwrap();
    /// assert_eq!(tp.keys, [("customer_id".to_string(), "7".to_string())]);
    /// ```
    pub fn from_deserializer<'de, D: Deserializer<'de>>(model: &Model, d: D) -> Result<Touchpoint> {
        let p = parse_from(&model.inner, d)?;
        Ok(p.to_owned_touchpoint(&model.inner))
    }

    /// The canonical JSON form (compact).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a touchpoint always serializes")
    }

    /// Checks the touchpoint against the model and resolves its names.
    pub(crate) fn resolve<'a>(&'a self, m: &Compiled) -> Result<Parsed<'a>> {
        resolve_row(
            m,
            RowRef {
                id: self.id.as_deref(),
                keys: self.keys.iter().map(|(k, v)| {
                    (
                        k.as_str(),
                        m.identity_ix.get(k.as_str()).copied(),
                        v.as_str(),
                    )
                }),
                channel: Some((&self.channel, m.channel_ix.get(&self.channel).copied())),
                kind: Some((&self.kind, m.kind_ix.get(&self.kind).copied())),
                at: Some(self.at),
                value: self.value,
                props: self.properties.iter().map(|(n, v)| (n.as_str(), v)),
            },
        )
    }
}

/// The parts of one touchpoint, names already looked up in the model (`None`: not found), for
/// [`resolve_row`]. Every input form that is not parsed from text goes through it. A channel,
/// kind or time of `None` is missing (a [`Error::MissingField`]).
pub(crate) struct RowRef<'a, K, P> {
    pub id: Option<&'a str>,
    /// `(identity kind name, its id, value)`, in the order given.
    pub keys: K,
    pub channel: Option<(&'a str, Option<ChannelId>)>,
    pub kind: Option<(&'a str, Option<KindId>)>,
    pub at: Option<Timestamp>,
    pub value: Option<f64>,
    pub props: P,
}

/// Checks one touchpoint against the model: the one set of rules (and order of checks, so the
/// same error is reported) for owned touchpoints and columnar batches.
#[inline(always)]
pub(crate) fn resolve_row<'a, K, P>(m: &Compiled, row: RowRef<'a, K, P>) -> Result<Parsed<'a>>
where
    K: Iterator<Item = (&'a str, Option<IdentityId>, &'a str)>,
    P: ExactSizeIterator<Item = (&'a str, &'a PropValue)>,
{
    let mut keys = SmallVec::new();
    for (i, (kind, id, value)) in row.keys.enumerate() {
        let Some(k) = id else {
            return Err(Error::UnknownIdentityKind {
                loc: Location::field(format!("keys[{i}]")),
                kind: kind.to_string(),
            });
        };
        check_key(kind, value)?;
        keys.push((k, Cow::Borrowed(value)));
    }
    if keys.is_empty() {
        return Err(Error::MissingIdentity {
            loc: Location::default(),
        });
    }
    if let Some(id) = row.id {
        check_key("id", id)?;
    }
    let mut props = Vec::with_capacity(row.props.len());
    for (name, v) in row.props {
        check_property(m, name, v)?;
        props.push((Cow::Borrowed(name), v.clone()));
    }
    if props.len() > MAX_PROPERTIES {
        return Err(Error::InvalidValue {
            loc: Location::field("properties"),
            message: format!("more than {MAX_PROPERTIES} properties"),
        });
    }
    let missing = |f: &str| Error::MissingField {
        loc: Location::field(f),
    };
    let (channel_name, channel) = row.channel.ok_or_else(|| missing("channel"))?;
    let channel = channel.ok_or_else(|| unknown_channel(channel_name))?;
    let (kind_name, kind) = row.kind.ok_or_else(|| missing("kind"))?;
    let kind = kind.ok_or_else(|| unknown_kind(kind_name))?;
    let at = row.at.ok_or_else(|| missing("at"))?;
    Ok(Parsed {
        id: row.id.map(Cow::Borrowed),
        keys,
        channel,
        kind,
        at: check_at(at)?,
        value: check_value(row.value)?,
        props,
    })
}

impl Serialize for Touchpoint {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if let Some(id) = &self.id {
            map.serialize_entry("id", id)?;
        }
        for (k, v) in &self.keys {
            map.serialize_entry(k, v)?;
        }
        map.serialize_entry("channel", &self.channel)?;
        map.serialize_entry("kind", &self.kind)?;
        map.serialize_entry("at", &self.at)?;
        if let Some(v) = self.value {
            map.serialize_entry("value", &v)?;
        }
        if !self.properties.is_empty() {
            struct Props<'a>(&'a [(String, PropValue)]);
            impl Serialize for Props<'_> {
                fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                    let mut m = s.serialize_map(Some(self.0.len()))?;
                    for (k, v) in self.0 {
                        m.serialize_entry(k, v)?;
                    }
                    m.end()
                }
            }
            map.serialize_entry("properties", &Props(&self.properties))?;
        }
        map.end()
    }
}

/// A touchpoint checked against the model, names resolved, strings borrowed where possible.
#[derive(Debug, Clone)]
pub(crate) struct Parsed<'a> {
    pub id: Option<Cow<'a, str>>,
    pub keys: SmallVec<[(IdentityId, Cow<'a, str>); 2]>,
    pub channel: ChannelId,
    pub kind: KindId,
    pub at: i64,
    pub value: Option<f64>,
    pub props: Vec<(Cow<'a, str>, PropValue)>,
}

impl Parsed<'_> {
    pub(crate) fn to_owned_touchpoint(&self, m: &Compiled) -> Touchpoint {
        Touchpoint {
            id: self.id.as_ref().map(|s| s.to_string()),
            keys: self
                .keys
                .iter()
                .map(|(k, v)| (m.identities[*k as usize].name.to_string(), v.to_string()))
                .collect(),
            channel: m.channels[self.channel as usize].name.to_string(),
            kind: m.kinds[self.kind as usize].to_string(),
            at: Timestamp(self.at),
            value: self.value,
            properties: self
                .props
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }
}

#[inline]
fn check_key(field: &str, value: &str) -> Result<()> {
    if value.is_empty() || value.len() > MAX_KEY_LEN {
        return Err(Error::InvalidValue {
            loc: Location::field(field),
            message: format!("must be 1 to {MAX_KEY_LEN} bytes long"),
        });
    }
    Ok(())
}

fn check_property(m: &Compiled, name: &str, v: &PropValue) -> Result<()> {
    let field = || Location::field(format!("properties.{name}"));
    if name.is_empty() || name.len() > MAX_KEY_LEN {
        return Err(Error::InvalidValue {
            loc: field(),
            message: format!("property names must be 1 to {MAX_KEY_LEN} bytes long"),
        });
    }
    match v {
        PropValue::Num(n) if !n.is_finite() => {
            return Err(Error::InvalidValue {
                loc: field(),
                message: "numbers must be finite".into(),
            })
        }
        PropValue::Str(s) if s.len() > MAX_STRING_LEN => {
            return Err(Error::InvalidValue {
                loc: field(),
                message: format!("strings must be at most {MAX_STRING_LEN} bytes long"),
            })
        }
        _ => {}
    }
    if let Some(&k) = m.prop_ix.get(name) {
        if let Some(t) = m.props[k as usize].1 {
            if t != v.prop_type() {
                return Err(Error::WrongType {
                    loc: field(),
                    expected: format!("a {t} (declared in the model), got a {}", v.prop_type()),
                });
            }
        }
    }
    Ok(())
}

fn unknown_channel(name: &str) -> Error {
    Error::UnknownChannel {
        loc: Location::field("channel"),
        channel: truncate(name),
    }
}

fn unknown_kind(name: &str) -> Error {
    Error::UnknownEventKind {
        loc: Location::field("kind"),
        kind: truncate(name),
    }
}

fn channel_id(m: &Compiled, name: &str) -> Result<ChannelId> {
    m.channel_ix
        .get(name)
        .copied()
        .ok_or_else(|| unknown_channel(name))
}

fn kind_id(m: &Compiled, name: &str) -> Result<KindId> {
    m.kind_ix
        .get(name)
        .copied()
        .ok_or_else(|| unknown_kind(name))
}

#[inline]
fn check_at(t: Timestamp) -> Result<i64> {
    Timestamp::from_millis_checked(t.0)
        .map(|t| t.0)
        .ok_or_else(|| Error::InvalidTimestamp {
            loc: Location::field("at"),
            value: t.0.to_string(),
        })
}

#[inline]
fn check_value(v: Option<f64>) -> Result<Option<f64>> {
    match v {
        Some(x) if !x.is_finite() => Err(Error::InvalidValue {
            loc: Location::field("value"),
            message: "must be a finite number".into(),
        }),
        other => Ok(other),
    }
}

/// Echoes of user input in messages are cut to a readable length.
pub(crate) fn truncate(s: &str) -> String {
    if s.len() <= 80 {
        return s.to_string();
    }
    let mut end = 80;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Reads one touchpoint from any deserializer against a compiled model.
pub(crate) fn parse_from<'de, D: Deserializer<'de>>(m: &Compiled, d: D) -> Result<Parsed<'de>> {
    let mut err = None;
    let res = TpSeed { m, err: &mut err }.deserialize(d);
    match res {
        Ok(p) => Ok(p),
        Err(e) => Err(err.unwrap_or_else(|| Error::InvalidJson {
            loc: Location::default(),
            message: e.to_string(),
        })),
    }
}

/// Parses one touchpoint from JSON bytes against a compiled model.
pub(crate) fn parse_json<'a>(m: &Compiled, bytes: &'a [u8]) -> Result<Parsed<'a>> {
    let mut err = None;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let res = TpSeed { m, err: &mut err }
        .deserialize(&mut de)
        .and_then(|p| de.end().map(|_| p));
    match res {
        Ok(p) => Ok(p),
        Err(e) => Err(err.unwrap_or_else(|| Error::InvalidJson {
            loc: Location::default(),
            message: e.to_string(),
        })),
    }
}

struct TpSeed<'m, 'e> {
    m: &'m Compiled,
    err: &'e mut Option<Error>,
}

/// A string borrowed from the input when it has no escapes.
struct Str<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(
                self,
                v: &'de str,
            ) -> std::result::Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Any JSON scalar, strings borrowed.
enum Scalar<'a> {
    Str(Cow<'a, str>),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Null,
    Other(&'static str),
}

impl Scalar<'_> {
    fn type_name(&self) -> &'static str {
        match self {
            Scalar::Str(_) => "a string",
            Scalar::I64(_) | Scalar::U64(_) | Scalar::F64(_) => "a number",
            Scalar::Bool(_) => "a boolean",
            Scalar::Null => "null",
            Scalar::Other(t) => t,
        }
    }
}

impl<'de> de::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(
                self,
                v: &'de str,
            ) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::I64(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::U64(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::F64(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E: de::Error>(self) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<Scalar<'de>, A::Error> {
                while a.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("an array"))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<Scalar<'de>, A::Error> {
                while a.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("an object"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Key values: strings, or integers written as decimal text.
fn key_text<'a>(s: Scalar<'a>) -> Option<Cow<'a, str>> {
    match s {
        Scalar::Str(s) => Some(s),
        Scalar::I64(i) => Some(Cow::Owned(i.to_string())),
        Scalar::U64(u) => Some(Cow::Owned(u.to_string())),
        _ => None,
    }
}

fn num(s: &Scalar<'_>) -> Option<f64> {
    match *s {
        Scalar::I64(i) => Some(i as f64),
        Scalar::U64(u) => Some(u as f64),
        Scalar::F64(f) => Some(f),
        _ => None,
    }
}

impl<'de> DeserializeSeed<'de> for TpSeed<'_, '_> {
    type Value = Parsed<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Parsed<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

macro_rules! fail {
    ($self:ident, $err:expr) => {{
        *$self.err = Some($err);
        return Err(de::Error::custom("invalid touchpoint"));
    }};
}

struct PropsSeed<'m, 'e, 'p, 'de> {
    m: &'m Compiled,
    err: &'e mut Option<Error>,
    out: &'p mut Vec<(Cow<'de, str>, PropValue)>,
}

impl<'de> DeserializeSeed<'de> for PropsSeed<'_, '_, '_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PropsSeed<'_, '_, '_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of properties")
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        while let Some(Str(name)) = map.next_key::<Str<'de>>()? {
            let v: Scalar<'de> = map.next_value()?;
            let value = match v {
                Scalar::Null => continue,
                Scalar::Str(s) => PropValue::Str(s.into()),
                Scalar::Bool(b) => PropValue::Bool(b),
                Scalar::I64(_) | Scalar::U64(_) | Scalar::F64(_) => {
                    PropValue::Num(num(&v).unwrap_or(f64::NAN))
                }
                Scalar::Other(t) => fail!(
                    self,
                    Error::WrongType {
                        loc: Location::field(format!("properties.{}", truncate(&name))),
                        expected: format!("a string, number or boolean, got {t}"),
                    }
                ),
            };
            if let Err(e) = check_property(self.m, &name, &value) {
                fail!(self, e);
            }
            if self.out.iter().any(|(n, _)| *n == name) {
                fail!(
                    self,
                    Error::InvalidJson {
                        loc: Location::field(format!("properties.{}", truncate(&name))),
                        message: "duplicate property".into(),
                    }
                );
            }
            if self.out.len() == MAX_PROPERTIES {
                fail!(
                    self,
                    Error::InvalidValue {
                        loc: Location::field("properties"),
                        message: format!("more than {MAX_PROPERTIES} properties"),
                    }
                );
            }
            self.out.push((name, value));
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for TpSeed<'_, '_> {
    type Value = Parsed<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a touchpoint object")
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Parsed<'de>, A::Error> {
        let m = self.m;
        let mut id = None;
        let mut keys: SmallVec<[(IdentityId, Cow<'de, str>); 2]> = SmallVec::new();
        let mut channel = None;
        let mut kind = None;
        let mut at = None;
        let mut value = None;
        let mut props = Vec::new();
        let mut seen_props = false;
        while let Some(Str(field)) = map.next_key::<Str<'de>>()? {
            let dup = |f: &str| Error::InvalidJson {
                loc: Location::field(truncate(f)),
                message: "duplicate field".into(),
            };
            if field == "properties" {
                if seen_props {
                    fail!(self, dup(&field));
                }
                seen_props = true;
                let r = map.next_value_seed(PropsSeed {
                    m,
                    err: &mut *self.err,
                    out: &mut props,
                });
                if let Err(e) = r {
                    if self.err.is_none() {
                        fail!(
                            self,
                            Error::WrongType {
                                loc: Location::field("properties"),
                                expected: format!(
                                    "an object of string, number and boolean values ({e})"
                                ),
                            }
                        );
                    }
                    return Err(e);
                }
                continue;
            }
            let v: Scalar<'de> = map.next_value()?;
            let wrong = |expected: &str, v: &Scalar| Error::WrongType {
                loc: Location::field(truncate(&field)),
                expected: format!("{expected}, got {}", v.type_name()),
            };
            match &*field {
                "id" => {
                    if id.is_some() {
                        fail!(self, dup(&field));
                    }
                    if matches!(v, Scalar::Null) {
                        continue;
                    }
                    let Some(s) = key_text(v) else {
                        fail!(self, wrong("a string", &Scalar::Other("another type")))
                    };
                    if let Err(e) = check_key("id", &s) {
                        fail!(self, e);
                    }
                    id = Some(s);
                }
                "channel" => {
                    if channel.is_some() {
                        fail!(self, dup(&field));
                    }
                    let Scalar::Str(s) = v else {
                        fail!(self, wrong("a string", &v))
                    };
                    match channel_id(m, &s) {
                        Ok(c) => channel = Some(c),
                        Err(e) => fail!(self, e),
                    }
                }
                "kind" => {
                    if kind.is_some() {
                        fail!(self, dup(&field));
                    }
                    let Scalar::Str(s) = v else {
                        fail!(self, wrong("a string", &v))
                    };
                    match kind_id(m, &s) {
                        Ok(k) => kind = Some(k),
                        Err(e) => fail!(self, e),
                    }
                }
                "at" => {
                    if at.is_some() {
                        fail!(self, dup(&field));
                    }
                    let t = match &v {
                        Scalar::Str(s) => Timestamp::parse(s),
                        Scalar::I64(i) => Timestamp::from_millis_checked(*i),
                        Scalar::U64(u) => i64::try_from(*u)
                            .ok()
                            .and_then(Timestamp::from_millis_checked),
                        Scalar::F64(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                            Timestamp::from_millis_checked(*f as i64)
                        }
                        _ => None,
                    };
                    match t {
                        Some(t) => at = Some(t.0),
                        None => fail!(
                            self,
                            Error::InvalidTimestamp {
                                loc: Location::field("at"),
                                value: match v {
                                    Scalar::Str(s) => truncate(&s),
                                    Scalar::I64(i) => i.to_string(),
                                    Scalar::U64(u) => u.to_string(),
                                    Scalar::F64(f) => f.to_string(),
                                    other => other.type_name().to_string(),
                                },
                            }
                        ),
                    }
                }
                "value" => {
                    if value.is_some() {
                        fail!(self, dup(&field));
                    }
                    if matches!(v, Scalar::Null) {
                        continue;
                    }
                    let Some(x) = num(&v) else {
                        fail!(self, wrong("a number", &v))
                    };
                    match check_value(Some(x)) {
                        Ok(x) => value = x,
                        Err(e) => fail!(self, e),
                    }
                }
                other => {
                    let Some(&k) = m.identity_ix.get(other) else {
                        fail!(
                            self,
                            Error::UnknownField {
                                loc: Location::field(truncate(other))
                            }
                        )
                    };
                    if keys.iter().any(|(kk, _)| *kk == k) {
                        fail!(self, dup(&field));
                    }
                    if matches!(v, Scalar::Null) {
                        continue;
                    }
                    let Some(s) = key_text(v) else {
                        fail!(
                            self,
                            wrong("a string or integer", &Scalar::Other("another type"))
                        )
                    };
                    if let Err(e) = check_key(other, &s) {
                        fail!(self, e);
                    }
                    keys.push((k, s));
                }
            }
        }
        let missing = |f: &str| Error::MissingField {
            loc: Location::field(f),
        };
        let Some(channel) = channel else {
            fail!(self, missing("channel"))
        };
        let Some(kind) = kind else {
            fail!(self, missing("kind"))
        };
        let Some(at) = at else {
            fail!(self, missing("at"))
        };
        if keys.is_empty() {
            fail!(
                self,
                Error::MissingIdentity {
                    loc: Location::default()
                }
            );
        }
        Ok(Parsed {
            id,
            keys,
            channel,
            kind,
            at,
            value,
            props,
        })
    }
}
