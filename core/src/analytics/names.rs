//! Which input fields (Arrow columns, JSON-lines fields) hold which part of an
//! [`EventLog`](super::EventLog): shared by the Arrow import (feature `arrow`) and
//! [`EventLog::from_json_lines`](super::EventLog::from_json_lines).

/// Which columns (or fields) are properties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PropertyColumns {
    /// Every column not named in [`ColumnNames`] (default).
    #[default]
    Rest,
    /// Exactly these columns (each must exist).
    Only(Vec<String>),
    /// No properties.
    None,
}

/// The columns (or fields) of an event table: customer key, time, channel, kind, value and
/// properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnNames {
    /// The customer key (required).
    pub customer: String,
    /// The event time (required).
    pub at: String,
    /// The channel (required).
    pub channel: String,
    /// The event kind (required).
    pub kind: String,
    /// The value; `None`, or a name no column has, for none.
    pub value: Option<String>,
    /// The property columns.
    pub properties: PropertyColumns,
}

impl Default for ColumnNames {
    /// `customer`, `at`, `channel`, `kind`, `value`, every other column a property.
    fn default() -> Self {
        ColumnNames {
            customer: "customer".into(),
            at: "at".into(),
            channel: "channel".into(),
            kind: "kind".into(),
            value: Some("value".into()),
            properties: PropertyColumns::Rest,
        }
    }
}
