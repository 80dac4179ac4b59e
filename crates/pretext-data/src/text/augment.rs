//! Augmentations of a token sequence, the text side of a contrastive pair:
//! random deletion, neighbour swaps, span masking, applied in that order.
//!
//! References: EDA (Wei & Zou 2019) for deletion and swaps; SpanBERT (Joshi
//! et al. 2020, section 3.1) for masking spans of geometric length; CLEAR
//! (Wu et al. 2020) combines them as views for sentence-level contrastive
//! learning.
use rand::Rng as _;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::TextTokenizer;
use crate::Rng;

/// Mean length of a masked span (the geometric distribution's `1 / p`).
const MEAN_SPAN: f64 = 3.0;
/// Longest masked span, as SpanBERT clips.
const MAX_SPAN: usize = 10;

/// How a view of a token sequence is made; all zero (the default) leaves it
/// as it is.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TextAugmentConfig {
    /// Delete each token with this probability.
    pub deletion: f32,
    /// Mask spans (with `[MASK]`) covering about this fraction of tokens;
    /// span length geometric with mean 3, at most 10.
    pub span_mask: f32,
    /// Swap this fraction of tokens with their right neighbour (disjoint
    /// pairs, so a token moves at most one place).
    pub swap: f32,
}

impl TextAugmentConfig {
    /// Checks every rate is in range; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        for (key, value, one_allowed) in [
            ("deletion", self.deletion, false),
            ("span_mask", self.span_mask, false),
            ("swap", self.swap, true),
        ] {
            // Deleting or masking everything would leave nothing to compare.
            if !(value >= 0.0 && (value < 1.0 || (one_allowed && value == 1.0))) {
                let range = if one_allowed { "[0, 1]" } else { "[0, 1)" };
                return Err(format!(
                    "text augment `{key}` must be in {range}, got {value}"
                ));
            }
        }
        Ok(())
    }

    /// Whether every view is the sequence itself.
    pub fn is_identity(&self) -> bool {
        self.deletion == 0.0 && self.span_mask == 0.0 && self.swap == 0.0
    }

    /// An augmented copy of `ids`: deletion, then swaps, then span masking.
    /// Never empty: when every token is deleted, one of them, drawn at
    /// random, is kept. An empty input gives an empty output.
    pub fn apply(&self, ids: &[u32], rng: &mut Rng) -> Vec<u32> {
        let mut out = if self.deletion > 0.0 && !ids.is_empty() {
            let kept: Vec<u32> = ids
                .iter()
                .copied()
                .filter(|_| rng.random::<f32>() >= self.deletion)
                .collect();
            if kept.is_empty() {
                vec![ids[rng.random_range(0..ids.len())]]
            } else {
                kept
            }
        } else {
            ids.to_vec()
        };
        if self.swap > 0.0 {
            swap_neighbours(&mut out, self.swap, rng);
        }
        if self.span_mask > 0.0 {
            mask_spans(&mut out, self.span_mask, rng);
        }
        out
    }
}

/// `x` rounded down or up at random, up with probability `x - floor(x)`, so
/// the expectation is `x` even for short sequences.
fn stochastic_round(x: f64, rng: &mut Rng) -> usize {
    let floor = x.floor();
    floor as usize + usize::from(rng.random::<f64>() < x - floor)
}

/// Exchanges about `rate * len / 2` disjoint neighbour pairs, so about
/// `rate * len` tokens move (fewer where the pairs cannot all be disjoint).
fn swap_neighbours(ids: &mut [u32], rate: f32, rng: &mut Rng) {
    if ids.len() < 2 {
        return;
    }
    let pairs = stochastic_round(f64::from(rate) * ids.len() as f64 / 2.0, rng);
    let mut starts: Vec<usize> = (0..ids.len() - 1).collect();
    starts.shuffle(rng);
    let mut taken = vec![false; ids.len()];
    let mut done = 0;
    for i in starts {
        if done == pairs {
            break;
        }
        if !taken[i] && !taken[i + 1] {
            taken[i] = true;
            taken[i + 1] = true;
            ids.swap(i, i + 1);
            done += 1;
        }
    }
}

/// Replaces spans by `[MASK]` until `rate * len` tokens (rounded at random)
/// are masked: each span starts at a uniform position and has a geometric
/// length (mean [`MEAN_SPAN`], clipped to [`MAX_SPAN`] and to what is left
/// to mask).
fn mask_spans(ids: &mut [u32], rate: f32, rng: &mut Rng) {
    let n = ids.len();
    let target = stochastic_round(f64::from(rate) * n as f64, rng).min(n);
    let mut masked = vec![false; n];
    let mut count = 0;
    // Each round masks at least one new token unless it lands on masked ones;
    // the bound only guards against a pathological generator.
    for _ in 0..100 * n {
        if count >= target {
            break;
        }
        let u: f64 = rng.random::<f64>();
        let geometric = 1 + ((1.0 - u).ln() / (1.0 - 1.0 / MEAN_SPAN).ln()).floor() as usize;
        let len = geometric.min(MAX_SPAN).min(target - count);
        let start = rng.random_range(0..n);
        for m in masked.iter_mut().skip(start).take(len) {
            if !*m {
                *m = true;
                count += 1;
            }
        }
    }
    for (id, _) in ids.iter_mut().zip(&masked).filter(|(_, m)| **m) {
        *id = TextTokenizer::MASK;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// 10,000 distinct ids above the special tokens.
    fn long() -> Vec<u32> {
        (10..10_010).collect()
    }

    fn rng(seed: u64) -> Rng {
        Rng::seed_from_u64(seed)
    }

    #[test]
    fn text_augment_is_deterministic_under_a_seed() {
        let config = TextAugmentConfig {
            deletion: 0.1,
            span_mask: 0.15,
            swap: 0.1,
        };
        let ids: Vec<u32> = (5..60).collect();
        let a = config.apply(&ids, &mut rng(7));
        assert_eq!(a, config.apply(&ids, &mut rng(7)));
        assert_ne!(a, config.apply(&ids, &mut rng(8)));
        assert_ne!(a, ids);
    }

    #[test]
    fn text_augment_rates_hold_on_long_sequences() {
        let ids = long();
        let n = ids.len() as f64;
        let deleted = TextAugmentConfig {
            deletion: 0.2,
            ..TextAugmentConfig::default()
        }
        .apply(&ids, &mut rng(1));
        let kept = deleted.len() as f64 / n;
        assert!((kept - 0.8).abs() < 0.02, "{kept}");
        assert!(deleted.windows(2).all(|w| w[0] < w[1]), "order is kept");

        let masked = TextAugmentConfig {
            span_mask: 0.15,
            ..TextAugmentConfig::default()
        }
        .apply(&ids, &mut rng(2));
        assert_eq!(masked.len(), ids.len());
        let count = masked.iter().filter(|&&i| i == TextTokenizer::MASK).count();
        assert!((count as f64 / n - 0.15).abs() < 0.001, "{count}");
        // Masks come in runs: about 1 / 3 of masked tokens start a run.
        let runs = masked
            .windows(2)
            .filter(|w| w[1] == TextTokenizer::MASK && w[0] != TextTokenizer::MASK)
            .count();
        let mean_run = count as f64 / runs as f64;
        assert!(mean_run > 2.0 && mean_run < 4.0, "{mean_run}");
        for (m, o) in masked.iter().zip(&ids) {
            assert!(*m == TextTokenizer::MASK || m == o);
        }

        let swapped = TextAugmentConfig {
            swap: 0.1,
            ..TextAugmentConfig::default()
        }
        .apply(&ids, &mut rng(3));
        let moved = swapped.iter().zip(&ids).filter(|(a, b)| a != b).count();
        assert!((moved as f64 / n - 0.1).abs() < 0.005, "{moved}");
        let mut sorted = swapped.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, ids, "a permutation");
        for (k, &id) in swapped.iter().enumerate() {
            assert!(
                (id as i64 - ids[k] as i64).abs() <= 1,
                "moves one place at most"
            );
        }
    }

    #[test]
    fn text_augment_identity_when_all_zero() {
        let config = TextAugmentConfig::default();
        assert!(config.is_identity());
        let ids = long();
        assert_eq!(config.apply(&ids, &mut rng(0)), ids);
        assert!(
            !TextAugmentConfig {
                swap: 0.1,
                ..config
            }
            .is_identity()
        );
    }

    #[test]
    fn text_augment_never_returns_empty() {
        let config = TextAugmentConfig {
            deletion: 0.99,
            span_mask: 0.5,
            swap: 1.0,
        };
        assert_eq!(config.validate(), Ok(()));
        for seed in 0..200 {
            for len in 1..6 {
                let ids: Vec<u32> = (100..100 + len).collect();
                let out = config.apply(&ids, &mut rng(seed));
                assert!(!out.is_empty());
                assert!(out.len() <= ids.len());
            }
        }
        let one = TextAugmentConfig {
            deletion: 0.999_999,
            ..TextAugmentConfig::default()
        };
        let out = one.apply(&[42, 43, 44], &mut rng(5));
        assert_eq!(out.len(), 1);
        assert!([42, 43, 44].contains(&out[0]));
    }

    #[test]
    fn text_augment_validate_names_the_key() {
        let bad = TextAugmentConfig {
            deletion: 1.0,
            ..TextAugmentConfig::default()
        };
        assert_eq!(
            bad.validate().unwrap_err(),
            "text augment `deletion` must be in [0, 1), got 1"
        );
        let bad = TextAugmentConfig {
            span_mask: -0.1,
            ..TextAugmentConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("`span_mask`"));
        let nan = TextAugmentConfig {
            swap: f32::NAN,
            ..TextAugmentConfig::default()
        };
        assert!(nan.validate().is_err());
        let c: TextAugmentConfig = toml::from_str("deletion = 0.1").unwrap();
        assert_eq!(c.deletion, 0.1);
        assert!(toml::from_str::<TextAugmentConfig>("dropout = 0.1").is_err());
    }
}
