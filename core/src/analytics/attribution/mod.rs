//! Multi-touch attribution: which channels (or campaigns) get the credit for conversions.
//!
//! Two entry points, one set of models:
//!
//! - [`attribute`]: from an [`EventLog`], cutting one journey per conversion (below);
//! - [`attribute_paths`]: from aggregated paths in ChannelAttribution's input format (a path
//!   string such as `"email > web > web"`, `total_conversions`, `total_conversion_value`,
//!   `total_null`).
//!
//! Both aggregate identical paths first, so the path models' work grows with the number of
//! *distinct* paths. Results are deterministic: every pass over the distinct paths follows the
//! order in which they first appear in the input (the log's order: customers by key, then time;
//! or the rows of aggregated paths), and blocks of customers cut in parallel are merged in
//! order, so the same input gives bit-identical results with or without the `parallel` feature
//! and on every platform. Aggregated paths given in another row order give the same results up
//! to floating-point rounding (sums taken in another order).
//!
//! # Journeys cut from a log
//!
//! A *touch* is an event whose kind is one of [`AttributionConfig::touch_kinds`] (default: every
//! kind except the conversion kind), whose channel is one of
//! [`AttributionConfig::touch_channels`] (default: every channel) and, when the
//! [`Dimension`] is a property, which has a value for that property (the value then stands in
//! for the channel). A *conversion* is an event of [`AttributionConfig::conversion_kind`]; its
//! value is the event's `value` (0 when it has none). Conversion events are never touches.
//!
//! Each customer's events are taken in time order; events at the same millisecond count touches
//! first, then conversions. For each conversion at time `t`:
//!
//! - its **path** is the customer's touches after the previous conversion (at a time strictly
//!   later than it) and at or before `t`, keeping only those at or after `t - lookback`
//!   ([`AttributionConfig::lookback`]; `None`: no limit). One path per conversion, in time order;
//!   touches older than the lookback are dropped, not carried to a null path;
//! - a conversion with no touch in its window (including a second conversion at the same
//!   millisecond) is *unattributed*: it is counted in [`PathSummary::unattributed_conversions`]
//!   and credited to no channel.
//!
//! The touches after a customer's last conversion (all of them, for a customer who never
//! converted) form one **null path**, cut the same way with the customer's last touch as anchor
//! (touches at or after `last touch - lookback`). Null paths are what the Markov model learns
//! non-conversion from; heuristic models ignore them. [`AttributionConfig::null_paths`]`: false`
//! leaves them out.
//!
//! # Models
//!
//! A path is `c₁ > c₂ > … > cₙ` (`n ≥ 1`; a channel may repeat). Every model splits each
//! conversion, and its value, over the channels of its path; credited conversions and credited
//! value per channel are reported for every model ([`ModelCredits`]).
//!
//! | model | credit of one conversion |
//! | --- | --- |
//! | [`FirstTouch`](AttributionModel::FirstTouch) | all to `c₁` |
//! | [`LastTouch`](AttributionModel::LastTouch) | all to `cₙ` |
//! | [`Linear`](AttributionModel::Linear) | `1/n` to each touch (a channel touched twice gets `2/n`), as ChannelAttribution's `linear_touch` |
//! | [`PositionBased`](AttributionModel::PositionBased) `{first, last}` (default 0.4, 0.4) | `n ≥ 3`: `first` to `c₁`, `last` to `cₙ`, `1 - first - last` split equally over `c₂ … cₙ₋₁`; `n = 2`: `first/(first+last)` to `c₁` and `last/(first+last)` to `c₂` (half each when both are 0); `n = 1`: all to `c₁` |
//! | [`TimeDecay`](AttributionModel::TimeDecay) `{half_life}` | touch `i` at time `tᵢ` gets weight `2^(-(t - tᵢ)/half_life)`, normalised over the path (`t`: the conversion's time). Logs only: aggregated paths carry no times |
//! | [`Markov`](AttributionModel::Markov) `{order}` | the removal effects of the Markov chain below, normalised, times the conversions |
//! | [`Shapley`](AttributionModel::Shapley) | the Shapley value of a cooperative game over channel sets ([`ShapleyGame`]) |
//!
//! # The Markov chain (ChannelAttribution's definition, solved exactly)
//!
//! States are `(start)`, the path states, `(conversion)` and `(null)`. For order `k`, a path
//! `c₁ … cₙ` visits the windows of `k` consecutive touches `(c₁…c_k), (c₂…c_{k+1}), …,
//! (c_{n-k+1}…cₙ)`, or the single state `(c₁…cₙ)` when `n < k`; consecutive equal states are
//! merged (so at order 1 `a > a > b` visits `a`, then `b`; there are no self-loops). Each path
//! adds its journeys (conversions + nulls) to `(start) → s₁ → … → s_m` and its conversions to
//! `s_m → (conversion)`, its nulls to `s_m → (null)`. Transition probabilities are these counts
//! normalised per state (maximum likelihood), reported as
//! [`MarkovDetails::transitions`].
//!
//! `P(conv)` is the probability of absorption in `(conversion)` from `(start)`, solved exactly
//! as `(I - Q)⁻¹ R` by [`absorbing::solve_linear`](super::absorbing::solve_linear) (for a chain
//! fitted to paths this equals the observed conversion rate). *Removing* a channel `c` turns
//! every state that contains `c` into `(null)`; `P₋c(conv)` is the absorption probability of
//! that chain, and the **removal effect** is `RE(c) = 1 - P₋c(conv) / P(conv)` (equivalently,
//! the probability that a converting walk visits `c`). Credits: `conversions × RE(c) / Σ RE`.
//! Each removal is one exact solve of the reduced chain; at order 1 with more than 32 channels,
//! all removals come from one inverse `N = (I - Q)⁻¹` instead (a walk hits state `c` with
//! probability `N[start][c] / N[c][c]`, then converts with `c`'s absorption probability).
//!
//! Value: each conversion's value is the mean value of the conversions that left from the same
//! last state (as ChannelAttribution simulates it); `V` is the expected conversion value from
//! `(start)`, `V₋c` the same with `c` removed, `REᵥ(c) = 1 - V₋c / V`, and credited value is
//! `total value × REᵥ(c) / Σ REᵥ`. ChannelAttribution estimates the same quantities by
//! simulating walks; here they are exact.
//!
//! # Shapley values
//!
//! The channels are players; a game gives each coalition `S` of channels a value `v(S)`
//! ([`ShapleyGame`]), with `v(∅) = 0` and `v(all)` = the conversions (or the value). The Shapley
//! value `φᵢ = Σ_{S ⊆ N∖{i}} |S|! (n-|S|-1)! / n! · (v(S ∪ {i}) - v(S))` of the subsets game has
//! a closed form and is always exact; for the Markov game it is computed exactly for up to
//! [`ShapleyOptions::max_exact_channels`] channels (all `2ⁿ` coalitions); above that,
//! by averaging marginal contributions over [`ShapleyOptions::samples`] random orders of the
//! channels drawn from a generator seeded with [`ShapleyOptions::seed`] (still deterministic,
//! still summing exactly to the total; [`ShapleyDetails`] says which was used).
//!
//! The classic example, by hand: `C1 > C2 > C3` converts once, `C1` and `C2 > C3` do not.
//! Transitions: `(start)` → C1 2/3, → C2 1/3; C1 → C2 1/2, → `(null)` 1/2; C2 → C3 1;
//! C3 → `(conversion)` 1/2, → `(null)` 1/2. `P(conv) = 2/3·1/2·1/2 + 1/3·1/2 = 1/3` (the observed
//! rate). Without C1 only `(start)` → C2 → C3 converts: `1/6`, so `RE(C1) = 1 - (1/6)/(1/3) =
//! 1/2`; without C2 or C3 nothing converts: `RE = 1`. Credits: `(1/2, 1, 1) / 2.5 = (0.2, 0.4,
//! 0.4)`. Linear gives `1/3` each, position-based `(0.4, 0.2, 0.4)`, the subsets Shapley game
//! `1/3` each, the Markov Shapley game `(1/6, 5/12, 5/12)` (`v({C2, C3}) = 1/2`, `v(all) = 1`,
//! every other coalition 0).
//!
//! ```
//! use jornada::analytics::attribution::{attribute_paths, AttributionModel};
//! // The classic example: one conversion after C1 > C2 > C3, two null paths.
//! let paths = ["C1 > C2 > C3", "C1", "C2 > C3"];
//! let models = [AttributionModel::Markov { order: 1 }, AttributionModel::Linear];
//! let result = attribute_paths(&paths, &[1.0, 0.0, 0.0], None, Some(&[0.0, 1.0, 1.0]), ">", &models)?;
//! assert_eq!(result.channels, ["C1", "C2", "C3"]);
//! let markov = result.model("markov").unwrap();
//! let effects = &markov.markov.as_ref().unwrap().removal_effects;
//! assert!((effects[0] - 0.5).abs() < 1e-12 && (effects[1] - 1.0).abs() < 1e-12);
//! assert!((markov.conversions[0] - 0.2).abs() < 1e-12); // 0.5 / (0.5 + 1 + 1)
//! assert!((markov.conversions[1] - 0.4).abs() < 1e-12);
//! let linear = result.model("linear").unwrap();
//! assert!((linear.conversions[2] - 1.0 / 3.0).abs() < 1e-12);
//! # Ok::<(), jornada::Error>(())
//! ```

mod heuristic;
mod journeys;
mod markov;
mod paths;
mod shapley;

use crate::analytics::EventLog;
use crate::error::{Error, Location, Result};
use crate::Duration;

pub use journeys::journey_paths;
pub use paths::PathTable;

/// What gets the credit: the event's channel, or the value of a string property (a campaign).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Dimension {
    /// The channel of each touch.
    #[default]
    Channel,
    /// The value of this string property column; touches without a value are not touches.
    Property(String),
}

/// How [`attribute`] cuts journeys from a log and which models it runs. See the
/// [module docs](self) for the exact definitions.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributionConfig {
    /// The event kind that is a conversion (`purchase`).
    pub conversion_kind: String,
    /// Only touches at or after `conversion time - lookback` count; `None`: no limit. Default
    /// 30 days.
    pub lookback: Option<Duration>,
    /// The event kinds that are touches; `None` (default): every kind but the conversion kind.
    pub touch_kinds: Option<Vec<String>>,
    /// The channels whose events are touches; `None` (default): every channel.
    pub touch_channels: Option<Vec<String>>,
    /// What gets the credit (default: the channel).
    pub dimension: Dimension,
    /// Whether touches not followed by a conversion form null paths (default `true`).
    pub null_paths: bool,
    /// The models to run, in the order results are reported (default:
    /// [`AttributionModel::defaults`]).
    pub models: Vec<AttributionModel>,
}

impl AttributionConfig {
    /// The defaults for this conversion kind: 30-day lookback, every other kind a touch, by
    /// channel, with null paths, every model ([`AttributionModel::defaults`]).
    pub fn new(conversion_kind: impl Into<String>) -> Self {
        AttributionConfig {
            conversion_kind: conversion_kind.into(),
            lookback: Some(Duration::from_millis(30 * 86_400_000)),
            touch_kinds: None,
            touch_channels: None,
            dimension: Dimension::Channel,
            null_paths: true,
            models: AttributionModel::defaults(),
        }
    }
}

/// One attribution model and its parameters. See the [module docs](self) for definitions.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributionModel {
    /// All credit to the first touch.
    FirstTouch,
    /// All credit to the last touch.
    LastTouch,
    /// Equal credit to every touch.
    Linear,
    /// `first` to the first touch, `last` to the last, the rest shared by the touches between.
    PositionBased {
        /// Share of the first touch (default 0.4).
        first: f64,
        /// Share of the last touch (default 0.4).
        last: f64,
    },
    /// Weights halving every `half_life` before the conversion. Logs only.
    TimeDecay {
        /// The half-life (default 7 days); must be positive.
        half_life: Duration,
    },
    /// Removal effects of an order-`order` Markov chain, solved exactly.
    Markov {
        /// Number of past touches a state remembers (1 to 8).
        order: usize,
    },
    /// Shapley values of a game over channel sets.
    Shapley(ShapleyOptions),
}

/// The cooperative game whose Shapley value [`AttributionModel::Shapley`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapleyGame {
    /// `v(S)` = the conversions (value) of the paths whose channels all lie in `S` (Zhao et al.,
    /// "Shapley value methods for attribution modeling in online advertising", 2018). The game
    /// is a sum of one unanimity game per path, so its Shapley value has a closed form that is
    /// exact for any number of channels: each path's conversions are shared equally by its
    /// *distinct* channels. Ignores null paths.
    Subsets,
    /// `v(S)` = `conversions × P_S(conv) / P(conv)` (likewise for value), where `P_S` is the
    /// order-`order` Markov chain of [`AttributionModel::Markov`] with every channel outside `S`
    /// removed: a channel's credit is its removal effect averaged over all coalitions, so null
    /// paths count. Exact up to [`ShapleyOptions::max_exact_channels`] channels (`2ⁿ` chain
    /// solves), sampled above (at most `samples × n` distinct chain solves, each cubic in the
    /// number of states: keep the order low when there are many channels).
    Markov {
        /// Order of the chain.
        order: usize,
    },
}

/// Parameters of [`AttributionModel::Shapley`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShapleyOptions {
    /// The game (default [`ShapleyGame::Subsets`]).
    pub game: ShapleyGame,
    /// Exact computation over all `2ⁿ` coalitions up to this many channels (default 15, at most
    /// 20); permutation sampling above.
    pub max_exact_channels: usize,
    /// Random channel orders averaged when sampling (default 1,000).
    pub samples: usize,
    /// Seed of the sampling generator (default 0).
    pub seed: u64,
}

impl Default for ShapleyOptions {
    fn default() -> Self {
        ShapleyOptions {
            game: ShapleyGame::Subsets,
            max_exact_channels: 15,
            samples: 1000,
            seed: 0,
        }
    }
}

impl AttributionModel {
    /// Every model with default parameters: first touch, last touch, linear, position-based
    /// 40/20/40, time decay with a 7-day half-life, Markov order 1, Shapley (subsets game).
    pub fn defaults() -> Vec<AttributionModel> {
        let mut all = Self::path_defaults();
        all.insert(
            4,
            AttributionModel::TimeDecay {
                half_life: Duration::from_millis(7 * 86_400_000),
            },
        );
        all
    }

    /// [`defaults`](Self::defaults) without time decay, which needs touch times: the models
    /// [`attribute_paths`] can run.
    pub fn path_defaults() -> Vec<AttributionModel> {
        vec![
            AttributionModel::FirstTouch,
            AttributionModel::LastTouch,
            AttributionModel::Linear,
            AttributionModel::PositionBased {
                first: 0.4,
                last: 0.4,
            },
            AttributionModel::Markov { order: 1 },
            AttributionModel::Shapley(ShapleyOptions::default()),
        ]
    }

    /// The model named `first_touch`, `last_touch`, `linear`, `position_based`, `time_decay`,
    /// `markov` or `shapley`, with default parameters (for bindings that take names).
    ///
    /// ```
    /// use jornada::analytics::attribution::AttributionModel;
    /// assert_eq!(AttributionModel::from_name("markov")?, AttributionModel::Markov { order: 1 });
    /// assert_eq!(AttributionModel::from_name("nope").unwrap_err().code(), "invalid_value");
    /// # Ok::<(), jornada::Error>(())
    /// ```
    pub fn from_name(name: &str) -> Result<AttributionModel> {
        Self::defaults()
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| Error::InvalidValue {
                loc: Location::field("models"),
                message: format!(
                    "unknown attribution model `{name}`; models are: first_touch, last_touch, \
                     linear, position_based, time_decay, markov, shapley"
                ),
            })
    }

    /// The model's name: `first_touch`, `last_touch`, `linear`, `position_based`,
    /// `time_decay`, `markov` or `shapley`.
    pub fn name(&self) -> &'static str {
        match self {
            AttributionModel::FirstTouch => "first_touch",
            AttributionModel::LastTouch => "last_touch",
            AttributionModel::Linear => "linear",
            AttributionModel::PositionBased { .. } => "position_based",
            AttributionModel::TimeDecay { .. } => "time_decay",
            AttributionModel::Markov { .. } => "markov",
            AttributionModel::Shapley(_) => "shapley",
        }
    }

    fn check(&self, index: usize) -> Result<()> {
        let bad = |field: &str, message: String| {
            Err(Error::InvalidValue {
                loc: Location::field(format!("models[{index}].{field}")),
                message,
            })
        };
        match *self {
            AttributionModel::PositionBased { first, last } => {
                for (field, w) in [("first", first), ("last", last)] {
                    if !(w.is_finite() && (0.0..=1.0).contains(&w)) {
                        return bad(field, format!("{w} is not a share between 0 and 1"));
                    }
                }
                if first + last > 1.0 + 1e-12 {
                    return bad("last", format!("first + last = {} exceeds 1", first + last));
                }
            }
            AttributionModel::TimeDecay { half_life } if half_life.millis() <= 0 => {
                return bad("half_life", format!("{half_life} is not positive"));
            }
            AttributionModel::Markov { order } => check_order(order, index, "order")?,
            AttributionModel::Shapley(o) => {
                if let ShapleyGame::Markov { order } = o.game {
                    check_order(order, index, "game.order")?;
                }
                if o.max_exact_channels > 20 {
                    return bad(
                        "max_exact_channels",
                        format!("{} exceeds 20 (2^20 coalitions)", o.max_exact_channels),
                    );
                }
                if o.samples == 0 {
                    return bad("samples", "must be at least 1".into());
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn check_order(order: usize, index: usize, field: &str) -> Result<()> {
    if (1..=8).contains(&order) {
        Ok(())
    } else {
        Err(Error::InvalidValue {
            loc: Location::field(format!("models[{index}].{field}")),
            message: format!("Markov order {order} is not between 1 and 8"),
        })
    }
}

/// The result of an attribution: per model, credits per channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    /// The channels (or property values) that appear in at least one path, sorted by name;
    /// every per-channel vector below is aligned with this one.
    pub channels: Vec<String>,
    /// One entry per requested model, in the order requested.
    pub models: Vec<ModelCredits>,
    /// Totals over the paths.
    pub summary: PathSummary,
}

impl Attribution {
    /// The first result of the model with this [name](AttributionModel::name).
    pub fn model(&self, name: &str) -> Option<&ModelCredits> {
        self.models.iter().find(|m| m.model.name() == name)
    }

    /// The index of a channel in [`channels`](Self::channels).
    pub fn channel_index(&self, channel: &str) -> Option<usize> {
        self.channels
            .binary_search_by(|c| c.as_str().cmp(channel))
            .ok()
    }
}

/// Totals over the paths an attribution ran on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PathSummary {
    /// Conversions with at least one touch: what every model credits.
    pub conversions: f64,
    /// Their total value.
    pub value: f64,
    /// Null paths (journeys that did not convert).
    pub null_paths: f64,
    /// Conversions without any touch in their window, credited to no channel (logs only).
    pub unattributed_conversions: f64,
    /// Their total value.
    pub unattributed_value: f64,
    /// Distinct paths (converting or not) after aggregation.
    pub distinct_paths: usize,
}

/// Credits of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelCredits {
    /// The model and its parameters.
    pub model: AttributionModel,
    /// Credited conversions per channel; they sum to [`PathSummary::conversions`].
    pub conversions: Vec<f64>,
    /// Credited value per channel; they sum to [`PathSummary::value`].
    pub value: Vec<f64>,
    /// For [`AttributionModel::Markov`]: the chain and its removal effects.
    pub markov: Option<MarkovDetails>,
    /// For [`AttributionModel::Shapley`]: how the values were computed.
    pub shapley: Option<ShapleyDetails>,
}

/// The fitted Markov chain and its removal effects.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkovDetails {
    /// The chain's order.
    pub order: usize,
    /// Probability of conversion from `(start)`.
    pub conversion_probability: f64,
    /// Per channel, `1 - P₋c(conv) / P(conv)` (0 when nothing converts).
    pub removal_effects: Vec<f64>,
    /// Per channel, `1 - V₋c / V` for the expected conversion value (0 when there is none).
    pub value_removal_effects: Vec<f64>,
    /// State names: `(start)`, then the path states (channel names joined by ` > ` for order
    /// above 1), then `(conversion)` and `(null)`.
    pub states: Vec<String>,
    /// The non-zero transition probabilities, sorted by `from`, then `to` (indices into
    /// [`states`](Self::states)); each transient state's probabilities sum to 1.
    pub transitions: Vec<StateTransition>,
}

/// One transition probability of a [`MarkovDetails`] chain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StateTransition {
    /// Index of the state left.
    pub from: usize,
    /// Index of the state entered.
    pub to: usize,
    /// The probability.
    pub probability: f64,
}

/// How a Shapley value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShapleyDetails {
    /// The game.
    pub game: ShapleyGame,
    /// Whether the value is exact (closed form or all coalitions).
    pub exact: bool,
    /// Random channel orders averaged (0 when exact).
    pub samples: usize,
}

/// Runs attribution on an event log. See the [module docs](self) for how journeys are cut and
/// what each model computes.
///
/// Errors: `unknown_event_kind` naming `conversion_kind` or `touch_kinds[i]`,
/// `unknown_channel` naming `touch_channels[i]`, `invalid_value` for a missing or non-string
/// `dimension` property, a negative lookback, or bad model parameters (`models[i].field`).
///
/// ```
/// use jornada::analytics::{attribution::{attribute, AttributionConfig}, EventLog};
/// use jornada::Timestamp;
/// let h = |hours: i64| Timestamp::from_millis(hours * 3_600_000);
/// let mut b = EventLog::builder();
/// b.push("ana", h(0), "email", "email_open", None)?;
/// b.push("ana", h(1), "web", "page_view", None)?;
/// b.push("ana", h(2), "web", "purchase", Some(80.0))?;
/// b.push("bo", h(5), "sms", "sms_click", None)?; // never converts: a null path
/// let log = b.finish()?;
/// let result = attribute(&log, &AttributionConfig::new("purchase"))?;
/// assert_eq!(result.channels, ["email", "sms", "web"]);
/// assert_eq!(result.summary.conversions, 1.0);
/// assert_eq!(result.summary.null_paths, 1.0);
/// let first = result.model("first_touch").unwrap();
/// assert_eq!(first.conversions, [1.0, 0.0, 0.0]);
/// assert_eq!(first.value, [80.0, 0.0, 0.0]);
/// let last = result.model("last_touch").unwrap();
/// assert_eq!(last.conversions, [0.0, 0.0, 1.0]);
/// // Time decay (7-day half-life): the web touch, one hour later, weighs a little more.
/// let decay = result.model("time_decay").unwrap();
/// assert!(decay.conversions[2] > 0.5 && decay.conversions[2] < 0.51);
/// # Ok::<(), jornada::Error>(())
/// ```
pub fn attribute(log: &EventLog, config: &AttributionConfig) -> Result<Attribution> {
    attribute_with_progress(log, config, &|_| {})
}

/// [`attribute`], reporting progress: `progress(k)` is called each time the journeys of a block
/// of `k` customers have been cut (blocks of about 65,536 events, from rayon's worker threads
/// when the `parallel` feature is on, in no particular order). The `k`s add up to the log's
/// number of customers; the models run after the last call (no calls when the configuration is
/// rejected first). The result is the same as [`attribute`]'s.
///
/// ```
/// use jornada::analytics::attribution::{attribute, attribute_with_progress, AttributionConfig};
/// use jornada::analytics::simulate::{simulate, SimConfig};
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// let model = jornada::Model::preset("ecommerce")?;
/// let log = simulate(&model, &SimConfig { customers: 3_000, ..Default::default() });
/// let config = AttributionConfig::new("purchase");
/// let done = AtomicUsize::new(0);
/// let a = attribute_with_progress(&log, &config, &|k| {
///     done.fetch_add(k, Ordering::Relaxed);
/// })?;
/// assert_eq!(done.into_inner(), 3_000);
/// assert_eq!(a, attribute(&log, &config)?);
/// # Ok::<(), jornada::Error>(())
/// ```
pub fn attribute_with_progress(
    log: &EventLog,
    config: &AttributionConfig,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Attribution> {
    for (i, m) in config.models.iter().enumerate() {
        m.check(i)?;
    }
    let cut = journeys::cut(log, config, progress)?;
    let mut result = run_models(&cut.paths, &config.models, Some(&cut.decay))?;
    result.summary.unattributed_conversions = cut.unattributed_conversions;
    result.summary.unattributed_value = cut.unattributed_value;
    Ok(result)
}

/// Runs attribution on aggregated paths, ChannelAttribution's input format: row `i` is the path
/// `paths[i]` (channel names separated by `separator`, surrounding whitespace trimmed), seen
/// with `total_conversions[i]` conversions worth `total_conversion_value[i]` in all, and
/// `total_null[i]` journeys that did not convert. Identical paths are merged. Time decay is
/// not available (no times); [`AttributionModel::path_defaults`] lists the models that are.
///
/// Errors (`invalid_value`, naming the row and column): columns of different lengths, an empty
/// separator, path or channel name, a negative or non-finite count, a non-finite value, value
/// on a row without conversions, or a time-decay model.
///
/// ```
/// use jornada::analytics::attribution::{attribute_paths, AttributionModel};
/// let paths = ["email > web", "web", "email > sms"];
/// let result = attribute_paths(
///     &paths,
///     &[3.0, 1.0, 0.0],              // total_conversions
///     Some(&[300.0, 50.0, 0.0]),     // total_conversion_value
///     Some(&[7.0, 9.0, 10.0]),       // total_null
///     ">",
///     &AttributionModel::path_defaults(),
/// )?;
/// assert_eq!(result.channels, ["email", "sms", "web"]);
/// let position = result.model("position_based").unwrap();
/// // Two-touch path: half each; one-touch path: all to its channel.
/// assert_eq!(position.conversions, [1.5, 0.0, 2.5]);
/// assert_eq!(position.value, [150.0, 0.0, 200.0]);
/// let markov = result.model("markov").unwrap();
/// let total: f64 = markov.conversions.iter().sum();
/// assert!((total - 4.0).abs() < 1e-9);
/// # Ok::<(), jornada::Error>(())
/// ```
pub fn attribute_paths<S: AsRef<str>>(
    paths: &[S],
    total_conversions: &[f64],
    total_conversion_value: Option<&[f64]>,
    total_null: Option<&[f64]>,
    separator: &str,
    models: &[AttributionModel],
) -> Result<Attribution> {
    for (i, m) in models.iter().enumerate() {
        m.check(i)?;
        if let AttributionModel::TimeDecay { .. } = m {
            return Err(Error::InvalidValue {
                loc: Location::field(format!("models[{i}]")),
                message: "time decay needs touch times, which aggregated paths do not have".into(),
            });
        }
    }
    let set = paths::parse(
        paths,
        total_conversions,
        total_conversion_value,
        total_null,
        separator,
    )?;
    run_models(&set, models, None)
}

/// Runs the models on aggregated paths; `decay` holds the time-decay credits computed while
/// cutting a log (one entry per time-decay model, in order).
fn run_models(
    set: &paths::PathSet,
    models: &[AttributionModel],
    decay: Option<&[(Vec<f64>, Vec<f64>)]>,
) -> Result<Attribution> {
    let n = set.channels.len();
    let mut out = Vec::with_capacity(models.len());
    let mut decay_index = 0;
    for model in models {
        let mut credits = ModelCredits {
            model: model.clone(),
            conversions: vec![0.0; n],
            value: vec![0.0; n],
            markov: None,
            shapley: None,
        };
        match *model {
            AttributionModel::FirstTouch
            | AttributionModel::LastTouch
            | AttributionModel::Linear
            | AttributionModel::PositionBased { .. } => {
                heuristic::credit(set, model, &mut credits.conversions, &mut credits.value)
            }
            AttributionModel::TimeDecay { .. } => {
                let d =
                    decay
                        .and_then(|d| d.get(decay_index))
                        .ok_or_else(|| Error::InvalidValue {
                            loc: Location::field("models"),
                            message: "time decay needs touch times".into(),
                        })?;
                decay_index += 1;
                credits.conversions.clone_from(&d.0);
                credits.value.clone_from(&d.1);
            }
            AttributionModel::Markov { order } => {
                let chain = markov::Chain::fit(set, order);
                let details = chain.details(set);
                normalise_into(
                    &details.removal_effects,
                    set.total_conversions(),
                    &mut credits.conversions,
                );
                normalise_into(
                    &details.value_removal_effects,
                    set.total_value(),
                    &mut credits.value,
                );
                credits.markov = Some(details);
            }
            AttributionModel::Shapley(options) => {
                credits.shapley = Some(shapley::credit(
                    set,
                    &options,
                    &mut credits.conversions,
                    &mut credits.value,
                ));
            }
        }
        out.push(credits);
    }
    Ok(Attribution {
        channels: set.channels.clone(),
        models: out,
        summary: PathSummary {
            conversions: set.total_conversions(),
            value: set.total_value(),
            null_paths: set.nulls.iter().sum(),
            unattributed_conversions: 0.0,
            unattributed_value: 0.0,
            distinct_paths: set.len(),
        },
    })
}

/// `items.map(f)`, in order, with rayon when the `parallel` feature is on.
#[cfg(feature = "parallel")]
pub(crate) fn map_parallel<T: Sync, U: Send>(
    items: &[T],
    f: impl Fn(&T) -> U + Sync + Send,
) -> Vec<U> {
    use rayon::prelude::*;
    items.par_iter().map(f).collect()
}

/// `items.map(f)`, in order (the `parallel` feature is off).
#[cfg(not(feature = "parallel"))]
pub(crate) fn map_parallel<T, U>(items: &[T], f: impl Fn(&T) -> U) -> Vec<U> {
    items.iter().map(f).collect()
}

/// `out[c] = total × weights[c] / Σ weights` (all zero when the weights sum to zero).
fn normalise_into(weights: &[f64], total: f64, out: &mut [f64]) {
    let sum: f64 = weights.iter().sum();
    for (o, w) in out.iter_mut().zip(weights) {
        *o = if sum > 0.0 { total * w / sum } else { 0.0 };
    }
}
