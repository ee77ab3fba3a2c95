//! `Model`: a journey model, from a preset, JSON text or a file.

use crate::args;
use crate::errors::run;
use napi::bindgen_prelude::Unknown;
use napi::Env;
use napi_derive::napi;

/// One problem of a model: an error of an invalid model, or a validation warning.
#[napi(object)]
pub struct ModelProblem {
    /// JSON path of the offending value, e.g. `rules[2].to`.
    pub path: String,
    /// Stable problem code, e.g. `unknown_stage`.
    pub code: String,
    /// What is wrong.
    pub message: String,
}

impl From<&jornada::Problem> for ModelProblem {
    fn from(p: &jornada::Problem) -> Self {
        ModelProblem {
            path: p.path.clone(),
            code: p.code.to_string(),
            message: p.message.clone(),
        }
    }
}

/// A validated journey model (stages, rules, channels, event and identity kinds).
///
/// An invalid model throws an `Error` with `code: 'invalid_model'`, `path` (the first problem's
/// JSON path) and `problems` (every problem, each with `path`, `code` and `message`).
#[napi]
pub struct Model {
    pub(crate) inner: jornada::Model,
}

#[napi]
impl Model {
    /// A preset: `seven_phase`, `five_stage_loyalty`, `five_stage_retention` or `ecommerce`.
    #[napi(factory, ts_args_type = "name: string")]
    pub fn preset(env: Env, name: Unknown) -> napi::Result<Model> {
        run(&env, || {
            let name = args::string(&name, "name")?;
            Ok(Model {
                inner: jornada::Model::preset(&name)?,
            })
        })
    }

    /// A model from its JSON text (the format in the jornada README).
    #[napi(factory, ts_args_type = "text: string")]
    pub fn from_json(env: Env, text: Unknown) -> napi::Result<Model> {
        run(&env, || {
            let text = args::string(&text, "text")?;
            Ok(Model {
                inner: jornada::Model::from_json(&text)?,
            })
        })
    }

    /// A model from a JSON file (`io_error` when it cannot be read).
    #[napi(factory, ts_args_type = "path: string")]
    pub fn from_file(env: Env, path: Unknown) -> napi::Result<Model> {
        run(&env, || {
            let path = args::string(&path, "path")?;
            Ok(Model {
                inner: jornada::Model::from_file(&path)?,
            })
        })
    }

    /// The names of the presets.
    #[napi]
    pub fn presets() -> Vec<String> {
        jornada::model::presets::NAMES
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// The model's canonical JSON text (loads back with `Model.fromJson`).
    #[napi]
    pub fn to_json(&self, env: Env) -> napi::Result<String> {
        run(&env, || Ok(self.inner.to_json()))
    }

    /// The model's name.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// Stage names, in order (the first is where every customer starts).
    #[napi(getter)]
    pub fn stages(&self) -> Vec<String> {
        self.inner.stage_names().map(str::to_string).collect()
    }

    /// Channel names.
    #[napi(getter)]
    pub fn channels(&self) -> Vec<String> {
        self.inner.channel_names().map(str::to_string).collect()
    }

    /// Event kind names.
    #[napi(getter)]
    pub fn event_kinds(&self) -> Vec<String> {
        self.inner.event_kind_names().map(str::to_string).collect()
    }

    /// Identity kind names, most preferred first (each is a touchpoint field).
    #[napi(getter)]
    pub fn identity_kinds(&self) -> Vec<String> {
        self.inner
            .identity_kind_names()
            .map(str::to_string)
            .collect()
    }

    /// Rule names, in order.
    #[napi(getter)]
    pub fn rules(&self) -> Vec<String> {
        self.inner.rule_names().map(str::to_string).collect()
    }

    /// Validation warnings (e.g. `unreachable_stage`); an invalid model throws instead.
    #[napi(getter)]
    pub fn warnings(&self) -> Vec<ModelProblem> {
        self.inner
            .warnings()
            .iter()
            .map(ModelProblem::from)
            .collect()
    }
}
