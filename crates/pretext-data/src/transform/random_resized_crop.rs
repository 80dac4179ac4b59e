//! Random resized crop: a random region of random area and aspect ratio,
//! resized to a fixed output size.
//!
//! Reference: torchvision `transforms.RandomResizedCrop` (`get_params`), the
//! first augmentation of SimCLR (Chen et al. 2020, "A Simple Framework for
//! Contrastive Learning of Visual Representations", appendix A).
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::{Transform, check_range, uniform};
use crate::{Image, Rng};

/// Crops a region covering a fraction of the area drawn from `scale`, with an
/// aspect ratio (width / height) drawn log-uniformly from `ratio`, and resizes
/// it bilinearly to `size`. After 10 draws that do not fit in the image it
/// falls back to a centre crop, like torchvision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandomResizedCrop {
    /// Output `(height, width)`; `None` keeps the input size (an
    /// [`AugmentConfig`](super::AugmentConfig) fills in its output size).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<(usize, usize)>,
    /// Range of the crop's area as a fraction of the image's (torchvision
    /// default `(0.08, 1.0)`).
    pub scale: (f32, f32),
    /// Range of the crop's aspect ratio, width / height (default `(3/4, 4/3)`).
    pub ratio: (f32, f32),
}

impl Default for RandomResizedCrop {
    fn default() -> Self {
        Self {
            size: None,
            scale: (0.08, 1.0),
            ratio: (3.0 / 4.0, 4.0 / 3.0),
        }
    }
}

impl RandomResizedCrop {
    /// A crop to `size` (`(height, width)`) with the default scale and ratio.
    pub fn new(size: (usize, usize)) -> Self {
        Self {
            size: Some(size),
            ..Self::default()
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        if let Some((h, w)) = self.size
            && (h == 0 || w == 0)
        {
            return Err(format!("size = [{h}, {w}] is empty"));
        }
        check_range("scale", self.scale, 0.0)?;
        if self.scale.1 <= 0.0 || self.scale.1 > 1.0 {
            return Err(format!(
                "scale = [{}, {}]: max must be in (0, 1]",
                self.scale.0, self.scale.1
            ));
        }
        check_range("ratio", self.ratio, f32::MIN_POSITIVE)
    }

    /// The crop `(top, left, height, width)` for an image of `height x width`,
    /// as torchvision's `RandomResizedCrop.get_params`.
    pub fn crop_box(&self, height: usize, width: usize, rng: &mut Rng) -> [usize; 4] {
        let area = (height * width) as f32;
        let (log_lo, log_hi) = (self.ratio.0.ln(), self.ratio.1.ln());
        for _ in 0..10 {
            let target = area * uniform(rng, self.scale.0, self.scale.1);
            let aspect = uniform(rng, log_lo, log_hi).exp();
            let w = (target * aspect).sqrt().round() as usize;
            let h = (target / aspect).sqrt().round() as usize;
            if 0 < w && w <= width && 0 < h && h <= height {
                let top = rng.random_range(0..=height - h);
                let left = rng.random_range(0..=width - w);
                return [top, left, h, w];
            }
        }
        // Centre crop with the ratio clamped to the allowed range.
        let in_ratio = width as f32 / height as f32;
        let (h, w) = if in_ratio < self.ratio.0 {
            let h = (width as f32 / self.ratio.0).round() as usize;
            (h.clamp(1, height), width)
        } else if in_ratio > self.ratio.1 {
            let w = (height as f32 * self.ratio.1).round() as usize;
            (height, w.clamp(1, width))
        } else {
            (height, width)
        };
        [(height - h) / 2, (width - w) / 2, h, w]
    }
}

impl Transform for RandomResizedCrop {
    fn apply(&self, image: Image, rng: &mut Rng) -> Image {
        let (out_h, out_w) = self.size.unwrap_or((image.height, image.width));
        let crop = self.crop_box(image.height, image.width, rng);
        resize_region(&image, crop, (out_h, out_w))
    }

    fn output_hw(&self, height: usize, width: usize) -> (usize, usize) {
        self.size.unwrap_or((height, width))
    }
}

/// Resizes the region `[top, left, height, width]` of `image` to `out`
/// (`(height, width)`) with bilinear interpolation (half-pixel centres, as
/// PyTorch's `align_corners=False`), clamping at the region's border.
pub(crate) fn resize_region(
    image: &Image,
    [top, left, h, w]: [usize; 4],
    out: (usize, usize),
) -> Image {
    let (out_h, out_w) = out;
    let mut result = Image::zeros(image.channels, out_h, out_w);
    // Source coordinate and weight along one axis, in region coordinates.
    let taps = |n_out: usize, n_in: usize| -> Vec<(usize, usize, f32)> {
        let step = n_in as f32 / n_out as f32;
        (0..n_out)
            .map(|o| {
                let s = ((o as f32 + 0.5) * step - 0.5).max(0.0);
                let i0 = (s.floor() as usize).min(n_in - 1);
                let i1 = (i0 + 1).min(n_in - 1);
                (i0, i1, (s - i0 as f32).clamp(0.0, 1.0))
            })
            .collect()
    };
    let ys = taps(out_h, h);
    let xs = taps(out_w, w);
    for c in 0..image.channels {
        for (oy, &(y0, y1, wy)) in ys.iter().enumerate() {
            for (ox, &(x0, x1, wx)) in xs.iter().enumerate() {
                let p = |y: usize, x: usize| image.get(c, top + y, left + x);
                let top_row = p(y0, x0) * (1.0 - wx) + p(y0, x1) * wx;
                let bottom_row = p(y1, x0) * (1.0 - wx) + p(y1, x1) * wx;
                *result.get_mut(c, oy, ox) = top_row * (1.0 - wy) + bottom_row * wy;
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::test_util::*;

    #[test]
    fn same_seed_same_crop_different_seed_different_crop() {
        let t = RandomResizedCrop::new((16, 16));
        let img = noise_image(3, 32, 32, 0);
        let a = t.apply(img.clone(), &mut rng(1));
        assert_eq!(a, t.apply(img.clone(), &mut rng(1)));
        assert_ne!(a, t.apply(img, &mut rng(2)));
    }

    #[test]
    fn output_has_the_configured_size_and_range() {
        let t = RandomResizedCrop {
            size: Some((12, 20)),
            scale: (0.2, 1.0),
            ratio: (0.5, 2.0),
        };
        let img = noise_image(1, 28, 28, 3);
        for seed in 0..50 {
            let out = t.apply(img.clone(), &mut rng(seed));
            assert_eq!((out.channels, out.height, out.width), (1, 12, 20));
            assert_unit_range(&out);
        }
        assert_eq!(t.output_hw(28, 28), (12, 20));
        let keep = RandomResizedCrop::default();
        assert_eq!(keep.apply(img, &mut rng(0)).height, 28);
    }

    #[test]
    fn crop_boxes_stay_inside_the_image() {
        let t = RandomResizedCrop::default();
        for seed in 0..200 {
            let [top, left, h, w] = t.crop_box(10, 7, &mut rng(seed));
            assert!(h > 0 && w > 0 && top + h <= 10 && left + w <= 7);
        }
    }

    #[test]
    fn full_scale_square_crop_is_the_identity() {
        let t = RandomResizedCrop {
            size: Some((9, 9)),
            scale: (1.0, 1.0),
            ratio: (1.0, 1.0),
        };
        let img = noise_image(2, 9, 9, 4);
        assert_eq!(t.apply(img.clone(), &mut rng(7)), img);
    }

    #[test]
    fn impossible_ratios_fall_back_to_a_centre_crop() {
        // A 4:1 aspect ratio at full area never fits in a square image.
        let t = RandomResizedCrop {
            size: None,
            scale: (1.0, 1.0),
            ratio: (4.0, 4.0),
        };
        assert_eq!(t.crop_box(16, 16, &mut rng(0)), [6, 0, 4, 16]);
    }

    #[test]
    fn upscaling_a_constant_region_keeps_it_constant() {
        let mut img = Image::zeros(1, 4, 4);
        img.data.iter_mut().for_each(|v| *v = 0.25);
        let out = resize_region(&img, [1, 1, 2, 2], (7, 5));
        assert!(out.data.iter().all(|&v| (v - 0.25).abs() < 1e-6));
    }
}
