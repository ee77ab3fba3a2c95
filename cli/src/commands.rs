//! Command definitions and dispatch.

use crate::analyses::{self, Analysis, Table};
use crate::io::{self, ColumnArgs};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use jornada::analytics::replay::{NO_CHANNEL, NO_RULE, NO_STAGE};
use jornada::analytics::{
    replay_with_progress, simulate_with_progress, OnUnknown, Replay, ReplayOptions, SimConfig,
};
use jornada::model::presets;
use jornada::{Model, PropValue, Timestamp};
use jornada_report::svg::number;
use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Writes to stdout. A closed pipe (`jornada presets | head -1`) ends the program quietly with
/// exit code 0, as other Unix tools do; another write error is an I/O error (exit code 3).
pub fn emit(text: fmt::Arguments) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(text).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to stdout: {e}");
        std::process::exit(3);
    }
}

/// `print!` through [`emit`].
macro_rules! say {
    ($($t:tt)*) => { emit(format_args!($($t)*)) };
}

/// `println!` through [`emit`].
macro_rules! sayln {
    () => { emit(format_args!("\n")) };
    ($($t:tt)*) => { emit(format_args!("{}\n", format_args!($($t)*))) };
}

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
#[command(
    name = "jornada",
    version,
    about,
    long_about = None,
    after_help = "Examples:\n  jornada demo\n  jornada simulate --model ecommerce --customers 5000 --out events.parquet\n  jornada run --model ecommerce --events events.parquet --out results/\n  jornada funnel --model ecommerce --events events.csv\n  jornada report --model ecommerce --events events.parquet --html report.html\n  jornada validate my-model.json\n  jornada presets ecommerce"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The model and the events file, shared by the commands that analyse events.
#[derive(Debug, Clone, clap::Args)]
pub struct Input {
    /// The journey model: a preset name (`jornada presets` lists them) or a model file (.json).
    #[arg(long, value_name = "PRESET|FILE")]
    pub model: String,
    /// The events: .csv (with a header), .jsonl (one JSON object per line) or .parquet.
    #[arg(long, value_name = "FILE")]
    pub events: PathBuf,
    #[command(flatten)]
    pub cols: ColumnArgs,
    /// Leave out events whose kind or channel the model does not know (counted in the summary)
    /// instead of stopping with an error.
    #[arg(long)]
    pub skip_unknown: bool,
}

/// How a table is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutFormat {
    /// Aligned columns for people.
    Table,
    /// CSV with a header.
    Csv,
    /// JSON.
    Json,
}

/// A retention period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PeriodArg {
    /// Calendar days.
    Day,
    /// ISO weeks.
    Week,
    /// Calendar months.
    Month,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulates a shop (the `ecommerce` preset), replays it and prints what happened; writes an
    /// HTML report.
    #[command(
        after_help = "Examples:\n  jornada demo\n  jornada demo --customers 50000 --seed 3 --html shop.html"
    )]
    Demo {
        /// Simulated customers.
        #[arg(long, default_value_t = 20_000)]
        customers: usize,
        /// Random seed (the same seed gives the same shop).
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Where to write the HTML report.
        #[arg(long, default_value = "jornada-report.html", value_name = "FILE")]
        html: PathBuf,
    },
    /// Simulates customers' journeys through a model and writes the events (.parquet, .csv or
    /// .jsonl by the extension of --out).
    #[command(
        after_help = "Examples:\n  jornada simulate --model ecommerce --customers 10000 --seed 1 --out events.parquet\n  jornada simulate --model my-model.json --customers 500 --out events.csv"
    )]
    Simulate {
        /// The journey model: a preset name or a model file (.json).
        #[arg(long, default_value = "ecommerce", value_name = "PRESET|FILE")]
        model: String,
        /// Number of customers.
        #[arg(long, default_value_t = 10_000)]
        customers: usize,
        /// Random seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Days of activity simulated (from 2026-03-01).
        #[arg(long, default_value_t = 180)]
        days: u32,
        /// The events file to write (.parquet, .csv, .jsonl).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Runs a model over an events file and writes every customer's stages, the transitions,
    /// the actions and a summary into a folder.
    #[command(
        after_help = "Writes into --out:\n  stages.csv, stages.parquet   per customer: final stage and the first entry time into each stage\n  transitions.jsonl            every stage change (customer, from, to, at, rule, channel)\n  actions.jsonl                every action (customer, action, channel, at, rule, stage, suppressed, params)\n  summary.json                 customers per stage, time in stage, funnel, transition matrix, actions, effort\n\nExamples:\n  jornada run --model ecommerce --events events.parquet --out results/\n  jornada run --model shop.json --events export.csv --customer-col user_id --at-col ts --kind-col event --out results/"
    )]
    Run {
        #[command(flatten)]
        input: Input,
        /// The folder to write into (created when missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Customers per stage now, and the time they spend in each stage.
    #[command(
        after_help = "Examples:\n  jornada stages --model ecommerce --events events.parquet\n  jornada stages --model ecommerce --events events.csv --format csv > stages.csv"
    )]
    Stages {
        #[command(flatten)]
        input: Input,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutFormat::Table)]
        format: OutFormat,
    },
    /// A funnel over stages: customers who reached each stage after the one before it.
    #[command(
        after_help = "The default steps are the model's first stage and every stage a transition rule leads to, in model order.\n\nExamples:\n  jornada funnel --model ecommerce --events events.parquet\n  jornada funnel --model ecommerce --events events.csv --steps visitor,cart,customer --format json"
    )]
    Funnel {
        #[command(flatten)]
        input: Input,
        /// The stages of the funnel, in order (comma-separated).
        #[arg(long, value_delimiter = ',', value_name = "STAGE,...")]
        steps: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutFormat::Table)]
        format: OutFormat,
    },
    /// Credits conversions to channels: first and last touch, linear, position-based, time
    /// decay, Markov removal effects (exact) and Shapley values.
    #[command(
        after_help = "Touches are the events of every other kind within the lookback before each conversion.\n\nExamples:\n  jornada attribution --events events.parquet --conversion purchase\n  jornada attribution --events events.csv --conversion purchase --lookback 7d --models markov,shapley --format json"
    )]
    Attribution {
        /// The events: .csv (with a header), .jsonl or .parquet.
        #[arg(long, value_name = "FILE")]
        events: PathBuf,
        #[command(flatten)]
        cols: ColumnArgs,
        /// The event kind that is a conversion.
        #[arg(long, default_value = "purchase")]
        conversion: String,
        /// Only touches this long before a conversion count (`30d`, `12h`).
        #[arg(long, default_value = "30d")]
        lookback: String,
        /// Models, comma-separated: first_touch, last_touch, linear, position, time_decay,
        /// markov, shapley (default: all).
        #[arg(long, value_delimiter = ',', value_name = "MODEL,...")]
        models: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutFormat::Table)]
        format: OutFormat,
    },
    /// The most common paths (sequences of event kinds) with their conversion.
    #[command(
        after_help = "A path is a customer's first --steps event kinds, stopping before their first conversion event.\n\nExamples:\n  jornada paths --events events.parquet --conversion purchase\n  jornada paths --events events.csv --top 10 --steps 4 --collapse --format csv"
    )]
    Paths {
        /// The events: .csv (with a header), .jsonl or .parquet.
        #[arg(long, value_name = "FILE")]
        events: PathBuf,
        #[command(flatten)]
        cols: ColumnArgs,
        /// The event kind that is a conversion (paths stop before it; conversion rates use it).
        #[arg(long)]
        conversion: Option<String>,
        /// How many paths to show.
        #[arg(long, default_value_t = 20)]
        top: usize,
        /// Path length.
        #[arg(long, default_value_t = 5)]
        steps: usize,
        /// Count a run of the same kind once.
        #[arg(long)]
        collapse: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutFormat::Table)]
        format: OutFormat,
    },
    /// Retention: first-touch cohorts and the share of each active in every later period.
    #[command(
        after_help = "Examples:\n  jornada retention --events events.parquet --period week\n  jornada retention --events events.csv --period month --purchase purchase --format json"
    )]
    Retention {
        /// The events: .csv (with a header), .jsonl or .parquet.
        #[arg(long, value_name = "FILE")]
        events: PathBuf,
        #[command(flatten)]
        cols: ColumnArgs,
        /// Cohort and activity period (UTC; weeks start on Monday).
        #[arg(long, value_enum, default_value_t = PeriodArg::Week)]
        period: PeriodArg,
        /// The purchase kind, for repeat-purchase rates.
        #[arg(long)]
        purchase: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutFormat::Table)]
        format: OutFormat,
    },
    /// Customer effort: touches and time before the first purchase, channels and switches,
    /// repeat support contacts, abandoned and recovered carts, sessions.
    #[command(
        after_help = "The definitions are those of the core (`jornada::analytics::effort`). By default `purchase` converts, `support_contact` is a support contact and `add_to_cart` opens a cart, each only when the events have that kind (otherwise its figures are left out); a kind given explicitly must occur in the events.\n\nExamples:\n  jornada effort --events events.parquet\n  jornada effort --events events.csv --conversion order --support call,chat --abandon-after 2h --format json"
    )]
    Effort {
        /// The events: .csv (with a header), .jsonl or .parquet.
        #[arg(long, value_name = "FILE")]
        events: PathBuf,
        #[command(flatten)]
        cols: ColumnArgs,
        /// The event kinds that are a conversion (comma-separated; default `purchase`).
        #[arg(long, value_delimiter = ',', value_name = "KIND,...")]
        conversion: Vec<String>,
        /// The event kinds that are support contacts (default `support_contact`).
        #[arg(long, value_delimiter = ',', value_name = "KIND,...")]
        support: Vec<String>,
        /// The event kinds that put something in the cart (default `add_to_cart`).
        #[arg(long, value_delimiter = ',', value_name = "KIND,...")]
        cart: Vec<String>,
        /// A support contact this soon after the previous one is a repeat contact.
        #[arg(long, default_value = "7d", value_name = "DURATION")]
        repeat_within: String,
        /// A support issue is resolved when no contact follows within this.
        #[arg(long, default_value = "7d", value_name = "DURATION")]
        resolved_after: String,
        /// A cart with no conversion within this is abandoned.
        #[arg(long, default_value = "1h", value_name = "DURATION")]
        abandon_after: String,
        /// Inactivity that ends a session.
        #[arg(long, default_value = "30m", value_name = "DURATION")]
        session_timeout: String,
        /// Output format (json: core's summary figures, unrounded).
        #[arg(long, value_enum, default_value_t = OutFormat::Table)]
        format: OutFormat,
    },
    /// Writes a self-contained HTML report (no scripts, nothing fetched): funnel, stage flow,
    /// time in stage, chances of converting, attribution, retention, customer effort, actions.
    #[command(
        after_help = "Examples:\n  jornada report --model ecommerce --events events.parquet --html report.html"
    )]
    Report {
        #[command(flatten)]
        input: Input,
        /// Where to write the report.
        #[arg(long, default_value = "jornada-report.html", value_name = "FILE")]
        html: PathBuf,
        /// The funnel's stages, in order (comma-separated; default as in `jornada funnel`).
        #[arg(long, value_delimiter = ',', value_name = "STAGE,...")]
        steps: Vec<String>,
    },
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
                        sayln!("{n:<22} {}", m.spec().description);
                    }
                }
                Some(n) => {
                    let m = Model::preset(&n)?;
                    sayln!("{}", m.to_json());
                }
            }
            Ok(())
        }
        Command::Demo {
            customers,
            seed,
            html,
        } => demo(customers, seed, &html),
        Command::Simulate {
            model,
            customers,
            seed,
            days,
            out,
        } => {
            let model = load_model(&model)?;
            let p = Progress::new("");
            p.bar(customers, "simulating customers");
            let log = simulate_with_progress(
                &model,
                &SimConfig {
                    customers,
                    seed,
                    days,
                    ..Default::default()
                },
                &|k| p.inc(k),
            );
            p.step(&format!("writing {}", out.display()));
            io::write_events(&log, &out)?;
            p.done();
            eprintln!(
                "wrote {} events of {} customers to {}",
                log.len(),
                log.n_customers(),
                out.display()
            );
            Ok(())
        }
        Command::Run { input, out } => run_cmd(&input, &out),
        Command::Stages { input, format } => {
            let (_, _, a) = analyse(&input, &[])?;
            let t = analyses::stage_table(&a);
            print_table(
                &t,
                format,
                || serde_json::json!({"customers_per_stage": a.per_stage, "time_in_stage": a.time}),
            );
            Ok(())
        }
        Command::Funnel {
            input,
            steps,
            format,
        } => {
            let (_, _, a) = analyse(&input, &steps)?;
            print_table(&analyses::funnel_table(&a), format, || {
                serde_json::json!(a.funnel)
            });
            Ok(())
        }
        Command::Attribution {
            events,
            cols,
            conversion,
            lookback,
            models,
            format,
        } => attribution_cmd(&events, &cols, conversion, &lookback, &models, format),
        Command::Paths {
            events,
            cols,
            conversion,
            top,
            steps,
            collapse,
            format,
        } => {
            use jornada::analytics::{select::EventFilter, top_paths, PathSpec};
            let spec = PathSpec {
                collapse_repeats: collapse,
                max_steps: steps,
                top,
                conversion: conversion.as_deref().map(EventFilter::kind),
                ..PathSpec::default()
            };
            let p = Progress::new("");
            let ev = io::read_events(&events, &cols, &p)?;
            p.step("finding the paths");
            let paths = top_paths(&ev.log, &spec).map_err(|e| ev.error(e))?;
            p.done();
            print_table(&analyses::paths_table(&paths), format, || {
                serde_json::to_value(&paths).unwrap_or_default()
            });
            Ok(())
        }
        Command::Retention {
            events,
            cols,
            period,
            purchase,
            format,
        } => {
            use jornada::analytics::{retention, select::EventFilter, Period, RetentionSpec};
            let mut spec = RetentionSpec::new(match period {
                PeriodArg::Day => Period::Day,
                PeriodArg::Week => Period::Week,
                PeriodArg::Month => Period::Month,
            });
            spec.repeat = purchase.as_deref().map(EventFilter::kind);
            let p = Progress::new("");
            let ev = io::read_events(&events, &cols, &p)?;
            p.step("counting cohorts");
            let r = retention(&ev.log, &spec).map_err(|e| ev.error(e))?;
            p.done();
            print_table(&analyses::retention_table(&r), format, || {
                serde_json::to_value(&r).unwrap_or_default()
            });
            Ok(())
        }
        Command::Effort {
            events,
            cols,
            conversion,
            support,
            cart,
            repeat_within,
            resolved_after,
            abandon_after,
            session_timeout,
            format,
        } => {
            use jornada::analytics::select::EventFilter;
            let p = Progress::new("");
            let ev = io::read_events(&events, &cols, &p)?;
            let mut spec = analyses::default_effort_spec(&ev.log);
            let kinds = |k: Vec<String>| EventFilter {
                kinds: k,
                ..Default::default()
            };
            if !conversion.is_empty() {
                spec.conversion = Some(kinds(conversion));
            }
            if !support.is_empty() {
                spec.support = Some(kinds(support));
            }
            if !cart.is_empty() {
                spec.cart = Some(kinds(cart));
            }
            spec.repeat_contact_within = parse_duration("--repeat-within", &repeat_within)?;
            spec.resolution_after = parse_duration("--resolved-after", &resolved_after)?;
            spec.abandon_after = parse_duration("--abandon-after", &abandon_after)?;
            spec.session_timeout = parse_duration("--session-timeout", &session_timeout)?;
            p.step("measuring effort");
            // Errors here are about the options (a kind the events lack), not about a row.
            let e = analyses::Effort::new(&ev.log, spec).map_err(|e| {
                CliError::Invalid(format!("{}: {e} [{}]", ev.path.display(), e.code()))
            })?;
            p.done();
            print_table(
                &analyses::effort_table(&e),
                format,
                || serde_json::json!({"options": e.spec, "summary": e.summary, "touches_before_conversion": e.touches}),
            );
            Ok(())
        }
        Command::Report { input, html, steps } => {
            let (model, events, a) = analyse(&input, &steps)?;
            let p = Progress::new("writing the report");
            let subtitle = format!(
                "{} · model `{}` · {} customers, {} events",
                events.path.display(),
                model.name(),
                number(a.customers as f64),
                number(a.events as f64)
            );
            let report = analyses::report("Customer journeys", &subtitle, &a);
            write_text(&html, &report.render())?;
            p.done();
            eprintln!("wrote {}", html.display());
            Ok(())
        }
    }
}

fn attribution_cmd(
    path: &Path,
    cols: &ColumnArgs,
    conversion: String,
    lookback: &str,
    models: &[String],
    format: OutFormat,
) -> Result<()> {
    use jornada::analytics::attribution::{
        attribute_with_progress, AttributionConfig, AttributionModel,
    };
    let mut config = AttributionConfig::new(conversion);
    config.lookback = Some(parse_duration("--lookback", lookback)?);
    if !models.is_empty() {
        config.models = models
            .iter()
            .map(|m| AttributionModel::from_name(m))
            .collect::<jornada::Result<_>>()?;
    }
    let p = Progress::new("");
    let events = io::read_events(path, cols, &p)?;
    // A bar over the customers while their journeys are cut; the models then run on the
    // journeys (a spinner: their work is not counted in customers).
    let n = events.log.n_customers();
    p.bar(n, "cutting journeys");
    let done = std::sync::atomic::AtomicUsize::new(0);
    let a = attribute_with_progress(&events.log, &config, &|k| {
        p.inc(k);
        if done.fetch_add(k, std::sync::atomic::Ordering::Relaxed) + k == n {
            p.step("running the attribution models");
        }
    })
    .map_err(|e| events.error(e))?;
    p.done();
    let t = analyses::attribution_table(&a);
    print_table(&t, format, || {
        serde_json::json!({
            "channels": a.channels,
            "conversions": a.summary.conversions,
            "models": a.models.iter().map(|m| serde_json::json!({
                "model": m.model.name(),
                "conversions": m.conversions,
                "value": m.value,
                "removal_effects": m.markov.as_ref().map(|d| d.removal_effects.clone()),
            })).collect::<Vec<_>>(),
        })
    });
    Ok(())
}

/// A duration option (`30d`, `12h`, `1h30m`).
fn parse_duration(option: &str, text: &str) -> Result<jornada::Duration> {
    jornada::Duration::parse(text).ok_or_else(|| {
        CliError::Invalid(format!(
            "{option} `{text}` is not a duration (e.g. 30d, 12h, 1h30m)"
        ))
    })
}

/// A model file; errors name it (`my-model.json: invalid model: 2 problem(s) ...`).
fn model_file(path: &Path) -> Result<Model> {
    Model::from_file(path).map_err(|e| {
        let prefix = |m: String| {
            if m.contains(&*path.to_string_lossy()) {
                m
            } else {
                format!("{}: {m}", path.display())
            }
        };
        match CliError::from(e) {
            CliError::Invalid(m) => CliError::Invalid(prefix(m)),
            CliError::Io(m) => CliError::Io(prefix(m)),
        }
    })
}

/// A preset name or a model file.
pub fn load_model(spec: &str) -> Result<Model> {
    let path = Path::new(spec);
    if spec.ends_with(".json") || path.exists() {
        model_file(path)
    } else {
        Ok(Model::preset(spec)?)
    }
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| io::io_err(dir, e))?;
        }
    }
    std::fs::write(path, text).map_err(|e| io::io_err(path, e))
}

fn print_table(t: &Table, format: OutFormat, json: impl FnOnce() -> serde_json::Value) {
    match format {
        OutFormat::Table => say!("{}", t.text()),
        OutFormat::Csv => say!("{}", t.csv()),
        OutFormat::Json => sayln!(
            "{}",
            serde_json::to_string_pretty(&json()).unwrap_or_default()
        ),
    }
}

/// Reads the model and the events and replays.
fn load_and_replay(input: &Input) -> Result<(Model, io::Events, Replay)> {
    let model = load_model(&input.model)?;
    let p = Progress::new("");
    let events = io::read_events(&input.events, &input.cols, &p)?;
    p.bar(
        events.log.n_customers(),
        &format!("replaying {} events", number(events.log.len() as f64)),
    );
    let opts = ReplayOptions {
        on_unknown: if input.skip_unknown {
            OnUnknown::Skip
        } else {
            OnUnknown::Error
        },
        ..Default::default()
    };
    let r = replay_with_progress(&model, &events.log, &opts, &|k| p.inc(k))
        .map_err(|e| events.error(e))?;
    p.done();
    Ok((model, events, r))
}

fn analyse(input: &Input, steps: &[String]) -> Result<(Model, io::Events, Analysis)> {
    let (model, events, r) = load_and_replay(input)?;
    let steps = if steps.is_empty() {
        analyses::default_steps(&model)
    } else {
        steps.to_vec()
    };
    let p = Progress::new("analysing");
    let a = Analysis::new(&r, &events.log, &steps)?;
    p.done();
    Ok((model, events, a))
}

fn demo(customers: usize, seed: u64, html: &Path) -> Result<()> {
    let t0 = std::time::Instant::now();
    let model = Model::preset("ecommerce")?;
    let p = Progress::new("");
    p.bar(customers, "simulating a shop");
    let log = simulate_with_progress(
        &model,
        &SimConfig {
            customers,
            seed,
            ..Default::default()
        },
        &|k| p.inc(k),
    );
    p.bar(
        log.n_customers(),
        &format!("replaying {} events", number(log.len() as f64)),
    );
    let r = replay_with_progress(&model, &log, &ReplayOptions::default(), &|k| p.inc(k))?;
    p.step("analysing");
    let steps = analyses::default_steps(&model);
    let a = Analysis::new(&r, &log, &steps)?;
    let subtitle = format!(
        "simulated shop (`ecommerce` preset, seed {seed}) · {} customers, {} events",
        number(a.customers as f64),
        number(a.events as f64)
    );
    let report = analyses::report("jornada demo: a simulated shop", &subtitle, &a);
    write_text(html, &report.render())?;
    p.done();
    sayln!(
        "jornada demo: a simulated shop (`ecommerce` preset, seed {seed}): {} customers, {} events over 180 days, replayed in {:.2} s\n",
        number(a.customers as f64),
        number(a.events as f64),
        t0.elapsed().as_secs_f64()
    );
    sayln!("Where customers are now, and how long they stay in each stage:\n");
    say!("{}", indent(&analyses::stage_table(&a).text()));
    sayln!("\nFunnel over stages:\n");
    say!("{}", indent(&analyses::funnel_table(&a).text()));
    sayln!("\nMost frequent stage transitions:\n");
    say!("{}", indent(&analyses::transitions_table(&a, 8).text()));
    sayln!("\nChance of reaching `{}` from each stage:\n", a.target);
    say!("{}", indent(&analyses::scoring_table(&a).text()));
    sayln!("\nActions the model fired:\n");
    say!("{}", indent(&analyses::actions_table(&a).text()));
    sayln!("\nCustomer effort:\n");
    say!("{}", indent(&analyses::effort_table(&a.effort).text()));
    sayln!("\nReport: {}", html.display());
    Ok(())
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}

fn run_cmd(input: &Input, out: &Path) -> Result<()> {
    let (model, events, r) = load_and_replay(input)?;
    let p = Progress::new(&format!("writing {}", out.display()));
    std::fs::create_dir_all(out).map_err(|e| io::io_err(out, e))?;
    let log = &events.log;
    let customers = log.customers();
    let stage_names: Vec<String> = model.stage_names().map(|s| s.to_string()).collect();
    let t = r.transitions();
    // Stages per customer: final stage and the first entry into each stage.
    let n = r.n_customers();
    let mut first: Vec<Vec<Option<i64>>> = vec![vec![None; n]; stage_names.len()];
    #[allow(clippy::needless_range_loop)]
    for c in 0..n {
        for i in r.history(c) {
            let s = t.to[i] as usize;
            if first[s][c].is_none() {
                first[s][c] = Some(t.at[i]);
            }
        }
    }
    let final_stage: Vec<Option<&str>> = (0..n).map(|c| r.final_stage(c)).collect();
    {
        let path = out.join("stages.csv");
        let mut w = io::create(&path)?;
        let mut header = vec!["customer".to_string(), "final_stage".to_string()];
        header.extend(stage_names.iter().map(|s| format!("entered_{s}")));
        let header: Vec<String> = header.iter().map(|h| io::csv_field(h)).collect();
        let mut buf = header.join(",");
        buf.push('\n');
        for c in 0..n {
            buf.push_str(&io::csv_field(&customers[c]));
            buf.push(',');
            buf.push_str(final_stage[c].unwrap_or(""));
            for f in &first {
                buf.push(',');
                if let Some(at) = f[c] {
                    buf.push_str(&Timestamp(at).to_string());
                }
            }
            buf.push('\n');
            if buf.len() > 1 << 20 {
                w.write_all(buf.as_bytes())
                    .map_err(|e| io::io_err(&path, e))?;
                buf.clear();
            }
        }
        w.write_all(buf.as_bytes())
            .and_then(|_| w.flush())
            .map_err(|e| io::io_err(&path, e))?;
    }
    {
        let path = out.join("stages.parquet");
        let mut fields = vec![
            Field::new("customer", DataType::Utf8, false),
            Field::new("final_stage", DataType::Utf8, true),
        ];
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                customers.iter().map(|s| &**s),
            )),
            Arc::new(StringArray::from(final_stage.clone())),
        ];
        for (s, f) in stage_names.iter().zip(first) {
            fields.push(Field::new(
                format!("entered_{s}"),
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ));
            arrays.push(io::timestamps(f));
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .map_err(|e| CliError::Invalid(format!("{}: {e}", path.display())))?;
        io::write_parquet(&path, io::create(&path)?, &batch)?;
    }
    {
        let path = out.join("transitions.jsonl");
        let mut w = io::create(&path)?;
        for i in 0..t.len() {
            let o = serde_json::json!({
                "customer": &*customers[t.customer[i] as usize],
                "from": (t.from[i] != NO_STAGE).then(|| r.stage_name(t.from[i])),
                "to": r.stage_name(t.to[i]),
                "at": Timestamp(t.at[i]).to_string(),
                "rule": (t.rule[i] != NO_RULE).then(|| r.rule_name(t.rule[i])),
                "channel": (t.channel[i] != NO_CHANNEL).then(|| r.channel_name(t.channel[i])),
            });
            serde_json::to_writer(&mut w, &o)
                .map_err(|e| io::io_err(&path, e))
                .and_then(|_| w.write_all(b"\n").map_err(|e| io::io_err(&path, e)))?;
        }
        w.flush().map_err(|e| io::io_err(&path, e))?;
    }
    {
        let path = out.join("actions.jsonl");
        let mut w = io::create(&path)?;
        let a = r.actions();
        for i in 0..a.len() {
            let params: serde_json::Map<String, serde_json::Value> = r
                .action_params(a.action[i])
                .iter()
                .map(|(k, v)| (k.to_string(), prop_json(v)))
                .collect();
            let o = serde_json::json!({
                "customer": &*customers[a.customer[i] as usize],
                "action": r.action_name(a.action[i]),
                "channel": (a.channel[i] != NO_CHANNEL).then(|| r.channel_name(a.channel[i])),
                "at": Timestamp(a.at[i]).to_string(),
                "rule": (a.rule[i] != NO_RULE).then(|| r.rule_name(a.rule[i])),
                "stage": (a.stage[i] != NO_STAGE).then(|| r.stage_name(a.stage[i])),
                "suppressed": a.suppressed[i],
                "params": params,
            });
            serde_json::to_writer(&mut w, &o)
                .map_err(|e| io::io_err(&path, e))
                .and_then(|_| w.write_all(b"\n").map_err(|e| io::io_err(&path, e)))?;
        }
        w.flush().map_err(|e| io::io_err(&path, e))?;
    }
    let a = Analysis::new(&r, log, &analyses::default_steps(&model))?;
    let stats = r.stats();
    let mut summary = a.summary_json();
    summary["model"] = model.name().into();
    summary["events_file"] = events.path.display().to_string().into();
    summary["replay"] = serde_json::json!({
        "events": stats.events,
        "skipped_unknown_kind": stats.skipped_unknown_kind,
        "skipped_unknown_channel": stats.skipped_unknown_channel,
        "after_until": stats.after_until,
        "until": r.until().map(|t| t.to_string()),
    });
    write_text(
        &out.join("summary.json"),
        &serde_json::to_string_pretty(&summary).unwrap_or_default(),
    )?;
    p.done();
    eprintln!(
        "{} customers, {} events, {} transitions, {} actions: wrote stages.csv, stages.parquet, transitions.jsonl, actions.jsonl, summary.json to {}",
        number(n as f64),
        number(log.len() as f64),
        number(t.len() as f64),
        number(r.actions().len() as f64),
        out.display()
    );
    Ok(())
}

fn prop_json(v: &PropValue) -> serde_json::Value {
    match v {
        PropValue::Str(s) => serde_json::Value::String(s.to_string()),
        PropValue::Num(n) => serde_json::json!(n),
        PropValue::Bool(b) => serde_json::Value::Bool(*b),
    }
}

/// Progress on stderr when it is a terminal, nothing otherwise (piped, redirected, in tests):
/// a spinner with the elapsed time while the amount of work is unknown, a bar with the
/// position, percentage and ETA where it is known ([`Progress::bar`]).
pub struct Progress(ProgressBar);

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style(unit: &str) -> ProgressStyle {
    let counts = if unit == "bytes" {
        "{bytes}/{total_bytes}".to_string()
    } else {
        format!("{{human_pos}}/{{human_len}} {unit}")
    };
    ProgressStyle::with_template(&format!(
        "{{msg}} [{{bar:25}}] {counts} ({{percent}}%, ETA {{eta}})"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

impl Progress {
    /// A spinner showing `msg`.
    pub fn new(msg: &str) -> Progress {
        Progress::on(std::io::stderr().is_terminal(), msg)
    }

    /// Drawn on stderr when `visible`, hidden otherwise.
    fn on(visible: bool, msg: &str) -> Progress {
        let bar = if visible {
            let b = ProgressBar::new_spinner();
            b.set_style(spinner_style());
            b.enable_steady_tick(std::time::Duration::from_millis(100));
            b
        } else {
            ProgressBar::hidden()
        };
        bar.set_message(msg.to_string());
        Progress(bar)
    }

    /// Back to a spinner, showing `msg`.
    pub fn step(&self, msg: &str) {
        self.0.set_style(spinner_style());
        self.0.set_message(msg.to_string());
    }

    /// A bar over `total` customers, from 0, showing `msg`; [`Progress::inc`] moves it.
    pub fn bar(&self, total: usize, msg: &str) {
        self.bar_of(total as u64, "customers", msg);
    }

    /// A bar over `total` things of `unit` (`customers`, `rows`, or `bytes`, shown as sizes).
    pub fn bar_of(&self, total: u64, unit: &str, msg: &str) {
        self.0.set_style(bar_style(unit));
        self.0.set_length(total);
        self.0.reset();
        self.0.set_message(msg.to_string());
    }

    /// `k` more done (callable from any thread).
    pub fn inc(&self, k: usize) {
        self.0.inc(k as u64);
    }

    /// A reader that moves the bar by the bytes read through it.
    pub fn reader<R: std::io::Read>(&self, inner: R) -> ProgressRead<R> {
        ProgressRead {
            inner,
            bar: self.0.clone(),
        }
    }

    /// The bar's position and length (tests).
    #[cfg(test)]
    fn position(&self) -> (u64, Option<u64>) {
        (self.0.position(), self.0.length())
    }

    pub fn done(&self) {
        self.0.finish_and_clear();
    }
}

/// A reader counting its bytes on a progress bar ([`Progress::reader`]).
pub struct ProgressRead<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R: std::io::Read> std::io::Read for ProgressRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

fn validate(model: Option<PathBuf>, preset: Option<String>) -> Result<()> {
    let m = match (model, preset) {
        (_, Some(p)) => Model::preset(&p)?,
        (Some(path), None) => model_file(&path)?,
        (None, None) => {
            return Err(CliError::Invalid(
                "give a model file or --preset <name>".into(),
            ))
        }
    };
    let spec = m.spec();
    sayln!(
        "valid: model `{}` with {} stages, {} rules, {} channels, {} event kinds",
        m.name(),
        spec.stages.len(),
        spec.rules.len(),
        spec.channels.len(),
        spec.event_kinds.len()
    );
    for w in m.warnings() {
        sayln!("warning: {w}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_counts_the_customers_the_core_reports() {
        let p = Progress::on(false, "");
        p.bar(10_000, "simulating");
        let model = Model::preset("ecommerce").unwrap();
        let cfg = SimConfig {
            customers: 10_000,
            ..Default::default()
        };
        simulate_with_progress(&model, &cfg, &|k| p.inc(k));
        assert_eq!(p.position(), (10_000, Some(10_000)));
        p.step("analysing");
        p.bar(3, "again");
        assert_eq!(p.position(), (0, Some(3)));
    }
}
