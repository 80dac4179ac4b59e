//! Random solarization: inverts the pixels at or above a threshold.
//!
//! Reference: torchvision `transforms.RandomSolarize`; BYOL (Grill et al. 2020,
//! "Bootstrap Your Own Latent", table 6) solarizes the second view with p 0.2.
use serde::{Deserialize, Serialize};

use super::{Transform, check_probability, fires};
use crate::{Image, Rng};

/// With probability `p`, replaces every value `x >= threshold` by `1 - x`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Solarize {
    /// Probability of solarizing (default 0.2, BYOL's second view).
    pub p: f32,
    /// Values at or above it are inverted (default 0.5, BYOL's 128 / 255).
    pub threshold: f32,
}

impl Default for Solarize {
    fn default() -> Self {
        Self {
            p: 0.2,
            threshold: 0.5,
        }
    }
}

impl Solarize {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        check_probability("p", self.p)?;
        check_probability("threshold", self.threshold)
    }
}

impl Transform for Solarize {
    fn apply(&self, mut image: Image, rng: &mut Rng) -> Image {
        if fires(rng, self.p) {
            for v in &mut image.data {
                if *v >= self.threshold {
                    *v = 1.0 - *v;
                }
            }
        }
        image
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::test_util::*;

    #[test]
    fn same_seed_same_output_and_both_outcomes_occur() {
        let t = Solarize {
            p: 0.5,
            threshold: 0.5,
        };
        let img = noise_image(1, 6, 6, 0);
        assert_eq!(
            t.apply(img.clone(), &mut rng(9)),
            t.apply(img.clone(), &mut rng(9))
        );
        let changed = (0..32)
            .filter(|&s| t.apply(img.clone(), &mut rng(s)) != img)
            .count();
        assert!((4..28).contains(&changed), "{changed} of 32 solarized");
    }

    #[test]
    fn inverts_exactly_the_values_above_the_threshold() {
        let t = Solarize {
            p: 1.0,
            threshold: 0.6,
        };
        let img = noise_image(3, 5, 4, 1);
        let out = t.apply(img.clone(), &mut rng(0));
        assert_eq!((out.channels, out.height, out.width), (3, 5, 4));
        assert_unit_range(&out);
        for (&x, &y) in img.data.iter().zip(&out.data) {
            let expected = if x >= 0.6 { 1.0 - x } else { x };
            assert_eq!(y, expected);
        }
        let never = Solarize { p: 0.0, ..t };
        assert_eq!(never.apply(img.clone(), &mut rng(0)), img);
    }
}
