//! Validation accuracy of every trained head, epoch by epoch (L-BFGS
//! iteration for the linear probe), on the first seed of each label budget.
//! The ringed point is where validation stopped improving: the weights kept,
//! and where overfitting begins.
use plotters::coord::Shift;
use plotters::prelude::*;

use pretext_runs::{EvalResults, ResultRow, Source};

use super::{Drawn, Figure, label_style, legend, source_colour, title_style};

/// One panel: a head at a budget, one curve per source.
struct Panel {
    title: String,
    x_desc: &'static str,
    curves: Vec<Curve>,
}

struct Curve {
    source: Source,
    label: String,
    points: Vec<(f64, f64)>,
    best: Option<(f64, f64)>,
}

/// Validation curves of the trained heads.
pub(crate) struct HeadCurves {
    panels: Vec<Panel>,
}

impl HeadCurves {
    /// The panels of `results`; `None` when no head recorded a curve.
    pub(crate) fn from_results(results: &EvalResults) -> Option<Self> {
        let first_seed = results.rows.iter().map(|r| r.seed).min()?;
        let mut keys: Vec<(String, pretext_data::LabelBudget)> = Vec::new();
        for r in &results.rows {
            let key = (r.head.clone(), r.budget);
            if !r.curve.is_empty() && r.seed == first_seed && !keys.contains(&key) {
                keys.push(key);
            }
        }
        // Heads in a fixed order, budgets in the task's order.
        let head_rank = |h: &str| {
            ["linear", "mlp", "finetune"]
                .iter()
                .position(|x| *x == h)
                .unwrap_or(9)
        };
        let budget_rank = |b| {
            results
                .budgets
                .iter()
                .position(|x| *x == b)
                .unwrap_or(usize::MAX)
        };
        keys.sort_by_key(|(h, b)| (head_rank(h), budget_rank(*b)));
        let panels: Vec<Panel> = keys
            .into_iter()
            .map(|(head, budget)| {
                let rows: Vec<&ResultRow> = results
                    .rows
                    .iter()
                    .filter(|r| {
                        r.head == head
                            && r.budget == budget
                            && r.seed == first_seed
                            && !r.curve.is_empty()
                    })
                    .collect();
                Panel {
                    title: format!("{head}, {budget}"),
                    x_desc: if head == "linear" {
                        "L-BFGS iteration"
                    } else {
                        "epoch"
                    },
                    curves: rows.into_iter().map(curve).collect(),
                }
            })
            .collect();
        (!panels.is_empty()).then_some(Self { panels })
    }
}

fn curve(row: &ResultRow) -> Curve {
    let points: Vec<(f64, f64)> = row
        .curve
        .iter()
        .map(|p| (p.epoch as f64, 100.0 * p.val_accuracy as f64))
        .collect();
    let best = row
        .best_epoch
        .and_then(|b| points.iter().find(|p| p.0 == b as f64).copied());
    Curve {
        source: row.source,
        label: row.label(),
        points,
        best,
    }
}

impl Figure for HeadCurves {
    fn name(&self) -> &str {
        "head_curves"
    }

    fn size(&self) -> (u32, u32) {
        let cols = self.panels.len().min(3) as u32;
        let rows = self.panels.len().div_ceil(3) as u32;
        (420 * cols.max(1) + 20, 320 * rows + 50)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let root = root.titled(
            "Validation accuracy of trained heads (first seed; ring = weights kept, overfitting after)",
            title_style(),
        )?;
        let cols = self.panels.len().min(3);
        let rows = self.panels.len().div_ceil(3);
        let areas = root.split_evenly((rows, cols));
        for (panel, area) in self.panels.iter().zip(areas) {
            let x_max = panel
                .curves
                .iter()
                .flat_map(|c| c.points.iter().map(|p| p.0))
                .fold(1.0, f64::max);
            let y_lo = panel
                .curves
                .iter()
                .flat_map(|c| c.points.iter().map(|p| p.1))
                .fold(100.0, f64::min);
            let mut chart = ChartBuilder::on(&area)
                .caption(&panel.title, label_style())
                .margin(8)
                .x_label_area_size(30)
                .y_label_area_size(45)
                .build_cartesian_2d(0.0..x_max, (y_lo - 2.0).max(0.0).floor()..100.0)?;
            chart
                .configure_mesh()
                .x_desc(panel.x_desc)
                .y_desc("val accuracy %")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| format!("{v:.0}"))
                .label_style(label_style())
                .draw()?;
            for c in &panel.curves {
                let col = source_colour(c.source);
                chart
                    .draw_series(LineSeries::new(
                        c.points.iter().copied(),
                        col.stroke_width(2),
                    ))?
                    .label(c.label.clone())
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 16, y)], col.stroke_width(2))
                    });
                if let Some(b) = c.best {
                    chart.draw_series([Circle::new(b, 7, col.stroke_width(2))])?;
                }
            }
            legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    }
}
