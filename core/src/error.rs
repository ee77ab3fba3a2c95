//! The one error type of jornada, with stable machine-readable codes.
//!
//! Every variant has a [`code`](Error::code) that never changes between releases, so callers in
//! every language can match on it; [`error_codes`] lists them all with a one-line description.
//! Messages say *what* went wrong and *where*: the event index or line of a batch, and the field
//! path inside the touchpoint or model.

use std::fmt;

/// Where in the input a problem was found.
///
/// `index` is the position of the touchpoint in a batch (0-based), `line` the 1-based line of a
/// JSON-lines input, `field` the path of the field inside the touchpoint (`at`, `properties.sku`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// Position of the touchpoint in a batch, when it came in a batch.
    pub index: Option<usize>,
    /// 1-based line of a JSON-lines input, when it came from one.
    pub line: Option<usize>,
    /// Path of the field inside the touchpoint (empty when the problem is the whole touchpoint).
    pub field: String,
}

impl Location {
    /// A location naming only a field.
    pub fn field(field: impl Into<String>) -> Self {
        Location {
            index: None,
            line: None,
            field: field.into(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(line) = self.line {
            parts.push(format!("line {line}"));
        }
        if let Some(index) = self.index {
            parts.push(format!("event {index}"));
        }
        if !self.field.is_empty() {
            parts.push(format!("field `{}`", self.field));
        }
        if parts.is_empty() {
            f.write_str("touchpoint")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// One problem found while validating a journey model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON path of the offending value, e.g. `rules[2].to`.
    pub path: String,
    /// Stable code of the problem, e.g. `unknown_stage`.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{} [{}]", self.message, self.code)
        } else {
            write!(f, "{}: {} [{}]", self.path, self.message, self.code)
        }
    }
}

/// Every error jornada returns.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model JSON could not be parsed or is inconsistent; `problems` lists every issue found.
    #[error("invalid model: {}{}", problems.first().map(|p| p.to_string()).unwrap_or_default(),
        if problems.len() > 1 { format!(" (and {} more)", problems.len() - 1) } else { String::new() })]
    InvalidModel {
        /// Every problem, each with its JSON path.
        problems: Vec<Problem>,
    },
    /// No preset has this name.
    #[error("unknown preset `{name}`; presets are: {}", crate::model::presets::NAMES.join(", "))]
    UnknownPreset {
        /// The name asked for.
        name: String,
    },
    /// A touchpoint is not valid JSON.
    #[error("invalid JSON at {loc}: {message}")]
    InvalidJson {
        /// Where.
        loc: Location,
        /// What the parser said.
        message: String,
    },
    /// A required touchpoint field is missing.
    #[error("missing field at {loc}")]
    MissingField {
        /// Where (the field path names the missing field).
        loc: Location,
    },
    /// A touchpoint field that neither the format nor the model's identity kinds define.
    #[error("unknown field at {loc}: not a touchpoint field nor an identity kind of the model")]
    UnknownField {
        /// Where.
        loc: Location,
    },
    /// A touchpoint field holds a value of the wrong type.
    #[error("wrong type at {loc}: expected {expected}")]
    WrongType {
        /// Where.
        loc: Location,
        /// What was expected.
        expected: String,
    },
    /// A value is out of range or otherwise unusable (NaN, infinite, empty, too long).
    #[error("invalid value at {loc}: {message}")]
    InvalidValue {
        /// Where.
        loc: Location,
        /// Why it is invalid.
        message: String,
    },
    /// A timestamp is neither RFC 3339 nor epoch milliseconds.
    #[error("invalid timestamp at {loc}: `{value}` is neither RFC 3339 nor epoch milliseconds")]
    InvalidTimestamp {
        /// Where.
        loc: Location,
        /// The text given.
        value: String,
    },
    /// A duration does not parse (`500ms`, `30s`, `15m`, `1h`, `7d`, `2w`, combined as `1h30m`).
    #[error(
        "invalid duration at {loc}: `{value}` (use e.g. 500ms, 30s, 15m, 1h, 7d, 2w or 1h30m)"
    )]
    InvalidDuration {
        /// Where.
        loc: Location,
        /// The text given.
        value: String,
    },
    /// The channel is not declared in the model.
    #[error("unknown channel `{channel}` at {loc}")]
    UnknownChannel {
        /// Where.
        loc: Location,
        /// The channel named.
        channel: String,
    },
    /// The event kind is not declared in the model.
    #[error("unknown event kind `{kind}` at {loc}")]
    UnknownEventKind {
        /// Where.
        loc: Location,
        /// The kind named.
        kind: String,
    },
    /// The identity kind is not declared in the model.
    #[error("unknown identity kind `{kind}` at {loc}")]
    UnknownIdentityKind {
        /// Where.
        loc: Location,
        /// The kind named.
        kind: String,
    },
    /// The touchpoint names no customer (no identity key).
    #[error(
        "no identity key at {loc}: a touchpoint needs at least one of the model's identity kinds"
    )]
    MissingIdentity {
        /// Where.
        loc: Location,
    },
    /// The touchpoint is older than the customer's latest event minus the allowed lateness.
    #[error("late event at {loc}: {at} for customer `{customer}` is more than {lateness} before that customer's latest event {latest}")]
    LateEvent {
        /// Where.
        loc: Location,
        /// The customer (display id).
        customer: String,
        /// The touchpoint's time.
        at: crate::Timestamp,
        /// The customer's latest touchpoint time.
        latest: crate::Timestamp,
        /// The model's allowed lateness.
        lateness: crate::Duration,
    },
    /// No customer is known by this id.
    #[error("unknown customer `{customer}`")]
    UnknownCustomer {
        /// The id asked for.
        customer: String,
    },
    /// The snapshot was written by a format version this build cannot read.
    #[error("unsupported snapshot version {found} (this build reads version {supported})")]
    SnapshotVersion {
        /// Version in the snapshot.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// The snapshot bytes are damaged or not a jornada snapshot.
    #[error("corrupt snapshot: {message}")]
    CorruptSnapshot {
        /// What is wrong.
        message: String,
    },
    /// Saved state belongs to another model than the one given (see [`crate::Journey::restore`]).
    #[error("model mismatch: {message}")]
    ModelMismatch {
        /// How they differ.
        message: String,
    },
    /// An internal limit was reached (e.g. more than 65,535 distinct property names).
    #[error("capacity exceeded: {message}")]
    Capacity {
        /// Which limit.
        message: String,
    },
    /// A file could not be read (only [`crate::Model::from_file`] touches files).
    #[error("cannot read `{path}`: {message}")]
    Io {
        /// The path.
        path: String,
        /// The operating system's message.
        message: String,
    },
}

/// The catalogue of error codes: `(code, description)`, for users who match on codes.
pub const ERROR_CODES: &[(&str, &str)] = &[
    ("invalid_model", "the model JSON does not parse or is inconsistent; every problem has a JSON path and a problem code"),
    ("unknown_preset", "no preset model has this name"),
    ("invalid_json", "a touchpoint or snapshot is not valid JSON"),
    ("missing_field", "a required touchpoint field is missing"),
    ("unknown_field", "a touchpoint field is neither a touchpoint field nor an identity kind of the model"),
    ("wrong_type", "a touchpoint field holds a value of the wrong type"),
    ("invalid_value", "a value is out of range or unusable (NaN, infinite, empty, too long)"),
    ("invalid_timestamp", "a timestamp is neither RFC 3339 nor epoch milliseconds"),
    ("invalid_duration", "a duration does not parse"),
    ("unknown_channel", "the channel is not declared in the model"),
    ("unknown_event_kind", "the event kind is not declared in the model"),
    ("unknown_identity_kind", "the identity kind is not declared in the model"),
    ("missing_identity", "the touchpoint names no identity key"),
    ("late_event", "the touchpoint is older than its customer's latest event minus the allowed lateness"),
    ("unknown_customer", "no customer is known by this id"),
    ("snapshot_version", "the snapshot was written by an unsupported format version"),
    ("corrupt_snapshot", "the snapshot bytes are damaged or not a jornada snapshot"),
    ("model_mismatch", "saved state belongs to another model than the one given"),
    ("capacity_exceeded", "an internal limit was reached"),
    ("io_error", "a file could not be read"),
];

/// The catalogue of model problem codes found in [`Error::InvalidModel`]'s problems and in
/// validation warnings.
pub const PROBLEM_CODES: &[(&str, &str)] = &[
    ("parse", "the JSON does not parse into the model format (wrong type, unknown or missing field)"),
    ("unsupported_version", "`jornada_model` names a format version this build does not read"),
    ("empty", "a list that must not be empty is empty"),
    ("duplicate_name", "two stages, channels, event kinds, identity kinds or rules share a name"),
    ("reserved_name", "an identity kind uses a name reserved for touchpoint fields"),
    ("unknown_stage", "a rule names a stage the model does not declare"),
    ("unknown_channel", "a rule or action names a channel the model does not declare"),
    ("unknown_event_kind", "a rule names an event kind the model does not declare"),
    ("invalid_duration", "a duration does not parse or is not positive"),
    ("type_mismatch", "a condition compares a property with a value of another type, or uses an operator that needs another type"),
    ("invalid_condition", "a condition is malformed (not exactly one of all/any/not/prop, missing value, bad operator)"),
    ("never_fires", "a rule can never fire (shadowed by an earlier rule, empty trigger list, or impossible count)"),
    ("no_effect", "a rule has no target stage and no actions"),
    ("unreachable_stage", "warning: no rule leads to this stage and it is not the initial stage"),
    ("out_of_range", "a number is outside its allowed range (a scoring probability outside 0 to 1, target figures other than 1 and 0)"),
    ("too_many", "more names than the engine supports (65,535 stages, rules, kinds; 255 channels and identity kinds)"),
];

/// Lists every error code with its description (see [`ERROR_CODES`]).
///
/// ```
/// assert!(jornada::error_codes().iter().any(|(code, _)| *code == "late_event"));
/// ```
pub fn error_codes() -> &'static [(&'static str, &'static str)] {
    ERROR_CODES
}

impl Error {
    /// The stable machine-readable code of this error (one of [`ERROR_CODES`]).
    ///
    /// ```
    /// let err = jornada::Model::preset("nope").unwrap_err();
    /// assert_eq!(err.code(), "unknown_preset");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidModel { .. } => "invalid_model",
            Error::UnknownPreset { .. } => "unknown_preset",
            Error::InvalidJson { .. } => "invalid_json",
            Error::MissingField { .. } => "missing_field",
            Error::UnknownField { .. } => "unknown_field",
            Error::WrongType { .. } => "wrong_type",
            Error::InvalidValue { .. } => "invalid_value",
            Error::InvalidTimestamp { .. } => "invalid_timestamp",
            Error::InvalidDuration { .. } => "invalid_duration",
            Error::UnknownChannel { .. } => "unknown_channel",
            Error::UnknownEventKind { .. } => "unknown_event_kind",
            Error::UnknownIdentityKind { .. } => "unknown_identity_kind",
            Error::MissingIdentity { .. } => "missing_identity",
            Error::LateEvent { .. } => "late_event",
            Error::UnknownCustomer { .. } => "unknown_customer",
            Error::SnapshotVersion { .. } => "snapshot_version",
            Error::CorruptSnapshot { .. } => "corrupt_snapshot",
            Error::ModelMismatch { .. } => "model_mismatch",
            Error::Capacity { .. } => "capacity_exceeded",
            Error::Io { .. } => "io_error",
        }
    }

    /// The touchpoint location, for errors about one touchpoint.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Error::InvalidJson { loc, .. }
            | Error::MissingField { loc }
            | Error::UnknownField { loc }
            | Error::WrongType { loc, .. }
            | Error::InvalidValue { loc, .. }
            | Error::InvalidTimestamp { loc, .. }
            | Error::InvalidDuration { loc, .. }
            | Error::UnknownChannel { loc, .. }
            | Error::UnknownEventKind { loc, .. }
            | Error::UnknownIdentityKind { loc, .. }
            | Error::MissingIdentity { loc }
            | Error::LateEvent { loc, .. } => Some(loc),
            _ => None,
        }
    }

    pub(crate) fn location_mut(&mut self) -> Option<&mut Location> {
        match self {
            Error::InvalidJson { loc, .. }
            | Error::MissingField { loc }
            | Error::UnknownField { loc }
            | Error::WrongType { loc, .. }
            | Error::InvalidValue { loc, .. }
            | Error::InvalidTimestamp { loc, .. }
            | Error::InvalidDuration { loc, .. }
            | Error::UnknownChannel { loc, .. }
            | Error::UnknownEventKind { loc, .. }
            | Error::UnknownIdentityKind { loc, .. }
            | Error::MissingIdentity { loc }
            | Error::LateEvent { loc, .. } => Some(loc),
            _ => None,
        }
    }

    /// This error with the batch index set on its location.
    pub fn at_index(mut self, index: usize) -> Self {
        if let Some(loc) = self.location_mut() {
            loc.index = Some(index);
        }
        self
    }

    /// This error with the 1-based input line set on its location.
    pub fn at_line(mut self, line: usize) -> Self {
        if let Some(loc) = self.location_mut() {
            loc.line = Some(line);
        }
        self
    }

    /// The field path of a touchpoint error, or the first problem's JSON path of a model error.
    pub fn path(&self) -> Option<&str> {
        match self {
            Error::InvalidModel { problems } => problems.first().map(|p| p.path.as_str()),
            other => other.location().map(|l| l.field.as_str()),
        }
    }
}

/// Result type of jornada.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_listed() {
        let mut seen = std::collections::HashSet::new();
        for (code, desc) in ERROR_CODES {
            assert!(seen.insert(*code), "duplicate code {code}");
            assert!(!desc.is_empty());
        }
        let samples = [
            Error::UnknownPreset { name: "x".into() },
            Error::MissingField {
                loc: Location::field("at"),
            },
            Error::Capacity {
                message: "x".into(),
            },
        ];
        for e in samples {
            assert!(seen.contains(e.code()));
        }
    }

    #[test]
    fn location_display_names_line_index_and_field() {
        let e = Error::MissingField {
            loc: Location::field("at"),
        }
        .at_index(3)
        .at_line(4);
        assert_eq!(
            e.to_string(),
            "missing field at line 4, event 3, field `at`"
        );
        assert_eq!(e.path(), Some("at"));
    }
}
