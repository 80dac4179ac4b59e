//! Random affine transform: a small rotation, translation and scaling about
//! the image centre.
//!
//! Reference: torchvision `transforms.RandomAffine` (degrees, translate as a
//! fraction of the size, scale range; bilinear sampling, zero fill).
use serde::{Deserialize, Serialize};

use super::{Transform, check_at_least, check_probability, check_range, fires, uniform};
use crate::{Image, Rng};

/// With probability `p`, rotates by an angle drawn from
/// `[-degrees, degrees]`, scales by a factor drawn from `scale` and shifts by up
/// to `translate` times the width (horizontally) and height (vertically),
/// sampling bilinearly; pixels that come from outside the image are 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Affine {
    /// Largest rotation in degrees, either way (default 10).
    pub degrees: f32,
    /// Largest shift as a fraction of the image size, in `[0, 1]` (default 0.1).
    pub translate: f32,
    /// Range of the zoom factor (default `(0.9, 1.1)`).
    pub scale: (f32, f32),
    /// Probability of applying it (default 1).
    pub p: f32,
}

impl Default for Affine {
    fn default() -> Self {
        Self {
            degrees: 10.0,
            translate: 0.1,
            scale: (0.9, 1.1),
            p: 1.0,
        }
    }
}

impl Affine {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        check_at_least("degrees", self.degrees, 0.0)?;
        check_probability("translate", self.translate)?;
        check_range("scale", self.scale, f32::MIN_POSITIVE)?;
        check_probability("p", self.p)
    }
}

impl Transform for Affine {
    fn apply(&self, image: Image, rng: &mut Rng) -> Image {
        if !fires(rng, self.p) {
            return image;
        }
        let (h, w) = (image.height, image.width);
        let angle = uniform(rng, -self.degrees, self.degrees).to_radians();
        let zoom = uniform(rng, self.scale.0, self.scale.1);
        let tx = uniform(rng, -self.translate, self.translate) * w as f32;
        let ty = uniform(rng, -self.translate, self.translate) * h as f32;
        let (sin, cos) = angle.sin_cos();
        let (cx, cy) = ((w as f32 - 1.0) / 2.0, (h as f32 - 1.0) / 2.0);
        // Output pixel p = R * zoom * (q - c) + c + t, so the source q of p is
        // c + R^T (p - c - t) / zoom.
        warp(&image, |y, x| {
            let u = x as f32 - cx - tx;
            let v = y as f32 - cy - ty;
            let sx = (cos * u + sin * v) / zoom + cx;
            let sy = (-sin * u + cos * v) / zoom + cy;
            (sy, sx)
        })
    }
}

/// The image whose pixel `(y, x)` is `image` sampled bilinearly at
/// `source(y, x)` (a `(y, x)` position in pixels), in every channel; pixels
/// that come from outside the image are 0.
pub(crate) fn warp(image: &Image, source: impl Fn(usize, usize) -> (f32, f32)) -> Image {
    let (h, w) = (image.height, image.width);
    let mut out = Image::zeros(image.channels, h, w);
    for y in 0..h {
        for x in 0..w {
            let (sy, sx) = source(y, x);
            for c in 0..image.channels {
                *out.get_mut(c, y, x) = sample_zero_fill(image, c, sy, sx);
            }
        }
    }
    out
}

/// Bilinear sample of channel `c` at `(y, x)`; neighbours outside the image
/// count as 0.
fn sample_zero_fill(image: &Image, c: usize, y: f32, x: f32) -> f32 {
    let (y0, x0) = (y.floor(), x.floor());
    let (wy, wx) = (y - y0, x - x0);
    let at = |yy: f32, xx: f32| -> f32 {
        if yy < 0.0 || xx < 0.0 || yy >= image.height as f32 || xx >= image.width as f32 {
            0.0
        } else {
            image.get(c, yy as usize, xx as usize)
        }
    };
    let top = at(y0, x0) * (1.0 - wx) + at(y0, x0 + 1.0) * wx;
    let bottom = at(y0 + 1.0, x0) * (1.0 - wx) + at(y0 + 1.0, x0 + 1.0) * wx;
    (top * (1.0 - wy) + bottom * wy).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::test_util::*;

    #[test]
    fn same_seed_same_output_different_seed_different_output() {
        let t = Affine::default();
        let img = noise_image(1, 12, 12, 0);
        let a = t.apply(img.clone(), &mut rng(5));
        assert_eq!(a, t.apply(img.clone(), &mut rng(5)));
        assert_ne!(a, t.apply(img, &mut rng(6)));
    }

    #[test]
    fn keeps_size_and_range_and_zero_settings_are_identity() {
        let img = noise_image(3, 9, 11, 1);
        let strong = Affine {
            degrees: 45.0,
            translate: 0.3,
            scale: (0.5, 1.5),
            p: 1.0,
        };
        for seed in 0..10 {
            let out = strong.apply(img.clone(), &mut rng(seed));
            assert_eq!((out.channels, out.height, out.width), (3, 9, 11));
            assert_unit_range(&out);
        }
        let still = Affine {
            degrees: 0.0,
            translate: 0.0,
            scale: (1.0, 1.0),
            p: 1.0,
        };
        assert_eq!(still.apply(img.clone(), &mut rng(3)), img);
        let off = Affine { p: 0.0, ..strong };
        assert_eq!(off.apply(img.clone(), &mut rng(3)), img);
    }

    #[test]
    fn shrinking_fills_the_border_with_zeros() {
        let mut ones = Image::zeros(1, 9, 9);
        ones.data.iter_mut().for_each(|v| *v = 1.0);
        let half = Affine {
            degrees: 0.0,
            translate: 0.0,
            scale: (0.5, 0.5),
            p: 1.0,
        };
        let out = half.apply(ones, &mut rng(0));
        assert_eq!(out.get(0, 0, 0), 0.0);
        assert_eq!(out.get(0, 8, 8), 0.0);
        assert_eq!(out.get(0, 4, 4), 1.0);
    }
}
