//! # jornada-report
//!
//! Self-contained HTML reports and inline SVG charts for jornada's analyses: funnel bars, stage
//! flow Sankey, time-in-stage ranges, attribution bars, retention heatmap, tables and key
//! figures. The output has no scripts, no external fonts or stylesheets and fetches nothing, so
//! it opens anywhere (a browser, a notebook's `_repr_html_`, an e-mail attachment).
//!
//! The charts take plain numbers ([`svg`]); the CLI and the Python binding turn jornada's
//! analysis results into them.
//!
//! ```
//! use jornada_report::{Block, Report, Section};
//! let mut report = Report::new("Shop journeys", "simulated data, 1,000 customers");
//! report.push(Section::new("Key figures").with(Block::Figures(vec![
//!     ("customers".into(), "1,000".into()),
//!     ("conversion".into(), "12.5%".into()),
//! ])));
//! let html = report.render();
//! assert!(html.starts_with("<!DOCTYPE html>") && html.contains("12.5%"));
//! assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod svg;

use svg::escape;

/// A piece of a report section.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A paragraph of text.
    Text(String),
    /// An inline SVG chart (from [`svg`]).
    Svg(String),
    /// A table: header row and body rows (cells are text).
    Table {
        /// Column headers.
        headers: Vec<String>,
        /// Rows of cells.
        rows: Vec<Vec<String>>,
    },
    /// Key figures shown as tiles: `(label, value)`.
    Figures(Vec<(String, String)>),
}

/// A titled section of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Heading.
    pub heading: String,
    /// Content, in order.
    pub blocks: Vec<Block>,
}

impl Section {
    /// An empty section.
    pub fn new(heading: impl Into<String>) -> Self {
        Section {
            heading: heading.into(),
            blocks: Vec::new(),
        }
    }

    /// Adds a block.
    pub fn with(mut self, block: Block) -> Self {
        self.blocks.push(block);
        self
    }
}

/// A whole HTML report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Title.
    pub title: String,
    /// A line under the title (data source, period, model).
    pub subtitle: String,
    /// Sections, in order.
    pub sections: Vec<Section>,
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2733;margin:0;background:#f5f7fa}\
main{max-width:1100px;margin:0 auto;padding:24px}\
h1{font-size:26px;margin:8px 0 4px}\
.sub{color:#5b6775;margin:0 0 20px}\
section{background:#fff;border:1px solid #e3e8ee;border-radius:8px;padding:16px 20px;margin:0 0 18px}\
h2{font-size:18px;margin:0 0 10px}\
table{border-collapse:collapse;font-size:13px;margin:8px 0}\
th,td{border-bottom:1px solid #e3e8ee;padding:4px 10px;text-align:right}\
th:first-child,td:first-child{text-align:left}\
th{background:#f0f3f7}\
.figs{display:flex;flex-wrap:wrap;gap:12px}\
.fig{border:1px solid #e3e8ee;border-radius:6px;padding:8px 14px;min-width:120px}\
.fig b{display:block;font-size:20px}\
.fig span{color:#5b6775;font-size:12px}\
svg{max-width:100%;height:auto;display:block;margin:6px 0}";

impl Report {
    /// An empty report.
    pub fn new(title: impl Into<String>, subtitle: impl Into<String>) -> Self {
        Report {
            title: title.into(),
            subtitle: subtitle.into(),
            sections: Vec::new(),
        }
    }

    /// Adds a section.
    pub fn push(&mut self, section: Section) {
        self.sections.push(section);
    }

    /// The report as one self-contained HTML document.
    pub fn render(&self) -> String {
        let mut h = String::new();
        h.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        h.push_str(&format!(
            "<title>{}</title><style>{STYLE}</style></head><body><main>",
            escape(&self.title)
        ));
        h.push_str(&format!(
            "<h1>{}</h1><p class=\"sub\">{}</p>",
            escape(&self.title),
            escape(&self.subtitle)
        ));
        for s in &self.sections {
            h.push_str(&format!("<section><h2>{}</h2>", escape(&s.heading)));
            for b in &s.blocks {
                h.push_str(&render_block(b));
            }
            h.push_str("</section>");
        }
        h.push_str("</main></body></html>\n");
        h
    }
}

/// One block as an HTML fragment (also used for notebook `_repr_html_`).
///
/// ```
/// use jornada_report::{render_block, Block};
/// let html = render_block(&Block::Table { headers: vec!["stage".into(), "customers".into()], rows: vec![vec!["cart".into(), "3".into()]] });
/// assert_eq!(html, "<table><thead><tr><th>stage</th><th>customers</th></tr></thead><tbody><tr><td>cart</td><td>3</td></tr></tbody></table>");
/// ```
pub fn render_block(b: &Block) -> String {
    match b {
        Block::Text(t) => format!("<p>{}</p>", escape(t)),
        Block::Svg(svg) => svg.clone(),
        Block::Table { headers, rows } => {
            let mut h = String::from("<table><thead><tr>");
            for c in headers {
                h.push_str(&format!("<th>{}</th>", escape(c)));
            }
            h.push_str("</tr></thead><tbody>");
            for r in rows {
                h.push_str("<tr>");
                for c in r {
                    h.push_str(&format!("<td>{}</td>", escape(c)));
                }
                h.push_str("</tr>");
            }
            h.push_str("</tbody></table>");
            h
        }
        Block::Figures(figs) => {
            let mut h = String::from("<div class=\"figs\">");
            for (label, value) in figs {
                h.push_str(&format!(
                    "<div class=\"fig\"><b>{}</b><span>{}</span></div>",
                    escape(value),
                    escape(label)
                ));
            }
            h.push_str("</div>");
            h
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_is_self_contained_and_escaped() {
        let mut r = Report::new("<b>t</b>", "s & s");
        r.push(
            Section::new("h")
                .with(Block::Text("<img src=x onerror=alert(1)>".into()))
                .with(Block::Svg(svg::bar_chart(
                    "bars",
                    &[("a".into(), 1.0)],
                    None,
                )))
                .with(Block::Table {
                    headers: vec!["a".into()],
                    rows: vec![vec!["<i>".into()]],
                })
                .with(Block::Figures(vec![("x".into(), "1".into())])),
        );
        let html = r.render();
        assert!(html.contains("&lt;b&gt;t&lt;/b&gt;"));
        assert!(html.contains("&lt;img src=x"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("<script"));
        assert!(html.contains("<svg"));
        // Only the SVG namespace URI, which is an identifier, not a fetch.
        let urls = html.matches("http").count();
        assert_eq!(urls, html.matches("http://www.w3.org/2000/svg").count());
    }
}
