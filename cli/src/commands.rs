//! Command definitions and dispatch.

use clap::{Parser, Subcommand};
use jornada::model::presets;
use jornada::Model;
use std::fmt;
use std::path::PathBuf;

/// Exit codes: 0 success, 1 invalid input (model, events, options), 2 usage (clap), 3 I/O.
#[derive(Debug)]
pub enum CliError {
    /// The input is invalid: a model, an events file, an option value.
    Invalid(String),
    /// A file could not be read or written.
    Io(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Invalid(_) => 1,
            CliError::Io(_) => 3,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Invalid(m) | CliError::Io(m) => f.write_str(m),
        }
    }
}

impl From<jornada::Error> for CliError {
    fn from(e: jornada::Error) -> Self {
        match e {
            jornada::Error::Io { .. } => CliError::Io(format!("{e} [{}]", e.code())),
            jornada::Error::InvalidModel { problems } => {
                let mut s = format!("invalid model: {} problem(s)", problems.len());
                for p in &problems {
                    s.push_str(&format!("\n  {p}"));
                }
                CliError::Invalid(s)
            }
            e => CliError::Invalid(format!("{e} [{}]", e.code())),
        }
    }
}

pub type Result<T> = std::result::Result<T, CliError>;

/// jornada: customer journeys from event logs: stages, funnels, paths, attribution, retention.
#[derive(Debug, Parser)]
#[command(name = "jornada", version, about, long_about = None, after_help = "Examples:\n  jornada demo\n  jornada validate my-model.json\n  jornada presets ecommerce")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Checks a model file; prints every problem with its JSON path (exit code 1 when invalid).
    #[command(
        after_help = "Examples:\n  jornada validate model.json\n  jornada validate --preset ecommerce"
    )]
    Validate {
        /// The model file (JSON).
        model: Option<PathBuf>,
        /// Validate a preset instead of a file.
        #[arg(long, conflicts_with = "model")]
        preset: Option<String>,
    },
    /// Lists the preset models, or prints one as JSON.
    #[command(
        after_help = "Examples:\n  jornada presets\n  jornada presets ecommerce > my-model.json"
    )]
    Presets {
        /// The preset to print.
        name: Option<String>,
    },
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Validate { model, preset } => validate(model, preset),
        Command::Presets { name } => {
            match name {
                None => {
                    for n in presets::NAMES {
                        let m = Model::preset(n)?;
                        println!("{n:<22} {}", m.spec().description);
                    }
                }
                Some(n) => {
                    let m = Model::preset(&n)?;
                    println!("{}", m.to_json());
                }
            }
            Ok(())
        }
    }
}

fn validate(model: Option<PathBuf>, preset: Option<String>) -> Result<()> {
    let m = match (model, preset) {
        (_, Some(p)) => Model::preset(&p)?,
        (Some(path), None) => Model::from_file(&path)?,
        (None, None) => {
            return Err(CliError::Invalid(
                "give a model file or --preset <name>".into(),
            ))
        }
    };
    let spec = m.spec();
    println!(
        "valid: model `{}` with {} stages, {} rules, {} channels, {} event kinds",
        m.name(),
        spec.stages.len(),
        spec.rules.len(),
        spec.channels.len(),
        spec.event_kinds.len()
    );
    for w in m.warnings() {
        println!("warning: {w}");
    }
    Ok(())
}
