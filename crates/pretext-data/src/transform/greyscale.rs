//! Random greyscale: replaces colour by luma, keeping the channel count.
//!
//! Reference: torchvision `transforms.RandomGrayscale` (ITU-R 601-2 luma,
//! `0.299 R + 0.587 G + 0.114 B`); SimCLR applies it with p 0.2 (Chen et al.
//! 2020, appendix A).
use serde::{Deserialize, Serialize};

use super::{Transform, check_probability, fires};
use crate::{Image, Rng};

/// With probability `p`, writes the luma of an RGB image into all three
/// channels. Images that are not RGB are returned unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Greyscale {
    /// Probability of greying (default 0.2, as SimCLR).
    pub p: f32,
}

impl Default for Greyscale {
    fn default() -> Self {
        Self { p: 0.2 }
    }
}

impl Greyscale {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        check_probability("p", self.p)
    }
}

/// The luma of an RGB image, one value per pixel.
pub(crate) fn luma(image: &Image) -> Vec<f32> {
    debug_assert_eq!(image.channels, 3);
    let (r, g, b) = (image.plane(0), image.plane(1), image.plane(2));
    r.iter()
        .zip(g)
        .zip(b)
        .map(|((&r, &g), &b)| (0.299 * r + 0.587 * g + 0.114 * b).clamp(0.0, 1.0))
        .collect()
}

impl Transform for Greyscale {
    fn apply(&self, mut image: Image, rng: &mut Rng) -> Image {
        if fires(rng, self.p) && image.channels == 3 {
            let grey = luma(&image);
            for plane in image.data.chunks_exact_mut(grey.len()) {
                plane.copy_from_slice(&grey);
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
        let t = Greyscale { p: 0.5 };
        let img = noise_image(3, 4, 4, 0);
        assert_eq!(
            t.apply(img.clone(), &mut rng(2)),
            t.apply(img.clone(), &mut rng(2))
        );
        let greyed = (0..32)
            .filter(|&s| t.apply(img.clone(), &mut rng(s)) != img)
            .count();
        assert!((4..28).contains(&greyed), "{greyed} of 32 greyed");
    }

    #[test]
    fn makes_channels_equal_and_keeps_the_shape() {
        let t = Greyscale { p: 1.0 };
        let img = noise_image(3, 5, 6, 1);
        let out = t.apply(img.clone(), &mut rng(0));
        assert_eq!((out.channels, out.height, out.width), (3, 5, 6));
        assert_unit_range(&out);
        assert_eq!(out.plane(0), out.plane(1));
        assert_eq!(out.plane(1), out.plane(2));
        let expected =
            0.299 * img.get(0, 2, 3) + 0.587 * img.get(1, 2, 3) + 0.114 * img.get(2, 2, 3);
        assert!((out.get(0, 2, 3) - expected).abs() < 1e-6);
        let grey = noise_image(1, 5, 6, 2);
        assert_eq!(t.apply(grey.clone(), &mut rng(0)), grey);
        assert_eq!(Greyscale { p: 0.0 }.apply(img.clone(), &mut rng(0)), img);
    }
}
