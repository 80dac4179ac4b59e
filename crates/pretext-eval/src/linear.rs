//! The linear probe: multinomial logistic regression with an L2 penalty on
//! standardised features, fitted full-batch with L-BFGS (the crate's `lbfgs` module).
//!
//! The objective is the mean cross-entropy over the training samples plus
//! `(l2 / 2)·‖W‖²` (the bias is not penalised). The L2 strength is chosen
//! from a grid by validation accuracy, fitted from the strongest to the
//! weakest strength with warm starts; inside each fit the weights with the
//! best validation accuracy are kept (early stopping), or, with
//! `early_stopping = false`, each strength is fitted to convergence and its
//! final weights kept (the protocol of Kornblith et al. 2019). The stopping rules
//! follow scikit-learn's `lbfgs` solver: the gradient's max-abs below
//! `tolerance`, or a relative loss change below `64·ε` (f64); a fit also ends
//! when the line search can no longer decrease the loss. The same grid
//! protocol (`select_l2`) fits the TF-IDF baseline (`fit_tfidf_logistic`).
//!
//! Loss and gradient are computed in f64 over fixed blocks of samples in
//! parallel (rayon) and summed in block order, so a fit is deterministic
//! whatever the number of threads.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::features::{Features, Standardizer, accuracy, argmax};
use crate::lbfgs::{Objective, dot, minimize};
use crate::outcome::HeadOutcome;
use pretext_runs::EpochPoint;

/// Samples per parallel task of the loss/gradient pass (fixed, so the sum's
/// order does not depend on the thread count).
pub(crate) const ROWS_PER_TASK: usize = 2048;

/// Settings of the linear probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinearProbeConfig {
    /// L2 strengths tried (default: [1e-1, 1e-2, 1e-3, 1e-4, 1e-5]).
    pub l2_grid: Vec<f32>,
    /// Most L-BFGS iterations per strength (default 200).
    pub max_iter: usize,
    /// Keep each strength's best-validation iterate, stopping after
    /// `patience` iterations without improvement (true, the default); or
    /// fit each strength to convergence and keep its final weights (false).
    pub early_stopping: bool,
    /// With early stopping: stop after this many iterations without a better
    /// validation accuracy (default 20).
    pub patience: usize,
    /// Stop when the gradient's max-abs falls below this (default 1e-5).
    pub tolerance: f32,
}

impl Default for LinearProbeConfig {
    fn default() -> Self {
        Self {
            l2_grid: vec![1e-1, 1e-2, 1e-3, 1e-4, 1e-5],
            max_iter: 200,
            early_stopping: true,
            patience: 20,
            tolerance: 1e-5,
        }
    }
}

impl LinearProbeConfig {
    /// Checks the settings: a non-empty grid of finite strengths `>= 0`,
    /// `max_iter >= 1`, `patience >= 1` and a finite `tolerance >= 0`.
    pub fn validate(&self) -> Result<(), String> {
        self.validate_section("linear")
    }

    /// [`Self::validate`], naming the keys `{section}.l2_grid` and so on (the
    /// TF-IDF baseline's settings hold the same four keys).
    pub(crate) fn validate_section(&self, section: &str) -> Result<(), String> {
        if self.l2_grid.is_empty() {
            return Err(format!("{section}.l2_grid must not be empty"));
        }
        if let Some(bad) = self.l2_grid.iter().find(|v| !v.is_finite() || **v < 0.0) {
            return Err(format!(
                "{section}.l2_grid values must be finite and >= 0, got {bad}"
            ));
        }
        if self.max_iter == 0 {
            return Err(format!("{section}.max_iter must be at least 1"));
        }
        if self.patience == 0 {
            return Err(format!("{section}.patience must be at least 1"));
        }
        if !self.tolerance.is_finite() || self.tolerance < 0.0 {
            return Err(format!(
                "{section}.tolerance must be finite and >= 0, got {}",
                self.tolerance
            ));
        }
        Ok(())
    }
}

/// A fitted probe: the training standardisation followed by an affine map to
/// one logit per class. Serialisable, so a fitted head can be saved and
/// used again (`serde_json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    standardizer: Standardizer,
    /// `[classes][dim]`, row-major.
    weights: Vec<f32>,
    bias: Vec<f32>,
    classes: usize,
    dim: usize,
}

impl LinearModel {
    /// Number of classes (logits per sample).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Input dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The standardisation fitted on the training features, applied before
    /// the weights.
    pub fn standardizer(&self) -> &Standardizer {
        &self.standardizer
    }

    /// Weights on standardised features, `[classes][dim]` row-major.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// One bias per class.
    pub fn bias(&self) -> &[f32] {
        &self.bias
    }

    /// Logits of each row of `x`, `[rows * classes]` row-major.
    ///
    /// # Panics
    /// If `x.dim` differs from the model's dimension.
    pub fn logits(&self, x: &Features) -> Vec<f32> {
        assert_eq!(
            x.dim, self.dim,
            "linear model of dim {} given features of dim {}",
            self.dim, x.dim
        );
        let z = self.standardizer.apply(x);
        affine_logits(&self.weights, &self.bias, self.classes, &z)
    }

    /// The class with the largest logit for each row of `x` (lowest class on ties).
    ///
    /// # Panics
    /// If `x.dim` differs from the model's dimension.
    pub fn predict(&self, x: &Features) -> Vec<u32> {
        argmax_rows(&self.logits(x), self.classes)
    }

    /// The model of parameter vector `theta` (weights then biases, f64).
    fn from_params(standardizer: Standardizer, theta: &[f64], classes: usize, dim: usize) -> Self {
        let (weights, bias) = params_to_f32(theta, classes, dim);
        Self {
            standardizer,
            weights,
            bias,
            classes,
            dim,
        }
    }
}

/// Result of one strength of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridPoint {
    /// The L2 strength.
    pub l2: f32,
    /// Best validation accuracy reached with it.
    pub val_accuracy: f32,
    /// Iteration whose weights reached it first (0: the starting weights).
    pub best_iteration: usize,
    /// L-BFGS iterations run.
    pub iterations: usize,
}

/// The L2 strength a grid search chose and how it got there: what
/// [`fit_linear`] and the TF-IDF baseline report besides their model.
#[derive(Debug, Clone)]
pub struct L2Choice {
    /// Chosen strength.
    pub l2: f32,
    /// Its best validation accuracy.
    pub val_accuracy: f32,
    /// Iteration whose weights were kept (where validation stopped improving).
    pub best_iteration: usize,
    /// Iterations run for the chosen strength.
    pub iterations: usize,
    /// Per iteration of the chosen strength, starting with iteration 0 (the
    /// starting weights); `epoch` counts L-BFGS iterations and `train_loss` is
    /// the objective (mean cross-entropy plus the L2 term).
    pub curve: Vec<EpochPoint>,
    /// Every strength, in the order fitted: strongest first.
    pub grid: Vec<GridPoint>,
}

impl L2Choice {
    /// The head's outcome: `test_predictions` with this fit's validation
    /// accuracy, kept iteration, curve and strength.
    pub(crate) fn outcome(&self, test_predictions: Vec<u32>) -> HeadOutcome {
        HeadOutcome {
            test_predictions,
            val_accuracy: Some(self.val_accuracy),
            best_epoch: Some(self.best_iteration),
            epochs: Some(self.iterations),
            curve: self.curve.clone(),
            detail: Some(format!("l2={}", self.l2)),
        }
    }
}

/// What fitting reports.
#[derive(Debug, Clone)]
pub struct LinearFit {
    /// Best weights of the chosen strength.
    pub model: LinearModel,
    /// The strength chosen and its validation.
    pub choice: L2Choice,
}

/// Fits the probe. `classes` is the number of classes (labels are < classes).
///
/// The features are standardised with a [`Standardizer`] fitted on `train`
/// (stored in the model). Each strength of `config.l2_grid` is fitted, from
/// the strongest to the weakest, each starting from where the previous one
/// stopped; after every L-BFGS iteration the validation accuracy is measured
/// and the best weights kept (the earlier on ties), or, without
/// `config.early_stopping`, the last weights. With early stopping a fit stops
/// after `config.patience` iterations without improvement; every fit stops at `config.max_iter`,
/// when the gradient's max-abs falls below `config.tolerance`, when the
/// relative loss change falls below `64·ε`, or when the line search can make
/// no more progress. The strength with the best validation accuracy wins
/// (ties: the stronger one).
///
/// # Panics
/// On mismatched lengths or dimensions, empty training or validation sets,
/// `classes == 0`, a label `>= classes`, or an invalid `config` — callers
/// check input.
pub fn fit_linear(
    train: &Features,
    train_labels: &[u32],
    val: &Features,
    val_labels: &[u32],
    classes: usize,
    config: &LinearProbeConfig,
) -> LinearFit {
    if let Err(e) = config.validate() {
        panic!("fit_linear: {e}");
    }
    check_fit_input(
        "fit_linear",
        "rows",
        classes,
        (train.rows, train_labels),
        (val.rows, val_labels),
    );
    assert_eq!(
        train.dim, val.dim,
        "fit_linear: training dim {} but validation dim {}",
        train.dim, val.dim
    );

    let dim = train.dim;
    let standardizer = Standardizer::fit(train);
    let xt = standardizer.apply(train);
    let xv = standardizer.apply(val);
    let selected = select_l2(
        config,
        classes * (dim + 1),
        |l2| Problem {
            x: &xt,
            labels: train_labels,
            classes,
            l2,
        },
        |params| params_accuracy(params, &xv, val_labels, classes),
    );
    LinearFit {
        model: LinearModel::from_params(standardizer, &selected.theta, classes, dim),
        choice: selected.choice,
    }
}

/// Panics, naming `caller`, on a fit no protocol can run: no class, an
/// empty training or validation set, as many labels as `items` on neither
/// side (`(items, labels)` each), or a label `>= classes`.
pub(crate) fn check_fit_input(
    caller: &str,
    noun: &str,
    classes: usize,
    (train_items, train_labels): (usize, &[u32]),
    (val_items, val_labels): (usize, &[u32]),
) {
    assert!(classes >= 1, "{caller}: need at least one class");
    assert!(train_items > 0, "{caller}: empty training set");
    assert!(val_items > 0, "{caller}: empty validation set");
    for (side, items, labels) in [
        ("training", train_items, train_labels),
        ("validation", val_items, val_labels),
    ] {
        assert_eq!(
            items,
            labels.len(),
            "{caller}: {items} {side} {noun}, {} labels",
            labels.len()
        );
    }
    let out_of_range = |l: &&u32| **l as usize >= classes;
    if let Some(l) = train_labels
        .iter()
        .find(out_of_range)
        .or_else(|| val_labels.iter().find(out_of_range))
    {
        panic!("{caller}: label {l} but only {classes} classes");
    }
}

/// The strength the grid search chose, with its kept parameters.
pub(crate) struct Selected {
    /// Parameters of the chosen strength's best validation accuracy.
    pub(crate) theta: Vec<f64>,
    /// The chosen strength, its curve and the grid.
    pub(crate) choice: L2Choice,
}

/// The protocol of [`fit_linear`] over any L2-penalised objective of `params`
/// parameters (starting at zero): `problem(l2)` is the objective at strength
/// `l2`, `val_accuracy(theta)` the validation accuracy of parameters `theta`.
/// Each strength of `config.l2_grid` is fitted from the strongest to the
/// weakest, each starting where the previous one stopped, keeping the first
/// best validation accuracy of each (without `config.early_stopping`, the
/// last iterate of each); the strength with the best accuracy wins
/// (ties: the stronger one). The all-zero start is never kept: it predicts
/// one class for every input. `config` must be valid.
pub(crate) fn select_l2<P: Objective>(
    config: &LinearProbeConfig,
    params: usize,
    problem: impl Fn(f64) -> P,
    mut val_accuracy: impl FnMut(&[f64]) -> f32,
) -> Selected {
    let mut strengths = config.l2_grid.clone();
    strengths.sort_by(|a, b| b.total_cmp(a)); // strongest first (stable for equal values)

    let mut theta = vec![0.0f64; params];
    let mut grid = Vec::with_capacity(strengths.len());
    let mut chosen: Option<(GridPoint, Vec<f64>, Vec<EpochPoint>)> = None;
    for l2 in strengths {
        let problem = problem(f64::from(l2));
        let mut best_acc = f32::NEG_INFINITY;
        let mut best_iteration = 0;
        let mut best_theta = theta.clone();
        let mut curve = Vec::new();
        let run = minimize(
            &problem,
            &mut theta,
            config.max_iter,
            f64::from(config.tolerance),
            |iteration, params, loss| {
                let val_accuracy = val_accuracy(params);
                curve.push(EpochPoint {
                    epoch: iteration,
                    train_loss: loss as f32,
                    val_accuracy,
                });
                // The all-zero start predicts class 0 for everything (every
                // logit ties): never the kept point, even when a validation
                // set of a few images scores it as well as a trained one.
                let untrained = params.iter().all(|&p| p == 0.0);
                if !untrained && (val_accuracy > best_acc || !config.early_stopping) {
                    best_acc = val_accuracy;
                    best_iteration = iteration;
                    best_theta.copy_from_slice(params);
                }
                !config.early_stopping || iteration - best_iteration < config.patience
            },
        );
        let point = GridPoint {
            l2,
            val_accuracy: best_acc,
            best_iteration,
            iterations: run.iterations,
        };
        grid.push(point.clone());
        if chosen
            .as_ref()
            .is_none_or(|(c, _, _)| point.val_accuracy > c.val_accuracy)
        {
            chosen = Some((point, best_theta, curve));
        }
        // `theta` now holds the last iterate: the next (weaker) strength starts there.
    }
    let (point, theta, curve) = chosen.expect("the grid is not empty");
    Selected {
        theta,
        choice: L2Choice {
            l2: point.l2,
            val_accuracy: point.val_accuracy,
            best_iteration: point.best_iteration,
            iterations: point.iterations,
            curve,
            grid,
        },
    }
}

/// The training objective on standardised features. Parameters are one f64
/// vector: the weights `[classes][dim]` row-major, then the biases.
struct Problem<'a> {
    x: &'a Features,
    labels: &'a [u32],
    classes: usize,
    l2: f64,
}

impl Objective for Problem<'_> {
    /// Mean cross-entropy plus `(l2/2)·‖W‖²` at `theta`; its gradient goes to `grad`.
    fn loss_grad(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let (c, d) = (self.classes, self.x.dim);
        debug_assert_eq!(theta.len(), c * (d + 1));
        let (w, b) = theta.split_at(c * d);
        penalized_mean(self.x.rows, theta, c * d, self.l2, grad, |rows, g| {
            let mut loss = 0.0f64;
            let (gw, gb) = g.split_at_mut(c * d);
            let mut z = vec![0.0f64; c];
            for i in rows {
                let xi = &self.x.data[i * d..(i + 1) * d];
                for (k, zk) in z.iter_mut().enumerate() {
                    *zk = b[k] + dot(&w[k * d..(k + 1) * d], xi);
                }
                loss += softmax_cross_entropy(&mut z, self.labels[i] as usize);
                for (k, &r) in z.iter().enumerate() {
                    gb[k] += r;
                    axpy_f64_f32(&mut gw[k * d..(k + 1) * d], r, xi);
                }
            }
            loss
        })
    }
}

/// The mean over `rows` samples of a per-sample loss plus `(l2/2)·‖w‖²`,
/// where `w = theta[..penalized]` (the weights; the rest, the biases, is not
/// penalised); its gradient goes to `grad`. `block(range, g)` returns the
/// summed loss of the samples in `range` and adds their summed gradient to
/// `g` (zeroed, as long as `theta`). Blocks are fixed ([`ROWS_PER_TASK`]
/// samples), run in parallel and summed in block order, so the result does
/// not depend on the number of threads.
pub(crate) fn penalized_mean(
    rows: usize,
    theta: &[f64],
    penalized: usize,
    l2: f64,
    grad: &mut [f64],
    block: impl Fn(std::ops::Range<usize>, &mut [f64]) -> f64 + Sync,
) -> f64 {
    let partials: Vec<(f64, Vec<f64>)> = (0..rows.div_ceil(ROWS_PER_TASK))
        .into_par_iter()
        .map(|i| {
            let mut g = vec![0.0f64; theta.len()];
            let end = ((i + 1) * ROWS_PER_TASK).min(rows);
            let loss = block(i * ROWS_PER_TASK..end, &mut g);
            (loss, g)
        })
        .collect();
    grad.fill(0.0);
    let mut loss = 0.0;
    for (l, g) in &partials {
        loss += l;
        for (a, b) in grad.iter_mut().zip(g) {
            *a += b;
        }
    }
    let inv_n = 1.0 / rows as f64;
    for v in grad.iter_mut() {
        *v *= inv_n;
    }
    let mut penalty = 0.0;
    for (gv, &wv) in grad[..penalized].iter_mut().zip(&theta[..penalized]) {
        *gv += l2 * wv;
        penalty += wv * wv;
    }
    loss * inv_n + 0.5 * l2 * penalty
}

/// Cross-entropy of the logits `z` against class `y`, computed stably; `z`
/// is replaced by the loss's gradient with respect to the logits,
/// `softmax(z) - onehot(y)`.
pub(crate) fn softmax_cross_entropy(z: &mut [f64], y: usize) -> f64 {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let zy = z[y] - max;
    let mut sum = 0.0;
    for zk in z.iter_mut() {
        *zk = (*zk - max).exp();
        sum += *zk;
    }
    for (k, zk) in z.iter_mut().enumerate() {
        *zk = *zk / sum - if k == y { 1.0 } else { 0.0 };
    }
    sum.ln() - zy
}

/// `y += a·x`.
fn axpy_f64_f32(y: &mut [f64], a: f64, x: &[f32]) {
    for (yv, &xv) in y.iter_mut().zip(x) {
        *yv += a * f64::from(xv);
    }
}

/// `a · b` in f32, sixteen independent partial sums so the loop vectorises.
fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for ((s, p), q) in acc.iter_mut().zip(x).zip(y) {
            *s += p * q;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Splits the f64 parameter vector into f32 weights and biases.
pub(crate) fn params_to_f32(theta: &[f64], classes: usize, dim: usize) -> (Vec<f32>, Vec<f32>) {
    let (w, b) = theta.split_at(classes * dim);
    (
        w.iter().map(|&v| v as f32).collect(),
        b.iter().map(|&v| v as f32).collect(),
    )
}

/// `x·Wᵀ + b` for already standardised `x`, `[rows * classes]`.
fn affine_logits(weights: &[f32], bias: &[f32], classes: usize, x: &Features) -> Vec<f32> {
    const ROWS: usize = 256;
    let d = x.dim;
    let mut out = vec![0.0f32; x.rows * classes];
    out.par_chunks_mut(ROWS * classes)
        .enumerate()
        .for_each(|(block, out)| {
            for (r, logits) in out.chunks_exact_mut(classes).enumerate() {
                let i = block * ROWS + r;
                let xi = &x.data[i * d..(i + 1) * d];
                for (k, l) in logits.iter_mut().enumerate() {
                    *l = bias[k] + dot_f32(&weights[k * d..(k + 1) * d], xi);
                }
            }
        });
    out
}

/// Argmax of each `classes`-long row of `logits`.
pub(crate) fn argmax_rows(logits: &[f32], classes: usize) -> Vec<u32> {
    logits
        .chunks_exact(classes)
        .map(|row| argmax(row) as u32)
        .collect()
}

/// Accuracy on standardised `x` of the parameters `theta` (as the fitted model
/// would compute it: f32 weights).
fn params_accuracy(theta: &[f64], x: &Features, labels: &[u32], classes: usize) -> f32 {
    let (w, b) = params_to_f32(theta, classes, x.dim);
    accuracy(
        &argmax_rows(&affine_logits(&w, &b, classes, x), classes),
        labels,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lbfgs::max_abs;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// `per_class[c]` points of class `c` around `centers[c]`, uniform noise in
    /// `[-spread, spread]` per coordinate; a fraction `flip` of labels replaced
    /// by a random class.
    fn blobs(
        centers: &[[f32; 2]],
        per_class: &[usize],
        spread: f32,
        flip: f64,
        seed: u64,
    ) -> (Features, Vec<u32>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut data = Vec::new();
        let mut labels = Vec::new();
        for (c, (center, &count)) in centers.iter().zip(per_class).enumerate() {
            for _ in 0..count {
                for &m in center {
                    data.push(m + rng.random_range(-spread..spread));
                }
                let label = if rng.random_bool(flip) {
                    rng.random_range(0..centers.len() as u32)
                } else {
                    c as u32
                };
                labels.push(label);
            }
        }
        (Features::new(labels.len(), 2, data), labels)
    }

    #[test]
    fn the_untrained_start_is_never_kept_even_when_validation_ties_it() {
        // Two training points, one per class; two validation points whose
        // labels differ but whose features are the same. The zero start
        // predicts class 0 for both (50%), a trained probe class 1 for both
        // (50%): a tie, which used to keep the start, a probe that says
        // class 0 for everything (CIFAR-10 k-means features at 1 label per
        // class scored 10.0% so).
        let train = Features::new(2, 1, vec![-1.0, 1.0]);
        let val = Features::new(2, 1, vec![1.0, 1.0]);
        let fit = fit_linear(
            &train,
            &[0, 1],
            &val,
            &[0, 1],
            2,
            &LinearProbeConfig::default(),
        );
        assert!(
            fit.choice.best_iteration >= 1,
            "{}",
            fit.choice.best_iteration
        );
        assert_eq!(fit.choice.val_accuracy, 0.5);
        let test = Features::new(2, 1, vec![-2.0, 2.0]);
        assert_eq!(fit.model.predict(&test), vec![0, 1]);
    }

    const THREE: [[f32; 2]; 3] = [[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]];

    fn random_features(rows: usize, dim: usize, rng: &mut ChaCha8Rng) -> Features {
        let data = (0..rows * dim)
            .map(|_| rng.random_range(-2.0f32..2.0))
            .collect();
        Features::new(rows, dim, data)
    }

    /// The objective written out directly, one sample at a time.
    fn naive_loss(p: &Problem<'_>, theta: &[f64]) -> f64 {
        let (c, d) = (p.classes, p.x.dim);
        let mut total = 0.0;
        for i in 0..p.x.rows {
            let z: Vec<f64> = (0..c)
                .map(|k| {
                    theta[c * d + k]
                        + (0..d)
                            .map(|j| theta[k * d + j] * f64::from(p.x.row(i)[j]))
                            .sum::<f64>()
                })
                .collect();
            let lse = z.iter().map(|v| v.exp()).sum::<f64>().ln();
            total += lse - z[p.labels[i] as usize];
        }
        let w2: f64 = theta[..c * d].iter().map(|v| v * v).sum();
        total / p.x.rows as f64 + 0.5 * p.l2 * w2
    }

    #[test]
    fn separable_blobs_are_classified_perfectly() {
        let (train, train_labels) = blobs(&THREE, &[40, 40, 40], 1.0, 0.0, 1);
        let (val, val_labels) = blobs(&THREE, &[15, 15, 15], 1.0, 0.0, 2);
        let (test, test_labels) = blobs(&THREE, &[30, 30, 30], 1.0, 0.0, 3);
        let config = LinearProbeConfig {
            l2_grid: vec![1e-4, 1e-2, 1e-1],
            ..LinearProbeConfig::default()
        };
        let fit = fit_linear(&train, &train_labels, &val, &val_labels, 3, &config);
        assert_eq!(fit.model.classes(), 3);
        assert_eq!(fit.model.dim(), 2);
        assert_eq!(accuracy(&fit.model.predict(&train), &train_labels), 1.0);
        assert_eq!(accuracy(&fit.model.predict(&test), &test_labels), 1.0);
        assert_eq!(fit.choice.val_accuracy, 1.0);
        // Every strength separates these blobs: the tie goes to the strongest.
        let fitted: Vec<f32> = fit.choice.grid.iter().map(|g| g.l2).collect();
        assert_eq!(fitted, vec![1e-1, 1e-2, 1e-4]);
        assert!(fit.choice.grid.iter().all(|g| g.val_accuracy == 1.0));
        assert_eq!(fit.choice.l2, 1e-1);
    }

    #[test]
    fn gradient_matches_finite_differences_and_loss_matches_direct_formula() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        // More rows than one parallel task, so the block sum is exercised.
        let rows = ROWS_PER_TASK + 37;
        let (dim, classes) = (3, 4);
        let x = random_features(rows, dim, &mut rng);
        let labels: Vec<u32> = (0..rows).map(|_| rng.random_range(0..4)).collect();
        let problem = Problem {
            x: &x,
            labels: &labels,
            classes,
            l2: 0.3,
        };
        crate::lbfgs::assert_objective_matches(&problem, classes * (dim + 1), &mut rng, |theta| {
            naive_loss(&problem, theta)
        });
    }

    /// Two balanced classes told apart only by `x0 - x1`: both coordinates
    /// carry a large shared nuisance, and only `x0` carries the class (±0.5).
    /// The class-mean direction (all a heavy penalty leaves) is mostly
    /// nuisance; a weak penalty lets the weights cancel it. A fraction `flip`
    /// of labels is random, so the set is not separable.
    fn nuisance(rows: usize, flip: f64, seed: u64) -> (Features, Vec<u32>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut data = Vec::new();
        let mut labels = Vec::new();
        for i in 0..rows {
            let class = (i % 2) as u32;
            let signal = if class == 1 { 0.5 } else { -0.5 } + rng.random_range(-0.3f32..0.3);
            let shared = rng.random_range(-3.0f32..3.0);
            data.extend([signal + shared, shared]);
            labels.push(if rng.random_bool(flip) {
                rng.random_range(0..2)
            } else {
                class
            });
        }
        (Features::new(rows, 2, data), labels)
    }

    /// Training (400) and validation (200) sets of [`nuisance`] with 10% of
    /// labels random.
    fn noisy_sets() -> ((Features, Vec<u32>), (Features, Vec<u32>)) {
        (nuisance(400, 0.1, 11), nuisance(200, 0.1, 12))
    }

    /// The strengths fitted on [`noisy_sets`]: a crippling one between two
    /// usable ones, out of order.
    const NOISY_GRID: [f32; 3] = [1e-3, 10.0, 1e-1];

    #[test]
    fn grid_rejects_a_crippling_penalty_on_noisy_data() {
        let ((train, train_labels), (val, val_labels)) = noisy_sets();
        let config = LinearProbeConfig {
            l2_grid: NOISY_GRID.to_vec(),
            max_iter: 100,
            early_stopping: true,
            patience: 10,
            tolerance: 1e-6,
        };
        let fit = fit_linear(&train, &train_labels, &val, &val_labels, 2, &config);
        assert_eq!(fit.choice.grid.len(), config.l2_grid.len());
        let fitted: Vec<f32> = fit.choice.grid.iter().map(|g| g.l2).collect();
        assert_eq!(fitted, vec![10.0, 1e-1, 1e-3]);
        let crippled = &fit.choice.grid[0];
        assert!(crippled.val_accuracy < 0.75, "{:?}", fit.choice.grid);
        assert!(fit.choice.val_accuracy > 0.85, "{:?}", fit.choice.grid);
        assert_ne!(fit.choice.l2, 10.0);
        let best = fit
            .choice
            .grid
            .iter()
            .map(|g| g.val_accuracy)
            .fold(0.0, f32::max);
        assert_eq!(fit.choice.val_accuracy, best);
        // The chosen grid point and the reported fit agree.
        let point = fit
            .choice
            .grid
            .iter()
            .find(|g| g.l2 == fit.choice.l2)
            .unwrap();
        assert_eq!(point.val_accuracy, fit.choice.val_accuracy);
        assert_eq!(point.best_iteration, fit.choice.best_iteration);
        assert_eq!(point.iterations, fit.choice.iterations);
        for g in &fit.choice.grid {
            assert!(g.best_iteration <= g.iterations && g.iterations <= config.max_iter);
        }
        // One curve point per iteration, starting at 0; the kept weights are
        // the first to reach the best accuracy.
        assert_eq!(fit.choice.curve.len(), fit.choice.iterations + 1);
        assert!(
            fit.choice
                .curve
                .iter()
                .enumerate()
                .all(|(i, p)| p.epoch == i)
        );
        let kept = fit.choice.curve[fit.choice.best_iteration];
        assert_eq!(kept.val_accuracy, fit.choice.val_accuracy);
        assert!(
            fit.choice.curve[..fit.choice.best_iteration]
                .iter()
                .all(|p| p.val_accuracy < fit.choice.val_accuracy)
        );
        assert!(
            fit.choice
                .curve
                .iter()
                .all(|p| p.val_accuracy <= fit.choice.val_accuracy)
        );
        // The model holds exactly those weights.
        assert_eq!(
            accuracy(&fit.model.predict(&val), &val_labels),
            fit.choice.val_accuracy
        );
        let logits = fit.model.logits(&val);
        assert_eq!(logits.len(), val.rows * 2);
        // Patience: the run stopped no later than `patience` iterations after the best.
        assert!(fit.choice.iterations - fit.choice.best_iteration <= config.patience);
        // The training loss never increases (the line search only accepts decreases).
        assert!(
            fit.choice
                .curve
                .windows(2)
                .all(|w| w[1].train_loss <= w[0].train_loss)
        );
    }

    #[test]
    fn without_early_stopping_each_strength_is_fitted_to_its_optimum() {
        let ((train, train_labels), (val, val_labels)) = noisy_sets();
        let config = LinearProbeConfig {
            l2_grid: NOISY_GRID.to_vec(),
            max_iter: 500,
            early_stopping: false,
            patience: 1,
            tolerance: 1e-7,
        };
        let fit = fit_linear(&train, &train_labels, &val, &val_labels, 2, &config);
        // Patience 1 would have stopped every fit within a few iterations.
        for g in &fit.choice.grid {
            assert_eq!(g.best_iteration, g.iterations, "{:?}", fit.choice.grid);
            assert!(g.iterations > 3 && g.iterations < config.max_iter, "{g:?}");
        }
        assert_eq!(fit.choice.curve.len(), fit.choice.iterations + 1);
        assert_eq!(
            fit.choice.curve.last().unwrap().val_accuracy,
            fit.choice.val_accuracy
        );
        assert_eq!(
            accuracy(&fit.model.predict(&val), &val_labels),
            fit.choice.val_accuracy
        );
        // The kept weights are the optimum of the chosen strength: the
        // objective's gradient vanishes there.
        let x = fit.model.standardizer().apply(&train);
        let problem = Problem {
            x: &x,
            labels: &train_labels,
            classes: 2,
            l2: f64::from(fit.choice.l2),
        };
        let theta: Vec<f64> = fit
            .model
            .weights()
            .iter()
            .chain(fit.model.bias())
            .map(|&v| f64::from(v))
            .collect();
        let mut grad = vec![0.0; theta.len()];
        problem.loss_grad(&theta, &mut grad);
        assert!(max_abs(&grad) < 1e-5, "gradient {grad:?}");
    }

    #[test]
    fn lbfgs_reaches_the_optimum_gradient_descent_finds() {
        let centers = [[0.0, 0.0], [2.0, 0.5], [0.5, 2.0]];
        let (raw, labels) = blobs(&centers, &[20, 15, 10], 1.0, 0.15, 21);
        let x = Standardizer::fit(&raw).apply(&raw);
        let problem = Problem {
            x: &x,
            labels: &labels,
            classes: 3,
            l2: 0.05,
        };
        let n = 3 * 3;
        let mut theta = vec![0.0; n];
        let run = minimize(&problem, &mut theta, 500, 1e-9, |_, _, _| true);
        assert!(run.iterations < 500, "did not converge");
        let mut grad = vec![0.0; n];
        let loss = problem.loss_grad(&theta, &mut grad);
        assert!(max_abs(&grad) < 1e-6, "gradient {grad:?}");

        // Reference: plain gradient descent with step 1/L, L bounding the Hessian.
        let max_sq = (0..x.rows)
            .map(|i| 1.0 + x.row(i).iter().map(|&v| f64::from(v).powi(2)).sum::<f64>())
            .fold(0.0, f64::max);
        let step = 1.0 / (max_sq + problem.l2);
        let mut reference = vec![0.0; n];
        let mut g = vec![0.0; n];
        for _ in 0..20_000 {
            problem.loss_grad(&reference, &mut g);
            for (r, gv) in reference.iter_mut().zip(&g) {
                *r -= step * gv;
            }
        }
        let reference_loss = problem.loss_grad(&reference, &mut g);
        assert!(max_abs(&g) < 1e-6, "reference not converged: {g:?}");
        let gap = theta
            .iter()
            .zip(&reference)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(
            gap < 1e-4,
            "L-BFGS {theta:?} vs gradient descent {reference:?}"
        );
        assert!((loss - reference_loss).abs() < 1e-9);

        // fit_linear run to convergence ends at the same loss.
        let config = LinearProbeConfig {
            l2_grid: vec![0.05],
            max_iter: 500,
            early_stopping: true,
            patience: 500,
            tolerance: 1e-7,
        };
        let fit = fit_linear(&raw, &labels, &raw, &labels, 3, &config);
        let last = fit.choice.curve.last().unwrap();
        assert!(fit.choice.iterations < 500);
        assert!((f64::from(last.train_loss) - reference_loss).abs() < 1e-5 * reference_loss);
    }

    #[test]
    fn config_validation_names_the_problem() {
        assert_eq!(LinearProbeConfig::default().validate(), Ok(()));
        let bad = |f: fn(&mut LinearProbeConfig)| {
            let mut c = LinearProbeConfig::default();
            f(&mut c);
            c.validate().unwrap_err()
        };
        assert_eq!(
            bad(|c| c.l2_grid.clear()),
            "linear.l2_grid must not be empty"
        );
        assert!(bad(|c| c.l2_grid.push(-1.0)).starts_with("linear.l2_grid values"));
        assert!(bad(|c| c.l2_grid.push(f32::NAN)).starts_with("linear.l2_grid values"));
        assert_eq!(
            bad(|c| c.max_iter = 0),
            "linear.max_iter must be at least 1"
        );
        assert_eq!(
            bad(|c| c.patience = 0),
            "linear.patience must be at least 1"
        );
        assert!(bad(|c| c.tolerance = -1.0).starts_with("linear.tolerance"));
        // Serde: missing fields take defaults, unknown ones are refused.
        let c: LinearProbeConfig = serde_json::from_str(r#"{"max_iter": 7}"#).unwrap();
        assert_eq!(c.max_iter, 7);
        assert_eq!(c.l2_grid, LinearProbeConfig::default().l2_grid);
        assert!(serde_json::from_str::<LinearProbeConfig>(r#"{"l2": 1}"#).is_err());
    }

    #[test]
    #[should_panic(expected = "label 3 but only 3 classes")]
    fn out_of_range_labels_panic() {
        let (x, _) = blobs(&THREE, &[2, 2, 2], 1.0, 0.0, 5);
        let labels = vec![0, 1, 2, 3, 0, 1];
        let _ = fit_linear(&x, &labels, &x, &labels, 3, &LinearProbeConfig::default());
    }
}
