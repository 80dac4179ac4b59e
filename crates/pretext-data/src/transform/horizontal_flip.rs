//! Random horizontal flip (mirror left to right).
//!
//! Reference: torchvision `transforms.RandomHorizontalFlip`; part of SimCLR's
//! crop-and-flip (Chen et al. 2020, appendix A). Do not use it on digits or
//! letters, which are not mirror-symmetric.
use serde::{Deserialize, Serialize};

use super::{Transform, check_probability, fires};
use crate::{Image, Rng};

/// Mirrors the image left to right with probability `p`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HorizontalFlip {
    /// Probability of flipping (default 0.5).
    pub p: f32,
}

impl Default for HorizontalFlip {
    fn default() -> Self {
        Self { p: 0.5 }
    }
}

impl HorizontalFlip {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        check_probability("p", self.p)
    }
}

impl Transform for HorizontalFlip {
    fn apply(&self, mut image: Image, rng: &mut Rng) -> Image {
        if fires(rng, self.p) {
            let w = image.width;
            image.data.chunks_exact_mut(w).for_each(|row| row.reverse());
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
        let t = HorizontalFlip::default();
        let img = noise_image(3, 5, 6, 0);
        let a = t.apply(img.clone(), &mut rng(3));
        assert_eq!(a, t.apply(img.clone(), &mut rng(3)));
        let flipped = (0..32)
            .filter(|&s| t.apply(img.clone(), &mut rng(s)) != img)
            .count();
        assert!((4..28).contains(&flipped), "{flipped} of 32 flipped");
    }

    #[test]
    fn flip_mirrors_rows_and_twice_is_identity() {
        let t = HorizontalFlip { p: 1.0 };
        let img = noise_image(2, 4, 7, 1);
        let once = t.apply(img.clone(), &mut rng(0));
        assert_eq!((once.channels, once.height, once.width), (2, 4, 7));
        assert_unit_range(&once);
        assert_eq!(once.get(1, 2, 0), img.get(1, 2, 6));
        assert_eq!(t.apply(once, &mut rng(1)), img);
        let never = HorizontalFlip { p: 0.0 };
        assert_eq!(never.apply(img.clone(), &mut rng(0)), img);
    }
}
