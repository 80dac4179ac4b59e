//! The linear probe: multinomial logistic regression with an L2 penalty on
//! standardised features, fitted full-batch with L-BFGS (Nocedal & Wright,
//! Numerical Optimization, 2nd ed., alg. 7.4 two-loop recursion and alg. 7.5
//! L-BFGS, with a backtracking Armijo line search, alg. 3.1, safeguarded
//! quadratic interpolation as in §3.5).
//!
//! The objective is the mean cross-entropy over the training samples plus
//! `(l2 / 2)·‖W‖²` (the bias is not penalised). The L2 strength is chosen
//! from a grid by validation accuracy, fitted from the strongest to the
//! weakest strength with warm starts; inside each fit the weights with the
//! best validation accuracy are kept (early stopping). The stopping rules
//! follow scikit-learn's `lbfgs` solver: the gradient's max-abs below
//! `tolerance`, or a relative loss change below `64·ε` (f64); a fit also ends
//! when the line search can no longer decrease the loss.
//!
//! Loss and gradient are computed in f64 over fixed blocks of samples in
//! parallel (rayon) and summed in block order, so a fit is deterministic
//! whatever the number of threads.

use std::collections::VecDeque;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::features::{Features, Standardizer, accuracy, argmax};
use crate::outcome::EpochPoint;

/// (s, y) pairs L-BFGS remembers.
const MEMORY: usize = 10;
/// Samples per parallel task of the loss/gradient pass (fixed, so the sum's
/// order does not depend on the thread count).
const ROWS_PER_TASK: usize = 2048;
/// Sufficient-decrease constant of the Armijo condition.
const ARMIJO_C1: f64 = 1e-4;
/// Most trial steps of one line search.
const MAX_LINE_SEARCH: usize = 25;
/// Relative loss change below which the fit has converged (scikit-learn's
/// `ftol` for `lbfgs`).
const FTOL: f64 = 64.0 * f64::EPSILON;

/// Settings of the linear probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinearProbeConfig {
    /// L2 strengths tried (default: [1e-1, 1e-2, 1e-3, 1e-4, 1e-5]).
    pub l2_grid: Vec<f32>,
    /// Most L-BFGS iterations per strength (default 200).
    pub max_iter: usize,
    /// Stop after this many iterations without a better validation accuracy (default 20).
    pub patience: usize,
    /// Stop when the gradient's max-abs falls below this (default 1e-5).
    pub tolerance: f32,
}

impl Default for LinearProbeConfig {
    fn default() -> Self {
        Self {
            l2_grid: vec![1e-1, 1e-2, 1e-3, 1e-4, 1e-5],
            max_iter: 200,
            patience: 20,
            tolerance: 1e-5,
        }
    }
}

impl LinearProbeConfig {
    /// Checks the settings: a non-empty grid of finite strengths `>= 0`,
    /// `max_iter >= 1`, `patience >= 1` and a finite `tolerance >= 0`.
    pub fn validate(&self) -> Result<(), String> {
        if self.l2_grid.is_empty() {
            return Err("linear.l2_grid must not be empty".into());
        }
        if let Some(bad) = self.l2_grid.iter().find(|v| !v.is_finite() || **v < 0.0) {
            return Err(format!(
                "linear.l2_grid values must be finite and >= 0, got {bad}"
            ));
        }
        if self.max_iter == 0 {
            return Err("linear.max_iter must be at least 1".into());
        }
        if self.patience == 0 {
            return Err("linear.patience must be at least 1".into());
        }
        if !self.tolerance.is_finite() || self.tolerance < 0.0 {
            return Err(format!(
                "linear.tolerance must be finite and >= 0, got {}",
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

/// What fitting reports.
#[derive(Debug, Clone)]
pub struct LinearFit {
    /// Best weights of the chosen strength.
    pub model: LinearModel,
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

/// Fits the probe. `classes` is the number of classes (labels are < classes).
///
/// The features are standardised with a [`Standardizer`] fitted on `train`
/// (stored in the model). Each strength of `config.l2_grid` is fitted, from
/// the strongest to the weakest, each starting from where the previous one
/// stopped; after every L-BFGS iteration the validation accuracy is measured
/// and the best weights kept (the earlier on ties). A fit stops after
/// `config.patience` iterations without improvement, at `config.max_iter`,
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
    assert!(classes >= 1, "fit_linear: need at least one class");
    assert!(train.rows > 0, "fit_linear: empty training set");
    assert!(val.rows > 0, "fit_linear: empty validation set");
    assert_eq!(
        train.rows,
        train_labels.len(),
        "fit_linear: {} training rows, {} labels",
        train.rows,
        train_labels.len()
    );
    assert_eq!(
        val.rows,
        val_labels.len(),
        "fit_linear: {} validation rows, {} labels",
        val.rows,
        val_labels.len()
    );
    assert_eq!(
        train.dim, val.dim,
        "fit_linear: training dim {} but validation dim {}",
        train.dim, val.dim
    );
    let out_of_range = |l: &&u32| **l as usize >= classes;
    if let Some(l) = train_labels
        .iter()
        .find(out_of_range)
        .or_else(|| val_labels.iter().find(out_of_range))
    {
        panic!("fit_linear: label {l} but only {classes} classes");
    }

    let dim = train.dim;
    let standardizer = Standardizer::fit(train);
    let xt = standardizer.apply(train);
    let xv = standardizer.apply(val);

    let mut strengths = config.l2_grid.clone();
    strengths.sort_by(|a, b| b.total_cmp(a)); // strongest first (stable for equal values)

    let mut theta = vec![0.0f64; classes * (dim + 1)];
    let mut grid = Vec::with_capacity(strengths.len());
    let mut chosen: Option<(GridPoint, Vec<f64>, Vec<EpochPoint>)> = None;
    for l2 in strengths {
        let problem = Problem {
            x: &xt,
            labels: train_labels,
            classes,
            l2: f64::from(l2),
        };
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
                let val_accuracy = params_accuracy(params, &xv, val_labels, classes);
                curve.push(EpochPoint {
                    epoch: iteration,
                    train_loss: loss as f32,
                    val_accuracy,
                });
                if val_accuracy > best_acc {
                    best_acc = val_accuracy;
                    best_iteration = iteration;
                    best_theta.copy_from_slice(params);
                }
                iteration - best_iteration < config.patience
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
    let (point, best_theta, curve) = chosen.expect("the grid is not empty");
    LinearFit {
        model: LinearModel::from_params(standardizer, &best_theta, classes, dim),
        l2: point.l2,
        val_accuracy: point.val_accuracy,
        best_iteration: point.best_iteration,
        iterations: point.iterations,
        curve,
        grid,
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

impl Problem<'_> {
    /// Mean cross-entropy plus `(l2/2)·‖W‖²` at `theta`; its gradient goes to `grad`.
    fn loss_grad(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let (c, d, n) = (self.classes, self.x.dim, self.x.rows);
        debug_assert_eq!(theta.len(), c * (d + 1));
        let (w, b) = theta.split_at(c * d);
        let partials: Vec<(f64, Vec<f64>)> = (0..n.div_ceil(ROWS_PER_TASK))
            .into_par_iter()
            .map(|block| {
                let mut loss = 0.0f64;
                let mut g = vec![0.0f64; theta.len()];
                let (gw, gb) = g.split_at_mut(c * d);
                let mut z = vec![0.0f64; c];
                let end = ((block + 1) * ROWS_PER_TASK).min(n);
                for i in block * ROWS_PER_TASK..end {
                    let xi = &self.x.data[i * d..(i + 1) * d];
                    let y = self.labels[i] as usize;
                    for (k, zk) in z.iter_mut().enumerate() {
                        *zk = b[k] + dot(&w[k * d..(k + 1) * d], xi);
                    }
                    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let zy = z[y] - max;
                    let mut sum = 0.0;
                    for zk in z.iter_mut() {
                        *zk = (*zk - max).exp();
                        sum += *zk;
                    }
                    loss += sum.ln() - zy;
                    for (k, &e) in z.iter().enumerate() {
                        let r = e / sum - if k == y { 1.0 } else { 0.0 };
                        gb[k] += r;
                        axpy_f64_f32(&mut gw[k * d..(k + 1) * d], r, xi);
                    }
                }
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
        let inv_n = 1.0 / n as f64;
        for v in grad.iter_mut() {
            *v *= inv_n;
        }
        let mut penalty = 0.0;
        for (gv, &wv) in grad[..c * d].iter_mut().zip(w) {
            *gv += self.l2 * wv;
            penalty += wv * wv;
        }
        loss * inv_n + 0.5 * self.l2 * penalty
    }
}

/// How an L-BFGS run ended.
struct Minimized {
    /// Iterations taken.
    iterations: usize,
}

/// Minimises `problem` from `theta` (left at the last iterate) with L-BFGS.
/// `after_iteration(k, theta, loss)` is called at the start (k = 0) and after
/// every iteration; returning `false` stops.
fn minimize(
    problem: &Problem<'_>,
    theta: &mut Vec<f64>,
    max_iter: usize,
    tolerance: f64,
    mut after_iteration: impl FnMut(usize, &[f64], f64) -> bool,
) -> Minimized {
    let n = theta.len();
    let mut grad = vec![0.0; n];
    let mut loss = problem.loss_grad(theta, &mut grad);
    let mut done = Minimized { iterations: 0 };
    if !after_iteration(0, theta, loss) {
        return done;
    }
    let mut memory: VecDeque<Pair> = VecDeque::with_capacity(MEMORY);
    let mut direction = vec![0.0; n];
    let mut next = vec![0.0; n];
    let mut next_grad = vec![0.0; n];
    for iteration in 1..=max_iter {
        if max_abs(&grad) <= tolerance {
            break;
        }
        let mut next_loss = None;
        // Quasi-Newton step first; if its line search fails, one steepest-descent try.
        for _attempt in 0..2 {
            two_loop(&memory, &grad, &mut direction);
            let mut slope = dot(&grad, &direction);
            if slope.is_nan() || slope >= 0.0 {
                memory.clear();
                two_loop(&memory, &grad, &mut direction);
                slope = dot(&grad, &direction);
            }
            let first_step = if memory.is_empty() {
                (1.0 / dot(&grad, &grad).sqrt()).min(1.0)
            } else {
                1.0
            };
            next_loss = line_search(
                problem,
                LineStart {
                    theta,
                    loss,
                    direction: &direction,
                    slope,
                    step: first_step,
                },
                &mut next,
                &mut next_grad,
            );
            if next_loss.is_some() || memory.is_empty() {
                break;
            }
            memory.clear();
        }
        let Some(new_loss) = next_loss else {
            break; // no decrease possible at working precision
        };
        let pair = if memory.len() == MEMORY {
            memory.pop_front()
        } else {
            None
        };
        let mut pair = pair.unwrap_or_else(|| Pair {
            s: vec![0.0; n],
            y: vec![0.0; n],
            rho: 0.0,
        });
        for (((s, y), (a, b)), (ga, gb)) in pair
            .s
            .iter_mut()
            .zip(pair.y.iter_mut())
            .zip(next.iter().zip(theta.iter()))
            .zip(next_grad.iter().zip(grad.iter()))
        {
            *s = a - b;
            *y = ga - gb;
        }
        let sy = dot(&pair.s, &pair.y);
        let yy = dot(&pair.y, &pair.y);
        if sy > 1e-10 * yy && sy > 0.0 {
            pair.rho = 1.0 / sy;
            memory.push_back(pair);
        }
        let relative_change = (loss - new_loss).abs() / loss.abs().max(new_loss.abs()).max(1.0);
        std::mem::swap(theta, &mut next);
        std::mem::swap(&mut grad, &mut next_grad);
        loss = new_loss;
        done.iterations = iteration;
        if !after_iteration(iteration, theta, loss) || relative_change <= FTOL {
            break;
        }
    }
    done
}

/// One remembered step: `s = Δθ`, `y = Δ∇`, `rho = 1 / (s·y)`.
struct Pair {
    s: Vec<f64>,
    y: Vec<f64>,
    rho: f64,
}

/// The search direction `-H·grad` of the L-BFGS two-loop recursion
/// (Nocedal & Wright alg. 7.4), with `H₀ = (s·y / y·y)·I` from the newest pair.
fn two_loop(memory: &VecDeque<Pair>, grad: &[f64], direction: &mut [f64]) {
    let q = direction;
    q.copy_from_slice(grad);
    let mut alphas = [0.0f64; MEMORY];
    for (i, p) in memory.iter().enumerate().rev() {
        let a = p.rho * dot(&p.s, q);
        alphas[i] = a;
        for (qv, yv) in q.iter_mut().zip(&p.y) {
            *qv -= a * yv;
        }
    }
    if let Some(p) = memory.back() {
        let gamma = 1.0 / (p.rho * dot(&p.y, &p.y));
        for qv in q.iter_mut() {
            *qv *= gamma;
        }
    }
    for (i, p) in memory.iter().enumerate() {
        let beta = p.rho * dot(&p.y, q);
        let a = alphas[i];
        for (qv, sv) in q.iter_mut().zip(&p.s) {
            *qv += (a - beta) * sv;
        }
    }
    for qv in q.iter_mut() {
        *qv = -*qv;
    }
}

/// Where a line search starts.
struct LineStart<'a> {
    theta: &'a [f64],
    loss: f64,
    direction: &'a [f64],
    /// `grad · direction` (negative).
    slope: f64,
    /// First trial step.
    step: f64,
}

/// Backtracking line search for the Armijo condition (Nocedal & Wright
/// alg. 3.1), each trial step the minimiser of the quadratic through the
/// known values, kept within [0.1, 0.5] of the previous one. Leaves the
/// accepted point and its gradient in `next`/`next_grad` and returns its
/// loss, or `None` when no trial decreases the loss enough.
fn line_search(
    problem: &Problem<'_>,
    start: LineStart<'_>,
    next: &mut [f64],
    next_grad: &mut [f64],
) -> Option<f64> {
    let LineStart {
        theta,
        loss,
        direction,
        slope,
        mut step,
    } = start;
    if slope.is_nan() || slope >= 0.0 || !step.is_finite() {
        return None;
    }
    for _ in 0..MAX_LINE_SEARCH {
        for ((n, t), d) in next.iter_mut().zip(theta).zip(direction) {
            *n = t + step * d;
        }
        let trial = problem.loss_grad(next, next_grad);
        if trial.is_finite() && trial <= loss + ARMIJO_C1 * step * slope {
            return Some(trial);
        }
        let interpolated = if trial.is_finite() {
            -slope * step * step / (2.0 * (trial - loss - slope * step))
        } else {
            0.1 * step
        };
        step = interpolated.clamp(0.1 * step, 0.5 * step);
    }
    None
}

/// `w · x` in f64 for `x` in f64 or f32, eight independent partial sums so
/// the loop vectorises.
fn dot<T: Copy + Into<f64>>(w: &[f64], x: &[T]) -> f64 {
    const LANES: usize = 8;
    let mut acc = [0.0f64; LANES];
    let (cw, cx) = (w.chunks_exact(LANES), x.chunks_exact(LANES));
    let tail: f64 = cw
        .remainder()
        .iter()
        .zip(cx.remainder())
        .map(|(a, &b)| a * b.into())
        .sum();
    for (a, b) in cw.zip(cx) {
        for ((s, p), &q) in acc.iter_mut().zip(a).zip(b) {
            *s += p * q.into();
        }
    }
    acc.iter().sum::<f64>() + tail
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

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Splits the f64 parameter vector into f32 weights and biases.
fn params_to_f32(theta: &[f64], classes: usize, dim: usize) -> (Vec<f32>, Vec<f32>) {
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
fn argmax_rows(logits: &[f32], classes: usize) -> Vec<u32> {
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
        assert_eq!(fit.val_accuracy, 1.0);
        // Every strength separates these blobs: the tie goes to the strongest.
        let fitted: Vec<f32> = fit.grid.iter().map(|g| g.l2).collect();
        assert_eq!(fitted, vec![1e-1, 1e-2, 1e-4]);
        assert!(fit.grid.iter().all(|g| g.val_accuracy == 1.0));
        assert_eq!(fit.l2, 1e-1);
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
        let theta: Vec<f64> = (0..classes * (dim + 1))
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let mut grad = vec![0.0; theta.len()];
        let loss = problem.loss_grad(&theta, &mut grad);
        let direct = naive_loss(&problem, &theta);
        assert!(
            (loss - direct).abs() < 1e-10 * direct.abs(),
            "{loss} vs {direct}"
        );
        let h = 1e-6;
        let mut scratch = vec![0.0; theta.len()];
        for i in 0..theta.len() {
            let mut plus = theta.clone();
            plus[i] += h;
            let mut minus = theta.clone();
            minus[i] -= h;
            let fd = (problem.loss_grad(&plus, &mut scratch)
                - problem.loss_grad(&minus, &mut scratch))
                / (2.0 * h);
            assert!(
                (fd - grad[i]).abs() < 1e-7 * grad[i].abs().max(1.0),
                "component {i}: finite difference {fd}, gradient {}",
                grad[i]
            );
        }
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

    #[test]
    fn grid_rejects_a_crippling_penalty_on_noisy_data() {
        let (train, train_labels) = nuisance(400, 0.1, 11);
        let (val, val_labels) = nuisance(200, 0.1, 12);
        let config = LinearProbeConfig {
            l2_grid: vec![1e-3, 10.0, 1e-1],
            max_iter: 100,
            patience: 10,
            tolerance: 1e-6,
        };
        let fit = fit_linear(&train, &train_labels, &val, &val_labels, 2, &config);
        assert_eq!(fit.grid.len(), config.l2_grid.len());
        let fitted: Vec<f32> = fit.grid.iter().map(|g| g.l2).collect();
        assert_eq!(fitted, vec![10.0, 1e-1, 1e-3]);
        let crippled = &fit.grid[0];
        assert!(crippled.val_accuracy < 0.75, "{:?}", fit.grid);
        assert!(fit.val_accuracy > 0.85, "{:?}", fit.grid);
        assert_ne!(fit.l2, 10.0);
        let best = fit.grid.iter().map(|g| g.val_accuracy).fold(0.0, f32::max);
        assert_eq!(fit.val_accuracy, best);
        // The chosen grid point and the reported fit agree.
        let point = fit.grid.iter().find(|g| g.l2 == fit.l2).unwrap();
        assert_eq!(point.val_accuracy, fit.val_accuracy);
        assert_eq!(point.best_iteration, fit.best_iteration);
        assert_eq!(point.iterations, fit.iterations);
        for g in &fit.grid {
            assert!(g.best_iteration <= g.iterations && g.iterations <= config.max_iter);
        }
        // One curve point per iteration, starting at 0; the kept weights are
        // the first to reach the best accuracy.
        assert_eq!(fit.curve.len(), fit.iterations + 1);
        assert!(fit.curve.iter().enumerate().all(|(i, p)| p.epoch == i));
        let kept = fit.curve[fit.best_iteration];
        assert_eq!(kept.val_accuracy, fit.val_accuracy);
        assert!(
            fit.curve[..fit.best_iteration]
                .iter()
                .all(|p| p.val_accuracy < fit.val_accuracy)
        );
        assert!(fit.curve.iter().all(|p| p.val_accuracy <= fit.val_accuracy));
        // The model holds exactly those weights.
        assert_eq!(
            accuracy(&fit.model.predict(&val), &val_labels),
            fit.val_accuracy
        );
        let logits = fit.model.logits(&val);
        assert_eq!(logits.len(), val.rows * 2);
        // Patience: the run stopped no later than `patience` iterations after the best.
        assert!(fit.iterations - fit.best_iteration <= config.patience);
        // The training loss never increases (the line search only accepts decreases).
        assert!(
            fit.curve
                .windows(2)
                .all(|w| w[1].train_loss <= w[0].train_loss)
        );
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
            patience: 500,
            tolerance: 1e-7,
        };
        let fit = fit_linear(&raw, &labels, &raw, &labels, 3, &config);
        let last = fit.curve.last().unwrap();
        assert!(fit.iterations < 500);
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
