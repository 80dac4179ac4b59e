//! Augmentations, one per file, and the settings that choose them.
//!
//! Each augmentation is a plain struct whose public fields are its settings
//! (serde, with the defaults of the reference implementation) and which
//! implements [`Transform`]. [`TransformConfig`] names one of them in a config
//! file (`kind = "horizontal_flip"`), [`Pipeline`] applies several in order,
//! [`AugmentConfig`] picks a [`Preset`] per data family or an explicit list of
//! steps, and [`MultiView`] makes the N views a joint-embedding method compares.
//!
//! ```
//! use pretext_data::{AugmentConfig, Image};
//! use pretext_data::transform::Preset;
//!
//! let config = AugmentConfig::from_preset(Preset::Mnist);
//! let views = config.multi_view((28, 28), 2).unwrap();
//! let image = Image::zeros(1, 28, 28);
//! let pair = views.views(&image, 42);
//! assert_eq!(pair.len(), 2);
//! assert_eq!((pair[0].height, pair[0].width), (28, 28));
//! ```
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::{Image, Rng};

mod affine;
mod colour_jitter;
mod elastic;
mod gaussian_blur;
mod greyscale;
mod horizontal_flip;
mod multi_view;
mod noise;
mod random_resized_crop;
mod solarize;

pub use affine::Affine;
pub use colour_jitter::ColourJitter;
pub use elastic::Elastic;
pub use gaussian_blur::{Border, GaussianBlur};
pub use greyscale::Greyscale;
pub use horizontal_flip::HorizontalFlip;
pub use multi_view::{MultiView, derive_seed};
pub use noise::GaussianNoise;
pub use random_resized_crop::RandomResizedCrop;
pub use solarize::Solarize;

/// One augmentation: a function of an image and a random number generator.
///
/// Implementations draw every random choice from `rng`, so a seeded `rng`
/// gives the same output on any thread.
pub trait Transform: Send + Sync + std::fmt::Debug {
    /// Transforms `image`. The channel count never changes; the size changes
    /// only as [`Transform::output_hw`] says.
    fn apply(&self, image: Image, rng: &mut Rng) -> Image;

    /// The `(height, width)` of the output for an input of `height x width`
    /// (unchanged unless the transform resizes).
    fn output_hw(&self, height: usize, width: usize) -> (usize, usize) {
        (height, width)
    }
}

/// One augmentation step as written in a config file: `kind` names the
/// augmentation, the other keys are its settings (each has a default).
///
/// ```toml
/// [[augment.steps]]
/// kind = "random_resized_crop"
/// scale = [0.2, 1.0]
/// [[augment.steps]]
/// kind = "horizontal_flip"
/// p = 0.5
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TransformConfig {
    /// [`RandomResizedCrop`].
    RandomResizedCrop(RandomResizedCrop),
    /// [`HorizontalFlip`].
    HorizontalFlip(HorizontalFlip),
    /// [`Affine`].
    Affine(Affine),
    /// [`Elastic`].
    Elastic(Elastic),
    /// [`ColourJitter`].
    #[serde(alias = "color_jitter")]
    ColourJitter(ColourJitter),
    /// [`Greyscale`].
    #[serde(alias = "grayscale")]
    Greyscale(Greyscale),
    /// [`GaussianBlur`].
    GaussianBlur(GaussianBlur),
    /// [`Solarize`].
    Solarize(Solarize),
    /// [`GaussianNoise`].
    GaussianNoise(GaussianNoise),
}

impl TransformConfig {
    /// The augmentation these settings describe.
    pub fn build(&self) -> Box<dyn Transform> {
        match self {
            Self::RandomResizedCrop(t) => Box::new(t.clone()),
            Self::HorizontalFlip(t) => Box::new(t.clone()),
            Self::Affine(t) => Box::new(t.clone()),
            Self::Elastic(t) => Box::new(t.clone()),
            Self::ColourJitter(t) => Box::new(t.clone()),
            Self::Greyscale(t) => Box::new(t.clone()),
            Self::GaussianBlur(t) => Box::new(t.clone()),
            Self::Solarize(t) => Box::new(t.clone()),
            Self::GaussianNoise(t) => Box::new(t.clone()),
        }
    }

    /// Checks every setting is in range; the message names the augmentation
    /// and the setting.
    pub fn validate(&self) -> Result<(), String> {
        let (name, result) = match self {
            Self::RandomResizedCrop(t) => ("random_resized_crop", t.validate()),
            Self::HorizontalFlip(t) => ("horizontal_flip", t.validate()),
            Self::Affine(t) => ("affine", t.validate()),
            Self::Elastic(t) => ("elastic", t.validate()),
            Self::ColourJitter(t) => ("colour_jitter", t.validate()),
            Self::Greyscale(t) => ("greyscale", t.validate()),
            Self::GaussianBlur(t) => ("gaussian_blur", t.validate()),
            Self::Solarize(t) => ("solarize", t.validate()),
            Self::GaussianNoise(t) => ("gaussian_noise", t.validate()),
        };
        result.map_err(|e| format!("{name}: {e}"))
    }
}

/// Augmentations applied one after another.
#[derive(Debug, Default)]
pub struct Pipeline {
    /// The steps, applied in order.
    pub steps: Vec<Box<dyn Transform>>,
}

impl Pipeline {
    /// A pipeline of `steps`.
    pub fn new(steps: Vec<Box<dyn Transform>>) -> Self {
        Self { steps }
    }

    /// The empty pipeline: returns the image unchanged (validation, embedding
    /// extraction).
    pub fn identity() -> Self {
        Self::default()
    }

    /// Validates and builds each step of `configs`.
    pub fn from_configs(configs: &[TransformConfig]) -> Result<Self, String> {
        let steps = configs
            .iter()
            .map(|c| c.validate().map(|()| c.build()))
            .collect::<Result<_, _>>()?;
        Ok(Self { steps })
    }

    /// Whether the pipeline has no step.
    pub fn is_identity(&self) -> bool {
        self.steps.is_empty()
    }
}

impl Transform for Pipeline {
    fn apply(&self, image: Image, rng: &mut Rng) -> Image {
        self.steps.iter().fold(image, |img, t| t.apply(img, rng))
    }

    fn output_hw(&self, height: usize, width: usize) -> (usize, usize) {
        self.steps
            .iter()
            .fold((height, width), |(h, w), t| t.output_hw(h, w))
    }
}

/// Ready-made augmentation lists, one per data family (`preset = "mnist"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// MNIST-like 28x28 digits and letters: crop (scale 0.5..1), small affine,
    /// blur, noise. No flip: digits are not mirror-symmetric.
    Mnist,
    /// 8x8 digits (scikit-learn): a milder crop (scale 0.8..1), a smaller
    /// affine, noise. No flip, no blur.
    Digits,
    /// CIFAR-like 32x32 colour images, as in SimCLR (Chen et al. 2020, appendix
    /// B.9): crop (scale 0.2..1), flip 0.5, colour jitter 0.4/0.4/0.4/0.1 with
    /// p 0.8, greyscale p 0.2.
    Cifar,
    /// STL-10-like 96x96 colour images, SimCLR's ImageNet recipe: crop (scale
    /// 0.08..1), flip 0.5, colour jitter 0.4/0.4/0.4/0.1 with p 0.8,
    /// greyscale p 0.2, Gaussian blur (sigma 0.1..2) with p 0.5.
    Stl10,
    /// No augmentation.
    None,
}

impl Preset {
    /// The steps of this preset; crop sizes are left to the pipeline's output
    /// size.
    pub fn steps(self) -> Vec<TransformConfig> {
        use TransformConfig as T;
        let jitter = T::ColourJitter(ColourJitter {
            brightness: 0.4,
            contrast: 0.4,
            saturation: 0.4,
            hue: 0.1,
            p: 0.8,
        });
        match self {
            Preset::Mnist => vec![
                T::RandomResizedCrop(RandomResizedCrop {
                    size: None,
                    scale: (0.5, 1.0),
                    ratio: (0.75, 4.0 / 3.0),
                }),
                T::Affine(Affine {
                    degrees: 10.0,
                    translate: 0.1,
                    scale: (0.9, 1.1),
                    p: 0.5,
                }),
                T::GaussianBlur(GaussianBlur {
                    p: 0.3,
                    sigma: (0.1, 1.0),
                    border: Border::Reflect,
                }),
                T::GaussianNoise(GaussianNoise { std: 0.05, p: 0.5 }),
            ],
            Preset::Digits => vec![
                T::RandomResizedCrop(RandomResizedCrop {
                    size: None,
                    scale: (0.8, 1.0),
                    ratio: (0.9, 1.0 / 0.9),
                }),
                T::Affine(Affine {
                    degrees: 8.0,
                    translate: 0.05,
                    scale: (0.95, 1.05),
                    p: 0.5,
                }),
                T::GaussianNoise(GaussianNoise { std: 0.05, p: 0.5 }),
            ],
            Preset::Cifar => vec![
                T::RandomResizedCrop(RandomResizedCrop {
                    size: None,
                    scale: (0.2, 1.0),
                    ratio: (0.75, 4.0 / 3.0),
                }),
                T::HorizontalFlip(HorizontalFlip { p: 0.5 }),
                jitter,
                T::Greyscale(Greyscale { p: 0.2 }),
            ],
            Preset::Stl10 => vec![
                T::RandomResizedCrop(RandomResizedCrop {
                    size: None,
                    scale: (0.08, 1.0),
                    ratio: (0.75, 4.0 / 3.0),
                }),
                T::HorizontalFlip(HorizontalFlip { p: 0.5 }),
                jitter,
                T::Greyscale(Greyscale { p: 0.2 }),
                T::GaussianBlur(GaussianBlur {
                    p: 0.5,
                    sigma: (0.1, 2.0),
                    border: Border::Reflect,
                }),
            ],
            Preset::None => Vec::new(),
        }
    }
}

/// Which augmentations make the views of a pretraining run.
///
/// `steps`, when given, override `preset`; with neither, images pass through
/// unchanged.
///
/// ```toml
/// [augment]
/// preset = "mnist"
/// views = 2
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AugmentConfig {
    /// A ready-made list of steps for one data family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<Preset>,
    /// An explicit list of steps (overrides `preset`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<TransformConfig>>,
    /// How many views of each image. The method decides (2 for SimCLR, 1 for
    /// autoencoders); when given, it must agree with the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<usize>,
}

impl AugmentConfig {
    /// Views made with `preset`.
    pub fn from_preset(preset: Preset) -> Self {
        Self {
            preset: Some(preset),
            ..Self::default()
        }
    }

    /// The steps in effect (`steps`, else the preset's), with crop sizes left
    /// unset filled with `out_size` (`(height, width)`). Steps without a crop
    /// keep the input size.
    pub fn resolved_steps(&self, out_size: (usize, usize)) -> Vec<TransformConfig> {
        let mut steps = match (&self.steps, self.preset) {
            (Some(steps), _) => steps.clone(),
            (None, Some(preset)) => preset.steps(),
            (None, None) => Vec::new(),
        };
        for step in &mut steps {
            if let TransformConfig::RandomResizedCrop(crop) = step
                && crop.size.is_none()
            {
                crop.size = Some(out_size);
            }
        }
        steps
    }

    /// Checks the number of views and every step.
    pub fn validate(&self) -> Result<(), String> {
        if self.views == Some(0) {
            return Err("augment: views must be at least 1".into());
        }
        for step in self.steps.iter().flatten() {
            step.validate().map_err(|e| format!("augment: {e}"))?;
        }
        Ok(())
    }

    /// The pipeline of one view, producing `out_size` (`(height, width)`)
    /// images where a step crops.
    pub fn pipeline(&self, out_size: (usize, usize)) -> Result<Pipeline, String> {
        self.validate()?;
        if out_size.0 == 0 || out_size.1 == 0 {
            return Err(format!(
                "augment: output size {}x{} is empty",
                out_size.0, out_size.1
            ));
        }
        Pipeline::from_configs(&self.resolved_steps(out_size)).map_err(|e| format!("augment: {e}"))
    }

    /// `views` copies of [`AugmentConfig::pipeline`] (`views` is the method's
    /// number of views).
    pub fn multi_view(&self, out_size: (usize, usize), views: usize) -> Result<MultiView, String> {
        self.validate()?;
        if views == 0 {
            return Err("augment: views must be at least 1".into());
        }
        let pipelines = (0..views)
            .map(|_| self.pipeline(out_size))
            .collect::<Result<_, _>>()?;
        Ok(MultiView::new(pipelines))
    }
}

/// A uniform draw in `[lo, hi)` (`lo` when the range is empty).
pub(crate) fn uniform(rng: &mut Rng, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * rng.random::<f32>()
}

/// Whether an augmentation applied with probability `p` fires this time.
/// Always draws once, so `p` does not change the later draws' alignment.
pub(crate) fn fires(rng: &mut Rng, p: f32) -> bool {
    rng.random::<f32>() < p
}

/// `Ok` when `p` is a probability.
pub(crate) fn check_probability(name: &str, p: f32) -> Result<(), String> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(format!("{name} = {p} is not a probability in [0, 1]"))
    }
}

/// `Ok` when `lo <= hi`, both finite and at least `min`.
pub(crate) fn check_range(name: &str, (lo, hi): (f32, f32), min: f32) -> Result<(), String> {
    if !lo.is_finite() || !hi.is_finite() {
        Err(format!("{name} = [{lo}, {hi}] is not finite"))
    } else if lo > hi {
        Err(format!("{name} = [{lo}, {hi}]: min is above max"))
    } else if lo < min {
        Err(format!(
            "{name} = [{lo}, {hi}]: values must {}",
            at_least(min)
        ))
    } else {
        Ok(())
    }
}

/// `Ok` when `value` is finite and at least `min`.
pub(crate) fn check_at_least(name: &str, value: f32, min: f32) -> Result<(), String> {
    if value.is_finite() && value >= min {
        Ok(())
    } else {
        Err(format!("{name} = {value} must {}", at_least(min)))
    }
}

/// The lower bound `min` in words: `f32::MIN_POSITIVE` (the bound of
/// settings that must not be 0) reads "be positive", not its 38 decimals.
fn at_least(min: f32) -> String {
    if min == f32::MIN_POSITIVE {
        "be positive".into()
    } else {
        format!("be at least {min}")
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Helpers shared by the augmentation tests.
    use rand::{Rng as _, SeedableRng};

    use crate::{Image, Rng};

    /// A seeded generator.
    pub fn rng(seed: u64) -> Rng {
        Rng::seed_from_u64(seed)
    }

    /// An image of seeded uniform noise.
    pub fn noise_image(channels: usize, height: usize, width: usize, seed: u64) -> Image {
        let mut r = rng(seed ^ 0xABCD);
        let mut img = Image::zeros(channels, height, width);
        img.data.iter_mut().for_each(|v| *v = r.random::<f32>());
        img
    }

    /// Panics unless every value lies in `[0, 1]`.
    pub fn assert_unit_range(img: &Image) {
        assert_eq!(img.data.len(), img.channels * img.height * img.width);
        for &v in &img.data {
            assert!((0.0..=1.0).contains(&v), "value {v} outside [0, 1]");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::*;
    use super::*;

    #[test]
    fn preset_names_parse_and_steps_override() {
        let c: AugmentConfig = toml::from_str("preset = \"mnist\"").unwrap();
        assert_eq!(c.preset, Some(Preset::Mnist));
        assert_eq!(c.views, None);
        for name in ["mnist", "digits", "cifar", "stl10", "none"] {
            let c: AugmentConfig = toml::from_str(&format!("preset = \"{name}\"")).unwrap();
            c.pipeline((28, 28)).unwrap();
        }
        let c: AugmentConfig = toml::from_str(
            "preset = \"cifar\"\nviews = 3\n[[steps]]\nkind = \"horizontal_flip\"\np = 1.0\n",
        )
        .unwrap();
        assert_eq!(c.resolved_steps((32, 32)).len(), 1);
        let views = c.multi_view((32, 32), 3).unwrap();
        assert_eq!(views.pipelines.len(), 3);
    }

    #[test]
    fn digit_presets_never_flip() {
        for preset in [Preset::Mnist, Preset::Digits] {
            assert!(
                !preset
                    .steps()
                    .iter()
                    .any(|s| matches!(s, TransformConfig::HorizontalFlip(_)))
            );
        }
    }

    #[test]
    fn defaults_fill_missing_keys_and_unknown_keys_fail() {
        let c: TransformConfig = toml::from_str("kind = \"gaussian_blur\"").unwrap();
        assert_eq!(c, TransformConfig::GaussianBlur(GaussianBlur::default()));
        let c: TransformConfig = toml::from_str("kind = \"color_jitter\"\nhue = 0.2").unwrap();
        assert!(matches!(c, TransformConfig::ColourJitter(j) if j.hue == 0.2 && j.p == 0.8));
        assert!(
            toml::from_str::<TransformConfig>("kind = \"solarize\"\nthreshhold = 0.3").is_err()
        );
        assert!(toml::from_str::<TransformConfig>("kind = \"rotate\"").is_err());
        assert!(toml::from_str::<AugmentConfig>("preset = \"imagenet\"").is_err());
        assert!(toml::from_str::<AugmentConfig>("presets = \"mnist\"").is_err());
    }

    #[test]
    fn resolved_config_round_trips() {
        let c = AugmentConfig::from_preset(Preset::Stl10);
        let resolved = AugmentConfig {
            steps: Some(c.resolved_steps((96, 96))),
            ..c.clone()
        };
        let text = toml::to_string(&resolved).unwrap();
        let back: AugmentConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, resolved);
    }

    #[test]
    fn validation_rejects_out_of_range_settings() {
        let bad = [
            "kind = \"horizontal_flip\"\np = 1.5",
            "kind = \"greyscale\"\np = -0.1",
            "kind = \"random_resized_crop\"\nscale = [0.9, 0.2]",
            "kind = \"random_resized_crop\"\nsize = [0, 4]",
            "kind = \"random_resized_crop\"\nratio = [0.0, 1.0]",
            "kind = \"colour_jitter\"\nhue = 0.7",
            "kind = \"colour_jitter\"\nbrightness = -1.0",
            "kind = \"gaussian_blur\"\nsigma = [2.0, 0.1]",
            "kind = \"gaussian_blur\"\nsigma = [0.0, 1.0]",
            "kind = \"gaussian_noise\"\nstd = -0.1",
            "kind = \"solarize\"\nthreshold = 2.0",
            "kind = \"affine\"\nscale = [0.0, 1.0]",
            "kind = \"affine\"\ntranslate = 1.5",
            "kind = \"elastic\"\nsigma = 0.0",
            "kind = \"elastic\"\nalpha = -1.0",
        ];
        let c: TransformConfig = toml::from_str("kind = \"elastic\"\nsigma = -1.0").unwrap();
        assert_eq!(
            c.validate().unwrap_err(),
            "elastic: sigma = -1 must be positive"
        );
        let c: TransformConfig = toml::from_str("kind = \"affine\"\nscale = [0.0, 1.0]").unwrap();
        assert_eq!(
            c.validate().unwrap_err(),
            "affine: scale = [0, 1]: values must be positive"
        );
        for text in bad {
            let c: TransformConfig = toml::from_str(text).unwrap();
            assert!(c.validate().is_err(), "{text} should be rejected");
            let aug = AugmentConfig {
                steps: Some(vec![c]),
                ..AugmentConfig::default()
            };
            assert!(aug.pipeline((8, 8)).is_err());
        }
        let zero_views = AugmentConfig {
            views: Some(0),
            ..AugmentConfig::default()
        };
        assert!(zero_views.validate().is_err());
        assert!(AugmentConfig::default().multi_view((8, 8), 0).is_err());
        assert!(AugmentConfig::default().pipeline((0, 8)).is_err());
    }

    #[test]
    fn pipeline_applies_steps_in_order_and_sizes_follow_crops() {
        let p = AugmentConfig::from_preset(Preset::Cifar)
            .pipeline((24, 20))
            .unwrap();
        assert_eq!(p.output_hw(32, 32), (24, 20));
        let img = noise_image(3, 32, 32, 1);
        let a = p.apply(img.clone(), &mut rng(5));
        assert_eq!((a.channels, a.height, a.width), (3, 24, 20));
        assert_unit_range(&a);
        assert_eq!(a, p.apply(img.clone(), &mut rng(5)));
        assert_ne!(a, p.apply(img.clone(), &mut rng(6)));
        // Two flips with p = 1 in a row give the image back.
        let flips = Pipeline::from_configs(&[
            TransformConfig::HorizontalFlip(HorizontalFlip { p: 1.0 }),
            TransformConfig::HorizontalFlip(HorizontalFlip { p: 1.0 }),
        ])
        .unwrap();
        assert_eq!(flips.apply(img.clone(), &mut rng(0)), img);
        let id = AugmentConfig::default().pipeline((32, 32)).unwrap();
        assert!(id.is_identity());
        assert_eq!(id.apply(img.clone(), &mut rng(0)), img);
    }
}
