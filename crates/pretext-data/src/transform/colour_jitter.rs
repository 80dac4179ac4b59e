//! Random colour jitter: brightness, contrast, saturation and hue, in a random
//! order.
//!
//! Reference: torchvision `transforms.ColorJitter` (factors drawn from
//! `[max(0, 1 - s), 1 + s]`, hue shift from `[-h, h]`, the four adjustments in
//! a random order) wrapped in `RandomApply(p)`. SimCLR (Chen et al. 2020,
//! appendix A) uses strength 0.5 on CIFAR-10: `0.4, 0.4, 0.4, 0.1` with p 0.8.
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::greyscale::luma;
use super::{Transform, check_at_least, check_probability, fires, uniform};
use crate::{Image, Rng};

/// With probability `p`, changes brightness, contrast, saturation and hue by
/// random amounts, in a random order, clamping to `[0, 1]` after each step.
/// Images that are not RGB get brightness and contrast only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColourJitter {
    /// Brightness strength: the factor is drawn from `[max(0, 1 - b), 1 + b]`.
    pub brightness: f32,
    /// Contrast strength, as `brightness`.
    pub contrast: f32,
    /// Saturation strength, as `brightness`.
    pub saturation: f32,
    /// Largest hue shift, as a fraction of the colour wheel, in `[0, 0.5]`.
    pub hue: f32,
    /// Probability of jittering (default 0.8).
    pub p: f32,
}

impl Default for ColourJitter {
    fn default() -> Self {
        Self {
            brightness: 0.4,
            contrast: 0.4,
            saturation: 0.4,
            hue: 0.1,
            p: 0.8,
        }
    }
}

impl ColourJitter {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        check_at_least("brightness", self.brightness, 0.0)?;
        check_at_least("contrast", self.contrast, 0.0)?;
        check_at_least("saturation", self.saturation, 0.0)?;
        if !(0.0..=0.5).contains(&self.hue) {
            return Err(format!("hue = {} must be in [0, 0.5]", self.hue));
        }
        check_probability("p", self.p)
    }
}

/// A factor drawn from `[max(0, 1 - s), 1 + s]`.
fn factor(rng: &mut Rng, s: f32) -> f32 {
    uniform(rng, (1.0 - s).max(0.0), 1.0 + s)
}

impl Transform for ColourJitter {
    fn apply(&self, mut image: Image, rng: &mut Rng) -> Image {
        if !fires(rng, self.p) {
            return image;
        }
        // Every draw happens whatever the settings, as in torchvision.
        let mut order = [0usize, 1, 2, 3];
        order.shuffle(rng);
        let b = factor(rng, self.brightness);
        let c = factor(rng, self.contrast);
        let s = factor(rng, self.saturation);
        let h = uniform(rng, -self.hue, self.hue);
        let rgb = image.channels == 3;
        for op in order {
            match op {
                0 if self.brightness > 0.0 => {
                    image
                        .data
                        .iter_mut()
                        .for_each(|v| *v = (*v * b).clamp(0.0, 1.0));
                }
                1 if self.contrast > 0.0 => {
                    let mean = if rgb {
                        let grey = luma(&image);
                        grey.iter().sum::<f32>() / grey.len() as f32
                    } else {
                        image.data.iter().sum::<f32>() / image.data.len() as f32
                    };
                    blend_towards(&mut image.data, |_| mean, c);
                }
                2 if self.saturation > 0.0 && rgb => {
                    let grey = luma(&image);
                    let n = grey.len();
                    blend_towards(&mut image.data, |i| grey[i % n], s);
                }
                3 if self.hue > 0.0 && rgb => shift_hue(&mut image, h),
                _ => {}
            }
        }
        image
    }
}

/// `x <- clamp(f * x + (1 - f) * target(i))` for each value `x` at index `i`.
fn blend_towards(data: &mut [f32], target: impl Fn(usize) -> f32, f: f32) {
    for (i, v) in data.iter_mut().enumerate() {
        *v = (f * *v + (1.0 - f) * target(i)).clamp(0.0, 1.0);
    }
}

/// Rotates the hue of every pixel of an RGB image by `shift` turns.
fn shift_hue(image: &mut Image, shift: f32) {
    let n = image.height * image.width;
    let (r, rest) = image.data.split_at_mut(n);
    let (g, b) = rest.split_at_mut(n);
    for ((r, g), b) in r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut()) {
        let (hue, sat, val) = rgb_to_hsv(*r, *g, *b);
        (*r, *g, *b) = hsv_to_rgb((hue + shift).rem_euclid(1.0), sat, val);
    }
}

/// RGB in `[0, 1]` to hue (turns, `[0, 1)`), saturation and value.
fn rgb_to_hsv(r: f32, g: f32, b: f32) -> (f32, f32, f32) {
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let delta = max - min;
    if delta <= 0.0 {
        return (0.0, 0.0, max);
    }
    let hue = if max == r {
        ((g - b) / delta).rem_euclid(6.0)
    } else if max == g {
        (b - r) / delta + 2.0
    } else {
        (r - g) / delta + 4.0
    };
    (hue / 6.0, delta / max, max)
}

/// Hue (turns), saturation and value to RGB.
fn hsv_to_rgb(h: f32, s: f32, v: f32) -> (f32, f32, f32) {
    let h6 = (h * 6.0).rem_euclid(6.0);
    let sector = (h6.floor() as usize).min(5);
    let f = h6 - sector as f32;
    let p = v * (1.0 - s);
    let q = v * (1.0 - s * f);
    let t = v * (1.0 - s * (1.0 - f));
    let (r, g, b) = match sector {
        0 => (v, t, p),
        1 => (q, v, p),
        2 => (p, v, t),
        3 => (p, q, v),
        4 => (t, p, v),
        _ => (v, p, q),
    };
    (r.clamp(0.0, 1.0), g.clamp(0.0, 1.0), b.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::test_util::*;

    fn only(brightness: f32, contrast: f32, saturation: f32, hue: f32) -> ColourJitter {
        ColourJitter {
            brightness,
            contrast,
            saturation,
            hue,
            p: 1.0,
        }
    }

    #[test]
    fn same_seed_same_output_different_seed_different_output() {
        let t = ColourJitter {
            p: 1.0,
            ..ColourJitter::default()
        };
        let img = noise_image(3, 6, 6, 0);
        let a = t.apply(img.clone(), &mut rng(4));
        assert_eq!(a, t.apply(img.clone(), &mut rng(4)));
        assert_ne!(a, t.apply(img, &mut rng(5)));
    }

    #[test]
    fn keeps_shape_and_range_and_probability_zero_is_identity() {
        let strong = only(0.9, 0.9, 0.9, 0.5);
        for (channels, seed) in [(3, 1), (1, 2)] {
            let img = noise_image(channels, 7, 5, seed);
            for s in 0..20 {
                let out = strong.apply(img.clone(), &mut rng(s));
                assert_eq!((out.channels, out.height, out.width), (channels, 7, 5));
                assert_unit_range(&out);
            }
            let off = ColourJitter {
                p: 0.0,
                ..strong.clone()
            };
            assert_eq!(off.apply(img.clone(), &mut rng(0)), img);
        }
    }

    #[test]
    fn grey_images_get_brightness_and_contrast_only() {
        let grey = noise_image(1, 6, 6, 3);
        let colour_only = only(0.0, 0.0, 0.9, 0.5);
        assert_eq!(colour_only.apply(grey.clone(), &mut rng(1)), grey);
        let brightness = only(0.5, 0.0, 0.0, 0.0);
        let out = brightness.apply(grey.clone(), &mut rng(2));
        assert_ne!(out, grey);
        // One factor for every pixel (no value here reaches the clamp at 1
        // unless the factor exceeds 1, so compare the unclamped ones).
        let ratios: Vec<f32> = grey
            .data
            .iter()
            .zip(&out.data)
            .filter(|&(&x, &y)| x > 0.05 && y < 1.0)
            .map(|(&x, &y)| y / x)
            .collect();
        assert!(ratios.iter().all(|r| (r - ratios[0]).abs() < 1e-4));
    }

    #[test]
    fn hue_leaves_grey_pixels_alone_and_round_trips() {
        let mut img = noise_image(3, 4, 4, 4);
        // Make the first pixel grey.
        let v = img.get(0, 0, 0);
        *img.get_mut(1, 0, 0) = v;
        *img.get_mut(2, 0, 0) = v;
        let mut shifted = img.clone();
        shift_hue(&mut shifted, 0.3);
        assert_eq!((shifted.get(1, 0, 0), shifted.get(2, 0, 0)), (v, v));
        shift_hue(&mut shifted, -0.3);
        for (a, b) in img.data.iter().zip(&shifted.data) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        // A third of a turn maps pure red to pure green.
        let (r, g, b) = hsv_to_rgb(rgb_to_hsv(1.0, 0.0, 0.0).0 + 1.0 / 3.0, 1.0, 1.0);
        assert!(r < 1e-5 && (g - 1.0).abs() < 1e-5 && b < 1e-5);
    }

    #[test]
    fn zero_saturation_factor_gives_luma() {
        let img = noise_image(3, 3, 3, 5);
        let mut data = img.data.clone();
        let grey = luma(&img);
        blend_towards(&mut data, |i| grey[i % 9], 0.0);
        assert_eq!(&data[..9], &grey[..]);
        assert_eq!(&data[18..], &grey[..]);
    }
}
