//! The collapse signal per epoch: the spread of the L2-normalised
//! validation embeddings (std per dimension × √dim). Near 1 the embeddings
//! cover the sphere; falling towards 0 they collapse to a point, and the
//! encoder has stopped telling images apart.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Drawn, Figure, colour, label_style, legend, title_style};
use crate::RunLog;

/// Embedding spread per epoch.
pub(crate) struct Collapse {
    points: Vec<(f64, f64)>,
}

impl Collapse {
    /// The signal in `log`; `None` when no epoch measured it.
    pub(crate) fn from_log(log: &RunLog) -> Option<Self> {
        let points: Vec<(f64, f64)> = log
            .epochs
            .iter()
            .filter_map(|e| {
                Some((
                    e.epoch as f64,
                    e.embedding_std.filter(|v| v.is_finite())? as f64,
                ))
            })
            .collect();
        (!points.is_empty()).then_some(Self { points })
    }
}

impl Figure for Collapse {
    fn name(&self) -> &str {
        "collapse"
    }

    fn size(&self) -> (u32, u32) {
        (900, 360)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let x_max = self.points.iter().map(|p| p.0).fold(1.0, f64::max) + 0.5;
        let y_max = self.points.iter().map(|p| p.1).fold(1.1, f64::max);
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Collapse signal: spread of validation embeddings",
                title_style(),
            )
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(60)
            .build_cartesian_2d(0.5..x_max, 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("std × √dim")
            .label_style(label_style())
            .draw()?;
        let grey = RGBColor(150, 150, 150);
        chart
            .draw_series(LineSeries::new([(0.5, 1.0), (x_max, 1.0)], grey))?
            .label("1 = spread over the sphere")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey));
        let c = colour(4);
        chart
            .draw_series(LineSeries::new(
                self.points.iter().copied(),
                c.stroke_width(2),
            ))?
            .label("embedding std (0 = collapsed)")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(self.points.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        Ok(())
    }
}
