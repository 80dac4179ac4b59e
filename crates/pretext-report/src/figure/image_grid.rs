//! A grid of images with row captions: the augmentation preview (an image
//! and its views), the reconstruction grid (inputs over outputs) and the
//! nearest-neighbour grid (a query and its nearest images, framed green when
//! they share its label and red when not). The pixels are drawn as one
//! bitmap, enlarged without smoothing.
use plotters::coord::Shift;
use plotters::prelude::*;

use pretext_data::Image;

use super::{Drawn, Figure, label_style, title_style};

/// Pixels of the frame around each image.
const FRAME: usize = 3;
/// Pixels between images.
const GAP: usize = 4;
/// Width of the row-caption column.
const CAPTION_WIDTH: u32 = 150;
/// Height of the title.
const TITLE_HEIGHT: u32 = 40;

/// One image of the grid and the colour of its frame.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    /// The image (pixels in `[0, 1]`).
    pub image: Image,
    /// Frame colour (`None`: no frame).
    pub frame: Option<RGBColor>,
}

impl Cell {
    /// An unframed cell.
    pub(crate) fn plain(image: Image) -> Self {
        Self { image, frame: None }
    }
}

/// Rows of images with a caption each.
pub(crate) struct ImageGrid {
    name: String,
    title: String,
    rows: Vec<(String, Vec<Cell>)>,
    scale: usize,
}

impl ImageGrid {
    /// A grid called `name` (file stem); all images must share one size.
    pub(crate) fn new(name: &str, title: &str, rows: Vec<(String, Vec<Cell>)>) -> Self {
        let h = rows
            .iter()
            .flat_map(|r| r.1.first())
            .map(|c| c.image.height.max(c.image.width))
            .next()
            .unwrap_or(32);
        Self {
            name: name.into(),
            title: title.into(),
            rows,
            // Small images (28 px digits) are enlarged to about 84 px.
            scale: (84 / h.max(1)).clamp(1, 6),
        }
    }

    fn cell_size(&self) -> (usize, usize) {
        let first = self.rows.iter().flat_map(|r| r.1.first()).next();
        let (h, w) = first.map_or((1, 1), |c| (c.image.height, c.image.width));
        (h * self.scale + 2 * FRAME, w * self.scale + 2 * FRAME)
    }

    fn columns(&self) -> usize {
        self.rows.iter().map(|r| r.1.len()).max().unwrap_or(0)
    }

    /// The pixels of the grid (without captions) as RGB bytes.
    fn bitmap(&self) -> (u32, u32, Vec<u8>) {
        let (ch, cw) = self.cell_size();
        let (cols, rows) = (self.columns(), self.rows.len());
        let width = cols * (cw + GAP);
        let height = rows * (ch + GAP);
        let mut buf = vec![255u8; width * height * 3];
        for (r, (_, cells)) in self.rows.iter().enumerate() {
            for (c, cell) in cells.iter().enumerate() {
                let (top, left) = (r * (ch + GAP), c * (cw + GAP));
                let frame = cell.frame.unwrap_or(WHITE);
                for y in 0..ch {
                    for x in 0..cw {
                        let inside =
                            (FRAME..ch - FRAME).contains(&y) && (FRAME..cw - FRAME).contains(&x);
                        let rgb = if inside {
                            pixel(
                                &cell.image,
                                (y - FRAME) / self.scale,
                                (x - FRAME) / self.scale,
                            )
                        } else {
                            [frame.0, frame.1, frame.2]
                        };
                        let at = ((top + y) * width + left + x) * 3;
                        buf[at..at + 3].copy_from_slice(&rgb);
                    }
                }
            }
        }
        (width as u32, height as u32, buf)
    }
}

/// The RGB colour of one pixel (grey images repeat their one channel).
fn pixel(img: &Image, y: usize, x: usize) -> [u8; 3] {
    let (y, x) = (y.min(img.height - 1), x.min(img.width - 1));
    let v =
        |c: usize| (img.get(c.min(img.channels - 1), y, x).clamp(0.0, 1.0) * 255.0).round() as u8;
    [v(0), v(1), v(2)]
}

impl Figure for ImageGrid {
    fn name(&self) -> &str {
        &self.name
    }

    fn size(&self) -> (u32, u32) {
        let (ch, cw) = self.cell_size();
        let w = CAPTION_WIDTH + (self.columns() * (cw + GAP)) as u32 + 20;
        let h = TITLE_HEIGHT + (self.rows.len() * (ch + GAP)) as u32 + 10;
        (w.max(400), h)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        root.draw_text(&self.title, &title_style(), (10, 10))?;
        let (ch, _) = self.cell_size();
        for (r, (caption, _)) in self.rows.iter().enumerate() {
            let y = TITLE_HEIGHT as i32 + (r * (ch + GAP) + ch / 2) as i32 - 8;
            root.draw_text(caption, &label_style(), (10, y))?;
        }
        let (w, h, buf) = self.bitmap();
        if w > 0 && h > 0 {
            let element = BitMapElement::with_owned_buffer(
                (CAPTION_WIDTH as i32, TITLE_HEIGHT as i32),
                (w, h),
                buf,
            )
            .expect("the buffer is w * h * 3 bytes");
            root.draw(&element)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmap_places_enlarged_pixels_inside_frames() {
        let mut img = Image::zeros(1, 2, 2);
        *img.get_mut(0, 0, 1) = 1.0; // top-right white
        let grid = ImageGrid::new(
            "g",
            "t",
            vec![(
                "row".into(),
                vec![Cell {
                    image: img,
                    frame: Some(RGBColor(255, 0, 0)),
                }],
            )],
        );
        let (w, h, buf) = grid.bitmap();
        let s = grid.scale;
        assert_eq!(s, 6);
        let at = |y: usize, x: usize| {
            let i = (y * w as usize + x) * 3;
            [buf[i], buf[i + 1], buf[i + 2]]
        };
        assert_eq!(at(0, 0), [255, 0, 0], "frame");
        assert_eq!(at(FRAME, FRAME), [0, 0, 0], "top-left pixel is black");
        assert_eq!(
            at(FRAME, FRAME + s),
            [255, 255, 255],
            "top-right pixel is white, enlarged"
        );
        assert_eq!(at(FRAME + 2 * s - 1, FRAME + 2 * s - 1), [0, 0, 0]);
        assert_eq!(h as usize, 2 * s + 2 * FRAME + GAP);
    }
}
