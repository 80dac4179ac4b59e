//! Learning-rate schedules: linear warmup then cosine decay (Loshchilov &
//! Hutter, 2017, "SGDR"), or constant after warmup.
use serde::{Deserialize, Serialize};

/// A learning-rate schedule over optimiser steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// `cosine` or `constant` after warmup.
    pub kind: ScheduleKind,
    /// Epochs of linear warmup from 0 to the base rate (fractions allowed).
    pub warmup_epochs: f64,
    /// The final rate of the cosine decay, as a fraction of the base rate.
    pub final_ratio: f64,
}

/// The shape after warmup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// Half a cosine from the base rate to `final_ratio` times it.
    #[default]
    Cosine,
    /// The base rate.
    Constant,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            kind: ScheduleKind::Cosine,
            warmup_epochs: 1.0,
            final_ratio: 0.0,
        }
    }
}

impl ScheduleConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.warmup_epochs >= 0.0 && self.warmup_epochs.is_finite()) {
            return Err(format!(
                "train.schedule.warmup_epochs must be 0 or more, got {}",
                self.warmup_epochs
            ));
        }
        if !(0.0..=1.0).contains(&self.final_ratio) {
            return Err(format!(
                "train.schedule.final_ratio must be in [0, 1], got {}",
                self.final_ratio
            ));
        }
        Ok(())
    }

    /// The learning rate at `step` (0-based) of `total` steps with
    /// `steps_per_epoch` steps an epoch, for a base rate `base`.
    pub fn lr(&self, base: f64, step: usize, total: usize, steps_per_epoch: usize) -> f64 {
        let warmup = (self.warmup_epochs * steps_per_epoch as f64).round() as usize;
        let warmup = warmup.min(total.saturating_sub(1));
        if step < warmup {
            return base * (step + 1) as f64 / warmup as f64;
        }
        match self.kind {
            ScheduleKind::Constant => base,
            ScheduleKind::Cosine => {
                let span = (total - warmup).max(1) as f64;
                let progress = ((step - warmup) as f64 / span).min(1.0);
                let low = base * self.final_ratio;
                low + 0.5 * (base - low) * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_linearly_then_decays_by_cosine() {
        let s = ScheduleConfig::default(); // 1 warmup epoch
        let lr = |step| s.lr(1.0, step, 100, 10);
        assert!((lr(0) - 0.1).abs() < 1e-12);
        assert!((lr(9) - 1.0).abs() < 1e-12);
        assert!((lr(10) - 1.0).abs() < 1e-12);
        // Halfway through the decay the cosine is at half the base rate.
        assert!((lr(55) - 0.5).abs() < 1e-12);
        assert!(lr(99) < 0.001);
        let mut prev = f64::INFINITY;
        for step in 10..100 {
            assert!(lr(step) <= prev);
            prev = lr(step);
        }
    }

    #[test]
    fn constant_and_no_warmup() {
        let s = ScheduleConfig {
            kind: ScheduleKind::Constant,
            warmup_epochs: 0.0,
            final_ratio: 0.0,
        };
        assert_eq!(s.lr(0.3, 0, 10, 5), 0.3);
        assert_eq!(s.lr(0.3, 9, 10, 5), 0.3);
    }
}
