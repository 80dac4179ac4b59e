//! Additive Gaussian noise, clamped to `[0, 1]`.
//!
//! A common augmentation for small grey images (digits), where colour
//! augmentations have nothing to act on.
use serde::{Deserialize, Serialize};

use super::{Transform, check_at_least, check_probability, fires};
use crate::{Image, Rng};

/// With probability `p`, adds independent `N(0, std^2)` noise to every value
/// and clamps the result to `[0, 1]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GaussianNoise {
    /// Standard deviation of the noise, in `[0, 1]` pixel units (default 0.05).
    pub std: f32,
    /// Probability of adding noise (default 0.5).
    pub p: f32,
}

impl Default for GaussianNoise {
    fn default() -> Self {
        Self { std: 0.05, p: 0.5 }
    }
}

impl GaussianNoise {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        check_at_least("std", self.std, 0.0)?;
        check_probability("p", self.p)
    }
}

/// A standard normal draw (Box-Muller).
pub(crate) fn standard_normal(rng: &mut Rng) -> f32 {
    use rand::Rng as _;
    let u1 = 1.0 - rng.random::<f32>(); // in (0, 1]: the log is finite
    let u2 = rng.random::<f32>();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

impl Transform for GaussianNoise {
    fn apply(&self, mut image: Image, rng: &mut Rng) -> Image {
        if fires(rng, self.p) && self.std > 0.0 {
            for v in &mut image.data {
                *v = (*v + self.std * standard_normal(rng)).clamp(0.0, 1.0);
            }
        }
        image
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::test_util::*;

    fn grey(value: f32, n: usize) -> Image {
        let mut img = Image::zeros(1, n, n);
        img.data.iter_mut().for_each(|v| *v = value);
        img
    }

    #[test]
    fn same_seed_same_noise_different_seed_different_noise() {
        let t = GaussianNoise { std: 0.1, p: 1.0 };
        let img = grey(0.5, 8);
        let a = t.apply(img.clone(), &mut rng(1));
        assert_eq!(a, t.apply(img.clone(), &mut rng(1)));
        assert_ne!(a, t.apply(img, &mut rng(2)));
    }

    #[test]
    fn noise_has_the_configured_spread_and_stays_in_range() {
        let t = GaussianNoise { std: 0.1, p: 1.0 };
        let out = t.apply(grey(0.5, 100), &mut rng(3));
        assert_eq!((out.channels, out.height, out.width), (1, 100, 100));
        assert_unit_range(&out);
        let n = out.data.len() as f32;
        let mean = out.data.iter().sum::<f32>() / n;
        let var = out.data.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
        assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
        assert!((var.sqrt() - 0.1).abs() < 0.005, "std {}", var.sqrt());
        // Near the ends the clamp keeps values in range.
        assert_unit_range(&GaussianNoise { std: 0.5, p: 1.0 }.apply(grey(1.0, 16), &mut rng(4)));
        let off = GaussianNoise { std: 0.1, p: 0.0 };
        assert_eq!(off.apply(grey(0.3, 4), &mut rng(0)), grey(0.3, 4));
    }
}
