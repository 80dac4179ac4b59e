//! Methods side by side: one group of bars per method, one bar per
//! (head, budget) column of the comparison, the bar the mean test accuracy
//! over the method's pretraining seeds and the whisker ± one std.
use plotters::coord::Shift;
use plotters::prelude::*;
use pretext_runs::MethodComparison;

use super::{Drawn, Figure, colour, label_style, legend, title_style};

/// The comparison as a grouped bar chart.
pub(crate) struct MethodBars<'a> {
    pub(crate) comparison: &'a MethodComparison,
    pub(crate) title: String,
}

impl Figure for MethodBars<'_> {
    fn name(&self) -> &str {
        "comparison"
    }

    fn size(&self) -> (u32, u32) {
        let groups = self.comparison.rows.len().max(1) as u32;
        (360 + groups * 110, 480)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let c = self.comparison;
        let n = c.rows.len().max(1);
        let k = c.columns.len().max(1);
        let values = c.rows.iter().flat_map(|r| r.cells.iter().flatten());
        let lowest = values
            .map(|cell| 100.0 * (cell.mean - cell.std) as f64)
            .fold(100.0, f64::min);
        // Start the axis a little under the lowest whisker, on a multiple of 10.
        let y_min = ((lowest - 5.0) / 10.0).floor().clamp(0.0, 9.0) * 10.0;
        let methods: Vec<String> = c.rows.iter().map(|r| r.method.clone()).collect();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_style())
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), y_min..100.0)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    methods.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc("test accuracy (%)")
            .label_style(label_style())
            .draw()?;
        let width = 0.8 / k as f64;
        for (j, (head, budget)) in c.columns.iter().enumerate() {
            let colour = colour(j);
            let offset = -0.4 + width * (j as f64 + 0.5);
            let bars: Vec<(f64, f64, f64)> = c
                .rows
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    let cell = r.cells.get(j).copied().flatten()?;
                    Some((
                        i as f64 + offset,
                        100.0 * cell.mean as f64,
                        100.0 * cell.std as f64,
                    ))
                })
                .collect();
            chart
                .draw_series(bars.iter().map(|&(x, mean, _)| {
                    Rectangle::new(
                        [(x - width * 0.45, y_min), (x + width * 0.45, mean)],
                        colour.filled(),
                    )
                }))?
                .label(format!("{head} @ {budget}"))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
                });
            chart.draw_series(bars.iter().filter(|b| b.2 > 0.0).map(|&(x, mean, std)| {
                PathElement::new([(x, mean - std), (x, mean + std)], BLACK.stroke_width(2))
            }))?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        Ok(())
    }
}
