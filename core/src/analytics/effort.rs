//! Customer effort and experience: the "reduce customer effort" figures, per customer and
//! overall.
//!
//! # Definitions (events in log order: time, then kind and channel names)
//! - **Conversion**: the customer's first event matching `conversion` (default: kind
//!   `purchase`). *Touches to conversion*: their events strictly earlier than it; *time to
//!   conversion*: from their first event to it.
//! - **Channels**: distinct channels of the customer's events; a *channel switch* is two
//!   consecutive events on different channels.
//! - **Support contacts** (events matching `support`, default kind `support_contact`): a
//!   contact is a *repeat contact* when the customer's previous contact was at most
//!   `repeat_contact_within` earlier. Contacts form *issues*: a contact more than
//!   `resolution_after` after the previous one starts a new issue. An issue is *resolved* when
//!   no further contact follows within `resolution_after` of its last contact, as far as the log
//!   shows: the next contact is later than that, or there is none and the log's latest event is
//!   at least `resolution_after` after it (otherwise the issue is *open*). Contacts to
//!   resolution, time to resolve (first to last contact) and channels per issue are over
//!   resolved issues.
//! - **Carts** (events matching `cart`, default kind `add_to_cart`): a cart event opens an
//!   *episode* unless one is open; later cart events join it. A conversion event after it and
//!   at most `abandon_after` after the episode's first event converts and closes it; otherwise
//!   it is *abandoned* once that time has passed (an episode whose time has not passed by the
//!   log's latest event is neither). An abandoned episode is *recovered* by a later conversion
//!   (within `recovery_within` of the episode's first event, when given).
//! - **Sessions**: a gap of more than `session_timeout` between consecutive events starts a new
//!   session; a session's length is from its first to its last event.
//!
//! Overall figures: means over the customers (or issues, sessions) concerned, medians by
//! nearest rank (the lower middle for an even count); a rate with a zero denominator is 0.
//!
//! ```
//! use jornada::analytics::{effort, EffortSpec, EventLog};
//! use jornada::Timestamp;
//! let mut b = EventLog::builder();
//! let m = |x: i64| Timestamp::from_millis(x * 60_000);
//! b.push("a", m(0), "web", "add_to_cart", None)?;
//! b.push("a", m(90), "app", "purchase", None)?; // 1h30 later: abandoned, then recovered
//! b.push("a", m(200), "support", "support_contact", None)?;
//! let r = effort(&b.finish()?, &EffortSpec::default())?;
//! let a = &r.customers[0];
//! assert_eq!((a.touches_to_conversion, a.channel_switches), (Some(1), 2));
//! assert_eq!((a.abandoned_carts, a.recovered_carts), (1, 1));
//! assert_eq!(r.summary.sessions, 3); // gaps of 90 and 110 minutes
//! # Ok::<(), jornada::Error>(())
//! ```

use super::select::{
    duration_serde, map_customers_into, non_negative, percentile, ratio, Compiled, EventFilter,
    MaskTable,
};
use crate::analytics::event_log::EventLog;
use crate::error::Result;
use crate::time::Duration;
use serde::{Deserialize, Serialize};

const DAY: f64 = 86_400_000.0;
const CONV: u8 = 1;
const SUPPORT: u8 = 2;
const CART: u8 = 4;

/// Options of [`effort`]. The defaults use the `ecommerce` preset's names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffortSpec {
    /// What converting is (none: no conversion figures).
    #[serde(default = "default_conversion")]
    pub conversion: Option<EventFilter>,
    /// What a support contact is (none: no support figures).
    #[serde(default = "default_support")]
    pub support: Option<EventFilter>,
    /// A contact this soon after the previous one is a repeat contact (default 7 days).
    #[serde(default = "days7", with = "duration_serde")]
    pub repeat_contact_within: Duration,
    /// An issue is resolved when no contact follows within this (default 7 days).
    #[serde(default = "days7", with = "duration_serde")]
    pub resolution_after: Duration,
    /// What adding to the cart is (none: no cart figures).
    #[serde(default = "default_cart")]
    pub cart: Option<EventFilter>,
    /// A cart not converted within this is abandoned (default 1 hour).
    #[serde(default = "hour", with = "duration_serde")]
    pub abandon_after: Duration,
    /// A later conversion recovers an abandoned cart only within this of the cart (default:
    /// any time).
    #[serde(
        default,
        with = "duration_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub recovery_within: Option<Duration>,
    /// Inactivity that ends a session (default 30 minutes).
    #[serde(default = "minutes30", with = "duration_serde")]
    pub session_timeout: Duration,
}

fn default_conversion() -> Option<EventFilter> {
    Some(EventFilter::kind("purchase"))
}
fn default_support() -> Option<EventFilter> {
    Some(EventFilter::kind("support_contact"))
}
fn default_cart() -> Option<EventFilter> {
    Some(EventFilter::kind("add_to_cart"))
}
fn days7() -> Duration {
    Duration(7 * 86_400_000)
}
fn hour() -> Duration {
    Duration(3_600_000)
}
fn minutes30() -> Duration {
    Duration(1_800_000)
}

impl Default for EffortSpec {
    fn default() -> Self {
        EffortSpec {
            conversion: default_conversion(),
            support: default_support(),
            repeat_contact_within: days7(),
            resolution_after: days7(),
            cart: default_cart(),
            abandon_after: hour(),
            recovery_within: None,
            session_timeout: minutes30(),
        }
    }
}

/// One customer's figures. See the [module docs](self).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CustomerEffort {
    /// Events.
    pub events: u32,
    /// Events strictly before the first conversion (none without one).
    pub touches_to_conversion: Option<u32>,
    /// From the first event to the first conversion, milliseconds.
    pub time_to_conversion_ms: Option<i64>,
    /// Distinct channels.
    pub channels: u32,
    /// Consecutive events on different channels.
    pub channel_switches: u32,
    /// Support contacts.
    pub support_contacts: u32,
    /// Contacts at most `repeat_contact_within` after the previous contact.
    pub repeat_contacts: u32,
    /// Issues (runs of contacts).
    pub issues: u32,
    /// Resolved issues.
    pub resolved_issues: u32,
    /// Contacts in resolved issues.
    pub contacts_to_resolution: u32,
    /// Sum over resolved issues of first-to-last-contact time, milliseconds.
    pub resolution_ms: i64,
    /// Cart episodes.
    pub carts: u32,
    /// Abandoned episodes.
    pub abandoned_carts: u32,
    /// Abandoned episodes later recovered.
    pub recovered_carts: u32,
    /// Sessions.
    pub sessions: u32,
    /// Sum of session lengths, milliseconds.
    pub session_ms: i64,
}

/// The overall figures. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffortSummary {
    /// Customers.
    pub customers: u64,
    /// Customers with a conversion.
    pub converters: u64,
    /// Mean touches to conversion, over converters.
    pub mean_touches_to_conversion: f64,
    /// Median touches to conversion.
    pub median_touches_to_conversion: Option<u32>,
    /// Mean days from first event to conversion, over converters.
    pub mean_days_to_conversion: f64,
    /// Median days to conversion.
    pub median_days_to_conversion: Option<f64>,
    /// Mean distinct channels per customer.
    pub mean_channels: f64,
    /// Share of customers on more than one channel.
    pub multichannel_share: f64,
    /// Mean channel switches per customer.
    pub mean_channel_switches: f64,
    /// Support contacts.
    pub support_contacts: u64,
    /// Repeat contacts.
    pub repeat_contacts: u64,
    /// repeat contacts / contacts.
    pub repeat_contact_rate: f64,
    /// Customers with at least one repeat contact.
    pub customers_with_repeat_contact: u64,
    /// Issues.
    pub issues: u64,
    /// Resolved issues.
    pub resolved_issues: u64,
    /// Mean contacts per resolved issue.
    pub mean_contacts_to_resolution: f64,
    /// Median contacts per resolved issue.
    pub median_contacts_to_resolution: Option<u32>,
    /// Median time to resolve (first to last contact), milliseconds.
    pub median_resolution_ms: Option<i64>,
    /// Mean distinct channels per resolved issue (channel hopping).
    pub mean_channels_per_resolved_issue: f64,
    /// Cart episodes.
    pub carts: u64,
    /// Abandoned episodes.
    pub abandoned_carts: u64,
    /// abandoned / carts.
    pub abandonment_rate: f64,
    /// Recovered episodes.
    pub recovered_carts: u64,
    /// recovered / abandoned.
    pub recovery_rate: f64,
    /// Sessions.
    pub sessions: u64,
    /// Mean session length, milliseconds.
    pub mean_session_ms: f64,
    /// Mean events per session.
    pub mean_events_per_session: f64,
}

/// Per-customer figures (indexed by customer code) and the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffortReport {
    /// Per customer, indexed by customer code (see [`EventLog::customers`]).
    pub customers: Vec<CustomerEffort>,
    /// Overall.
    pub summary: EffortSummary,
}

/// Sums over customers, per unit of work.
#[derive(Default, Clone, Copy)]
struct Sums {
    channels: u64,
    multichannel: u64,
    switches: u64,
    support: u64,
    repeat: u64,
    with_repeat: u64,
    issues: u64,
    carts: u64,
    abandoned: u64,
    recovered: u64,
    sessions: u64,
    session_ms: i128,
    events: u64,
}

impl Sums {
    fn add(&mut self, e: &CustomerEffort) {
        self.channels += e.channels as u64;
        self.multichannel += (e.channels > 1) as u64;
        self.switches += e.channel_switches as u64;
        self.support += e.support_contacts as u64;
        self.repeat += e.repeat_contacts as u64;
        self.with_repeat += (e.repeat_contacts > 0) as u64;
        self.issues += e.issues as u64;
        self.carts += e.carts as u64;
        self.abandoned += e.abandoned_carts as u64;
        self.recovered += e.recovered_carts as u64;
        self.sessions += e.sessions as u64;
        self.session_ms += e.session_ms as i128;
        self.events += e.events as u64;
    }

    fn merge(&mut self, o: &Sums) {
        self.channels += o.channels;
        self.multichannel += o.multichannel;
        self.switches += o.switches;
        self.support += o.support;
        self.repeat += o.repeat;
        self.with_repeat += o.with_repeat;
        self.issues += o.issues;
        self.carts += o.carts;
        self.abandoned += o.abandoned;
        self.recovered += o.recovered;
        self.sessions += o.sessions;
        self.session_ms += o.session_ms;
        self.events += o.events;
    }
}

#[derive(Default)]
struct Part {
    sums: Sums,
    touches: Vec<i64>,
    days: Vec<i64>,
    issue_contacts: Vec<i64>,
    issue_ms: Vec<i64>,
    issue_channels: u64,
}

/// A run of support contacts.
struct Issue {
    first: i64,
    last: i64,
    contacts: u32,
    channels: u32,
}

fn close_issue(p: &mut Part, e: &mut CustomerEffort, i: Issue, resolved: bool) {
    e.issues += 1;
    if resolved {
        e.resolved_issues += 1;
        e.contacts_to_resolution += i.contacts;
        e.resolution_ms += i.last - i.first;
        p.issue_contacts.push(i.contacts as i64);
        p.issue_ms.push(i.last - i.first);
        p.issue_channels += i.channels as u64;
    }
}

/// Effort and experience figures. See the [module docs](self).
pub fn effort(log: &EventLog, spec: &EffortSpec) -> Result<EffortReport> {
    let filter = |f: &Option<EventFilter>, field: &str| match f {
        Some(f) => Compiled::new(log, f, field),
        None => Ok(Compiled::never(log)),
    };
    let (has_support, has_cart) = (spec.support.is_some(), spec.cart.is_some());
    // Bits: 1 conversion, 2 support contact, 4 cart.
    let masks = MaskTable::new(
        log,
        vec![
            filter(&spec.conversion, "conversion")?,
            filter(&spec.support, "support")?,
            filter(&spec.cart, "cart")?,
        ],
    );
    let repeat_w = non_negative(spec.repeat_contact_within, "repeat_contact_within")?;
    let resolve_w = non_negative(spec.resolution_after, "resolution_after")?;
    let abandon_w = non_negative(spec.abandon_after, "abandon_after")?;
    let recover_w = spec
        .recovery_within
        .map(|d| non_negative(d, "recovery_within"))
        .transpose()?
        .unwrap_or(i64::MAX);
    let timeout = non_negative(spec.session_timeout, "session_timeout")?;
    let at = log.at();
    let chans = log.channel_codes();
    let log_end = at.iter().copied().max().unwrap_or(0);
    let n_channels = log.channels().len();
    let mut customers = vec![CustomerEffort::default(); log.n_customers()];
    let parts = map_customers_into(&mut customers, |range, slots| {
        let mut p = Part::default();
        let mut seen = vec![u32::MAX; n_channels];
        let mut issue_seen = vec![u32::MAX; n_channels];
        let mut issue_id = 0u32;
        let mut pending: Vec<i64> = Vec::new();
        let mut mask: Vec<u8> = Vec::new();
        for c in range.clone() {
            let rows = log.customer_rows(c);
            mask.clear();
            mask.extend(rows.clone().map(|r| masks.mask(r) as u8));
            let m = |r: usize| mask[r - rows.start];
            let mut e = CustomerEffort {
                events: rows.len() as u32,
                ..Default::default()
            };
            let first_t = at[rows.start];
            // Conversion.
            let conv = rows.clone().find(|&r| m(r) & CONV != 0);
            if let Some(r) = conv {
                let touches = at[rows.start..r].partition_point(|&t| t < at[r]) as u32;
                e.touches_to_conversion = Some(touches);
                e.time_to_conversion_ms = Some(at[r] - first_t);
                p.touches.push(touches as i64);
                p.days.push(at[r] - first_t);
            }
            // Channels and sessions.
            let mut prev_ch = u16::MAX;
            let mut session_start = first_t;
            let mut prev_t = first_t;
            e.sessions = 1;
            for r in rows.clone() {
                let ch = chans[r];
                if seen[ch as usize] != c as u32 {
                    seen[ch as usize] = c as u32;
                    e.channels += 1;
                }
                if prev_ch != u16::MAX && ch != prev_ch {
                    e.channel_switches += 1;
                }
                prev_ch = ch;
                let t = at[r];
                if t - prev_t > timeout {
                    e.session_ms += prev_t - session_start;
                    e.sessions += 1;
                    session_start = t;
                }
                prev_t = t;
            }
            e.session_ms += prev_t - session_start;
            // Support.
            if has_support {
                let mut issue: Option<Issue> = None;
                for r in rows.clone() {
                    if m(r) & SUPPORT == 0 {
                        continue;
                    }
                    let t = at[r];
                    e.support_contacts += 1;
                    if let Some(i) = &issue {
                        if t - i.last <= repeat_w {
                            e.repeat_contacts += 1;
                        }
                        if t - i.last > resolve_w {
                            close_issue(&mut p, &mut e, issue.take().expect("open"), true);
                        }
                    }
                    let i = issue.get_or_insert_with(|| {
                        issue_id += 1;
                        Issue {
                            first: t,
                            last: t,
                            contacts: 0,
                            channels: 0,
                        }
                    });
                    i.contacts += 1;
                    i.last = t;
                    if issue_seen[chans[r] as usize] != issue_id {
                        issue_seen[chans[r] as usize] = issue_id;
                        i.channels += 1;
                    }
                }
                if let Some(i) = issue {
                    let resolved = log_end - i.last >= resolve_w;
                    close_issue(&mut p, &mut e, i, resolved);
                }
            }
            // Carts.
            if has_cart {
                pending.clear();
                let mut open: Option<i64> = None;
                for r in rows.clone() {
                    let t = at[r];
                    if let Some(s) = open {
                        if t - s > abandon_w {
                            e.abandoned_carts += 1;
                            pending.push(s);
                            open = None;
                        }
                    }
                    if m(r) & CONV != 0 {
                        // Converts an open episode (its window has not passed).
                        open = None;
                        pending.retain(|&s| {
                            if t - s <= recover_w {
                                e.recovered_carts += 1;
                            }
                            false
                        });
                    }
                    if open.is_none() && m(r) & CART != 0 {
                        open = Some(t);
                        e.carts += 1;
                    }
                }
                if let Some(s) = open {
                    if log_end - s > abandon_w {
                        e.abandoned_carts += 1;
                    }
                }
            }
            p.sums.add(&e);
            slots[c - range.start] = e;
        }
        p
    });
    let mut touches = Vec::new();
    let mut days = Vec::new();
    let mut issue_contacts = Vec::new();
    let mut issue_ms = Vec::new();
    let mut issue_channels = 0u64;
    let mut t = Sums::default();
    for p in parts {
        t.merge(&p.sums);
        touches.extend(p.touches);
        days.extend(p.days);
        issue_contacts.extend(p.issue_contacts);
        issue_ms.extend(p.issue_ms);
        issue_channels += p.issue_channels;
    }
    let n = customers.len() as u64;
    let converters = touches.len() as u64;
    let mean = |total: i128, count: u64| {
        if count == 0 {
            0.0
        } else {
            total as f64 / count as f64
        }
    };
    let resolved = issue_contacts.len() as u64;
    let summary = EffortSummary {
        customers: n,
        converters,
        mean_touches_to_conversion: mean(touches.iter().map(|&x| x as i128).sum(), converters),
        median_touches_to_conversion: percentile(&mut touches, 50).map(|x| x as u32),
        mean_days_to_conversion: mean(days.iter().map(|&x| x as i128).sum(), converters) / DAY,
        median_days_to_conversion: percentile(&mut days, 50).map(|x| x as f64 / DAY),
        mean_channels: mean(t.channels as i128, n),
        multichannel_share: ratio(t.multichannel, n),
        mean_channel_switches: mean(t.switches as i128, n),
        support_contacts: t.support,
        repeat_contacts: t.repeat,
        repeat_contact_rate: ratio(t.repeat, t.support),
        customers_with_repeat_contact: t.with_repeat,
        issues: t.issues,
        resolved_issues: resolved,
        mean_contacts_to_resolution: mean(
            issue_contacts.iter().map(|&x| x as i128).sum(),
            resolved,
        ),
        median_contacts_to_resolution: percentile(&mut issue_contacts, 50).map(|x| x as u32),
        median_resolution_ms: percentile(&mut issue_ms, 50),
        mean_channels_per_resolved_issue: mean(issue_channels as i128, resolved),
        carts: t.carts,
        abandoned_carts: t.abandoned,
        abandonment_rate: ratio(t.abandoned, t.carts),
        recovered_carts: t.recovered,
        recovery_rate: ratio(t.recovered, t.abandoned),
        sessions: t.sessions,
        mean_session_ms: mean(t.session_ms, t.sessions),
        mean_events_per_session: mean(t.events as i128, t.sessions),
    };
    Ok(EffortReport { customers, summary })
}
