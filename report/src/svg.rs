//! Inline SVG charts. Every function returns a complete `<svg>` element as a string: no
//! scripts, no external fonts or styles, text escaped. Sizes are in CSS pixels.

use std::fmt::Write;

/// Colours used in order for series and categories.
pub const PALETTE: [&str; 8] = [
    "#3b6fb6", "#e07b39", "#4a9a5b", "#c94c4c", "#8a63b8", "#8c6d4f", "#d16fa8", "#6f7f8f",
];

const FONT: &str = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\"";

/// Escapes text for XML content and attribute values.
///
/// ```
/// assert_eq!(jornada_report::svg::escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A number for a label: integers with thousands separators, others with up to 3 significant
/// decimals.
///
/// ```
/// use jornada_report::svg::number;
/// assert_eq!(number(1234567.0), "1,234,567");
/// assert_eq!(number(0.4567), "0.457");
/// assert_eq!(number(12.5), "12.5");
/// ```
pub fn number(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        let s = format!("{}", x.abs() as i64);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        return if x < 0.0 { format!("-{out}") } else { out };
    }
    let digits = if x.abs() >= 100.0 {
        1
    } else if x.abs() >= 1.0 {
        2
    } else {
        3
    };
    let s = format!("{x:.digits$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// A share as a percentage label (`0.1234` → `12.3%`).
pub fn percent(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    format!("{:.1}%", x * 100.0)
}

fn open(w: f64, h: f64, title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" role=\"img\" aria-label=\"{t}\" {FONT} font-size=\"12\"><title>{t}</title>",
        t = escape(title)
    )
}

/// Horizontal bars, one per item, labelled with the item and its value.
///
/// ```
/// let svg = jornada_report::svg::bar_chart("Credit by channel", &[("email".into(), 12.0), ("sms".into(), 3.5)], None);
/// assert!(svg.starts_with("<svg") && svg.contains("email") && svg.contains("12"));
/// ```
pub fn bar_chart(
    title: &str,
    items: &[(String, f64)],
    value_label: Option<&dyn Fn(f64) -> String>,
) -> String {
    let label_w = 150.0;
    let bar_w = 360.0;
    let row = 24.0;
    let h = 30.0 + row * items.len() as f64 + 10.0;
    let w = label_w + bar_w + 90.0;
    let max = items.iter().map(|(_, v)| v.abs()).fold(0.0, f64::max);
    let mut s = open(w, h, title);
    let _ = write!(
        s,
        "<text x=\"4\" y=\"16\" font-weight=\"600\" font-size=\"13\">{}</text>",
        escape(title)
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let y = 30.0 + row * i as f64;
        let len = if max > 0.0 {
            bar_w * v.abs() / max
        } else {
            0.0
        };
        let text = value_label.map(|f| f(*v)).unwrap_or_else(|| number(*v));
        let _ = write!(
            s,
            "<text x=\"{lx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\">{l}</text><rect x=\"{label_w:.1}\" y=\"{y:.1}\" width=\"{len:.1}\" height=\"{bh:.1}\" fill=\"{c}\"><title>{l}: {t}</title></rect><text x=\"{vx:.1}\" y=\"{ty:.1}\">{t}</text>",
            lx = label_w - 6.0,
            ty = y + 13.0,
            l = escape(label),
            bh = row - 6.0,
            c = PALETTE[0],
            vx = label_w + len + 4.0,
            t = escape(&text),
        );
    }
    s.push_str("</svg>");
    s
}

/// One step of a funnel chart.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelBar {
    /// Step name.
    pub label: String,
    /// Customers who reached the step.
    pub customers: f64,
    /// Conversion from the previous step (`None` for the first).
    pub from_previous: Option<f64>,
}

/// A funnel: one bar per step, width proportional to the customers reaching it, with the
/// count, the share of the first step and the conversion from the previous step.
///
/// ```
/// use jornada_report::svg::{funnel_chart, FunnelBar};
/// let steps = [
///     FunnelBar { label: "view".into(), customers: 100.0, from_previous: None },
///     FunnelBar { label: "buy".into(), customers: 25.0, from_previous: Some(0.25) },
/// ];
/// let svg = funnel_chart("Funnel", &steps);
/// assert!(svg.contains("25.0%") && svg.contains("buy"));
/// ```
pub fn funnel_chart(title: &str, steps: &[FunnelBar]) -> String {
    let label_w = 150.0;
    let bar_w = 380.0;
    let row = 34.0;
    let h = 30.0 + row * steps.len() as f64 + 6.0;
    let w = label_w + bar_w + 330.0;
    let first = steps.first().map(|s| s.customers).unwrap_or(0.0);
    let mut s = open(w, h, title);
    let _ = write!(
        s,
        "<text x=\"4\" y=\"16\" font-weight=\"600\" font-size=\"13\">{}</text>",
        escape(title)
    );
    for (i, step) in steps.iter().enumerate() {
        let y = 28.0 + row * i as f64;
        let share = if first > 0.0 {
            step.customers / first
        } else {
            0.0
        };
        let len = (bar_w * share).max(1.0);
        let x = label_w + (bar_w - len) / 2.0;
        let conv = step
            .from_previous
            .map(|c| format!(" · {} of previous", percent(c)))
            .unwrap_or_default();
        let _ = write!(
            s,
            "<text x=\"{lx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\">{l}</text><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{len:.1}\" height=\"{bh:.1}\" rx=\"3\" fill=\"{c}\"><title>{l}: {n}</title></rect><text x=\"{vx:.1}\" y=\"{ty:.1}\">{n} ({p}){conv}</text>",
            lx = label_w - 6.0,
            ty = y + 17.0,
            l = escape(&step.label),
            bh = row - 8.0,
            c = PALETTE[i % PALETTE.len()],
            vx = label_w + bar_w + 8.0,
            n = number(step.customers),
            p = percent(share),
            conv = escape(&conv),
        );
    }
    s.push_str("</svg>");
    s
}

/// A Sankey diagram: nodes in columns (`column` of each node), links between them with width
/// proportional to their value.
///
/// ```
/// use jornada_report::svg::{sankey, SankeyNode};
/// let nodes = [
///     SankeyNode { label: "visitor".into(), column: 0 },
///     SankeyNode { label: "cart".into(), column: 1 },
///     SankeyNode { label: "customer".into(), column: 2 },
/// ];
/// let svg = sankey("Stage flow", &nodes, &[(0, 1, 40.0), (1, 2, 10.0)]);
/// assert!(svg.contains("<path") && svg.contains("customer"));
/// ```
pub fn sankey(title: &str, nodes: &[SankeyNode], links: &[(usize, usize, f64)]) -> String {
    let columns = nodes.iter().map(|n| n.column + 1).max().unwrap_or(0);
    let col_gap = 170.0;
    let node_w = 12.0;
    let top = 30.0;
    let height = 360.0;
    let w = 40.0 + col_gap * columns.max(1) as f64 + 120.0;
    let h = top + height + 20.0;
    // A node's size is the larger of what flows in and out.
    let mut inflow = vec![0.0; nodes.len()];
    let mut outflow = vec![0.0; nodes.len()];
    for &(a, b, v) in links {
        if a < nodes.len() && b < nodes.len() && v > 0.0 {
            outflow[a] += v;
            inflow[b] += v;
        }
    }
    let size: Vec<f64> = (0..nodes.len())
        .map(|i| inflow[i].max(outflow[i]))
        .collect();
    let gap = 10.0;
    let mut scale = f64::MAX;
    for c in 0..columns {
        let total: f64 = (0..nodes.len())
            .filter(|&i| nodes[i].column == c)
            .map(|i| size[i])
            .sum();
        let count = nodes.iter().filter(|n| n.column == c).count() as f64;
        if total > 0.0 {
            scale = scale.min((height - gap * (count - 1.0).max(0.0)) / total);
        }
    }
    if scale == f64::MAX {
        scale = 0.0;
    }
    let mut y = vec![0.0; nodes.len()];
    for c in 0..columns {
        let mut cursor = top;
        for i in (0..nodes.len()).filter(|&i| nodes[i].column == c) {
            y[i] = cursor;
            cursor += size[i] * scale + gap;
        }
    }
    let x = |i: usize| 20.0 + col_gap * nodes[i].column as f64;
    let mut s = open(w, h, title);
    let _ = write!(
        s,
        "<text x=\"4\" y=\"16\" font-weight=\"600\" font-size=\"13\">{}</text>",
        escape(title)
    );
    let mut out_off = vec![0.0; nodes.len()];
    let mut in_off = vec![0.0; nodes.len()];
    for &(a, b, v) in links {
        if a >= nodes.len() || b >= nodes.len() || v <= 0.0 {
            continue;
        }
        let t = v * scale;
        let (x0, x1) = (x(a) + node_w, x(b));
        let y0 = y[a] + out_off[a] + t / 2.0;
        let y1 = y[b] + in_off[b] + t / 2.0;
        out_off[a] += t;
        in_off[b] += t;
        let mid = (x0 + x1) / 2.0;
        let _ = write!(
            s,
            "<path d=\"M{x0:.1},{y0:.1} C{mid:.1},{y0:.1} {mid:.1},{y1:.1} {x1:.1},{y1:.1}\" fill=\"none\" stroke=\"{c}\" stroke-opacity=\"0.35\" stroke-width=\"{sw:.1}\"><title>{la} → {lb}: {n}</title></path>",
            c = PALETTE[a % PALETTE.len()],
            sw = t.max(0.5),
            la = escape(&nodes[a].label),
            lb = escape(&nodes[b].label),
            n = number(v),
        );
    }
    for (i, n) in nodes.iter().enumerate() {
        let hgt = (size[i] * scale).max(1.0);
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{node_w}\" height=\"{hgt:.1}\" fill=\"{c}\"><title>{l}: {v}</title></rect><text x=\"{tx:.1}\" y=\"{ty:.1}\">{l} ({v})</text>",
            x = x(i),
            y = y[i],
            c = PALETTE[i % PALETTE.len()],
            l = escape(&n.label),
            v = number(size[i]),
            tx = x(i) + node_w + 4.0,
            ty = y[i] + hgt / 2.0 + 4.0,
        );
    }
    s.push_str("</svg>");
    s
}

/// Columns for a [`sankey`] of a flow between `n` nodes given in a meaningful order (a model's
/// stages, or labels by first appearance): each node one column further right than the furthest
/// earlier node that flows into it (links with a value above 0). Links back to an earlier node
/// or to itself do not move it, so cycles still give a left-to-right layout.
///
/// ```
/// use jornada_report::svg::flow_columns;
/// // visitor → browsing → cart → customer, cart → browsing (back), visitor → cart.
/// let links = [(0, 1, 5.0), (1, 2, 3.0), (2, 3, 1.0), (2, 1, 2.0), (0, 2, 1.0)];
/// assert_eq!(flow_columns(4, &links), vec![0, 1, 2, 3]);
/// assert_eq!(flow_columns(3, &[(0, 2, 1.0)]), vec![0, 0, 1]);
/// ```
pub fn flow_columns(n: usize, links: &[(usize, usize, f64)]) -> Vec<usize> {
    let mut into: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b, v) in links {
        if a < b && b < n && v > 0.0 {
            into[b].push(a);
        }
    }
    let mut col = vec![0usize; n];
    for j in 0..n {
        col[j] = into[j].iter().map(|&i| col[i] + 1).max().unwrap_or(0);
    }
    col
}

/// A duration in milliseconds as a short label: seconds under 90 s, minutes under 90 min, hours
/// under 48 h, else days.
///
/// ```
/// use jornada_report::svg::duration;
/// assert_eq!(duration(45_000.0), "45 s");
/// assert_eq!(duration(30.0 * 60_000.0), "30 min");
/// assert_eq!(duration(5.0 * 3_600_000.0), "5.0 h");
/// assert_eq!(duration(3.0 * 86_400_000.0), "3.0 d");
/// ```
pub fn duration(ms: f64) -> String {
    if !ms.is_finite() {
        return "–".into();
    }
    let s = ms / 1000.0;
    if s < 90.0 {
        format!("{s:.0} s")
    } else if s < 90.0 * 60.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 48.0 * 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} d", s / 86_400.0)
    }
}

/// A node of a [`sankey`] diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct SankeyNode {
    /// Label.
    pub label: String,
    /// Column (0 = leftmost).
    pub column: usize,
}

/// A heatmap: rows × columns of shares in `[0, 1]` (`None`: no data), each cell labelled.
///
/// ```
/// let svg = jornada_report::svg::heatmap(
///     "Retention",
///     &["2026-03-02".into()],
///     &["week 0".into(), "week 1".into()],
///     &[vec![Some(1.0), Some(0.25)]],
/// );
/// assert!(svg.contains("25%") && svg.contains("week 1"));
/// ```
pub fn heatmap(
    title: &str,
    rows: &[String],
    cols: &[String],
    cells: &[Vec<Option<f64>>],
) -> String {
    let label_w = 110.0;
    let cell_w = 52.0;
    let cell_h = 22.0;
    let top = 44.0;
    let w = label_w + cell_w * cols.len() as f64 + 10.0;
    let h = top + cell_h * rows.len() as f64 + 10.0;
    let mut s = open(w, h, title);
    let _ = write!(
        s,
        "<text x=\"4\" y=\"16\" font-weight=\"600\" font-size=\"13\">{}</text>",
        escape(title)
    );
    for (j, c) in cols.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"middle\" font-size=\"11\">{c}</text>",
            x = label_w + cell_w * (j as f64 + 0.5),
            y = top - 6.0,
            c = escape(c)
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + cell_h * i as f64;
        let _ = write!(
            s,
            "<text x=\"{x:.1}\" y=\"{ty:.1}\" text-anchor=\"end\" font-size=\"11\">{r}</text>",
            x = label_w - 6.0,
            ty = y + 15.0,
            r = escape(r)
        );
        for (j, v) in cells
            .get(i)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .take(cols.len())
        {
            let x = label_w + cell_w * j as f64;
            match v {
                Some(v) if v.is_finite() => {
                    let v = v.clamp(0.0, 1.0);
                    // From pale to the palette's blue.
                    let mix = |a: f64, b: f64| (a + (b - a) * v).round() as u8;
                    let fill = format!(
                        "#{:02x}{:02x}{:02x}",
                        mix(240.0, 59.0),
                        mix(244.0, 111.0),
                        mix(250.0, 182.0)
                    );
                    let ink = if v > 0.55 { "#ffffff" } else { "#1d2733" };
                    let _ = write!(
                        s,
                        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cw:.1}\" height=\"{ch:.1}\" fill=\"{fill}\" stroke=\"#ffffff\"/><text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\" font-size=\"11\" fill=\"{ink}\">{p:.0}%</text>",
                        cw = cell_w,
                        ch = cell_h,
                        tx = x + cell_w / 2.0,
                        ty = y + 15.0,
                        p = v * 100.0,
                    );
                }
                _ => {
                    let _ = write!(
                        s,
                        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell_w:.1}\" height=\"{cell_h:.1}\" fill=\"#f7f7f7\" stroke=\"#ffffff\"/>"
                    );
                }
            }
        }
    }
    s.push_str("</svg>");
    s
}

/// One row of a [`range_chart`]: a distribution summarised by median, p90 and mean.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeRow {
    /// Label.
    pub label: String,
    /// Median.
    pub median: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Mean.
    pub mean: f64,
    /// Observations.
    pub count: u64,
}

/// Distributions side by side (time in stage): a bar from 0 to the median, a thinner bar on to
/// the p90, a tick at the mean; values formatted by `fmt` (e.g. as durations).
///
/// ```
/// use jornada_report::svg::{range_chart, RangeRow};
/// let rows = [RangeRow { label: "cart".into(), median: 30.0, p90: 90.0, mean: 45.0, count: 12 }];
/// let svg = range_chart("Time in stage", &rows, &|x| format!("{x:.0} min"));
/// assert!(svg.contains("30 min") && svg.contains("90 min"));
/// ```
pub fn range_chart(title: &str, rows: &[RangeRow], fmt: &dyn Fn(f64) -> String) -> String {
    let label_w = 150.0;
    let bar_w = 340.0;
    let row = 26.0;
    let w = label_w + bar_w + 230.0;
    let h = 30.0 + row * rows.len() as f64 + 10.0;
    let max = rows
        .iter()
        .map(|r| r.p90.max(r.mean))
        .filter(|x| x.is_finite())
        .fold(0.0, f64::max);
    let sx = |v: f64| {
        if max > 0.0 {
            bar_w * (v / max).clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    let mut s = open(w, h, title);
    let _ = write!(
        s,
        "<text x=\"4\" y=\"16\" font-weight=\"600\" font-size=\"13\">{}</text>",
        escape(title)
    );
    for (i, r) in rows.iter().enumerate() {
        let y = 30.0 + row * i as f64;
        let _ = write!(
            s,
            "<text x=\"{lx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\">{l}</text><rect x=\"{label_w}\" y=\"{y1:.1}\" width=\"{p90:.1}\" height=\"6\" fill=\"{c}\" fill-opacity=\"0.35\"/><rect x=\"{label_w}\" y=\"{y:.1}\" width=\"{med:.1}\" height=\"{bh:.1}\" fill=\"{c}\"/><rect x=\"{mx:.1}\" y=\"{y:.1}\" width=\"2\" height=\"{bh:.1}\" fill=\"#c94c4c\"/><text x=\"{vx:.1}\" y=\"{ty:.1}\" font-size=\"11\">median {m} · p90 {p} · mean {a} · n={n}</text>",
            lx = label_w - 6.0,
            ty = y + 13.0,
            l = escape(&r.label),
            y1 = y + 6.0,
            p90 = sx(r.p90),
            c = PALETTE[0],
            med = sx(r.median),
            bh = row - 8.0,
            mx = label_w + sx(r.mean),
            vx = label_w + bar_w + 8.0,
            m = escape(&fmt(r.median)),
            p = escape(&fmt(r.p90)),
            a = escape(&fmt(r.mean)),
            n = number(r.count as f64),
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(svg: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}: {svg}"))
    }

    #[test]
    fn charts_are_well_formed_and_escape_text() {
        let nasty = "<script>alert('x')</script> & \"q\"";
        let bars = bar_chart(nasty, &[(nasty.into(), 3.0), ("b".into(), 0.0)], None);
        let funnel = funnel_chart(
            nasty,
            &[
                FunnelBar {
                    label: nasty.into(),
                    customers: 10.0,
                    from_previous: None,
                },
                FunnelBar {
                    label: "b".into(),
                    customers: 0.0,
                    from_previous: Some(0.0),
                },
            ],
        );
        let nodes = [
            SankeyNode {
                label: nasty.into(),
                column: 0,
            },
            SankeyNode {
                label: "b".into(),
                column: 1,
            },
        ];
        let sk = sankey(nasty, &nodes, &[(0, 1, 5.0), (0, 9, 1.0), (1, 0, -1.0)]);
        let hm = heatmap(
            nasty,
            &[nasty.into()],
            &[nasty.into()],
            &[vec![Some(f64::NAN)]],
        );
        let rc = range_chart(
            nasty,
            &[RangeRow {
                label: nasty.into(),
                median: 1.0,
                p90: f64::NAN,
                mean: 2.0,
                count: 1,
            }],
            &|x| format!("{x}"),
        );
        for svg in [bars, funnel, sk, hm, rc] {
            let doc = parse(&svg);
            assert_eq!(doc.root_element().tag_name().name(), "svg");
            assert!(!svg.contains("<script"), "{svg}");
            assert!(doc
                .descendants()
                .any(|n| n.text().is_some_and(|t| t.contains("<script>"))));
        }
    }

    #[test]
    fn bar_lengths_are_proportional() {
        let svg = bar_chart("t", &[("a".into(), 10.0), ("b".into(), 5.0)], None);
        let doc = parse(&svg);
        let widths: Vec<f64> = doc
            .descendants()
            .filter(|n| n.has_tag_name("rect"))
            .map(|n| n.attribute("width").unwrap().parse().unwrap())
            .collect();
        assert_eq!(widths.len(), 2);
        assert!((widths[0] - 2.0 * widths[1]).abs() < 0.2, "{widths:?}");
    }

    #[test]
    fn sankey_link_widths_follow_values() {
        let nodes = [
            SankeyNode {
                label: "a".into(),
                column: 0,
            },
            SankeyNode {
                label: "b".into(),
                column: 1,
            },
            SankeyNode {
                label: "c".into(),
                column: 1,
            },
        ];
        let svg = sankey("t", &nodes, &[(0, 1, 30.0), (0, 2, 10.0)]);
        let doc = parse(&svg);
        let widths: Vec<f64> = doc
            .descendants()
            .filter(|n| n.has_tag_name("path"))
            .map(|n| n.attribute("stroke-width").unwrap().parse().unwrap())
            .collect();
        assert!((widths[0] - 3.0 * widths[1]).abs() < 0.2, "{widths:?}");
    }

    #[test]
    fn numbers_and_percentages() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(-1234.0), "-1,234");
        assert_eq!(number(f64::NAN), "–");
        assert_eq!(percent(0.5), "50.0%");
        assert_eq!(percent(f64::INFINITY), "–");
    }
}
