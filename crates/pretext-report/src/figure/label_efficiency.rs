//! The label-efficiency curve: test accuracy against labels per class for
//! the pretrained encoder and every baseline, mean ± std over seeds.
use plotters::coord::Shift;
use plotters::prelude::*;

use pretext_runs::{EvalResults, ResultRow, Source};

use super::{Drawn, Figure, label_style, legend, source_colour, title_style};

struct Series {
    source: Source,
    label: String,
    /// (labels per class, mean %, std %)
    points: Vec<(f64, f64, f64)>,
}

/// One panel per head, one curve per source.
struct Panel {
    head: String,
    series: Vec<Series>,
}

/// Accuracy against labels per class.
pub(crate) struct LabelEfficiency {
    panels: Vec<Panel>,
}

impl LabelEfficiency {
    /// The curves of `results`; `None` without summary rows.
    pub(crate) fn from_results(results: &EvalResults) -> Option<Self> {
        let classes = results.classes.max(1) as f64;
        let mut heads: Vec<String> = Vec::new();
        for s in &results.summary {
            if !heads.contains(&s.head) {
                heads.push(s.head.clone());
            }
        }
        let rank = |h: &str| {
            ["linear", "knn", "mlp", "finetune"]
                .iter()
                .position(|x| h.starts_with(x))
                .unwrap_or(9)
        };
        heads.sort_by_key(|h| (rank(h), h.clone()));
        let panels: Vec<Panel> = heads
            .into_iter()
            .map(|head| {
                let series = [
                    Source::Pretrained,
                    Source::RawPixels,
                    Source::Tfidf,
                    Source::RandomInit,
                ]
                .into_iter()
                .map(|source| {
                    let mut points: Vec<(f64, f64, f64)> = results
                        .summary
                        .iter()
                        .filter(|s| s.source == source && s.head == head)
                        .filter_map(|s| {
                            // Labels per class actually drawn (fractions and "all" too).
                            let drawn: Vec<f64> = results
                                .rows
                                .iter()
                                .filter(|r| {
                                    r.source == s.source && r.head == s.head && r.budget == s.budget
                                })
                                .map(|r| r.train_labels as f64 / classes)
                                .collect();
                            let per_class = drawn.iter().sum::<f64>() / drawn.len().max(1) as f64;
                            (per_class > 0.0).then_some((
                                per_class,
                                100.0 * s.mean as f64,
                                100.0 * s.std as f64,
                            ))
                        })
                        .collect();
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    Series {
                        source,
                        label: ResultRow::label_of(source, &head),
                        points,
                    }
                })
                .filter(|s| !s.points.is_empty())
                .collect();
                Panel { head, series }
            })
            .filter(|p: &Panel| !p.series.is_empty())
            .collect();
        (!panels.is_empty()).then_some(Self { panels })
    }
}

impl Figure for LabelEfficiency {
    fn name(&self) -> &str {
        "label_efficiency"
    }

    fn size(&self) -> (u32, u32) {
        let cols = self.panels.len().min(3) as u32;
        let rows = self.panels.len().div_ceil(3) as u32;
        (440 * cols + 20, 380 * rows + 50)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let root = root.titled(
            "Label efficiency: test accuracy against labels per class (mean ± std over seeds)",
            title_style(),
        )?;
        let all = self
            .panels
            .iter()
            .flat_map(|p| p.series.iter())
            .flat_map(|s| s.points.iter());
        let (mut x_lo, mut x_hi, mut y_lo) = (f64::INFINITY, 0.0f64, 100.0f64);
        for &(x, m, sd) in all {
            x_lo = x_lo.min(x);
            x_hi = x_hi.max(x);
            y_lo = y_lo.min(m - sd);
        }
        let cols = self.panels.len().min(3);
        let rows = self.panels.len().div_ceil(3);
        for (panel, area) in self.panels.iter().zip(root.split_evenly((rows, cols))) {
            let mut chart = ChartBuilder::on(&area)
                .caption(&panel.head, label_style())
                .margin(8)
                .x_label_area_size(35)
                .y_label_area_size(45)
                .build_cartesian_2d(
                    ((x_lo / 1.5)..(x_hi * 1.5)).log_scale(),
                    (y_lo - 3.0).max(0.0).floor()..100.0,
                )?;
            chart
                .configure_mesh()
                .x_desc("labels per class")
                .x_labels(4)
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| format!("{v:.0}"))
                .y_desc("test accuracy %")
                .label_style(label_style())
                .draw()?;
            for s in &panel.series {
                let c = source_colour(s.source);
                let line = s.points.iter().map(|p| (p.0, p.1));
                chart
                    .draw_series(LineSeries::new(line, c.stroke_width(2)))?
                    .label(s.label.clone())
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 16, y)], c.stroke_width(2))
                    });
                chart.draw_series(s.points.iter().map(|&(x, m, sd)| {
                    ErrorBar::new_vertical(x, m - sd, m, m + sd, c.filled(), 8)
                }))?;
                chart.draw_series(
                    s.points
                        .iter()
                        .map(|&(x, m, _)| Circle::new((x, m), 4, c.filled())),
                )?;
            }
            legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    }
}
