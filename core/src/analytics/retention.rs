//! Retention: customers grouped into cohorts by the period of their first touch, and the share
//! of each cohort active in each later period; repeat-purchase rates.
//!
//! # Definitions
//! - **Periods** are UTC calendar days, ISO weeks (Monday 00:00 UTC to the next Monday) or
//!   calendar months.
//! - A customer's **cohort event** is their first event (first touch), or their first event
//!   matching `cohort_event` when given (customers without one are in no cohort). Their
//!   **cohort** is the period holding it.
//! - A customer is **active at offset k** when they have an event matching `active` (default:
//!   any event) at or after their cohort event, in the period `k` periods after their cohort's.
//!   With the default `active`, every customer is active at offset 0.
//! - Offsets are reported up to the log's last period (the period of its latest event), so a
//!   cohort has as many offsets as it could be observed for, capped by `periods` when given.
//!   The `total` row sums, per offset, the cohorts observable at that offset.
//! - **Repeat purchase** (with `repeat`, e.g. the `purchase` kind): *buyers* are customers with
//!   at least one matching event; *repeat buyers* those with a second one strictly later than
//!   their first (within `repeat_within` of the first when given); the rate is repeat buyers /
//!   buyers. Over each cohort's customers and over all customers.
//!
//! ```
//! use jornada::analytics::{retention, EventLog, Period, RetentionSpec};
//! use jornada::Timestamp;
//! let mut b = EventLog::builder();
//! let day = |d: &str| Timestamp::parse(&format!("2026-03-{d}T12:00:00Z")).unwrap();
//! b.push("a", day("02"), "web", "visit", None)?; // Monday of ISO week 10
//! b.push("a", day("10"), "web", "visit", None)?; // the next week
//! b.push("b", day("04"), "web", "visit", None)?; // week 10 as well, never back
//! let r = retention(&b.finish()?, &RetentionSpec::new(Period::Week))?;
//! assert_eq!(r.cohorts[0].start.to_string(), "2026-03-02T00:00:00Z");
//! assert_eq!(r.cohorts[0].active, [2, 1]);
//! assert_eq!(r.cohorts[0].share, [1.0, 0.5]);
//! # Ok::<(), jornada::Error>(())
//! ```

use super::select::{duration_serde, map_customers, non_negative, ratio, Compiled, EventFilter};
use crate::analytics::event_log::EventLog;
use crate::error::{Error, Result};
use crate::time::{civil_from_days, days_from_civil, Duration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const DAY: i64 = 86_400_000;

/// A calendar period, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// A calendar day.
    Day,
    /// An ISO week, from Monday 00:00.
    Week,
    /// A calendar month.
    Month,
}

impl Period {
    /// The index of the period holding `ms` (consecutive periods have consecutive indexes).
    pub fn index(self, ms: i64) -> i64 {
        let day = ms.div_euclid(DAY);
        match self {
            Period::Day => day,
            // 1970-01-01 was a Thursday: day 4 − 7 = −3 was a Monday.
            Period::Week => (day + 3).div_euclid(7),
            Period::Month => {
                let (y, m, _) = civil_from_days(day);
                y * 12 + m as i64 - 1
            }
        }
    }

    /// The first instant of the period with index `i`.
    pub fn start(self, i: i64) -> Timestamp {
        Timestamp(
            DAY * match self {
                Period::Day => i,
                Period::Week => i * 7 - 3,
                Period::Month => {
                    days_from_civil(i.div_euclid(12), (i.rem_euclid(12) + 1) as u32, 1)
                }
            },
        )
    }
}

/// A retention analysis. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSpec {
    /// Day, week or month.
    pub period: Period,
    /// What puts a customer in a cohort (default: their first event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort_event: Option<EventFilter>,
    /// What counts as activity (default: any event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<EventFilter>,
    /// At most this many offsets (0, 1, …) per cohort.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub periods: Option<usize>,
    /// The purchase, for repeat-purchase rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<EventFilter>,
    /// A repeat purchase counts only this long after the first.
    #[serde(
        default,
        with = "duration_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub repeat_within: Option<Duration>,
}

impl RetentionSpec {
    /// First-touch cohorts, any event is activity, no repeat figures.
    pub fn new(period: Period) -> Self {
        RetentionSpec {
            period,
            cohort_event: None,
            active: None,
            periods: None,
            repeat: None,
            repeat_within: None,
        }
    }
}

/// One cohort.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    /// The cohort's period.
    pub start: Timestamp,
    /// Customers in it.
    pub customers: u64,
    /// Per offset `k`, customers active `k` periods later.
    pub active: Vec<u64>,
    /// active / customers.
    pub share: Vec<f64>,
    /// Customers with a purchase (0 without `repeat`).
    pub buyers: u64,
    /// Customers with a repeat purchase.
    pub repeat_buyers: u64,
    /// repeat buyers / buyers.
    pub repeat_rate: f64,
}

/// All cohorts together at one offset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OffsetTotal {
    /// Customers of the cohorts observable at this offset.
    pub customers: u64,
    /// Of them, active at this offset.
    pub active: u64,
    /// active / customers.
    pub share: f64,
}

/// Repeat purchases over all customers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepeatPurchase {
    /// Customers with a purchase.
    pub buyers: u64,
    /// Customers with a repeat purchase.
    pub repeat_buyers: u64,
    /// repeat buyers / buyers.
    pub rate: f64,
}

/// A retention table. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retention {
    /// The period.
    pub period: Period,
    /// Cohorts in time order.
    pub cohorts: Vec<Cohort>,
    /// Per offset, all observable cohorts together.
    pub total: Vec<OffsetTotal>,
    /// Repeat purchases over all customers (with `repeat`).
    pub repeat: Option<RepeatPurchase>,
}

#[derive(Default, Clone, Copy)]
struct Acc {
    customers: u64,
    buyers: u64,
    repeat: u64,
}

/// Tables up to this many cells are counted densely per unit of work.
const DENSE_CELLS: u64 = 4096;

/// Most cells (cohorts × offsets) a retention table may have.
const MAX_CELLS: u64 = 20_000_000;

/// Cohorts and retention. See the [module docs](self).
pub fn retention(log: &EventLog, spec: &RetentionSpec) -> Result<Retention> {
    let cohort_event = spec
        .cohort_event
        .as_ref()
        .map(|f| Compiled::new(log, f, "cohort_event"))
        .transpose()?;
    let active = spec
        .active
        .as_ref()
        .map(|f| Compiled::new(log, f, "active"))
        .transpose()?
        .filter(|c| !c.is_all());
    let repeat = spec
        .repeat
        .as_ref()
        .map(|f| Compiled::new(log, f, "repeat"))
        .transpose()?;
    let within = spec
        .repeat_within
        .map(|d| non_negative(d, "repeat_within"))
        .transpose()?
        .unwrap_or(i64::MAX);
    let at = log.at();
    let period = spec.period;
    let first = at.iter().min().map(|&t| period.index(t));
    let last = at.iter().max().map(|&t| period.index(t));
    let cap = spec.periods.unwrap_or(usize::MAX);
    let mut cells = 0u64;
    if let (Some(first), Some(last)) = (first, last) {
        let n = (last - first + 1) as u64;
        cells = n.saturating_mul(n.min(cap as u64));
        if cells > MAX_CELLS {
            return Err(Error::Capacity {
                message: format!(
                    "{n} {period:?} cohorts over as many periods is more than {MAX_CELLS} cells; use a longer period or `periods`"
                ),
            });
        }
    }
    // Per unit of work: cohort sizes, and the active counts, in a dense table when it is small
    // (cohort − first period, offset), else as one mark per customer and active offset.
    let dense = cells <= DENSE_CELLS;
    let base = first.unwrap_or(0);
    let width = last.map_or(0, |l| ((l - base + 1) as usize).min(cap));
    let parts = map_customers(log.n_customers(), |range| {
        let mut cohorts: BTreeMap<i64, Acc> = BTreeMap::new();
        let mut marks: Vec<(i64, u32)> = Vec::new();
        let mut table: Vec<u64> = if dense {
            vec![0; cells as usize]
        } else {
            Vec::new()
        };
        let mut buyers = 0u64;
        let mut repeaters = 0u64;
        for c in range {
            let rows = log.customer_rows(c);
            let (bought, repeated) = match &repeat {
                Some(f) => {
                    let mut first = None;
                    let mut again = false;
                    for r in rows.clone() {
                        if f.matches(r) {
                            match first {
                                None => first = Some(at[r]),
                                Some(t0) if at[r] > t0 && at[r] - t0 <= within => {
                                    again = true;
                                    break;
                                }
                                Some(_) => {}
                            }
                        }
                    }
                    (first.is_some(), again)
                }
                None => (false, false),
            };
            buyers += bought as u64;
            repeaters += repeated as u64;
            let start = match &cohort_event {
                Some(f) => rows.clone().find(|&r| f.matches(r)),
                None => Some(rows.start).filter(|_| !rows.is_empty()),
            };
            let Some(start) = start else { continue };
            let p0 = period.index(at[start]);
            let span = ((last.expect("a customer has events") - p0) as usize + 1).min(cap);
            let acc = cohorts.entry(p0).or_default();
            acc.customers += 1;
            acc.buyers += bought as u64;
            acc.repeat += repeated as u64;
            let mut seen = -1i64;
            for (r, &t) in at.iter().enumerate().take(rows.end).skip(start) {
                if active.as_ref().is_some_and(|f| !f.matches(r)) {
                    continue;
                }
                let k = period.index(t) - p0;
                if k != seen {
                    seen = k;
                    if (k as usize) >= span {
                        break;
                    }
                    if dense {
                        table[(p0 - base) as usize * width + k as usize] += 1;
                    } else {
                        marks.push((p0, k as u32));
                    }
                }
            }
        }
        (cohorts, marks, table, buyers, repeaters)
    });
    let mut cohorts: BTreeMap<i64, (Acc, Vec<u64>)> = BTreeMap::new();
    let mut buyers = 0;
    let mut repeaters = 0;
    for (part, marks, table, b, r) in parts {
        buyers += b;
        repeaters += r;
        for (p, a) in part {
            let span = ((last.expect("cohorts have events") - p) as usize + 1).min(cap);
            let e = cohorts
                .entry(p)
                .or_insert_with(|| (Acc::default(), vec![0; span]));
            e.0.customers += a.customers;
            e.0.buyers += a.buyers;
            e.0.repeat += a.repeat;
        }
        for (p, k) in marks {
            cohorts.get_mut(&p).expect("marked cohorts exist").1[k as usize] += 1;
        }
        for (i, &n) in table.iter().enumerate().filter(|x| *x.1 > 0) {
            let p = base + (i / width) as i64;
            cohorts.get_mut(&p).expect("counted cohorts exist").1[i % width] += n;
        }
    }
    let width = cohorts.values().map(|a| a.1.len()).max().unwrap_or(0);
    let mut total: Vec<OffsetTotal> = (0..width)
        .map(|_| OffsetTotal {
            customers: 0,
            active: 0,
            share: 0.0,
        })
        .collect();
    for (a, active) in cohorts.values() {
        for (k, &n) in active.iter().enumerate() {
            total[k].customers += a.customers;
            total[k].active += n;
        }
    }
    for t in &mut total {
        t.share = ratio(t.active, t.customers);
    }
    Ok(Retention {
        period,
        cohorts: cohorts
            .into_iter()
            .map(|(p, (a, active))| Cohort {
                start: period.start(p),
                customers: a.customers,
                share: active.iter().map(|&n| ratio(n, a.customers)).collect(),
                active,
                buyers: a.buyers,
                repeat_buyers: a.repeat,
                repeat_rate: ratio(a.repeat, a.buyers),
            })
            .collect(),
        total,
        repeat: repeat.map(|_| RepeatPurchase {
            buyers,
            repeat_buyers: repeaters,
            rate: ratio(repeaters, buyers),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_indexes_and_starts() {
        let t = |s: &str| Timestamp::parse(s).unwrap().0;
        // 2026-03-01 is a Sunday: its ISO week began Monday 2026-02-23.
        let w = Period::Week.index(t("2026-03-01T23:59:59.999Z"));
        assert_eq!(Period::Week.start(w).to_string(), "2026-02-23T00:00:00Z");
        assert_eq!(Period::Week.index(t("2026-03-02T00:00:00Z")), w + 1);
        assert_eq!(Period::Week.start(0).to_string(), "1969-12-29T00:00:00Z");
        let m = Period::Month.index(t("2024-02-29T12:00:00Z"));
        assert_eq!(Period::Month.start(m).to_string(), "2024-02-01T00:00:00Z");
        assert_eq!(
            Period::Month.start(m + 11).to_string(),
            "2025-01-01T00:00:00Z"
        );
        assert_eq!(
            Period::Month.index(t("1969-12-31T23:00:00Z")),
            1969 * 12 + 11
        );
        let d = Period::Day.index(t("1969-12-31T23:00:00Z"));
        assert_eq!(d, -1);
        assert_eq!(Period::Day.start(d).to_string(), "1969-12-31T00:00:00Z");
    }
}
