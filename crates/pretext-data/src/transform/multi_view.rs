//! N augmented views of one image, each from its own seeded generator.
//!
//! Reference: SimCLR's two correlated views (Chen et al. 2020, section 2.1);
//! BYOL's asymmetric pair (Grill et al. 2020) is two different pipelines.
use rand::SeedableRng;

use super::{Pipeline, Transform, TransformConfig};
use crate::{Image, Rng};

/// Mixes `stream` into `seed` (splitmix64 finaliser on both), so nearby seeds
/// and streams give unrelated generators.
pub fn derive_seed(seed: u64, stream: u64) -> u64 {
    fn splitmix64(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    splitmix64(splitmix64(seed) ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03))
}

/// One pipeline per view; view `v` of an image draws from a generator seeded
/// with `derive_seed(seed, v)`.
#[derive(Debug, Default)]
pub struct MultiView {
    /// The pipeline of each view.
    pub pipelines: Vec<Pipeline>,
}

impl MultiView {
    /// Views made by `pipelines`, one each.
    pub fn new(pipelines: Vec<Pipeline>) -> Self {
        Self { pipelines }
    }

    /// One view with no augmentation: the plain image (validation, embedding
    /// extraction).
    pub fn identity() -> Self {
        Self::new(vec![Pipeline::identity()])
    }

    /// `views` views made by the same steps.
    pub fn repeated(steps: &[TransformConfig], views: usize) -> Result<Self, String> {
        if views == 0 {
            return Err("views must be at least 1".into());
        }
        let pipelines = (0..views)
            .map(|_| Pipeline::from_configs(steps))
            .collect::<Result<_, _>>()?;
        Ok(Self::new(pipelines))
    }

    /// Number of views.
    pub fn num_views(&self) -> usize {
        self.pipelines.len()
    }

    /// The `(height, width)` of each view for an input of `height x width`.
    pub fn output_hw(&self, height: usize, width: usize) -> Vec<(usize, usize)> {
        self.pipelines
            .iter()
            .map(|p| p.output_hw(height, width))
            .collect()
    }

    /// The views of `image`; view `v` is a function of `(image, seed, v)` only.
    pub fn views(&self, image: &Image, seed: u64) -> Vec<Image> {
        (0..self.pipelines.len())
            .map(|v| self.view(image, seed, v))
            .collect()
    }

    /// View `v` of `views(image, seed)` alone.
    ///
    /// # Panics
    /// If `v >= self.num_views()`.
    pub fn view(&self, image: &Image, seed: u64, v: usize) -> Image {
        let mut rng = Rng::seed_from_u64(derive_seed(seed, v as u64));
        self.pipelines[v].apply(image.clone(), &mut rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::test_util::*;
    use crate::transform::{AugmentConfig, Preset};

    #[test]
    fn views_are_seeded_per_view() {
        let mv = AugmentConfig::from_preset(Preset::Cifar)
            .multi_view((16, 16), 2)
            .unwrap();
        let img = noise_image(3, 32, 32, 0);
        let a = mv.views(&img, 7);
        assert_eq!(a.len(), 2);
        assert_eq!(a, mv.views(&img, 7));
        assert_ne!(a[0], a[1]);
        assert_ne!(a, mv.views(&img, 8));
        for view in &a {
            assert_eq!((view.channels, view.height, view.width), (3, 16, 16));
            assert_unit_range(view);
        }
        // View 1 does not depend on how many views come before or after it.
        let three = MultiView::repeated(
            &AugmentConfig::from_preset(Preset::Cifar).resolved_steps((16, 16)),
            3,
        )
        .unwrap();
        assert_eq!(three.views(&img, 7)[1], a[1]);
        assert_eq!(three.output_hw(32, 32), vec![(16, 16); 3]);
    }

    #[test]
    fn identity_gives_the_plain_image() {
        let img = noise_image(1, 5, 5, 1);
        assert_eq!(MultiView::identity().views(&img, 3), vec![img]);
        assert!(MultiView::repeated(&[], 0).is_err());
    }

    #[test]
    fn derived_seeds_differ() {
        let mut seen = std::collections::HashSet::new();
        for seed in 0..50 {
            for stream in 0..50 {
                assert!(seen.insert(derive_seed(seed, stream)));
            }
        }
    }
}
