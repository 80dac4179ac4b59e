//! The collapse signals per epoch. Left: the spread of the L2-normalised
//! validation embeddings (std per dimension × √dim); near 1 the embeddings
//! cover the sphere, falling towards 0 they collapse to a point. Right, when
//! the log has it: the effective rank (RankMe) of the embeddings, the number
//! of directions they use; falling towards 1 they collapse onto a line.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Drawn, Figure, colour, label_style, legend, title_style};
use crate::RunLog;

/// Embedding spread, and effective rank where logged, per epoch.
pub(crate) struct Collapse {
    std: Vec<(f64, f64)>,
    rank: Vec<(f64, f64)>,
}

fn series(
    log: &RunLog,
    value: impl Fn(&pretext_runs::EpochRecord) -> Option<f32>,
) -> Vec<(f64, f64)> {
    log.epochs
        .iter()
        .filter_map(|e| Some((e.epoch as f64, value(e).filter(|v| v.is_finite())? as f64)))
        .collect()
}

impl Collapse {
    /// The signals in `log`; `None` when no epoch measured them.
    pub(crate) fn from_log(log: &RunLog) -> Option<Self> {
        let std = series(log, |e| e.embedding_std);
        let rank = series(log, |e| e.effective_rank);
        (!std.is_empty()).then_some(Self { std, rank })
    }
}

/// One panel: `points` against epochs, with a grey reference line at `reference`.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[(f64, f64)],
    (caption, y_desc, reference, line_label, series_label, c): (
        &str,
        &str,
        f64,
        &str,
        &str,
        RGBColor,
    ),
) -> Drawn<DB> {
    let x_max = points.iter().map(|p| p.0).fold(1.0, f64::max) + 0.5;
    let y_max = points.iter().map(|p| p.1).fold(reference * 1.1, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, title_style())
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0.5..x_max, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_desc)
        .label_style(label_style())
        .draw()?;
    let grey = RGBColor(150, 150, 150);
    chart
        .draw_series(LineSeries::new(
            [(0.5, reference), (x_max, reference)],
            grey,
        ))?
        .label(line_label)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey));
    chart
        .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))?
        .label(series_label)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2)));
    chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    Ok(())
}

impl Figure for Collapse {
    fn name(&self) -> &str {
        "collapse"
    }

    fn size(&self) -> (u32, u32) {
        if self.rank.is_empty() {
            (900, 360)
        } else {
            (1200, 360)
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let std_panel = (
            "Collapse: spread of validation embeddings",
            "std × √dim",
            1.0,
            "1 = spread over the sphere",
            "embedding std (0 = collapsed)",
            colour(4),
        );
        if self.rank.is_empty() {
            return panel(root, &self.std, std_panel);
        }
        let (left, right) = root.split_horizontally(600);
        panel(&left, &self.std, std_panel)?;
        panel(
            &right,
            &self.rank,
            (
                "Collapse: effective rank of validation embeddings",
                "effective rank (RankMe)",
                1.0,
                "1 = all on one line",
                "effective rank",
                colour(5),
            ),
        )
    }
}
