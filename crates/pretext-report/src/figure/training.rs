//! Pretraining curves: the loss per step (raw and smoothed), per epoch on
//! the training and validation data, and the learning rate below it.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Drawn, Figure, colour, label_style, legend, padded_range, title_style};
use crate::RunLog;

/// Weight of the newest step in the smoothed step loss (exponential moving
/// average, as TensorBoard's smoothing 0.8).
const SMOOTHING: f64 = 0.2;

/// Loss and learning-rate curves of a pretraining run.
pub(crate) struct Training {
    /// Step losses: (position in epochs, loss).
    steps: Vec<(f64, f64)>,
    /// Learning rate per step: (position in epochs, lr).
    lr: Vec<(f64, f64)>,
    /// Per epoch: (epoch, mean training loss).
    train: Vec<(f64, f64)>,
    /// Per epoch: (epoch, validation loss).
    val: Vec<(f64, f64)>,
}

impl Training {
    /// The curves of `log`; `None` when it has no loss at all.
    pub(crate) fn from_log(log: &RunLog) -> Option<Self> {
        let steps: Vec<(f64, f64)> = log
            .steps
            .iter()
            .filter(|s| s.loss.is_finite())
            .map(|s| (log.step_in_epochs(s.step), s.loss as f64))
            .collect();
        let lr = log
            .steps
            .iter()
            .map(|s| (log.step_in_epochs(s.step), s.lr))
            .collect();
        let train: Vec<(f64, f64)> = log
            .epochs
            .iter()
            .filter(|e| e.train_loss.is_finite())
            .map(|e| (e.epoch as f64, e.train_loss as f64))
            .collect();
        let val = log
            .epochs
            .iter()
            .filter_map(|e| Some((e.epoch as f64, e.val_loss.filter(|v| v.is_finite())? as f64)))
            .collect();
        (!steps.is_empty() || !train.is_empty()).then_some(Self {
            steps,
            lr,
            train,
            val,
        })
    }
}

/// Exponential moving average of the y values.
fn smoothed(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len());
    let mut avg: Option<f64> = None;
    for &(x, y) in points {
        let a = match avg {
            None => y,
            Some(a) => a + SMOOTHING * (y - a),
        };
        avg = Some(a);
        out.push((x, a));
    }
    out
}

impl Figure for Training {
    fn name(&self) -> &str {
        "training"
    }

    fn size(&self) -> (u32, u32) {
        (900, 620)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let (top, bottom) = root.split_vertically(440);
        let xs = self
            .steps
            .iter()
            .chain(&self.train)
            .chain(&self.val)
            .map(|p| p.0);
        let (_, x_max) = padded_range(xs.chain([0.0]));
        let (y_lo, y_hi) = padded_range(
            self.steps
                .iter()
                .chain(&self.train)
                .chain(&self.val)
                .map(|p| p.1),
        );

        let mut chart = ChartBuilder::on(&top)
            .caption("Pretraining loss", title_style())
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_max, y_lo..y_hi)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("loss")
            .label_style(label_style())
            .draw()?;
        if !self.steps.is_empty() {
            let grey = RGBColor(200, 200, 200);
            chart.draw_series(LineSeries::new(self.steps.iter().copied(), &grey))?;
            chart
                .draw_series(LineSeries::new(
                    smoothed(&self.steps),
                    colour(0).stroke_width(2),
                ))?
                .label("training loss per step (smoothed)")
                .legend(|(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour(0).stroke_width(2))
                });
        }
        for (points, name, c) in [
            (&self.train, "training loss per epoch", colour(1)),
            (&self.val, "validation loss per epoch", colour(3)),
        ] {
            if points.is_empty() {
                continue;
            }
            chart
                .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))?
                .label(name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2)));
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;

        if self.lr.is_empty() {
            return Ok(());
        }
        let lr_max = self.lr.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-12);
        let mut chart = ChartBuilder::on(&bottom)
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_max, 0.0..lr_max * 1.05)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("learning rate")
            .y_label_formatter(&|v| format!("{v:.1e}"))
            .label_style(label_style())
            .draw()?;
        chart.draw_series(LineSeries::new(
            self.lr.iter().copied(),
            colour(2).stroke_width(2),
        ))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_follows_a_step_change_gradually() {
        let s = smoothed(&[(0.0, 0.0), (1.0, 10.0), (2.0, 10.0)]);
        assert_eq!(s[0].1, 0.0);
        assert!((s[1].1 - 2.0).abs() < 1e-12);
        assert!((s[2].1 - 3.6).abs() < 1e-12);
    }
}
