//! The canonical JSON form of a journey model, as written by people and by [`Model::to_json`].
//!
//! These types mirror the JSON one to one; [`Model`](crate::Model) is the validated, compiled form.
//! The format is versioned by the `jornada_model` field (currently `1`). The README documents the
//! format with a full example.
//!
//! [`Model::to_json`]: crate::Model::to_json

use crate::value::{PropType, PropValue};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The current model format version.
pub const MODEL_FORMAT_VERSION: u32 = 1;

fn default_lateness() -> String {
    "0".into()
}

fn is_default_lateness(s: &String) -> bool {
    s == "0"
}

/// A journey model as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Format version; must be [`MODEL_FORMAT_VERSION`].
    pub jornada_model: u32,
    /// Name of the model.
    pub name: String,
    /// What the model is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// How far out of order one customer's touchpoints may arrive (a duration, default `0`).
    #[serde(
        default = "default_lateness",
        skip_serializing_if = "is_default_lateness"
    )]
    pub allowed_lateness: String,
    /// Identity kinds, most preferred first: the first kind names customers in outputs.
    pub identities: Vec<IdentitySpec>,
    /// Channels.
    pub channels: Vec<ChannelSpec>,
    /// Event kinds. Simultaneous events of one customer are processed in this order.
    pub event_kinds: Vec<String>,
    /// Declared property types; conditions and touchpoints are checked against them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, PropType>,
    /// Stages in order; the first is the stage a new customer enters.
    pub stages: Vec<StageSpec>,
    /// Rules, in precedence order (the first matching rule fires).
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    /// Optional scoring table, fitted offline from history: per stage, the probability of
    /// reaching a target stage and the expected time to reach it (see [`crate::score`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scoring: Option<ScoringSpec>,
}

/// A scoring table: for customers in each listed stage, how likely they are to reach the
/// `target` stage and how long it takes those who do. Produced offline (fitted on past journeys)
/// and shipped inside the model, so every binding scores alike.
///
/// ```json
/// "scoring": {
///   "target": "customer",
///   "horizon": "30d",
///   "stages": {
///     "visitor": {"p_convert": 0.02, "expected_time": "6d"},
///     "cart": {"p_convert": 0.35, "expected_time": "2h"}
///   }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringSpec {
    /// The stage that counts as converted (a stage of the model).
    pub target: String,
    /// The window the probabilities refer to: `p_convert` is the chance of entering the target
    /// within this duration of entering the stage. Omitted: at any later time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon: Option<String>,
    /// Where the figures come from (data set, period, method).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Figures per stage name. Stages not listed have no figures. The target itself may be
    /// listed only as `{"p_convert": 1, "expected_time": "0"}` (what it always has).
    pub stages: BTreeMap<String, StageScoreSpec>,
}

/// The figures of one stage in a [`ScoringSpec`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageScoreSpec {
    /// Probability (0 to 1) that a customer who enters this stage later enters the target stage
    /// (within the table's `horizon`, when it has one).
    pub p_convert: f64,
    /// Among those who do, the expected (mean) time from entering this stage to entering the
    /// target, as a duration. Omitted when unknown (no conversions seen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_time: Option<String>,
}

/// An identity kind: a kind of key that names a customer (`customer_id`, `email`, `device`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySpec {
    /// Name of the kind; also the touchpoint field that carries it.
    pub kind: String,
    /// A shared key (a family tablet, a shop's checkout device) never merges profiles.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

/// Consent policy of a channel for actions that contact the customer on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentPolicy {
    /// Actions on this channel are never gated (on-site messages, in-app banners).
    #[default]
    None,
    /// Actions are suppressed unless the customer granted consent for this channel.
    OptIn,
    /// Actions are allowed unless the customer withdrew consent for this channel.
    OptOut,
}

/// A channel: a name, or an object with a consent policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChannelSpec {
    /// Just the name (consent policy `none`).
    Name(String),
    /// Name, consent policy, description.
    Full {
        /// Name.
        name: String,
        /// Consent policy (default `none`).
        #[serde(default)]
        consent: ConsentPolicy,
        /// Description.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        description: String,
    },
}

impl ChannelSpec {
    /// The channel's name.
    pub fn name(&self) -> &str {
        match self {
            ChannelSpec::Name(n) | ChannelSpec::Full { name: n, .. } => n,
        }
    }
    /// The channel's consent policy.
    pub fn consent(&self) -> ConsentPolicy {
        match self {
            ChannelSpec::Name(_) => ConsentPolicy::None,
            ChannelSpec::Full { consent, .. } => *consent,
        }
    }
}

/// A stage: a name, or an object with actions emitted on entering it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StageSpec {
    /// Just the name.
    Name(String),
    /// Name, description, actions on entering.
    Full {
        /// Name.
        name: String,
        /// Description.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        description: String,
        /// Actions emitted whenever a customer enters this stage.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        on_enter: Vec<ActionSpec>,
    },
}

impl StageSpec {
    /// The stage's name.
    pub fn name(&self) -> &str {
        match self {
            StageSpec::Name(n) | StageSpec::Full { name: n, .. } => n,
        }
    }
}

/// An action: something for the host to do (send an SMS, offer a discount).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    /// Name of the action (`abandoned_cart_sms`).
    pub action: String,
    /// The channel it contacts the customer on; gated by that channel's consent policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Parameters passed through to the host.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, PropValue>,
}

/// One name, `"*"` (any), or a list of names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Names {
    /// One name, or `"*"` for any.
    One(String),
    /// A list of names.
    Many(Vec<String>),
}

impl Names {
    /// `None` for `"*"`, else the names.
    pub fn as_list(&self) -> Option<Vec<&str>> {
        match self {
            Names::One(s) if s == "*" => None,
            Names::One(s) => Some(vec![s.as_str()]),
            Names::Many(v) => Some(v.iter().map(String::as_str).collect()),
        }
    }
}

/// Kind of rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleType {
    /// Fires on a touchpoint.
    #[default]
    Transition,
    /// Fires when no touchpoint of the given kinds happens in time.
    Timeout,
}

/// A rule. Transition rules use `from`, `on`, `channels`, `when`, `count`; timeout rules use
/// `in`, `none_of`, `within`, `restart_on`; both use `to` and `actions`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique name.
    pub name: String,
    /// `transition` (default) or `timeout`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub rule_type: Option<RuleType>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Transition: stages the rule applies in (`"*"` or omitted: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Names>,
    /// Transition: event kinds that trigger it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<Names>,
    /// Transition: only touchpoints on these channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<Names>,
    /// Transition: a condition on the touchpoint's properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<ConditionSpec>,
    /// Transition: at least N matching touchpoints within a duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<CountSpec>,
    /// Timeout: the stage(s) whose stay is timed.
    #[serde(rename = "in", default, skip_serializing_if = "Option::is_none")]
    pub in_stages: Option<Names>,
    /// Timeout: event kinds whose occurrence cancels the timeout for this stay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub none_of: Option<Names>,
    /// Timeout: how long after entering (or the last restart) it fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<String>,
    /// Timeout: event kinds that restart the clock (`"*"`: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_on: Option<Names>,
    /// Target stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Actions emitted when the rule fires.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionSpec>,
}

/// Count condition: at least `at_least` matching touchpoints (this one included) within `within`
/// before this one (the whole history when `within` is omitted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountSpec {
    /// Minimum number of matching touchpoints.
    pub at_least: u32,
    /// Window, a duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<String>,
}

/// A condition on a touchpoint's properties: exactly one of `all`, `any`, `not`, or `prop` with
/// `op` (`=`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `exists`, `contains`) and `value`.
/// The property `$value` is the touchpoint's `value`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    /// All of these hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<Vec<ConditionSpec>>,
    /// At least one of these holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any: Option<Vec<ConditionSpec>>,
    /// This does not hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not: Option<Box<ConditionSpec>>,
    /// Property name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prop: Option<String>,
    /// Operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// Operand (a list for `in`; none for `exists`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}
