//! What an image evaluation will cost, said before it is paid: each part's
//! number of jobs and its seconds, from the pool and test sizes, the feature
//! sizes and the number of classes, at speeds measured on this machine in a
//! few seconds by running each part's own code on a small problem (the heads
//! on synthetic features of the real size, the encoder on real images).
//!
//! Loops that stop early (the linear probe's L-BFGS at each strength of its
//! grid, the MLP head, fine-tuning) are counted at `min(max, 2 × patience +
//! 1)` epochs for the typical case and at their maximum for the longest.
//! The estimate leaves out what it cannot see coming: other processes on the
//! machine, and a disk cache that is cold.
use std::time::Instant;

use burn::tensor::Device;
use pretext_data::{ChannelStats, ImageDataset, LabelSplit};
use pretext_nn::Encoder;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

use crate::embed::embed_images;
use crate::features::Features;
use crate::finetune::{FinetuneConfig, LabelledImages, finetune};
use crate::heads::one_thread;
use crate::knn::{KnnConfig, knn_predict};
use crate::linear::{LinearProbeConfig, fit_linear};
use crate::mlp::{MlpHeadConfig, fit_mlp};

/// One part of an evaluation: what it is, how many times it runs, and its
/// seconds in the typical and in the longest case.
#[derive(Debug, Clone, PartialEq)]
pub struct PartCost {
    /// The part, as the log names it (`linear probe, 128 features`).
    pub part: String,
    /// How many fits, trainings or passes it holds.
    pub jobs: usize,
    /// Seconds when early-stopped loops stop at `2 × patience + 1`.
    pub typical: f64,
    /// Seconds when no loop stops early.
    pub longest: f64,
}

/// The cost of an evaluation, part by part, said before it starts
/// (`pretext evaluate --dry-run` prints it and stops).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CostEstimate {
    /// Every part that costs anything.
    pub parts: Vec<PartCost>,
    /// Seconds spent measuring the speeds the estimate uses.
    pub calibration_seconds: f64,
}

impl CostEstimate {
    /// The typical and the longest total, in seconds.
    pub fn total(&self) -> (f64, f64) {
        self.parts
            .iter()
            .fold((0.0, 0.0), |(t, l), p| (t + p.typical, l + p.longest))
    }

    /// The estimate as lines for a log: one per part, then the total.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "estimated cost (speeds measured here in {:.1} s; early-stopped loops counted at \
             2 x patience + 1 epochs, at most their maximum):",
            self.calibration_seconds
        )];
        let width = self.parts.iter().map(|p| p.part.len()).max().unwrap_or(0);
        for p in &self.parts {
            let longest = if p.longest > p.typical * 1.05 {
                format!(" (up to {})", human(p.longest))
            } else {
                String::new()
            };
            lines.push(format!(
                "  {:<width$}  {:>4} x  {:>9}{longest}",
                p.part,
                p.jobs,
                human(p.typical)
            ));
        }
        let (typical, longest) = self.total();
        lines.push(format!(
            "  total: about {}, up to {} if no loop stops early",
            human(typical),
            human(longest)
        ));
        lines
    }
}

/// Seconds as a person reads them: `40 s`, `3.5 min`, `1.2 h`.
pub fn human(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if seconds < 5400.0 {
        format!("{:.1} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

/// Expected and most epochs of a loop that stops after `patience` epochs
/// without a better validation score, or after `max`.
pub(crate) fn epochs(max: usize, patience: usize, early_stopping: bool) -> (f64, f64) {
    let typical = if early_stopping {
        (2 * patience + 1).min(max)
    } else {
        max
    };
    (typical as f64, max as f64)
}

/// Runs `f` and returns its value and its seconds.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let value = f();
    (value, t.elapsed().as_secs_f64())
}

/// `rows` random feature vectors of `dim` and labels below `classes`.
fn synthetic(rows: usize, dim: usize, classes: usize, seed: u64) -> (Features, Vec<u32>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let data = (0..rows * dim)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let labels = (0..rows).map(|i| (i % classes) as u32).collect();
    (Features::new(rows, dim, data), labels)
}

/// Seconds per row (training and validation) per L-BFGS iteration of the
/// linear probe, at `dim` features and `classes` classes.
pub(crate) fn linear_rate(dim: usize, classes: usize, config: &LinearProbeConfig) -> f64 {
    let (n, nv) = (256, 64);
    let (x, y) = synthetic(n, dim, classes, 1);
    let (xv, yv) = synthetic(nv, dim, classes, 2);
    let probe = LinearProbeConfig {
        l2_grid: vec![1e-3],
        max_iter: 6,
        early_stopping: false,
        tolerance: 0.0,
        ..config.clone()
    };
    let (fit, seconds) = timed(|| fit_linear(&x, &y, &xv, &yv, classes, &probe));
    seconds / (fit.iterations.max(1) * (n + nv)) as f64
}

/// Seconds per (query, training row) pair of kNN at `dim` features.
pub(crate) fn knn_rate(dim: usize, classes: usize, config: &KnnConfig) -> f64 {
    let (n, q) = (2048, 256);
    let (x, y) = synthetic(n, dim, classes, 3);
    let (query, _) = synthetic(q, dim, classes, 4);
    let (_, seconds) = timed(|| knn_predict(&x, &y, &query, classes, config));
    seconds / (n * q) as f64
}

/// Seconds per row (training and validation) per epoch of the MLP head.
pub(crate) fn mlp_rate(dim: usize, classes: usize, config: &MlpHeadConfig, device: &Device) -> f64 {
    let (n, nv) = (512, 128);
    let (x, y) = synthetic(n, dim, classes, 5);
    let (xv, yv) = synthetic(nv, dim, classes, 6);
    let (test, _) = synthetic(16, dim, classes, 7);
    let probe = MlpHeadConfig {
        max_epochs: 3,
        patience: 3,
        ..config.clone()
    };
    let (outcome, seconds) =
        timed(|| one_thread(|| fit_mlp(&x, &y, &xv, &yv, &test, classes, &probe, 0, device)));
    seconds / (outcome.epochs.unwrap_or(3).max(1) * (n + nv)) as f64
}

/// Seconds per image of `encoder`'s forward pass, measured on up to 256
/// images of `data` after a warm-up batch.
pub(crate) fn forward_rate(
    encoder: &Encoder,
    data: &ImageDataset,
    stats: &ChannelStats,
    device: &Device,
) -> f64 {
    let n = data.len().min(256);
    let warm = Arc::new(data.subset(&(0..n.min(16)).collect::<Vec<_>>()));
    embed_images(encoder, &warm, stats, device);
    let sample = Arc::new(data.subset(&(0..n).collect::<Vec<_>>()));
    let (_, seconds) = timed(|| embed_images(encoder, &sample, stats, device));
    seconds / n as f64
}

/// Seconds per optimiser step of fine-tuning (augmented batch, forward,
/// backward, update), measured with `encoder` on a few steps of `pool`.
pub(crate) fn finetune_step_rate(
    encoder: Encoder,
    pool: &ImageDataset,
    stats: &ChannelStats,
    classes: usize,
    augment: &pretext_data::AugmentConfig,
    config: &FinetuneConfig,
    device: &Device,
) -> Option<f64> {
    let batch = config.batch_size.min(pool.len().saturating_sub(8));
    if batch < 2 {
        return None;
    }
    let sample = Arc::new(pool.subset(&(0..batch + 8).collect::<Vec<_>>()));
    let tiny = Arc::new(pool.subset(&(0..8).collect::<Vec<_>>()));
    let train: Vec<usize> = (0..batch).collect();
    let val: Vec<usize> = (batch..batch + 8).collect();
    let steps = 3;
    let probe = FinetuneConfig {
        max_epochs: 1,
        steps_per_epoch: steps,
        patience: 1,
        ..config.clone()
    };
    let labelled = LabelledImages {
        pool: &sample,
        train: &train,
        val: &val,
        test: &tiny,
        stats,
        classes,
    };
    let (outcome, seconds) =
        timed(|| one_thread(|| finetune(encoder, false, &labelled, augment, &probe, 0, device)));
    outcome.ok().map(|_| seconds / steps as f64)
}

/// The labelled counts of the draws at `budgets`: `(training, validation)`
/// labels of each split.
pub(crate) fn draw_sizes(
    splits: &[LabelSplit],
    budgets: &[pretext_data::LabelBudget],
) -> Vec<(usize, usize)> {
    splits
        .iter()
        .filter(|s| budgets.contains(&s.budget))
        .map(|s| (s.train.len(), s.val.len()))
        .collect()
}
