//! The figures of a report, one per file, and what they share: every figure
//! draws itself on any plotters backend, and [`render`] writes it as PNG and
//! SVG.
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::{ReportError, font};

mod collapse;
mod confusion;
mod embedding_map;
mod head_curves;
mod image_grid;
mod label_efficiency;
mod method_comparison;
mod monitor;
mod training;

pub(crate) use collapse::Collapse;
pub(crate) use confusion::Confusion;
pub(crate) use embedding_map::EmbeddingMap;
pub(crate) use head_curves::HeadCurves;
pub(crate) use image_grid::{Cell, ImageGrid};
pub(crate) use label_efficiency::LabelEfficiency;
pub(crate) use method_comparison::MethodBars;
pub(crate) use monitor::Monitor;
pub(crate) use training::Training;

/// The result of drawing on a backend.
pub(crate) type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A figure that can draw itself on any backend.
pub(crate) trait Figure {
    /// File stem of the figure, e.g. `training`.
    fn name(&self) -> &str;
    /// Size in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the figure on `root` (already cleared to white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB>;
}

/// A figure written to disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// File stem.
    pub name: String,
    /// The PNG file.
    pub png: PathBuf,
    /// The SVG file.
    pub svg: PathBuf,
}

/// Draws a comparison of methods as `<dir>/comparison.png` and `.svg`, with
/// `title` above it.
pub fn render_method_comparison(
    comparison: &pretext_runs::MethodComparison,
    title: &str,
    dir: &Path,
) -> Result<Rendered, ReportError> {
    let bars = MethodBars {
        comparison,
        title: title.to_string(),
    };
    render(&bars, bars.name(), dir)
}

/// Draws `figure` into `<dir>/<stem>.png` and `<dir>/<stem>.svg`.
pub(crate) fn render(
    figure: &impl Figure,
    stem: &str,
    dir: &Path,
) -> Result<Rendered, ReportError> {
    font::register();
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    let failed = |path: &Path, e: String| ReportError::Draw {
        path: path.to_path_buf(),
        reason: e,
    };
    {
        let root = BitMapBackend::new(&png, figure.size()).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed(&png, e.to_string()))?;
        figure
            .draw(&root)
            .map_err(|e| failed(&png, e.to_string()))?;
        root.present().map_err(|e| failed(&png, e.to_string()))?;
    }
    {
        let root = SVGBackend::new(&svg, figure.size()).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed(&svg, e.to_string()))?;
        figure
            .draw(&root)
            .map_err(|e| failed(&svg, e.to_string()))?;
        root.present().map_err(|e| failed(&svg, e.to_string()))?;
    }
    Ok(Rendered {
        name: stem.to_string(),
        png,
        svg,
    })
}

/// Colours for categories (Tableau 10), cycled.
pub(crate) fn colour(i: usize) -> RGBColor {
    const TAB10: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = TAB10[i % TAB10.len()];
    RGBColor(r, g, b)
}

/// The colour of each source, the same in every figure.
pub(crate) fn source_colour(source: pretext_runs::Source) -> RGBColor {
    match source {
        pretext_runs::Source::Pretrained => colour(0),
        pretext_runs::Source::RawPixels => colour(1),
        pretext_runs::Source::RandomInit => colour(3),
        pretext_runs::Source::Tfidf => colour(2),
        pretext_runs::Source::Kmeans => colour(4),
        pretext_runs::Source::Lsa => colour(5),
    }
}

/// The text style of titles.
pub(crate) fn title_style() -> TextStyle<'static> {
    (font::FAMILY, 20).into_font().style(FontStyle::Bold).into()
}

/// The text style of axis labels and legends.
pub(crate) fn label_style() -> TextStyle<'static> {
    (font::FAMILY, 14).into()
}

/// Draws the chart's legend (the series given a `label`) in one style.
pub(crate) fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Drawn<DB> {
    chart
        .configure_series_labels()
        .label_font(label_style())
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(position)
        .draw()
}

/// `(min, max)` of `values` widened by 5% (and to a non-empty range), for axes.
pub(crate) fn padded_range(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-9 {
        let pad = lo.abs().max(1.0) * 0.05;
        return (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_range_widens_and_never_collapses() {
        assert_eq!(padded_range([0.0, 10.0]), (-0.5, 10.5));
        let (lo, hi) = padded_range([2.0, 2.0]);
        assert!(lo < 2.0 && hi > 2.0);
        assert_eq!(padded_range([f64::NAN]), (0.0, 1.0));
        assert_eq!(padded_range(Vec::<f64>::new()), (0.0, 1.0));
    }
}
