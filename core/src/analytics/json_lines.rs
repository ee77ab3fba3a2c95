//! [`EventLog::from_json_lines`]: an event log from newline-delimited JSON, one event per line.
//!
//! Each non-blank line is a JSON object. [`ColumnNames`] says which fields hold what:
//!
//! | role | default field | JSON types accepted | absent or `null` |
//! | --- | --- | --- | --- |
//! | customer | `customer` | string, or an integer (kept as its decimal text) | error `missing_field` |
//! | at | `at` | RFC 3339 string (or a string of digits), or integer epoch milliseconds | error `missing_field` |
//! | channel, kind | `channel`, `kind` | string | error `missing_field` |
//! | value (optional) | `value` | finite number | no value |
//! | properties | every other field ([`PropertyColumns::Rest`]), or a list | string, number, boolean | missing |
//!
//! With [`PropertyColumns::Rest`] the entries of a nested `properties` object (the canonical
//! touchpoint form) are properties too; with [`PropertyColumns::Only`] each name is looked up
//! among the line's fields, then in its `properties` object. A property keeps the type it first
//! appeared with. Blank lines are skipped; a trailing `\r` is ignored.
//!
//! Errors carry `index` (the event's 0-based position among the non-blank lines), `line`
//! (1-based) and the field: `invalid_json` for a line that is not JSON, `wrong_type` for a line
//! that is not an object or a field of the wrong type, `missing_field`, `invalid_timestamp`,
//! `invalid_value` (a non-finite number).
//!
//! ```
//! use jornada::analytics::{ColumnNames, EventLog};
//! let data = br#"{"customer": "c1", "at": "2026-03-01T10:00:00Z", "channel": "web", "kind": "page_view"}
//! {"customer": "c1", "at": 1772362800000, "channel": "app", "kind": "purchase", "value": 30, "sku": "A1"}
//! "#;
//! let log = EventLog::from_json_lines(data, &ColumnNames::default())?;
//! assert_eq!(log.len(), 2);
//! assert_eq!(log.values()[1], 30.0);
//! assert!(log.property("sku").is_some());
//! let bad = EventLog::from_json_lines(b"{\"customer\": \"c1\"}", &ColumnNames::default());
//! assert_eq!(bad.unwrap_err().code(), "missing_field");
//! # Ok::<(), jornada::Error>(())
//! ```

use super::event_log::EventLog;
use super::names::{ColumnNames, PropertyColumns};
use crate::error::{Error, Location, Result};
use crate::time::Timestamp;
use crate::value::PropValue;
use serde_json::{Map, Value};

/// The name of the nested object whose entries are properties (canonical touchpoint form).
const PROPERTIES: &str = "properties";

fn loc(field: &str) -> Location {
    Location::field(field)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong(field: &str, expected: &str, v: &Value) -> Error {
    Error::WrongType {
        loc: loc(field),
        expected: format!("{expected}, got {}", type_name(v)),
    }
}

/// A required field, present and not `null`.
fn required<'a>(obj: &'a Map<String, Value>, field: &str, role: &str) -> Result<&'a Value> {
    match obj.get(field) {
        None | Some(Value::Null) => Err(Error::MissingField { loc: loc(role) }),
        Some(v) => Ok(v),
    }
}

fn text<'a>(obj: &'a Map<String, Value>, field: &str, role: &str) -> Result<&'a str> {
    match required(obj, field, role)? {
        Value::String(s) => Ok(s),
        v => Err(wrong(role, "a string", v)),
    }
}

fn customer(obj: &Map<String, Value>, field: &str) -> Result<String> {
    match required(obj, field, "customer")? {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        v => Err(wrong("customer", "a string or an integer", v)),
    }
}

fn time(obj: &Map<String, Value>, field: &str) -> Result<Timestamp> {
    let invalid = |value: String| Error::InvalidTimestamp {
        loc: loc("at"),
        value,
    };
    match required(obj, field, "at")? {
        Value::String(s) => {
            Timestamp::parse(s).ok_or_else(|| invalid(s.chars().take(80).collect()))
        }
        Value::Number(n) => n
            .as_i64()
            .and_then(Timestamp::from_millis_checked)
            .ok_or_else(|| invalid(n.to_string())),
        v => Err(wrong(
            "at",
            "an RFC 3339 string or integer epoch milliseconds",
            v,
        )),
    }
}

fn number(v: &Value, role: &str) -> Result<Option<f64>> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(Error::InvalidValue {
                loc: loc(role),
                message: format!("{n} is not a finite number"),
            }),
        },
        v => Err(wrong(role, "a number", v)),
    }
}

/// A property value; `None` for `null`.
fn prop(name: &str, v: &Value) -> Result<Option<PropValue>> {
    Ok(match v {
        Value::Null => None,
        Value::Bool(b) => Some(PropValue::Bool(*b)),
        Value::String(s) => Some(PropValue::Str(s.as_str().into())),
        Value::Number(_) => number(v, &format!("properties.{name}"))?.map(PropValue::Num),
        v => {
            return Err(wrong(
                &format!("properties.{name}"),
                "a string, number or boolean",
                v,
            ))
        }
    })
}

/// The properties of one line.
fn props<'a>(
    obj: &'a Map<String, Value>,
    names: &'a ColumnNames,
    out: &mut Vec<(&'a str, PropValue)>,
) -> Result<()> {
    let nested = match obj.get(PROPERTIES) {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    };
    match &names.properties {
        PropertyColumns::None => {}
        PropertyColumns::Rest => {
            let named = |k: &str| {
                k == names.customer
                    || k == names.at
                    || k == names.channel
                    || k == names.kind
                    || names.value.as_deref() == Some(k)
            };
            for (k, v) in obj {
                if named(k) || (k == PROPERTIES && nested.is_some()) {
                    continue;
                }
                if let Some(p) = prop(k, v)? {
                    out.push((k, p));
                }
            }
            for (k, v) in nested.into_iter().flatten() {
                if let Some(p) = prop(k, v)? {
                    out.push((k, p));
                }
            }
        }
        PropertyColumns::Only(list) => {
            for name in list {
                let v = obj
                    .get(name)
                    .or_else(|| nested.and_then(|m| m.get(name)))
                    .unwrap_or(&Value::Null);
                if let Some(p) = prop(name, v)? {
                    out.push((name, p));
                }
            }
        }
    }
    // A name given twice (top level and nested) counts once: the first wins.
    let mut seen = 0;
    while seen < out.len() {
        let name = out[seen].0;
        let mut j = seen + 1;
        while j < out.len() {
            if out[j].0 == name {
                out.remove(j);
            } else {
                j += 1;
            }
        }
        seen += 1;
    }
    Ok(())
}

impl EventLog {
    /// Builds a log from newline-delimited JSON, one event (a JSON object) per line, with the
    /// fields named by `names`. See the [`json_lines`](super::json_lines) module for the
    /// accepted types. Errors name the event's `index` among the non-blank lines, its 1-based
    /// `line` and the field.
    pub fn from_json_lines(data: &[u8], names: &ColumnNames) -> Result<EventLog> {
        let mut b = EventLog::builder();
        let mut index = 0usize;
        for (n, line) in data.split(|c| *c == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let at_line = |e: Error| e.at_index(index).at_line(n + 1);
            let value: Value = serde_json::from_slice(line).map_err(|e| {
                at_line(Error::InvalidJson {
                    loc: Location::default(),
                    message: e.to_string(),
                })
            })?;
            let Value::Object(obj) = &value else {
                return Err(at_line(Error::WrongType {
                    loc: Location::default(),
                    expected: format!("a JSON object per line, got {}", type_name(&value)),
                }));
            };
            let row = (|| -> Result<()> {
                let c = customer(obj, &names.customer)?;
                let at = time(obj, &names.at)?;
                let channel = text(obj, &names.channel, "channel")?;
                let kind = text(obj, &names.kind, "kind")?;
                let value = match &names.value {
                    Some(f) => number(obj.get(f).unwrap_or(&Value::Null), "value")?,
                    None => None,
                };
                let mut ps: Vec<(&str, PropValue)> = Vec::new();
                props(obj, names, &mut ps)?;
                b.push_with_props(&c, at, channel, kind, value, &ps)
            })();
            row.map_err(at_line)?;
            index += 1;
        }
        b.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::event_log::PropColumn;

    fn names() -> ColumnNames {
        ColumnNames::default()
    }

    #[test]
    fn reads_rows_values_and_properties() {
        let data = b"{\"customer\":\"c2\",\"at\":\"1970-01-01T00:00:05Z\",\"channel\":\"web\",\"kind\":\"view\",\"sku\":\"A\"}\n\
\r\n\
{\"customer\":7,\"at\":1000,\"channel\":\"app\",\"kind\":\"buy\",\"value\":2.5,\"properties\":{\"n\":3,\"vip\":true}}\r\n";
        let log = EventLog::from_json_lines(data, &names()).unwrap();
        assert_eq!(log.len(), 2);
        let keys: Vec<&str> = log.customers().iter().map(|s| &**s).collect();
        assert_eq!(keys, ["7", "c2"]);
        assert_eq!(log.at(), [1_000, 5_000]);
        assert_eq!(log.kind_name(log.kind_codes()[0]), "buy");
        assert_eq!(log.values()[0], 2.5);
        assert!(log.values()[1].is_nan());
        match log.property("n") {
            Some(PropColumn::Num(v)) => assert!(v[0] == 3.0 && v[1].is_nan()),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            log.property("vip").unwrap().get(0),
            Some(PropValue::Bool(true))
        );
        assert_eq!(
            log.property("sku").unwrap().get(1),
            Some(PropValue::Str("A".into()))
        );
        assert_eq!(log.property("sku").unwrap().get(0), None);
    }

    #[test]
    fn names_and_property_lists() {
        let data = br#"{"user":"u1","ts":"2026-01-01T00:00:00Z","ch":"web","ev":"view","rev":4,"a":1,"b":"x"}"#;
        let n = ColumnNames {
            customer: "user".into(),
            at: "ts".into(),
            channel: "ch".into(),
            kind: "ev".into(),
            value: Some("rev".into()),
            properties: PropertyColumns::Only(vec!["b".into()]),
        };
        let log = EventLog::from_json_lines(data, &n).unwrap();
        assert_eq!(&*log.customers()[0], "u1");
        assert_eq!(log.values(), [4.0]);
        assert_eq!(log.properties().len(), 1);
        assert_eq!(log.properties()[0].0, "b");
        let none = ColumnNames {
            properties: PropertyColumns::None,
            ..n
        };
        assert!(EventLog::from_json_lines(data, &none)
            .unwrap()
            .properties()
            .is_empty());
    }

    fn err(data: &[u8]) -> Error {
        EventLog::from_json_lines(data, &names()).unwrap_err()
    }

    #[test]
    fn errors_name_index_line_and_field() {
        let ok = "{\"customer\":\"c\",\"at\":0,\"channel\":\"w\",\"kind\":\"k\"}\n\n";
        let cases: [(&str, &str, &str); 8] = [
            ("{\"customer\":\"c\",", "invalid_json", ""),
            ("[1]", "wrong_type", ""),
            (
                "{\"at\":0,\"channel\":\"w\",\"kind\":\"k\"}",
                "missing_field",
                "customer",
            ),
            (
                "{\"customer\":\"c\",\"at\":\"soon\",\"channel\":\"w\",\"kind\":\"k\"}",
                "invalid_timestamp",
                "at",
            ),
            (
                "{\"customer\":\"c\",\"at\":0,\"channel\":1,\"kind\":\"k\"}",
                "wrong_type",
                "channel",
            ),
            (
                "{\"customer\":\"c\",\"at\":0,\"channel\":\"w\",\"kind\":\"k\",\"value\":\"1\"}",
                "wrong_type",
                "value",
            ),
            (
                "{\"customer\":\"c\",\"at\":0,\"channel\":\"w\",\"kind\":\"k\",\"p\":[1]}",
                "wrong_type",
                "properties.p",
            ),
            (
                "{\"customer\":\"c\",\"at\":0,\"channel\":\"w\",\"kind\":\"k\",\"p\":1e999}",
                "invalid_json",
                "",
            ),
        ];
        for (line, code, field) in cases {
            let e = err(format!("{ok}{line}\n").as_bytes());
            assert_eq!(e.code(), code, "{line}: {e}");
            let l = e.location().unwrap();
            assert_eq!((l.index, l.line), (Some(1), Some(3)), "{line}");
            assert_eq!(l.field, field, "{line}");
        }
        // A property changing type is the builder's error, with the line added.
        let e = err(format!("{ok}{{\"customer\":\"c\",\"at\":0,\"channel\":\"w\",\"kind\":\"k\",\"p\":1}}\n{{\"customer\":\"c\",\"at\":0,\"channel\":\"w\",\"kind\":\"k\",\"p\":\"x\"}}").as_bytes());
        assert_eq!(e.code(), "wrong_type");
        let l = e.location().unwrap();
        assert_eq!(
            (l.index, l.line, l.field.as_str()),
            (Some(2), Some(4), "properties.p")
        );
    }

    #[test]
    fn empty_input_is_an_empty_log() {
        assert!(EventLog::from_json_lines(b"\n \n", &names())
            .unwrap()
            .is_empty());
    }
}
