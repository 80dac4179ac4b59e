//! The accuracy monitor's kNN accuracy on its labelled validation slice,
//! one line per `k`: left against epochs, right against wall-clock minutes
//! of training (time to accuracy), each epoch's minutes being the sum of the
//! logged epoch times up to it.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Drawn, Figure, colour, label_style, legend, title_style};
use crate::RunLog;

/// One reading: `(epoch, minutes of training so far, accuracy %)`.
type Point = (f64, f64, f64);

/// The readings of one `k`.
type Line = (usize, Vec<Point>);

/// kNN accuracy (%) per `k`, against epochs and minutes.
pub(crate) struct Monitor {
    lines: Vec<Line>,
}

impl Monitor {
    /// The monitor's readings in `log`; `None` when no epoch has one.
    pub(crate) fn from_log(log: &RunLog) -> Option<Self> {
        let mut lines: Vec<Line> = Vec::new();
        let mut minutes = 0.0;
        for e in &log.epochs {
            minutes += e.seconds / 60.0;
            for r in e.monitor.iter().filter(|r| r.accuracy.is_finite()) {
                let point = (e.epoch as f64, minutes, 100.0 * f64::from(r.accuracy));
                match lines.iter_mut().find(|(k, _)| *k == r.k) {
                    Some((_, points)) => points.push(point),
                    None => lines.push((r.k, vec![point])),
                }
            }
        }
        (!lines.is_empty()).then_some(Self { lines })
    }
}

/// One panel: accuracy against the x value `x` picks from each point.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lines: &[Line],
    caption: &str,
    x_desc: &str,
    x: impl Fn(&Point) -> f64,
) -> Drawn<DB> {
    let points = lines.iter().flat_map(|(_, p)| p.iter());
    let x_max = points.clone().map(&x).fold(1.0, f64::max) * 1.05;
    let y_min = points.clone().map(|p| p.2).fold(100.0, f64::min);
    let y_max = points.map(|p| p.2).fold(0.0, f64::max);
    let pad = ((y_max - y_min) * 0.1).max(1.0);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, title_style())
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, (y_min - pad).max(0.0)..(y_max + pad).min(100.0))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("kNN accuracy (%)")
        .label_style(label_style())
        .draw()?;
    for (i, (k, line)) in lines.iter().enumerate() {
        let c = colour(i);
        let xy: Vec<(f64, f64)> = line.iter().map(|p| (x(p), p.2)).collect();
        chart
            .draw_series(LineSeries::new(xy.iter().copied(), c.stroke_width(2)))?
            .label(format!("kNN-{k}"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(xy.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    Ok(())
}

impl Figure for Monitor {
    fn name(&self) -> &str {
        "monitor"
    }

    fn size(&self) -> (u32, u32) {
        (1200, 360)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let (left, right) = root.split_horizontally(600);
        panel(
            &left,
            &self.lines,
            "Monitor: kNN accuracy per epoch",
            "epoch",
            |p| p.0,
        )?;
        panel(
            &right,
            &self.lines,
            "Monitor: time to accuracy",
            "minutes of training",
            |p| p.1,
        )
    }
}
