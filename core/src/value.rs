//! Property values: strings, numbers and booleans.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;

/// A touchpoint property value or an action parameter: a string, a finite number or a boolean.
///
/// ```
/// use jornada::PropValue;
/// let v: PropValue = serde_json::from_str("12.5").unwrap();
/// assert_eq!(v, PropValue::Num(12.5));
/// assert_eq!(PropValue::from("A1").to_string(), "\"A1\"");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum PropValue {
    /// A string.
    Str(Box<str>),
    /// A finite number.
    Num(f64),
    /// A boolean.
    Bool(bool),
}

/// The type of a property, as declared in a model's `properties`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PropType {
    /// Text.
    String,
    /// A finite number.
    Number,
    /// `true` or `false`.
    Bool,
}

impl fmt::Display for PropType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PropType::String => "string",
            PropType::Number => "number",
            PropType::Bool => "bool",
        })
    }
}

impl PropValue {
    /// The type of this value.
    pub fn prop_type(&self) -> PropType {
        match self {
            PropValue::Str(_) => PropType::String,
            PropValue::Num(_) => PropType::Number,
            PropValue::Bool(_) => PropType::Bool,
        }
    }

    /// A total order (strings < numbers < booleans; numbers by `total_cmp`), used to order
    /// simultaneous events deterministically.
    pub fn total_cmp(&self, other: &Self) -> Ordering {
        use PropValue::*;
        match (self, other) {
            (Str(a), Str(b)) => a.cmp(b),
            (Num(a), Num(b)) => a.total_cmp(b),
            (Bool(a), Bool(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            PropValue::Str(_) => 0,
            PropValue::Num(_) => 1,
            PropValue::Bool(_) => 2,
        }
    }

    /// As JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            PropValue::Str(s) => serde_json::Value::String(s.to_string()),
            PropValue::Num(n) => serde_json::Number::from_f64(*n)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            PropValue::Bool(b) => serde_json::Value::Bool(*b),
        }
    }
}

impl fmt::Display for PropValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PropValue::Str(s) => write!(f, "{:?}", &**s),
            PropValue::Num(n) => write!(f, "{n}"),
            PropValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl From<&str> for PropValue {
    fn from(s: &str) -> Self {
        PropValue::Str(s.into())
    }
}
impl From<String> for PropValue {
    fn from(s: String) -> Self {
        PropValue::Str(s.into())
    }
}
impl From<f64> for PropValue {
    fn from(n: f64) -> Self {
        PropValue::Num(n)
    }
}
impl From<i64> for PropValue {
    fn from(n: i64) -> Self {
        PropValue::Num(n as f64)
    }
}
impl From<bool> for PropValue {
    fn from(b: bool) -> Self {
        PropValue::Bool(b)
    }
}

impl Serialize for PropValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PropValue::Str(v) => s.serialize_str(v),
            PropValue::Num(v) => {
                if v.fract() == 0.0 && v.abs() < 9.0e15 {
                    s.serialize_i64(*v as i64)
                } else {
                    s.serialize_f64(*v)
                }
            }
            PropValue::Bool(v) => s.serialize_bool(*v),
        }
    }
}

impl<'de> Deserialize<'de> for PropValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = PropValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, a finite number or a boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PropValue, E> {
                Ok(PropValue::Str(v.into()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<PropValue, E> {
                Ok(PropValue::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PropValue, E> {
                Ok(PropValue::Num(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PropValue, E> {
                Ok(PropValue::Num(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PropValue, E> {
                if v.is_finite() {
                    Ok(PropValue::Num(v))
                } else {
                    Err(E::custom("numbers must be finite"))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Action parameters: names to values, in name order.
pub type Params = std::collections::BTreeMap<String, PropValue>;
