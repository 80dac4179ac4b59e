//! What an image evaluation will cost, said before it is paid: each part's
//! number of jobs and its seconds, from the pool and test sizes, the feature
//! sizes and the number of classes, at speeds measured on this machine in a
//! few seconds by running each part's own code on a small problem (the heads
//! on synthetic features of the real size, the encoder on real images).
//!
//! Loops that stop early (the MLP head, fine-tuning, the linear probe's
//! L-BFGS at its first strength) are counted at `min(max, 2 × patience + 1)`
//! epochs for the typical case and at their maximum for the longest; the
//! probe's later strengths start from the previous optimum and are counted
//! at `patience + 1` iterations (see [`grid_iterations`]).
//! The estimate leaves out what it cannot see coming: other processes on the
//! machine, and a disk cache that is cold.
use std::time::Instant;

use burn::tensor::Device;
use pretext_data::{ChannelStats, ImageDataset, LabelSplit};
use pretext_nn::{Encoder, Readout};
use rand::{Rng, SeedableRng};
use std::sync::Arc;

use crate::embed::embed_images;
use crate::features::Features;
use crate::finetune::{FinetuneConfig, LabelledImages, finetune};
use crate::heads::one_thread;
use crate::kmeans::{KmeansConfig, KmeansFeatures};
use crate::knn::{KnnConfig, knn_predict};
use crate::linear::{LinearProbeConfig, fit_linear};
use crate::mlp::{MlpHeadConfig, fit_mlp};
use crate::side::Images;

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
             2 x patience + 1 epochs, the linear probe's warm-started strengths at patience + 1):",
            self.calibration_seconds
        )];
        let width = self.parts.iter().map(|p| p.part.len()).max().unwrap_or(0);
        for p in &self.parts {
            let longest = if p.longest > p.typical * 1.05 {
                format!(" (up to {})", human(p.longest))
            } else {
                String::new()
            };
            // The seconds are the part's, all its jobs together: "6 x 4.3 min"
            // read as six times 4.3 minutes.
            let jobs = if p.jobs == 1 { "job" } else { "jobs" };
            lines.push(format!(
                "  {:<width$}  {:>4} {jobs:<4}  {:>9} in all{longest}",
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

/// Expected and most L-BFGS iterations of the linear probe over its whole
/// grid of strengths. The first strength starts from zero and is counted
/// like any early-stopped loop (`2 × patience + 1`); each later one starts
/// from the previous optimum, rarely improves on it, and is counted at
/// `patience + 1`.
pub(crate) fn grid_iterations(config: &LinearProbeConfig) -> (f64, f64) {
    let (first, most) = epochs(config.max_iter, config.patience, config.early_stopping);
    let later = if config.early_stopping {
        (config.patience + 1).min(config.max_iter) as f64
    } else {
        most
    };
    let rest = config.l2_grid.len().saturating_sub(1) as f64;
    (first + rest * later, most * config.l2_grid.len() as f64)
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

/// A cost with a fixed part and a part per unit (row, batch row), drawn
/// through two timings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Affine {
    /// Seconds whatever the units.
    fixed: f64,
    /// Further seconds per unit.
    per: f64,
}

impl Affine {
    /// The line through `(units, seconds)` at two sizes (neither part
    /// below 0, against timing noise).
    fn through((n0, s0): (usize, f64), (n1, s1): (usize, f64)) -> Self {
        let per = ((s1 - s0) / (n1 - n0) as f64).max(0.0);
        Self {
            fixed: (s0 - per * n0 as f64).max(0.0),
            per,
        }
    }

    /// Seconds at `n` units.
    pub(crate) fn at(&self, n: usize) -> f64 {
        self.fixed + self.per * n as f64
    }
}

/// Measures the seconds of one L-BFGS iteration of the linear probe at
/// `dim` features and `classes` classes against its rows (training and
/// validation), from a few iterations on a small and on a larger problem.
pub(crate) fn linear_rate(dim: usize, classes: usize, config: &LinearProbeConfig) -> Affine {
    let probe = LinearProbeConfig {
        l2_grid: vec![1e-3],
        max_iter: 6,
        early_stopping: false,
        tolerance: 0.0,
        ..config.clone()
    };
    let per_iteration = |n: usize, nv: usize| {
        let (x, y) = synthetic(n, dim, classes, 1);
        let (xv, yv) = synthetic(nv, dim, classes, 2);
        let (fit, seconds) = timed(|| fit_linear(&x, &y, &xv, &yv, classes, &probe));
        (n + nv, seconds / fit.choice.iterations.max(1) as f64)
    };
    Affine::through(per_iteration(64, 16), per_iteration(2048, 512))
}

/// Seconds per (query, training row) pair of kNN at `dim` features.
pub(crate) fn knn_rate(dim: usize, classes: usize, config: &KnnConfig) -> f64 {
    let (n, q) = (2048, 256);
    let (x, y) = synthetic(n, dim, classes, 3);
    let (query, _) = synthetic(q, dim, classes, 4);
    let (_, seconds) = timed(|| knn_predict(&x, &y, &query, classes, config));
    seconds / (n * q) as f64
}

/// The MLP head's speeds: an epoch is `max(10, ⌈rows / batch⌉)` optimiser
/// steps (see [`crate::mlp::MIN_STEPS`]), each costing a fixed part and a
/// part per row of its batch, then a prediction on the validation rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MlpRate {
    /// Seconds of a step against the rows of its batch.
    step: Affine,
    /// Seconds per predicted row.
    predict_row: f64,
    /// Rows per step (the configured batch).
    batch: usize,
}

impl MlpRate {
    /// Seconds of one epoch on `train` training and `val` validation rows.
    pub(crate) fn epoch(&self, train: usize, val: usize) -> f64 {
        let batch = self.batch.min(train).max(1);
        let steps = crate::mlp::MIN_STEPS.max(train.div_ceil(batch));
        steps as f64 * self.step.at(batch) + val as f64 * self.predict_row
    }

    /// Seconds of a fit of `epochs` epochs, with its prediction on `test` rows.
    pub(crate) fn fit(&self, epochs: f64, train: usize, val: usize, test: usize) -> f64 {
        epochs * self.epoch(train, val) + test as f64 * self.predict_row
    }
}

/// Measures [`MlpRate`] at `dim` features and `classes` classes: one epoch
/// on a tiny batch, one on a full batch, one with many validation rows.
pub(crate) fn mlp_rate(
    dim: usize,
    classes: usize,
    config: &MlpHeadConfig,
    device: &Device,
) -> MlpRate {
    let probe = MlpHeadConfig {
        max_epochs: 1,
        patience: 1,
        ..config.clone()
    };
    let (small, big, many) = (16, config.batch_size.clamp(32, 1024), 4096);
    let fit = |train: usize, val: usize| {
        let (x, y) = synthetic(train, dim, classes, 5);
        let (xv, yv) = synthetic(val, dim, classes, 6);
        let (test, _) = synthetic(1, dim, classes, 7);
        timed(|| one_thread(|| fit_mlp(&x, &y, &xv, &yv, &test, classes, &probe, 0, device))).1
    };
    // An epoch of `small` or `big` rows is MIN_STEPS steps of that batch.
    let steps = crate::mlp::MIN_STEPS as f64;
    fit(small, small); // warm-up
    let tiny = fit(small, small);
    let wide = fit(big, small);
    let checked = fit(small, many);
    MlpRate {
        step: Affine::through((small, tiny / steps), (big, wide / steps)),
        predict_row: ((checked - tiny) / (many - small) as f64).max(0.0),
        batch: config.batch_size.max(1),
    }
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
    embed_images(encoder, &warm, stats, Readout::default(), device);
    let sample = Arc::new(data.subset(&(0..n).collect::<Vec<_>>()));
    let (_, seconds) = timed(|| embed_images(encoder, &sample, stats, Readout::default(), device));
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
    config: &FinetuneConfig<Images>,
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
        augment,
        classes,
    };
    let (outcome, seconds) =
        timed(|| one_thread(|| finetune(encoder, false, &labelled, &probe, 0, device)));
    outcome.ok().map(|_| seconds / steps as f64)
}

/// Seconds of the k-means baseline on `data` (its pool) and `test` more
/// images: fitting (`iterations` rounds over `patches`) and encoding every
/// image, at the speed per patch-centroid product measured by fitting
/// `config`'s centroids on a few patches and encoding 16 images (the median
/// of three encodings, after a warm-up). `0` where the settings do not fit the images (the
/// evaluation refuses them).
pub(crate) fn kmeans_seconds(
    data: &ImageDataset,
    test: usize,
    config: &KmeansConfig,
    device: &Device,
) -> f64 {
    let quick = KmeansConfig {
        patches: config.centroids,
        iterations: 1,
        ..config.clone()
    };
    let Ok(fitted) = KmeansFeatures::fit(data, &quick, 0, device) else {
        return 0.0;
    };
    let sample = data.subset(&(0..data.len().min(16)).collect::<Vec<_>>());
    fitted.transform(&sample, device); // warm-up
    let mut seconds: Vec<f64> = (0..3)
        .map(|_| timed(|| fitted.transform(&sample, device)).1)
        .collect();
    seconds.sort_by(f64::total_cmp);
    let per_patch = seconds[1] / (sample.len() * config.patches_per_image(data.shape())) as f64;
    let images = data.len() + test;
    per_patch
        * (config.iterations * config.patches + images * config.patches_per_image(data.shape()))
            as f64
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
