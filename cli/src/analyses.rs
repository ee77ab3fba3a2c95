//! The analyses the commands print, write and chart, computed once from a replay.

use jornada::analytics::stages::{self, FunnelStep, StageCount, StageTime, TransitionMatrix};
use jornada::analytics::{EventLog, Replay};
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
