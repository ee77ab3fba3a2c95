//! Journey models: channels, identity kinds, event kinds, ordered stages and rules.
//!
//! A model is written as JSON ([`spec::ModelSpec`], documented in the README), validated and
//! compiled into a [`Model`] whose lookups the engine uses on its hot path.
//!
//! ```
//! use jornada::Model;
//! let model = Model::from_json(r#"{
//!   "jornada_model": 1, "name": "tiny",
//!   "identities": [{"kind": "customer_id"}],
//!   "channels": ["web"], "event_kinds": ["visit", "buy"],
//!   "stages": ["prospect", "customer"],
//!   "rules": [{"name": "bought", "from": "prospect", "on": "buy", "to": "customer"}]
//! }"#).unwrap();
//! assert_eq!(model.stage_names().collect::<Vec<_>>(), ["prospect", "customer"]);
//! assert!(model.warnings().is_empty());
//! ```

mod compile;
pub(crate) mod condition;
mod names;
pub mod presets;
pub mod spec;

use crate::error::{Error, Problem, Result};
use crate::time::Duration;
use crate::value::PropType;
use condition::{Cond, PropKey};
use hashbrown::HashMap;
use spec::{ConsentPolicy, ModelSpec};
use std::sync::Arc;

pub(crate) type StageId = u16;
pub(crate) type KindId = u16;
pub(crate) type ChannelId = u8;
pub(crate) type RuleId = u16;
pub(crate) type ActionId = u32;
pub(crate) type IdentityId = u8;

/// A validated, compiled journey model. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Model {
    pub(crate) inner: Arc<Compiled>,
}

#[derive(Debug)]
pub(crate) struct IdentityKind {
    pub name: Arc<str>,
    pub shared: bool,
}

#[derive(Debug)]
pub(crate) struct Channel {
    pub name: Arc<str>,
    pub consent: ConsentPolicy,
}

#[derive(Debug)]
pub(crate) struct Stage {
    pub name: Arc<str>,
    pub on_enter: Vec<ActionId>,
    /// Timeout rules timing a stay in this stage, in rule order.
    pub timeouts: Vec<RuleId>,
}

#[derive(Debug)]
pub(crate) struct ActionDef {
    pub name: Arc<str>,
    pub channel: Option<ChannelId>,
    pub params: Arc<crate::value::Params>,
}

#[derive(Debug)]
pub(crate) struct Count {
    pub at_least: u32,
    pub within: Option<i64>,
}

#[derive(Debug)]
pub(crate) enum RuleBody {
    Transition {
        on: Box<[bool]>,
        channels: Option<Box<[bool]>>,
        when: Option<Cond>,
        count: Option<Count>,
    },
    Timeout {
        none_of: Box<[bool]>,
        restart_on: Box<[bool]>,
        within: i64,
    },
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub name: Arc<str>,
    pub body: RuleBody,
    pub to: Option<StageId>,
    pub actions: Vec<ActionId>,
}

/// A validated scoring table (see [`spec::ScoringSpec`]).
#[derive(Debug)]
pub(crate) struct Scoring {
    pub target: StageId,
    /// Per stage (by index); the target always has `p_convert` 1 and `expected_time` 0.
    pub stages: Vec<Option<StageScore>>,
}

/// The figures of one stage of a scoring table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StageScore {
    pub p_convert: f64,
    /// Milliseconds.
    pub expected_time: Option<i64>,
}

#[derive(Debug)]
pub(crate) struct Compiled {
    pub spec: ModelSpec,
    pub lateness: i64,
    pub identities: Vec<IdentityKind>,
    pub channels: Vec<Channel>,
    pub kinds: Vec<Arc<str>>,
    pub stages: Vec<Stage>,
    pub rules: Vec<Rule>,
    pub actions: Vec<ActionDef>,
    /// Property names known to the model (declared or used in conditions), with declared types.
    pub props: Vec<(Arc<str>, Option<PropType>)>,
    pub identity_ix: names::NameIndex<IdentityId>,
    pub channel_ix: names::NameIndex<ChannelId>,
    pub kind_ix: names::NameIndex<KindId>,
    pub stage_ix: HashMap<Arc<str>, StageId>,
    pub prop_ix: HashMap<Arc<str>, PropKey>,
    /// Transition rules to try, per `stage * kinds.len() + kind`, in precedence order.
    pub cand_start: Vec<u32>,
    pub cand: Vec<RuleId>,
    pub warnings: Vec<Problem>,
    pub scoring: Option<Scoring>,
}

impl Compiled {
    #[inline]
    pub(crate) fn candidates(&self, stage: StageId, kind: KindId) -> &[RuleId] {
        let i = stage as usize * self.kinds.len() + kind as usize;
        &self.cand[self.cand_start[i] as usize..self.cand_start[i + 1] as usize]
    }
}

impl Model {
    /// Parses and validates a model from its JSON text.
    ///
    /// Every problem is reported at once in [`Error::InvalidModel`], each with its JSON path.
    pub fn from_json(text: &str) -> Result<Model> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let spec: ModelSpec =
            serde_path_to_error::deserialize(de).map_err(|e| Error::InvalidModel {
                problems: vec![Problem {
                    path: e.path().to_string().trim_start_matches('.').to_string(),
                    code: "parse",
                    message: e.inner().to_string(),
                }],
            })?;
        Model::from_spec(spec)
    }

    /// Validates and compiles a model from its parsed form.
    pub fn from_spec(spec: ModelSpec) -> Result<Model> {
        compile::compile(spec).map(|c| Model { inner: Arc::new(c) })
    }

    /// Reads a model from a JSON file.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Model> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Model::from_json(&text)
    }

    /// One of the bundled models: `seven_phase`, `five_stage_loyalty`, `five_stage_retention`,
    /// `ecommerce` (see [`presets`]).
    ///
    /// ```
    /// let m = jornada::Model::preset("seven_phase").unwrap();
    /// assert_eq!(m.stage_names().next(), Some("Awareness"));
    /// ```
    pub fn preset(name: &str) -> Result<Model> {
        let text = presets::json(name).ok_or_else(|| Error::UnknownPreset { name: name.into() })?;
        Model::from_json(text)
    }

    /// The canonical JSON form (pretty-printed); [`Model::from_json`] reads it back.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.inner.spec).expect("a model spec always serializes")
    }

    /// This model with its `scoring` table replaced (validated like the rest of the model), e.g.
    /// one fitted from history by [`analytics::stages::scoring_spec`](crate::analytics::stages::scoring_spec).
    pub fn with_scoring(&self, scoring: spec::ScoringSpec) -> Result<Model> {
        let mut s = self.spec().clone();
        s.scoring = Some(scoring);
        Model::from_spec(s)
    }

    /// The parsed form.
    pub fn spec(&self) -> &ModelSpec {
        &self.inner.spec
    }

    /// Non-fatal findings, such as stages no rule reaches (code `unreachable_stage`).
    pub fn warnings(&self) -> &[Problem] {
        &self.inner.warnings
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.inner.spec.name
    }

    /// How far out of order one customer's touchpoints may arrive.
    pub fn allowed_lateness(&self) -> Duration {
        Duration(self.inner.lateness)
    }

    /// Stage names in order; the first is the initial stage.
    pub fn stage_names(&self) -> impl Iterator<Item = &str> {
        self.inner.stages.iter().map(|s| &*s.name)
    }

    /// Channel names.
    pub fn channel_names(&self) -> impl Iterator<Item = &str> {
        self.inner.channels.iter().map(|c| &*c.name)
    }

    /// Event kind names.
    pub fn event_kind_names(&self) -> impl Iterator<Item = &str> {
        self.inner.kinds.iter().map(|k| &**k)
    }

    /// Identity kinds, most preferred first.
    pub fn identity_kind_names(&self) -> impl Iterator<Item = &str> {
        self.inner.identities.iter().map(|k| &*k.name)
    }

    /// Rule names in precedence order.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.inner.rules.iter().map(|r| &*r.name)
    }

    /// Index of a stage by name.
    pub fn stage_index(&self, name: &str) -> Option<usize> {
        self.inner.stage_ix.get(name).map(|&i| i as usize)
    }
}

impl PartialEq for Model {
    fn eq(&self, other: &Self) -> bool {
        self.inner.spec == other.inner.spec
    }
}
