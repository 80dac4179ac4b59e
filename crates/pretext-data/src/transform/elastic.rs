//! Random elastic distortion: every pixel moves along a smooth random field,
//! the way a hand wobbles when it writes.
//!
//! Reference: Simard, Steinkraus & Platt 2003, "Best practices for
//! convolutional neural networks applied to visual document analysis",
//! section 2: a displacement of uniform noise in `[-1, 1]` per pixel and axis,
//! smoothed by a Gaussian of standard deviation `sigma` and scaled by `alpha`
//! (both in pixels; 4 and 34 on MNIST), then bilinear resampling. torchvision's
//! `transforms.ElasticTransform` is the same with its field in normalised
//! coordinates.
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::affine::warp;
use super::gaussian_blur::{Border, kernel, separable_blur};
use super::{Transform, check_at_least, check_probability, fires};
use crate::{Image, Rng};

/// With probability `p`, displaces each pixel by a field of uniform noise
/// smoothed with a Gaussian of `sigma` pixels and scaled by `alpha`, sampling
/// bilinearly; pixels that come from outside the image are 0. All channels
/// move together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Elastic {
    /// Scale of the displacement in pixels (default 34, Simard et al.'s MNIST
    /// setting).
    pub alpha: f32,
    /// Smoothness of the field: the Gaussian's standard deviation in pixels
    /// (default 4). Smaller is more jagged.
    pub sigma: f32,
    /// Probability of applying it (default 0.5).
    pub p: f32,
}

impl Default for Elastic {
    fn default() -> Self {
        Self {
            alpha: 34.0,
            sigma: 4.0,
            p: 0.5,
        }
    }
}

impl Elastic {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        check_at_least("alpha", self.alpha, 0.0)?;
        check_at_least("sigma", self.sigma, f32::MIN_POSITIVE)?;
        check_probability("p", self.p)
    }
}

impl Transform for Elastic {
    fn apply(&self, image: Image, rng: &mut Rng) -> Image {
        if !fires(rng, self.p) {
            return image;
        }
        let (h, w) = (image.height, image.width);
        let k = kernel(self.sigma);
        let dx = smooth_field(rng, h, w, &k, self.alpha); // [h * w], pixels
        let dy = smooth_field(rng, h, w, &k, self.alpha);
        warp(&image, |y, x| {
            (y as f32 + dy[y * w + x], x as f32 + dx[y * w + x])
        })
    }
}

/// Uniform noise in `[-1, 1]` on an `h x w` grid, blurred with the 1-D
/// kernel `k` along rows then columns (reflecting at the edges), times
/// `alpha`.
fn smooth_field(rng: &mut Rng, h: usize, w: usize, k: &[f32], alpha: f32) -> Vec<f32> {
    let noise: Vec<f32> = (0..h * w)
        .map(|_| rng.random::<f32>() * 2.0 - 1.0)
        .collect();
    let mut field = separable_blur(&noise, h, w, k, Border::Reflect);
    field.iter_mut().for_each(|v| *v *= alpha);
    field
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::test_util::*;

    fn always() -> Elastic {
        Elastic {
            p: 1.0,
            ..Elastic::default()
        }
    }

    #[test]
    fn same_seed_same_output_different_seed_different_output() {
        let img = noise_image(1, 28, 28, 0);
        let a = always().apply(img.clone(), &mut rng(5));
        assert_eq!(a, always().apply(img.clone(), &mut rng(5)));
        assert_ne!(a, always().apply(img, &mut rng(6)));
    }

    #[test]
    fn keeps_size_and_range_and_zero_alpha_or_p_is_identity() {
        let img = noise_image(3, 9, 11, 1);
        let strong = Elastic {
            alpha: 80.0,
            sigma: 2.0,
            p: 1.0,
        };
        for seed in 0..10 {
            let out = strong.apply(img.clone(), &mut rng(seed));
            assert_eq!((out.channels, out.height, out.width), (3, 9, 11));
            assert_unit_range(&out);
        }
        let still = Elastic {
            alpha: 0.0,
            ..strong.clone()
        };
        assert_eq!(still.apply(img.clone(), &mut rng(3)), img);
        let off = Elastic { p: 0.0, ..strong };
        assert_eq!(off.apply(img.clone(), &mut rng(3)), img);
    }

    #[test]
    fn the_field_is_smooth_and_of_the_scale_alpha_sets() {
        // Simard's setting on a 28x28 grid: neighbouring displacements differ
        // far less than the displacements themselves, and doubling alpha
        // doubles the field.
        let k = kernel(4.0);
        let field = smooth_field(&mut rng(7), 28, 28, &k, 34.0);
        let rms = (field.iter().map(|v| v * v).sum::<f32>() / field.len() as f32).sqrt();
        assert!((0.3..5.0).contains(&rms), "rms displacement {rms} px");
        let step: f32 =
            field.windows(2).map(|p| (p[1] - p[0]).abs()).sum::<f32>() / (field.len() - 1) as f32;
        assert!(step < 0.5 * rms, "mean step {step} against rms {rms}");
        let double = smooth_field(&mut rng(7), 28, 28, &k, 68.0);
        for (a, b) in field.iter().zip(&double) {
            assert!((2.0 * a - b).abs() < 1e-4);
        }
    }

    #[test]
    fn a_digit_stroke_moves_but_keeps_most_of_its_ink() {
        // A vertical bar, as in a "1": the distortion bends it (some pixels
        // change) without erasing it (the total ink stays within a third).
        let mut bar = Image::zeros(1, 28, 28);
        for y in 4..24 {
            for x in 13..15 {
                *bar.get_mut(0, y, x) = 1.0;
            }
        }
        let ink: f32 = bar.data.iter().sum();
        for seed in 0..5 {
            let out = always().apply(bar.clone(), &mut rng(seed));
            assert_ne!(out, bar);
            let moved: f32 = out.data.iter().sum();
            assert!((moved - ink).abs() < ink / 3.0, "ink {ink} became {moved}");
        }
    }
}
