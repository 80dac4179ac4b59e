//! The confusion matrix of the best head: which classes the encoder's
//! features still mix up. Cells are shaded by the share of each true class
//! (mistakes 5x stronger, so they stand out).
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Drawn, Figure, label_style, title_style};
use crate::font;

/// A confusion matrix with its caption.
pub(crate) struct Confusion {
    title: String,
    counts: Vec<Vec<u32>>,
    class_names: Vec<String>,
}

impl Confusion {
    /// `counts[t][p]`: test images of class `t` predicted `p`.
    pub(crate) fn new(title: String, counts: Vec<Vec<u32>>, class_names: &[String]) -> Self {
        Self {
            title,
            counts,
            class_names: class_names.to_vec(),
        }
    }

    fn name_of(&self, i: usize) -> String {
        self.class_names
            .get(i)
            .cloned()
            .unwrap_or_else(|| i.to_string())
    }
}

impl Confusion {
    /// Pixels the grid and its labels need.
    fn grid_width(&self) -> u32 {
        260 + 48 * self.counts.len() as u32
    }

    /// Pixels the title needs (about 11 per character at its size).
    fn title_width(&self) -> u32 {
        40 + 11 * self.title.chars().count() as u32
    }
}

impl Figure for Confusion {
    fn name(&self) -> &str {
        "confusion"
    }

    fn size(&self) -> (u32, u32) {
        let n = self.counts.len() as u32;
        (self.grid_width().max(self.title_width()), 140 + 48 * n)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let n = self.counts.len();
        // The title is centred over the whole figure, the grid under it.
        let area = root.titled(&self.title, title_style())?;
        let extra = self.title_width().saturating_sub(self.grid_width());
        let chart = ChartBuilder::on(&area)
            // A title wider than the grid widens the figure, not the cells:
            // the grid stays centred.
            .margin(10)
            .margin_left(150 + extra / 2)
            .margin_right(10 + extra - extra / 2)
            .margin_bottom(60)
            .build_cartesian_2d(0..n, 0..n)?;
        let middle = Pos::new(HPos::Center, VPos::Center);
        // The corners of cell (true t, predicted p) in pixels; row 0 on top.
        let cell = |t: usize, p: usize| {
            let y = n - 1 - t;
            let (x0, y0) = chart.backend_coord(&(p, y + 1));
            let (x1, y1) = chart.backend_coord(&(p + 1, y));
            (x0, y0, x1, y1)
        };
        let plot = chart.plotting_area();
        for (t, row) in self.counts.iter().enumerate() {
            let total = row.iter().sum::<u32>().max(1) as f64;
            for (p, &count) in row.iter().enumerate() {
                let share = count as f64 / total;
                // Mistakes are shaded 5x stronger, so confusions stand out.
                let strength = if t == p {
                    share
                } else {
                    (5.0 * share).min(1.0)
                };
                let shade = (255.0 * (1.0 - strength)).round() as u8;
                let fill = if t == p {
                    RGBColor(shade, shade, 255)
                } else {
                    RGBColor(255, shade, shade)
                };
                let y = n - 1 - t;
                plot.draw(&Rectangle::new([(p, y), (p + 1, y + 1)], fill.filled()))?;
                plot.draw(&Rectangle::new(
                    [(p, y), (p + 1, y + 1)],
                    RGBColor(220, 220, 220),
                ))?;
                let text_colour = if strength > 0.6 { WHITE } else { BLACK };
                let (x0, y0, x1, y1) = cell(t, p);
                let style = TextStyle::from((font::FAMILY, 12).into_font())
                    .color(&text_colour)
                    .pos(middle);
                root.draw_text(&count.to_string(), &style, ((x0 + x1) / 2, (y0 + y1) / 2))?;
            }
        }
        // Class names beside each row and under each column.
        for i in 0..n {
            let (x0, y0, _, y1) = cell(i, 0);
            let right = label_style().pos(Pos::new(HPos::Right, VPos::Center));
            root.draw_text(&self.name_of(i), &right, (x0 - 8, (y0 + y1) / 2))?;
            let (x0, _, x1, y1) = cell(n - 1, i);
            let below = label_style().pos(Pos::new(HPos::Center, VPos::Top));
            root.draw_text(&self.name_of(i), &below, ((x0 + x1) / 2, y1 + 6))?;
        }
        let (x0, y0, _, _) = cell(0, 0);
        let (_, _, x1, y1) = cell(n - 1, n - 1);
        root.draw_text(
            "predicted class",
            &label_style().pos(middle),
            ((x0 + x1) / 2, y1 + 40),
        )?;
        root.draw_text(
            "true class",
            &label_style().pos(middle),
            (x0 - 110, (y0 + y1) / 2),
        )?;
        Ok(())
    }
}
