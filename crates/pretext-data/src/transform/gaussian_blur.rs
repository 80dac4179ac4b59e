//! Random Gaussian blur with a random sigma, as two 1-D passes.
//!
//! Reference: SimCLR (Chen et al. 2020, appendix A) blurs ImageNet views with
//! p 0.5 and sigma drawn from `[0.1, 2.0]`; torchvision
//! `transforms.GaussianBlur` (reflect padding). Here the kernel reaches three
//! sigmas each side, so small images get small kernels.
use serde::{Deserialize, Serialize};

use super::{Transform, check_probability, check_range, fires, uniform};
use crate::{Image, Rng};

/// How a blur reads pixels beyond the image's edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Border {
    /// Mirror without repeating the edge pixel (`dcb|abcd|cba`), as PyTorch's
    /// `reflect` padding.
    #[default]
    Reflect,
    /// Repeat the edge pixel (`aaa|abcd|ddd`).
    Clamp,
}

impl Border {
    /// The in-range index that stands for `i` in a line of `n` pixels.
    fn index(self, i: isize, n: usize) -> usize {
        let n = n as isize;
        match self {
            Border::Clamp => i.clamp(0, n - 1) as usize,
            Border::Reflect if n == 1 => 0,
            Border::Reflect => {
                let period = 2 * (n - 1);
                let i = i.rem_euclid(period);
                (if i >= n { period - i } else { i }) as usize
            }
        }
    }
}

/// With probability `p`, blurs with a Gaussian of standard deviation drawn
/// from `sigma` (pixels); the kernel has radius `ceil(3 sigma)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GaussianBlur {
    /// Probability of blurring (default 0.5, as SimCLR).
    pub p: f32,
    /// Range of the standard deviation in pixels (default `(0.1, 2.0)`).
    pub sigma: (f32, f32),
    /// How pixels beyond the edge are read (default reflect).
    pub border: Border,
}

impl Default for GaussianBlur {
    fn default() -> Self {
        Self {
            p: 0.5,
            sigma: (0.1, 2.0),
            border: Border::Reflect,
        }
    }
}

impl GaussianBlur {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        check_probability("p", self.p)?;
        check_range("sigma", self.sigma, f32::MIN_POSITIVE)
    }
}

/// The normalised 1-D Gaussian kernel of `sigma`, radius `ceil(3 sigma)`.
pub(crate) fn kernel(sigma: f32) -> Vec<f32> {
    let radius = (3.0 * sigma).ceil().max(1.0) as isize;
    let mut k: Vec<f32> = (-radius..=radius)
        .map(|i| (-((i * i) as f32) / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f32 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= sum);
    k
}

impl Transform for GaussianBlur {
    fn apply(&self, mut image: Image, rng: &mut Rng) -> Image {
        if !fires(rng, self.p) {
            return image;
        }
        let k = kernel(uniform(rng, self.sigma.0, self.sigma.1));
        let (h, w) = (image.height, image.width);
        for plane in image.data.chunks_exact_mut(h * w) {
            let blurred = separable_blur(plane, h, w, &k, self.border);
            for (v, b) in plane.iter_mut().zip(blurred) {
                *v = b.clamp(0.0, 1.0);
            }
        }
        image
    }
}

/// `plane` (`h x w`, row-major) convolved with the 1-D kernel `k` along rows,
/// then along columns, reading beyond the edges as `border` says; unclamped.
pub(crate) fn separable_blur(
    plane: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    border: Border,
) -> Vec<f32> {
    let r = (k.len() / 2) as isize;
    let tap = |n: usize, i: usize, j: usize| border.index(i as isize + j as isize - r, n);
    let mut rows = vec![0f32; h * w];
    for y in 0..h {
        let row = &plane[y * w..(y + 1) * w];
        for x in 0..w {
            rows[y * w + x] = k
                .iter()
                .enumerate()
                .map(|(j, kv)| kv * row[tap(w, x, j)])
                .sum();
        }
    }
    let mut out = vec![0f32; h * w];
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] = k
                .iter()
                .enumerate()
                .map(|(j, kv)| kv * rows[tap(h, y, j) * w + x])
                .sum();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::test_util::*;

    #[test]
    fn same_seed_same_output_different_seed_different_output() {
        let t = GaussianBlur {
            p: 1.0,
            ..GaussianBlur::default()
        };
        let img = noise_image(3, 10, 10, 0);
        let a = t.apply(img.clone(), &mut rng(1));
        assert_eq!(a, t.apply(img.clone(), &mut rng(1)));
        assert_ne!(a, t.apply(img, &mut rng(2)));
    }

    #[test]
    fn keeps_size_range_and_the_mean_of_a_constant_image() {
        for border in [Border::Reflect, Border::Clamp] {
            let t = GaussianBlur {
                p: 1.0,
                sigma: (0.5, 3.0),
                border,
            };
            let mut flat = Image::zeros(2, 5, 7);
            flat.data.iter_mut().for_each(|v| *v = 0.4);
            let out = t.apply(flat, &mut rng(3));
            assert_eq!((out.channels, out.height, out.width), (2, 5, 7));
            assert!(out.data.iter().all(|&v| (v - 0.4).abs() < 1e-5));
            let noisy = t.apply(noise_image(1, 6, 6, 4), &mut rng(5));
            assert_unit_range(&noisy);
        }
    }

    #[test]
    fn blur_spreads_a_point_and_keeps_its_mass() {
        let mut dot = Image::zeros(1, 21, 21);
        *dot.get_mut(0, 10, 10) = 1.0;
        let t = GaussianBlur {
            p: 1.0,
            sigma: (1.5, 1.5),
            border: Border::Reflect,
        };
        let out = t.apply(dot.clone(), &mut rng(0));
        assert!((out.data.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        assert!(out.get(0, 10, 10) < 0.2 && out.get(0, 10, 11) > 0.0);
        assert!((out.get(0, 9, 10) - out.get(0, 11, 10)).abs() < 1e-6);
        let off = GaussianBlur { p: 0.0, ..t };
        assert_eq!(off.apply(dot.clone(), &mut rng(0)), dot);
    }

    #[test]
    fn border_indices() {
        let idx = |b: Border| -> Vec<usize> { (-3..7).map(|i| b.index(i, 4)).collect() };
        assert_eq!(idx(Border::Reflect), [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
        assert_eq!(idx(Border::Clamp), [0, 0, 0, 0, 1, 2, 3, 3, 3, 3]);
        assert_eq!(Border::Reflect.index(-5, 1), 0);
        assert_eq!(kernel(1.0).len(), 7);
    }
}
