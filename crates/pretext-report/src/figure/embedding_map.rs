//! A 2-D map of embeddings (PCA or t-SNE), one dot per image, coloured by
//! label: classes that form separate islands are what a linear probe or kNN
//! can read off without many labels.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Drawn, Figure, colour, legend, padded_range, title_style};

/// Points of a 2-D projection, coloured by label.
pub(crate) struct EmbeddingMap {
    name: String,
    title: String,
    points: Vec<[f32; 2]>,
    labels: Option<Vec<u32>>,
    class_names: Vec<String>,
}

impl EmbeddingMap {
    /// A map called `name` (file stem) titled `title`; `labels` (one per
    /// point) colour the dots, `class_names` name the legend's entries.
    pub(crate) fn new(
        name: &str,
        title: &str,
        points: Vec<[f32; 2]>,
        labels: Option<Vec<u32>>,
        class_names: &[String],
    ) -> Self {
        Self {
            name: name.into(),
            title: title.into(),
            points,
            labels,
            class_names: class_names.to_vec(),
        }
    }

    fn class_name(&self, class: u32) -> String {
        self.class_names
            .get(class as usize)
            .cloned()
            .unwrap_or_else(|| class.to_string())
    }
}

impl Figure for EmbeddingMap {
    fn name(&self) -> &str {
        &self.name
    }

    fn size(&self) -> (u32, u32) {
        (760, 640)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let (x_lo, x_hi) = padded_range(self.points.iter().map(|p| p[0] as f64));
        let (y_lo, y_hi) = padded_range(self.points.iter().map(|p| p[1] as f64));
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_style())
            .margin(10)
            .right_y_label_area_size(130)
            .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .disable_y_axis()
            .draw()?;
        let xy = |p: &[f32; 2]| (p[0] as f64, p[1] as f64);
        match &self.labels {
            None => {
                chart.draw_series(
                    self.points
                        .iter()
                        .map(|p| Circle::new(xy(p), 2, colour(7).filled())),
                )?;
            }
            Some(labels) => {
                let mut classes: Vec<u32> = labels.clone();
                classes.sort_unstable();
                classes.dedup();
                for class in classes {
                    let c = colour(class as usize);
                    chart
                        .draw_series(
                            self.points
                                .iter()
                                .zip(labels)
                                .filter(|(_, l)| **l == class)
                                .map(|(p, _)| Circle::new(xy(p), 2, c.filled())),
                        )?
                        .label(self.class_name(class))
                        .legend(move |(x, y)| Circle::new((x + 8, y), 5, c.filled()));
                }
                legend(&mut chart, SeriesLabelPosition::UpperRight)?;
            }
        }
        Ok(())
    }
}
