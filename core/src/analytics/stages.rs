//! Figures per stage from a [`Replay`], each with its exact definition.
//!
//! Terms used throughout:
//! - A **stay** is one entry of a customer's stage history: the customer entered stage `s` at
//!   time `a`. It is **completed** when the customer later entered another stage (the next
//!   history entry, at time `b`); its **duration** is `b - a` (zero when both happened at the
//!   same instant, such as `visitor` → `browsing` on a first product view). The last stay of each
//!   customer is **open**: they were still in that stage at the replay's `until`.
//! - Every completed stay ends with exactly one transition to another stage, so for each stage:
//!   stays = completed stays + open stays = Σ transitions out of it + customers in it now.
//!
//! | function | figure |
//! | --- | --- |
//! | [`customers_per_stage`] | customers whose stage at `until` is `s` |
//! | [`time_in_stage`] | count, mean, median and p90 of the durations of completed stays in `s`; open stays counted apart |
//! | [`transition_matrix`] | counts of transitions `i → j`, stays and open stays per stage; `P(i → j) = count(i → j) / stays(i)` |
//! | [`funnel`] | customers reaching each step of an ordered list of stages, in order; conversion and drop-off per step |
//! | [`scoring_table`], [`TransitionMatrix::reach`] | probability of eventually reaching a target stage from each stage, and the expected time to reach it |
//!
//! ```
//! use jornada::analytics::{replay, stages, EventLog, ReplayOptions};
//! use jornada::{Model, Timestamp};
//! let model = Model::preset("ecommerce")?;
//! let t = |ms: i64| Timestamp::from_millis(1_772_323_200_000 + ms);
//! let mut b = EventLog::builder();
//! b.push("a", t(0), "web", "add_to_cart", None)?;
//! b.push("a", t(600_000), "web", "purchase", Some(20.0))?; // 10 minutes in the cart
//! b.push("b", t(0), "web", "add_to_cart", None)?;
//! b.push("b", t(7_200_000), "web", "page_view", None)?; // cart abandoned at 1 h
//! let r = replay(&model, &b.finish()?, &ReplayOptions::default())?;
//! let now: Vec<(String, u64)> = stages::customers_per_stage(&r)
//!     .into_iter().filter(|s| s.customers > 0)
//!     .map(|s| (s.stage.to_string(), s.customers)).collect();
//! assert_eq!(now, [("abandoned_cart".to_string(), 1), ("customer".to_string(), 1)]);
//! let cart = &stages::time_in_stage(&r)[3];
//! assert_eq!((&*cart.stage, cart.completed, cart.open), ("cart", 2, 0));
//! assert_eq!(cart.median_ms, Some(600_000)); // nearest rank: the lower of 10 min and 1 h
//! assert_eq!(cart.mean_ms, Some(2_100_000.0));
//! // From `cart`, half the stays ended in a purchase (after 10 minutes).
//! let score = stages::scoring_table(&r, "customer")?;
//! assert_eq!(score[3].stage, "cart");
//! assert_eq!(score[3].p, 0.5);
//! assert_eq!(score[3].expected_ms, Some(600_000.0));
//! # Ok::<(), jornada::Error>(())
//! ```

use super::absorbing::{absorption_probabilities, solve_linear};
use super::replay::Replay;
use crate::error::{Error, Location, Result};
use serde::Serialize;
use std::sync::Arc;

/// Customers in a stage at the replay's `until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageCount {
    /// The stage.
    pub stage: Arc<str>,
    /// Customers whose stage at `until` is this one.
    pub customers: u64,
}

/// Customers per stage at `until`, in model stage order. Customers none of whose events was
/// replayed have no stage and are not counted.
pub fn customers_per_stage(r: &Replay) -> Vec<StageCount> {
    let names = stage_names(r);
    let mut n = vec![0u64; names.len()];
    for &s in r.final_stages() {
        if let Some(x) = n.get_mut(s as usize) {
            *x += 1;
        }
    }
    names
        .into_iter()
        .zip(n)
        .map(|(stage, customers)| StageCount { stage, customers })
        .collect()
}

/// Time spent in one stage (see the [module docs](self) for stays).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageTime {
    /// The stage.
    pub stage: Arc<str>,
    /// Completed stays: the durations below are over these.
    pub completed: u64,
    /// Open stays (customers still in the stage at `until`): not in the durations.
    pub open: u64,
    /// Mean duration in milliseconds (`None` without completed stays).
    pub mean_ms: Option<f64>,
    /// Median duration: the nearest-rank 0.5 quantile, i.e. the `⌈n/2⌉`-th smallest (the lower
    /// middle for an even count).
    pub median_ms: Option<i64>,
    /// 90th percentile: the nearest-rank 0.9 quantile, the `⌈0.9·n⌉`-th smallest.
    pub p90_ms: Option<i64>,
}

/// The nearest-rank `p`-quantile of `v` (reorders it): the `⌈p·n⌉`-th smallest value.
fn nearest_rank(v: &mut [i64], p: f64) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(*v.select_nth_unstable(rank - 1).1)
}

/// Time in each stage, in model stage order. See [`StageTime`] for the definitions.
pub fn time_in_stage(r: &Replay) -> Vec<StageTime> {
    let names = stage_names(r);
    let mut durations: Vec<Vec<i64>> = vec![Vec::new(); names.len()];
    let mut open = vec![0u64; names.len()];
    let t = r.transitions();
    for c in 0..r.n_customers() {
        let h = r.history(c);
        for i in h.clone() {
            let s = t.to[i] as usize;
            if i + 1 < h.end {
                durations[s].push(t.at[i + 1] - t.at[i]);
            } else {
                open[s] += 1;
            }
        }
    }
    names
        .into_iter()
        .zip(durations)
        .zip(open)
        .map(|((stage, mut d), open)| {
            let sum: i128 = d.iter().map(|&x| x as i128).sum();
            StageTime {
                stage,
                completed: d.len() as u64,
                open,
                mean_ms: (!d.is_empty()).then(|| sum as f64 / d.len() as f64),
                median_ms: nearest_rank(&mut d, 0.5),
                p90_ms: nearest_rank(&mut d, 0.9),
            }
        })
        .collect()
}

/// Observed stage-to-stage transitions (see the [module docs](self)). Matrices are `n × n`,
/// row-major, `n` the number of stages in model order; row `i` is the stage left.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransitionMatrix {
    /// Stage names, in model order.
    pub stages: Vec<Arc<str>>,
    /// `counts[i * n + j]`: transitions from stage `i` to stage `j` (the initial entry, which
    /// has no `from`, is not a transition here).
    pub counts: Vec<u64>,
    /// `duration_ms[i * n + j]`: the summed durations of the stays in `i` that ended by moving
    /// to `j`.
    pub duration_ms: Vec<f64>,
    /// Stays per stage (all entries, the initial one included).
    pub stays: Vec<u64>,
    /// Open stays per stage (= customers in the stage at `until`).
    pub open: Vec<u64>,
    /// Distinct customers who entered the stage at least once.
    pub customers: Vec<u64>,
}

impl TransitionMatrix {
    /// Number of stages.
    pub fn n(&self) -> usize {
        self.stages.len()
    }

    /// `P(i → j) = counts(i → j) / stays(i)`: the share of stays in `i` that ended by moving to
    /// `j` (0 when `i` was never entered).
    pub fn probability(&self, i: usize, j: usize) -> f64 {
        ratio(self.counts[i * self.n() + j], self.stays[i])
    }

    /// `open(i) / stays(i)`: the share of stays in `i` that had not ended at `until` (the
    /// drop-off at `i`; with [`probability`](Self::probability) a row sums to 1).
    pub fn stay_probability(&self, i: usize) -> f64 {
        ratio(self.open[i], self.stays[i])
    }

    /// For each stage, the probability of eventually reaching stage `target`, and the expected
    /// time to reach it given that it is reached (milliseconds; `None` when the probability is 0).
    ///
    /// The observed transitions are read as an absorbing Markov chain over stages: from stage
    /// `i` the next stage is `j` with probability [`probability(i, j)`](Self::probability), and
    /// with [`stay_probability(i)`](Self::stay_probability) the journey ends in `i`. `target` is
    /// absorbing. The reach probability `h` is the absorption probability, solved exactly
    /// ([`absorption_probabilities`]). For the time, each move `i → j` takes the mean observed
    /// duration of the stays in `i` that ended in `j` (a semi-Markov chain); with
    /// `g(i) = E[time to target · 1(target reached)]` from `i`,
    /// `g(i) = Σ_j P(i → j) · (d(i, j) · h(j) + g(j))` (`h(target) = 1`, `g(target) = 0`), solved
    /// exactly, and the expected time is `g(i) / h(i)`. The target itself has probability 1 and
    /// time 0; stages never entered have probability 0.
    pub fn reach(&self, target: usize) -> Vec<(f64, Option<f64>)> {
        let n = self.n();
        assert!(target < n, "target stage out of range");
        let transient: Vec<usize> = (0..n).filter(|&i| i != target).collect();
        let k = transient.len();
        let mut q = vec![0.0; k * k];
        let mut rr = vec![0.0; k];
        for (x, &i) in transient.iter().enumerate() {
            for (y, &j) in transient.iter().enumerate() {
                q[x * k + y] = self.probability(i, j);
            }
            rr[x] = self.probability(i, target);
        }
        let h = absorption_probabilities(&q, &rr, k, 1);
        // Expected time, on the states that reach the target.
        let live: Vec<usize> = (0..k).filter(|&x| h[x] > 0.0).collect();
        let l = live.len();
        let mut a = vec![0.0; l * l];
        let mut c = vec![0.0; l];
        for (u, &x) in live.iter().enumerate() {
            let i = transient[x];
            let stays = self.stays[i] as f64;
            for (v, &y) in live.iter().enumerate() {
                let j = transient[y];
                a[u * l + v] = f64::from(u8::from(u == v)) - q[x * k + y];
                c[u] += self.duration_ms[i * n + j] / stays * h[y];
            }
            c[u] += self.duration_ms[i * n + target] / stays;
        }
        let g =
            solve_linear(a, l, c, 1).expect("I - Q on states that reach the target is invertible");
        let mut out = vec![(0.0, None); n];
        out[target] = (1.0, Some(0.0));
        for (u, &x) in live.iter().enumerate() {
            out[transient[x]] = (h[x], Some(g[u] / h[x]));
        }
        out
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// The observed transitions of a replay. See [`TransitionMatrix`].
pub fn transition_matrix(r: &Replay) -> TransitionMatrix {
    let stages = stage_names(r);
    let n = stages.len();
    let mut m = TransitionMatrix {
        counts: vec![0; n * n],
        duration_ms: vec![0.0; n * n],
        stays: vec![0; n],
        open: vec![0; n],
        customers: vec![0; n],
        stages,
    };
    let mut durations = vec![0i128; n * n];
    let mut last_seen = vec![usize::MAX; n];
    let t = r.transitions();
    for c in 0..r.n_customers() {
        let h = r.history(c);
        for i in h.clone() {
            let s = t.to[i] as usize;
            m.stays[s] += 1;
            if last_seen[s] != c {
                last_seen[s] = c;
                m.customers[s] += 1;
            }
            if i + 1 < h.end {
                let j = t.to[i + 1] as usize;
                m.counts[s * n + j] += 1;
                durations[s * n + j] += (t.at[i + 1] - t.at[i]) as i128;
            } else {
                m.open[s] += 1;
            }
        }
    }
    for (d, x) in m.duration_ms.iter_mut().zip(durations) {
        *d = x as f64;
    }
    m
}

/// One step of a [`funnel`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelStep {
    /// The stage.
    pub stage: Arc<str>,
    /// Customers who reached this step (having reached every earlier step, in order).
    pub customers: u64,
    /// `customers / customers of the previous step` (`None` for the first step, or when the
    /// previous step has no customers). The drop-off is `1 - conversion`.
    pub conversion: Option<f64>,
    /// `customers / customers of the first step` (`None` when the first step has none).
    pub of_first: Option<f64>,
}

/// An ordered funnel over stages: a customer reaches step 0 at their first entry into
/// `steps[0]`, and step `k` at their first entry into `steps[k]` after (later in their stage
/// history than) the entry that reached step `k - 1`. Errors with `invalid_value` naming
/// `steps[i]` for an unknown stage name or an empty list.
pub fn funnel(r: &Replay, steps: &[&str]) -> Result<Vec<FunnelStep>> {
    if steps.is_empty() {
        return Err(Error::InvalidValue {
            loc: Location::field("steps"),
            message: "a funnel needs at least one stage".into(),
        });
    }
    let codes = steps
        .iter()
        .enumerate()
        .map(|(i, s)| stage_code(r, s, &format!("steps[{i}]")))
        .collect::<Result<Vec<u16>>>()?;
    let mut reached = vec![0u64; steps.len()];
    let t = r.transitions();
    for c in 0..r.n_customers() {
        let mut step = 0;
        for i in r.history(c) {
            if step < codes.len() && t.to[i] == codes[step] {
                reached[step] += 1;
                step += 1;
            }
        }
    }
    let names = stage_names(r);
    Ok(codes
        .iter()
        .enumerate()
        .map(|(k, &s)| FunnelStep {
            stage: names[s as usize].clone(),
            customers: reached[k],
            conversion: (k > 0 && reached[k - 1] > 0)
                .then(|| reached[k] as f64 / reached[k - 1] as f64),
            of_first: (reached[0] > 0).then(|| reached[k] as f64 / reached[0] as f64),
        })
        .collect())
}

/// One row of a scoring table: how likely a customer in `stage` is to reach the target stage,
/// and how long it takes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageScore {
    /// The stage.
    pub stage: String,
    /// Probability of eventually reaching the target from this stage.
    pub p: f64,
    /// Expected time to reach the target, given that it is reached, in milliseconds (`None`
    /// when `p` is 0).
    pub expected_ms: Option<f64>,
}

/// Per stage (model order), the probability of eventually reaching `target` and the expected
/// time to reach it, from the replay's observed transitions: [`TransitionMatrix::reach`] has
/// the exact definition. Errors with `invalid_value` for an unknown target stage.
pub fn scoring_table(r: &Replay, target: &str) -> Result<Vec<StageScore>> {
    let t = stage_code(r, target, "target")?;
    let m = transition_matrix(r);
    Ok(m.reach(t as usize)
        .into_iter()
        .zip(&m.stages)
        .map(|((p, expected_ms), s)| StageScore {
            stage: s.to_string(),
            p,
            expected_ms,
        })
        .collect())
}

/// The scoring table of [`scoring_table`] in the model format's `scoring` field, ready for
/// [`Model::with_scoring`](crate::Model::with_scoring): stages no customer entered are left
/// out (no figures rather than a made-up 0), expected times are rounded to milliseconds.
///
/// ```
/// use jornada::analytics::{replay, simulate, stages, ReplayOptions, SimConfig};
/// use jornada::Model;
/// let model = Model::preset("ecommerce")?;
/// let log = simulate(&model, &SimConfig { customers: 500, seed: 1, ..Default::default() });
/// let r = replay(&model, &log, &ReplayOptions::default())?;
/// let scored = model.with_scoring(stages::scoring_spec(&r, "customer", "simulated, 500 customers")?)?;
/// let table = scored.spec().scoring.as_ref().unwrap();
/// assert_eq!(table.stages["customer"].p_convert, 1.0);
/// assert!(table.stages["cart"].p_convert > 0.0 && table.stages["cart"].p_convert < 1.0);
/// # Ok::<(), jornada::Error>(())
/// ```
pub fn scoring_spec(
    r: &Replay,
    target: &str,
    description: &str,
) -> Result<crate::model::spec::ScoringSpec> {
    let rows = scoring_table(r, target)?;
    let m = transition_matrix(r);
    let stages = rows
        .into_iter()
        .zip(&m.stays)
        .filter(|(_, &stays)| stays > 0)
        .map(|(row, _)| {
            let expected_time = row
                .expected_ms
                .filter(|ms| ms.is_finite())
                .map(|ms| crate::Duration::from_millis(ms.round() as i64).to_string());
            (
                row.stage,
                crate::model::spec::StageScoreSpec {
                    p_convert: row.p.clamp(0.0, 1.0),
                    expected_time,
                },
            )
        })
        .collect();
    Ok(crate::model::spec::ScoringSpec {
        target: target.to_string(),
        horizon: None,
        description: description.to_string(),
        stages,
    })
}

fn stage_names(r: &Replay) -> Vec<Arc<str>> {
    r.model()
        .inner
        .stages
        .iter()
        .map(|s| s.name.clone())
        .collect()
}

fn stage_code(r: &Replay, name: &str, field: &str) -> Result<u16> {
    r.model()
        .stage_index(name)
        .map(|i| i as u16)
        .ok_or_else(|| Error::InvalidValue {
            loc: Location::field(field),
            message: format!("unknown stage `{name}`"),
        })
}
