//! `report.html`: one self-contained page (figures inlined as PNG data, no
//! scripts, no external files) with the run's facts, the results table,
//! the figures and the experiment file.
use std::fmt::Write;

use base64::Engine;
use pretext_runs::{paired_caption, paired_cells, paired_differences};

use crate::ReportInputs;

/// A query text of a text run's sample and its nearest neighbours.
pub(crate) struct TextNeighbours {
    /// The query text.
    pub query: String,
    /// Its class, when the sample is labelled.
    pub label: Option<String>,
    /// The nearest texts, nearest first, each with whether it shares the
    /// query's class (`None` when unlabelled).
    pub near: Vec<(String, Option<bool>)>,
}

/// A figure as the page shows it.
pub(crate) struct PageFigure {
    /// File stem, used as the element id.
    pub name: String,
    /// The heading above it.
    pub title: String,
    /// What to read from it.
    pub caption: String,
    /// PNG bytes.
    pub png: Vec<u8>,
}

/// Escapes text for HTML.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A UTC date and time for a Unix timestamp (`2026-11-27 05:00:09 UTC`).
pub(crate) fn utc(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The facts table: (name, value) pairs about the run.
fn facts(inputs: &ReportInputs) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("run", inputs.name.clone()),
        ("directory", inputs.dir.display().to_string()),
    ];
    if let Some(s) = &inputs.status {
        out.push(("method", s.method.clone()));
        out.push(("state", s.state.clone()));
        out.push(("seed", s.seed.to_string()));
        out.push(("backend", s.info.backend.clone()));
        out.push((
            "git revision",
            s.info
                .git_revision
                .clone()
                .unwrap_or_else(|| "unknown".into()),
        ));
        out.push(("epochs", format!("{} of {}", s.epochs_done, s.epochs)));
        out.push(("started", utc(s.started_unix)));
        out.push(("updated", utc(s.updated_unix)));
        if let Some(e) = &s.error {
            out.push(("error", e.clone()));
        }
    }
    let epochs = &inputs.log.epochs;
    if !epochs.is_empty() {
        let seconds: f64 = epochs.iter().map(|e| e.seconds).sum();
        let mut speeds: Vec<f64> = epochs.iter().map(|e| e.throughput.per_sec()).collect();
        speeds.sort_by(f64::total_cmp);
        out.push((
            "training time",
            format!("{seconds:.1} s over {} epochs", epochs.len()),
        ));
        out.push((
            "throughput",
            format!(
                "{:.0} {}/s (median epoch)",
                speeds[speeds.len() / 2],
                inputs.modality.samples()
            ),
        ));
    }
    for r in &inputs.evals {
        let seconds: f64 = r.rows.iter().map(|row| row.seconds).sum();
        out.push((
            "evaluation",
            format!(
                "task {} ({}), checkpoint epoch {}, {} labelled / {} test {}, heads {seconds:.1} s",
                r.task,
                r.task_file,
                r.checkpoint_epoch,
                r.pool_size,
                r.test_size,
                r.modality.samples()
            ),
        ));
    }
    out
}

/// The whole page.
pub(crate) fn page(
    inputs: &ReportInputs,
    figures: &[PageFigure],
    neighbours: &[TextNeighbours],
    notes: &[String],
) -> String {
    let mut h = String::new();
    let title = escape(&format!("pretext report: {}", inputs.name));
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>\n\
         body {{ font-family: 'DejaVu Sans', sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }}\n\
         table {{ border-collapse: collapse; margin: 1em 0; }}\n\
         th, td {{ border: 1px solid #ccc; padding: 4px 10px; text-align: left; }}\n\
         td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}\n\
         figure {{ margin: 2em 0; }} figure img {{ max-width: 100%; border: 1px solid #eee; }}\n\
         figcaption {{ color: #444; margin-top: .4em; }}\n\
         .notes {{ background: #fff6e0; border-left: 4px solid #e0a000; padding: .5em 1em; }}\n\
         pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; }}\n\
         table.neighbours th {{ background: #f0f0f0; }}\n\
         li.same {{ color: #1f7a1f; }}\n\
         li.other {{ color: #b02020; }}\n\
         </style>\n</head>\n<body>\n<h1>{title}</h1>\n"
    );
    h += "<table class=\"facts\">\n";
    for (k, v) in facts(inputs) {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(&v));
    }
    h += "</table>\n";
    if !notes.is_empty() {
        h += "<div class=\"notes\"><h2>Missing or unreadable</h2>\n<ul>\n";
        for n in notes {
            let _ = writeln!(h, "<li>{}</li>", escape(n));
        }
        h += "</ul></div>\n";
    }
    if !inputs.evals.is_empty() {
        h += "<h2 id=\"results\">Results</h2>\n";
    }
    for r in &inputs.evals {
        let (header, rows) = r.summary_cells();
        let _ = writeln!(
            h,
            "<p>Test accuracy (%) on {} ({} test {}), mean ± std over seeds.</p>",
            escape(&r.task),
            r.test_size,
            r.modality.samples()
        );
        html_table(&mut h, &header, &rows);
        let paired = paired_differences(&r.rows, &r.budgets);
        if let Some(first) = paired.first() {
            let (header, rows) = paired_cells(&paired, &r.budgets);
            let _ = writeln!(h, "<p>{}</p>", escape(&paired_caption(&first.head)));
            html_table(&mut h, &header, &rows);
        }
    }
    if !figures.is_empty() {
        h += "<h2>Figures</h2>\n";
    }
    let engine = base64::engine::general_purpose::STANDARD;
    for f in figures {
        let _ = write!(
            h,
            "<figure id=\"{id}\">\n<h3>{title}</h3>\n<img src=\"data:image/png;base64,{data}\" alt=\"{title}\">\n<figcaption>{caption}</figcaption>\n</figure>\n",
            id = escape(&f.name),
            title = escape(&f.title),
            data = engine.encode(&f.png),
            caption = escape(&f.caption),
        );
    }
    if !neighbours.is_empty() {
        h += "<h2 id=\"neighbours\">Nearest neighbours</h2>\n<p>Each query text of the sample, then its most cosine-similar texts in embedding space, nearest first; green when they share its class, red when not.</p>\n<table class=\"neighbours\">\n";
        for n in neighbours {
            let label = n
                .label
                .as_ref()
                .map(|l| format!(" <span class=\"class\">[{}]</span>", escape(l)))
                .unwrap_or_default();
            let _ = writeln!(h, "<tr><th>{}{label}</th></tr>", escape(&n.query));
            h += "<tr><td><ol>";
            for (text, same) in &n.near {
                let class = match same {
                    Some(true) => " class=\"same\"",
                    Some(false) => " class=\"other\"",
                    None => "",
                };
                let _ = write!(h, "<li{class}>{}</li>", escape(text));
            }
            h += "</ol></td></tr>\n";
        }
        h += "</table>\n";
    }
    if let Some(config) = &inputs.config {
        let _ = write!(h, "<h2>Experiment</h2>\n<pre>{}</pre>\n", escape(config));
    }
    h += "</body>\n</html>\n";
    h
}

/// Appends a table: a header row, then rows whose cells after the first are numbers.
fn html_table(h: &mut String, header: &[String], rows: &[Vec<String>]) {
    *h += "<table>\n<tr>";
    for c in header {
        let _ = write!(h, "<th>{}</th>", escape(c));
    }
    *h += "</tr>\n";
    for row in rows {
        *h += "<tr>";
        for (i, c) in row.iter().enumerate() {
            let class = if i == 0 { "" } else { " class=\"num\"" };
            let _ = write!(h, "<td{class}>{}</td>", escape(c));
        }
        *h += "</tr>\n";
    }
    *h += "</table>\n";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn formats_unix_time_as_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        // date -u -d @1795755609
        assert_eq!(utc(1_795_755_609), "2026-11-27 05:00:09 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    }
}
