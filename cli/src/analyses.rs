//! The analyses the commands print, write and chart, computed once from a replay.

use jornada::analytics::select::EventFilter;
use jornada::analytics::stages::{self, FunnelStep, StageCount, StageTime, TransitionMatrix};
use jornada::analytics::{effort, EffortSpec, EffortSummary, EventLog, Replay};
use jornada::model::spec::RuleType;
use jornada::Model;
use jornada_report::svg::{self, number, percent, FunnelBar, RangeRow, SankeyNode};
use jornada_report::{Block, Report, Section};
use serde_json::json;

/// Everything computed from one replay.
pub struct Analysis {
    pub customers: usize,
    pub events: usize,
    pub per_stage: Vec<StageCount>,
    pub time: Vec<StageTime>,
    pub matrix: TransitionMatrix,
    pub funnel: Vec<FunnelStep>,
    pub target: String,
    pub scores: Vec<stages::StageScore>,
    pub actions: Vec<(String, u64, u64)>,
    pub transitions: usize,
    /// Markov and last-touch credit per channel for `purchase`, when the log has purchases.
    pub attribution: Option<jornada::analytics::attribution::Attribution>,
    /// Weekly first-touch cohorts.
    pub retention: Option<jornada::analytics::Retention>,
    /// Customer effort with the default options (the kinds the log lacks left out).
    pub effort: Effort,
}

/// Customer effort figures as shown: the options, the overall figures and the distribution of
/// touches before the first conversion.
pub struct Effort {
    pub spec: EffortSpec,
    pub summary: EffortSummary,
    /// `(touches, customers)`: converting customers by the number of their events before the
    /// first conversion, in buckets (`0`, `1`, `2`, `3–4`, `5–9`, `10–19`, `20+`).
    pub touches: Vec<(String, u64)>,
}

/// The buckets of [`Effort::touches`]: `(label, lowest count)`.
const TOUCH_BUCKETS: [(&str, u32); 7] = [
    ("0", 0),
    ("1", 1),
    ("2", 2),
    ("3–4", 3),
    ("5–9", 5),
    ("10–19", 10),
    ("20+", 20),
];

/// The default effort options for `log`: `purchase` converts, `support_contact` is a support
/// contact, `add_to_cart` opens a cart, each only when the log has that kind (otherwise its
/// figures are left out).
pub fn default_effort_spec(log: &EventLog) -> EffortSpec {
    let mut spec = EffortSpec::default();
    let keep =
        |f: Option<EventFilter>| f.filter(|f| f.kinds.iter().all(|k| log.kind_code(k).is_some()));
    spec.conversion = keep(spec.conversion);
    spec.support = keep(spec.support);
    spec.cart = keep(spec.cart);
    spec
}

impl Effort {
    /// Effort over `log` with `spec` (core's [`effort`]).
    pub fn new(log: &EventLog, spec: EffortSpec) -> jornada::Result<Effort> {
        let r = effort(log, &spec)?;
        let mut touches: Vec<(String, u64)> = TOUCH_BUCKETS
            .iter()
            .map(|(l, _)| (l.to_string(), 0))
            .collect();
        for n in r.customers.iter().filter_map(|c| c.touches_to_conversion) {
            let b = TOUCH_BUCKETS
                .iter()
                .rposition(|&(_, lo)| n >= lo)
                .unwrap_or(0);
            touches[b].1 += 1;
        }
        Ok(Effort {
            spec,
            summary: r.summary,
            touches,
        })
    }

    /// The name of the conversion (its kinds), e.g. `purchase`.
    pub fn conversion_name(&self) -> Option<String> {
        self.spec.conversion.as_ref().map(filter_name)
    }
}

fn filter_name(f: &EventFilter) -> String {
    if f.kinds.is_empty() {
        "matching event".into()
    } else {
        f.kinds.join(" or ")
    }
}

/// The default funnel: the initial stage and every stage a transition rule (not a timeout)
/// leads to, in model order.
pub fn default_steps(model: &Model) -> Vec<String> {
    let spec = model.spec();
    let targets: Vec<&str> = spec
        .rules
        .iter()
        .filter(|r| r.rule_type.unwrap_or_default() == RuleType::Transition)
        .filter_map(|r| r.to.as_deref())
        .collect();
    model
        .stage_names()
        .enumerate()
        .filter(|(i, s)| *i == 0 || targets.contains(s))
        .map(|(_, s)| s.to_string())
        .collect()
}

impl Analysis {
    pub fn new(r: &Replay, log: &EventLog, steps: &[String]) -> jornada::Result<Analysis> {
        let steps: Vec<&str> = steps.iter().map(|s| s.as_str()).collect();
        let funnel = stages::funnel(r, &steps)?;
        // The conversion target: the first stage of the funnel after its first two (the
        // first purchase in the shop), else its last.
        let target = if steps.len() > 4 {
            steps[steps.len() - 3]
        } else {
            steps[steps.len() - 1]
        };
        let target = preferred_target(r.model()).unwrap_or_else(|| target.to_string());
        let scores = stages::scoring_table(r, &target)?;
        let a = r.actions();
        let mut actions: Vec<(String, u64, u64)> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for i in 0..a.len() {
            let name = r.action_name(a.action[i]);
            let k = *index.entry(name.to_string()).or_insert_with(|| {
                actions.push((name.to_string(), 0, 0));
                actions.len() - 1
            });
            actions[k].1 += 1;
            if a.suppressed[i] {
                actions[k].2 += 1;
            }
        }
        actions.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        Ok(Analysis {
            customers: r.n_customers(),
            events: log.len(),
            per_stage: stages::customers_per_stage(r),
            time: stages::time_in_stage(r),
            matrix: stages::transition_matrix(r),
            funnel,
            target,
            scores,
            actions,
            transitions: r.transitions().len(),
            attribution: log.kind_code("purchase").and_then(|_| {
                use jornada::analytics::attribution::{
                    attribute, AttributionConfig, AttributionModel,
                };
                let mut c = AttributionConfig::new("purchase");
                c.models = vec![
                    AttributionModel::LastTouch,
                    AttributionModel::from_name("markov").ok()?,
                ];
                attribute(log, &c).ok()
            }),
            retention: jornada::analytics::retention(
                log,
                &jornada::analytics::RetentionSpec::new(jornada::analytics::Period::Week),
            )
            .ok(),
            effort: Effort::new(log, default_effort_spec(log))?,
        })
    }

    /// The conversion figure: the share of customers who reached the target stage.
    pub fn conversion(&self) -> f64 {
        let i = self
            .matrix
            .stages
            .iter()
            .position(|s| **s == *self.target)
            .unwrap_or(0);
        if self.customers == 0 {
            0.0
        } else {
            self.matrix.customers[i] as f64 / self.customers as f64
        }
    }

    pub fn summary_json(&self) -> serde_json::Value {
        json!({
            "customers": self.customers,
            "events": self.events,
            "transitions": self.transitions,
            "conversion_target": self.target,
            "conversion": self.conversion(),
            "customers_per_stage": self.per_stage,
            "time_in_stage": self.time,
            "funnel": self.funnel,
            "scoring": self.scores,
            "transition_matrix": self.matrix,
            "actions": self.actions.iter().map(|(a, n, s)| json!({"action": a, "count": n, "suppressed": s})).collect::<Vec<_>>(),
            "effort": self.effort.summary,
        })
    }
}

/// `customer` when the model has such a stage (the presets' first purchase).
fn preferred_target(model: &Model) -> Option<String> {
    ["customer", "Action", "Decision", "Development"]
        .iter()
        .find(|s| model.stage_index(s).is_some())
        .map(|s| s.to_string())
}

/// A duration in milliseconds, readably.
pub fn duration(ms: f64) -> String {
    svg::duration(ms)
}

/// An option's duration in words: `7 days`, `1 hour`, `30 minutes` (else as written: `1h30m`).
pub fn span(d: jornada::Duration) -> String {
    let ms = d.millis();
    for (unit, size) in [("day", 86_400_000), ("hour", 3_600_000), ("minute", 60_000)] {
        if ms > 0 && ms % size == 0 {
            let n = ms / size;
            return format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        }
    }
    d.to_string()
}

fn opt_duration(ms: Option<f64>) -> String {
    ms.map(duration).unwrap_or_else(|| "-".into())
}

fn opt_percent(p: Option<f64>) -> String {
    p.map(percent).unwrap_or_else(|| "-".into())
}

/// A table: headers and rows of text.
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Aligned columns: the first left, the rest right.
    pub fn text(&self) -> String {
        let n = self.headers.len();
        let mut w = vec![0usize; n];
        for r in std::iter::once(&self.headers).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(n) {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        for r in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate().take(n) {
                if i == 0 {
                    line.push_str(&format!("{c:<width$}", width = w[i]));
                } else {
                    line.push_str(&format!("  {c:>width$}", width = w[i]));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    pub fn csv(&self) -> String {
        let mut out = String::new();
        for r in std::iter::once(&self.headers).chain(&self.rows) {
            let cells: Vec<String> = r.iter().map(|c| crate::io::csv_field(c)).collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }

    pub fn block(&self) -> Block {
        Block::Table {
            headers: self.headers.clone(),
            rows: self.rows.clone(),
        }
    }
}

pub fn stage_table(a: &Analysis) -> Table {
    let mut t = Table::new(&[
        "stage",
        "customers now",
        "share",
        "ever entered",
        "median stay",
        "p90 stay",
        "mean stay",
    ]);
    for (i, s) in a.per_stage.iter().enumerate() {
        let time = &a.time[i];
        t.rows.push(vec![
            s.stage.to_string(),
            number(s.customers as f64),
            percent(if a.customers == 0 {
                0.0
            } else {
                s.customers as f64 / a.customers as f64
            }),
            number(a.matrix.customers[i] as f64),
            opt_duration(time.median_ms.map(|x| x as f64)),
            opt_duration(time.p90_ms.map(|x| x as f64)),
            opt_duration(time.mean_ms),
        ]);
    }
    t
}

pub fn funnel_table(a: &Analysis) -> Table {
    let mut t = Table::new(&["step", "customers", "of first", "from previous", "drop-off"]);
    for s in &a.funnel {
        t.rows.push(vec![
            s.stage.to_string(),
            number(s.customers as f64),
            opt_percent(s.of_first),
            opt_percent(s.conversion),
            opt_percent(s.conversion.map(|c| 1.0 - c)),
        ]);
    }
    t
}

pub fn transitions_table(a: &Analysis, top: usize) -> Table {
    let m = &a.matrix;
    let n = m.n();
    let mut cells: Vec<(usize, usize, u64)> = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .map(|(i, j)| (i, j, m.counts[i * n + j]))
        .filter(|c| c.2 > 0)
        .collect();
    cells.sort_by_key(|c| std::cmp::Reverse(c.2));
    let mut t = Table::new(&[
        "from",
        "to",
        "transitions",
        "P(from → to)",
        "mean stay before",
    ]);
    for (i, j, c) in cells.into_iter().take(top) {
        t.rows.push(vec![
            m.stages[i].to_string(),
            m.stages[j].to_string(),
            number(c as f64),
            percent(m.probability(i, j)),
            duration(m.duration_ms[i * n + j] / c as f64),
        ]);
    }
    t
}

pub fn scoring_table(a: &Analysis) -> Table {
    let mut t = Table::new(&[
        "stage",
        &format!("P(reach {})", a.target),
        "expected time to it",
    ]);
    for s in &a.scores {
        t.rows.push(vec![
            s.stage.clone(),
            percent(s.p),
            opt_duration(s.expected_ms),
        ]);
    }
    t
}

pub fn actions_table(a: &Analysis) -> Table {
    let mut t = Table::new(&["action", "count", "suppressed (no consent)"]);
    for (name, n, s) in &a.actions {
        t.rows
            .push(vec![name.clone(), number(*n as f64), number(*s as f64)]);
    }
    t
}

/// The effort figures: one row per figure, `(figure, value)`; the conversion, support and cart
/// rows only when the options have them.
pub fn effort_table(e: &Effort) -> Table {
    let s = &e.summary;
    let spec = &e.spec;
    let mut t = Table::new(&["figure", "value"]);
    let mut row = |k: String, v: String| t.rows.push(vec![k, v]);
    let count = |x: u64| number(x as f64);
    let opt_number = |x: Option<f64>| x.map(number).unwrap_or_else(|| "-".into());
    row("customers".into(), count(s.customers));
    if let Some(conv) = e.conversion_name() {
        row(format!("customers with a {conv}"), count(s.converters));
        row(
            format!("touches before the first {conv}, mean"),
            number(s.mean_touches_to_conversion),
        );
        row(
            format!("touches before the first {conv}, median"),
            opt_number(s.median_touches_to_conversion.map(f64::from)),
        );
        row(
            format!("days to the first {conv}, mean"),
            number(s.mean_days_to_conversion),
        );
        row(
            format!("days to the first {conv}, median"),
            opt_number(s.median_days_to_conversion),
        );
    }
    row(
        "distinct channels per customer, mean".into(),
        number(s.mean_channels),
    );
    row(
        "customers on more than one channel".into(),
        percent(s.multichannel_share),
    );
    row(
        "channel switches per customer, mean".into(),
        number(s.mean_channel_switches),
    );
    if spec.support.is_some() {
        let within = spec.repeat_contact_within;
        row("support contacts".into(), count(s.support_contacts));
        row(
            format!(
                "repeat support contacts (within {} of the previous)",
                span(within)
            ),
            count(s.repeat_contacts),
        );
        row(
            "repeat contacts, share of contacts".into(),
            percent(s.repeat_contact_rate),
        );
        row(
            "customers with a repeat contact".into(),
            count(s.customers_with_repeat_contact),
        );
        row(
            format!(
                "support issues resolved (no contact for {})",
                span(spec.resolution_after)
            ),
            format!("{} of {}", count(s.resolved_issues), count(s.issues)),
        );
        row(
            "contacts per resolved issue, mean".into(),
            number(s.mean_contacts_to_resolution),
        );
    }
    if let Some(cart) = &spec.cart {
        let conv = e.conversion_name().unwrap_or_else(|| "conversion".into());
        row(
            format!("carts ({} episodes)", filter_name(cart)),
            count(s.carts),
        );
        row(
            format!(
                "abandoned carts (no {conv} within {})",
                span(spec.abandon_after)
            ),
            count(s.abandoned_carts),
        );
        row("abandonment rate".into(), percent(s.abandonment_rate));
        row(
            format!("recovered carts (a later {conv})"),
            count(s.recovered_carts),
        );
        row(
            "recovery rate, of abandoned carts".into(),
            percent(s.recovery_rate),
        );
    }
    row(
        format!(
            "sessions (ended by {} without events)",
            span(spec.session_timeout)
        ),
        count(s.sessions),
    );
    row("session length, mean".into(), duration(s.mean_session_ms));
    row(
        "events per session, mean".into(),
        number(s.mean_events_per_session),
    );
    t
}

/// The effort section of the report: the table, the distribution of touches before the first
/// conversion, and the cart episodes.
fn effort_section(e: &Effort) -> Section {
    let s = &e.summary;
    let mut section = Section::new("Customer effort").with(Block::Text(
        "How much customers had to do: touches and time before the first purchase, channels used and switched, repeat support contacts, abandoned and recovered carts, sessions. Medians are by nearest rank; rates with nothing to count are 0.".into(),
    ));
    section = section.with(effort_table(e).block());
    if let Some(conv) = e.conversion_name() {
        if s.converters > 0 {
            let items: Vec<(String, f64)> = e
                .touches
                .iter()
                .map(|(l, n)| (l.clone(), *n as f64))
                .collect();
            section = section.with(Block::Svg(svg::bar_chart(
                &format!("Customers by touches before their first {conv}"),
                &items,
                None,
            )));
        }
    }
    if e.spec.cart.is_some() && s.carts > 0 {
        let items = vec![
            ("carts".to_string(), s.carts as f64),
            ("abandoned".to_string(), s.abandoned_carts as f64),
            ("recovered".to_string(), s.recovered_carts as f64),
        ];
        section = section.with(Block::Svg(svg::bar_chart(
            "Cart episodes: abandoned and recovered",
            &items,
            None,
        )));
    }
    section
}

/// The HTML report.
pub fn report(title: &str, subtitle: &str, a: &Analysis) -> Report {
    let mut r = Report::new(title, subtitle);
    r.push(Section::new("Key figures").with(Block::Figures(vec![
        ("customers".into(), number(a.customers as f64)),
        ("events".into(), number(a.events as f64)),
        ("stage transitions".into(), number(a.transitions as f64)),
        (format!("reached {}", a.target), percent(a.conversion())),
        (
            "actions".into(),
            number(a.actions.iter().map(|x| x.1).sum::<u64>() as f64),
        ),
    ])));
    let bars: Vec<FunnelBar> = a
        .funnel
        .iter()
        .map(|s| FunnelBar {
            label: s.stage.to_string(),
            customers: s.customers as f64,
            from_previous: s.conversion,
        })
        .collect();
    r.push(
        Section::new("Funnel")
            .with(Block::Text(
                "Customers who reached each stage after reaching the one before it, in order."
                    .into(),
            ))
            .with(Block::Svg(svg::funnel_chart("Stage funnel", &bars)))
            .with(funnel_table(a).block()),
    );
    let items: Vec<(String, f64)> = a
        .per_stage
        .iter()
        .map(|s| (s.stage.to_string(), s.customers as f64))
        .collect();
    r.push(
        Section::new("Where customers are now")
            .with(Block::Svg(svg::bar_chart(
                "Customers per stage at the end of the data",
                &items,
                None,
            )))
            .with(stage_table(a).block()),
    );
    let m = &a.matrix;
    let n = m.n();
    let links: Vec<(usize, usize, f64)> = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .filter(|&(i, j)| m.counts[i * n + j] > 0)
        .map(|(i, j)| (i, j, m.counts[i * n + j] as f64))
        .collect();
    // Each stage one column right of the furthest earlier stage that flows into it.
    let cols = svg::flow_columns(n, &links);
    let nodes: Vec<SankeyNode> = (0..n)
        .map(|i| SankeyNode {
            label: m.stages[i].to_string(),
            column: cols[i],
        })
        .collect();
    r.push(
        Section::new("Stage flow")
            .with(Block::Svg(svg::sankey(
                "Transitions between stages",
                &nodes,
                &links,
            )))
            .with(transitions_table(a, 15).block()),
    );
    let rows: Vec<RangeRow> = a
        .time
        .iter()
        .filter(|t| t.completed > 0)
        .map(|t| RangeRow {
            label: t.stage.to_string(),
            median: t.median_ms.unwrap_or(0) as f64,
            p90: t.p90_ms.unwrap_or(0) as f64,
            mean: t.mean_ms.unwrap_or(0.0),
            count: t.completed,
        })
        .collect();
    r.push(
        Section::new("Time in stage")
            .with(Block::Text(
                "Completed stays: median (bar), 90th percentile (thin bar) and mean (tick).".into(),
            ))
            .with(Block::Svg(svg::range_chart(
                "Time in stage",
                &rows,
                &duration,
            ))),
    );
    r.push(
        Section::new(format!("Chance of reaching {}", a.target))
            .with(Block::Text(format!(
                "From each stage, the probability of eventually reaching {} (the observed transitions read as an absorbing Markov chain) and the expected time to get there when it is reached.",
                a.target
            )))
            .with(scoring_table(a).block()),
    );
    if let Some(at) = &a.attribution {
        let mut section = Section::new("Attribution of purchases").with(Block::Text(
            "Purchases credited to the channels that led to them (30-day lookback): last touch, and the Markov removal effect (exact, from the absorbing chain of channel transitions).".into(),
        ));
        for m in &at.models {
            let items: Vec<(String, f64)> = at
                .channels
                .iter()
                .cloned()
                .zip(m.conversions.iter().copied())
                .collect();
            section = section.with(Block::Svg(svg::bar_chart(
                &format!("Credited purchases, {}", m.model.name()),
                &items,
                None,
            )));
        }
        r.push(section);
    }
    if let Some(ret) = a.retention.as_ref().filter(|r| !r.cohorts.is_empty()) {
        let cohorts: Vec<&jornada::analytics::Cohort> = ret.cohorts.iter().take(12).collect();
        let width = cohorts
            .iter()
            .map(|c| c.share.len())
            .max()
            .unwrap_or(0)
            .min(12);
        let rows: Vec<String> = cohorts
            .iter()
            .map(|c| format!("{} ({})", &c.start.to_string()[..10], c.customers))
            .collect();
        let cols: Vec<String> = (0..width).map(|i| format!("week {i}")).collect();
        let cells: Vec<Vec<Option<f64>>> = cohorts
            .iter()
            .map(|c| (0..width).map(|i| c.share.get(i).copied()).collect())
            .collect();
        r.push(
            Section::new("Retention")
                .with(Block::Text(
                    "Customers by the ISO week of their first touch (UTC), and the share of each cohort active in every later week.".into(),
                ))
                .with(Block::Svg(svg::heatmap("Weekly retention", &rows, &cols, &cells))),
        );
    }
    r.push(effort_section(&a.effort));
    if !a.actions.is_empty() {
        let items: Vec<(String, f64)> = a
            .actions
            .iter()
            .map(|(n, c, _)| (n.clone(), *c as f64))
            .collect();
        r.push(
            Section::new("Actions")
                .with(Block::Svg(svg::bar_chart("Actions fired", &items, None)))
                .with(actions_table(a).block()),
        );
    }
    r
}

/// Credited conversions per channel (rows) and model (columns).
pub fn attribution_table(a: &jornada::analytics::attribution::Attribution) -> Table {
    let mut headers = vec!["channel".to_string()];
    headers.extend(a.models.iter().map(|m| m.model.name().to_string()));
    let mut t = Table {
        headers,
        rows: Vec::new(),
    };
    for (i, ch) in a.channels.iter().enumerate() {
        let mut row = vec![ch.clone()];
        row.extend(a.models.iter().map(|m| format!("{:.2}", m.conversions[i])));
        t.rows.push(row);
    }
    t
}

/// Top paths: the path, customers, share, converted, conversion.
pub fn paths_table(p: &jornada::analytics::TopPaths) -> Table {
    let mut t = Table::new(&["path", "customers", "share", "converted", "conversion"]);
    for v in &p.variants {
        t.rows.push(vec![
            v.steps.join(" > "),
            v.customers.to_string(),
            percent(v.share),
            v.converted.to_string(),
            percent(v.conversion),
        ]);
    }
    t
}

/// Retention: one row per cohort, the share active in each period after the first.
pub fn retention_table(r: &jornada::analytics::Retention) -> Table {
    let periods = r.cohorts.iter().map(|c| c.share.len()).max().unwrap_or(0);
    let mut headers: Vec<String> = vec!["cohort".into(), "customers".into()];
    headers.extend((0..periods).map(|i| format!("+{i}")));
    let mut t = Table {
        headers,
        rows: Vec::new(),
    };
    for c in &r.cohorts {
        let mut row = vec![
            c.start.to_string()[..10].to_string(),
            c.customers.to_string(),
        ];
        row.extend(c.share.iter().map(|s| percent(*s)));
        t.rows.push(row);
    }
    t
}
