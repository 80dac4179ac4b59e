//! L-BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., alg. 7.4
//! two-loop recursion and alg. 7.5 L-BFGS) with a backtracking Armijo line
//! search (alg. 3.1, safeguarded quadratic interpolation as in §3.5), over any
//! smooth [`Objective`] of an f64 parameter vector. The linear probe
//! ([`crate::linear`]) and the TF-IDF baseline ([`crate::tfidf`]) share it.
//!
//! Stopping follows scikit-learn's `lbfgs` solver: the gradient's max-abs
//! below `tolerance`, or a relative loss change below `64·ε` (f64); a run also
//! ends when the line search can no longer decrease the loss.

use std::collections::VecDeque;

/// (s, y) pairs L-BFGS remembers.
const MEMORY: usize = 10;
/// Sufficient-decrease constant of the Armijo condition.
const ARMIJO_C1: f64 = 1e-4;
/// Most trial steps of one line search.
const MAX_LINE_SEARCH: usize = 25;
/// Relative loss change below which the fit has converged (scikit-learn's
/// `ftol` for `lbfgs`).
const FTOL: f64 = 64.0 * f64::EPSILON;

/// A smooth function to minimise.
pub(crate) trait Objective {
    /// The value at `theta`; its gradient goes to `grad` (same length).
    fn loss_grad(&self, theta: &[f64], grad: &mut [f64]) -> f64;
}

/// How an L-BFGS run ended.
pub(crate) struct Minimized {
    /// Iterations taken.
    pub(crate) iterations: usize,
}

/// Minimises `problem` from `theta` (left at the last iterate) with L-BFGS.
/// `after_iteration(k, theta, loss)` is called at the start (k = 0) and after
/// every iteration; returning `false` stops.
pub(crate) fn minimize(
    problem: &impl Objective,
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
    problem: &impl Objective,
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
pub(crate) fn dot<T: Copy + Into<f64>>(w: &[f64], x: &[T]) -> f64 {
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

/// The largest absolute value of `v` (0 when empty).
pub(crate) fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Asserts that `grad`, the gradient `problem` gave at `theta`, matches
/// central finite differences (step 1e-6) in every component, to 1e-7
/// relative (absolute below 1).
#[cfg(test)]
pub(crate) fn assert_gradient_matches_finite_differences(
    problem: &impl Objective,
    theta: &[f64],
    grad: &[f64],
) {
    let h = 1e-6;
    let mut scratch = vec![0.0; theta.len()];
    for i in 0..theta.len() {
        let mut plus = theta.to_vec();
        plus[i] += h;
        let mut minus = theta.to_vec();
        minus[i] -= h;
        let fd = (problem.loss_grad(&plus, &mut scratch) - problem.loss_grad(&minus, &mut scratch))
            / (2.0 * h);
        assert!(
            (fd - grad[i]).abs() < 1e-7 * grad[i].abs().max(1.0),
            "component {i}: finite difference {fd}, gradient {}",
            grad[i]
        );
    }
}

/// Draws parameters uniformly in `[-1, 1)` from `rng` and asserts that
/// `problem`'s loss there equals `direct(theta)`, the objective written out
/// another way, to 1e-10 relative, and that its gradient matches finite
/// differences ([`assert_gradient_matches_finite_differences`]).
#[cfg(test)]
pub(crate) fn assert_objective_matches(
    problem: &impl Objective,
    params: usize,
    rng: &mut impl rand::Rng,
    direct: impl Fn(&[f64]) -> f64,
) {
    let theta: Vec<f64> = (0..params).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut grad = vec![0.0; params];
    let loss = problem.loss_grad(&theta, &mut grad);
    let direct = direct(&theta);
    assert!(
        (loss - direct).abs() < 1e-10 * direct.abs(),
        "{loss} vs {direct}"
    );
    assert_gradient_matches_finite_differences(problem, &theta, &grad);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Σ aᵢ (θᵢ - cᵢ)² / 2`.
    struct Quadratic {
        a: Vec<f64>,
        c: Vec<f64>,
    }

    impl Objective for Quadratic {
        fn loss_grad(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
            let mut loss = 0.0;
            for (((g, t), a), c) in grad.iter_mut().zip(theta).zip(&self.a).zip(&self.c) {
                *g = a * (t - c);
                loss += 0.5 * a * (t - c) * (t - c);
            }
            loss
        }
    }

    #[test]
    fn lbfgs_finds_the_minimum_of_a_quadratic() {
        // Curvatures from 1 to 100; a straight replica in numpy and scipy's
        // L-BFGS-B (gtol 1e-9) both take 38-39 iterations here.
        let q = Quadratic {
            a: (0..8)
                .map(|i| 10f64.powf(f64::from(i) / 7.0 * 2.0))
                .collect(),
            c: (0..8).map(|i| f64::from(i) - 3.5).collect(),
        };
        let mut theta = vec![0.0; 8];
        let mut losses = Vec::new();
        let run = minimize(&q, &mut theta, 500, 1e-9, |k, _, loss| {
            losses.push((k, loss));
            true
        });
        assert!(run.iterations < 100, "took {} iterations", run.iterations);
        for (t, c) in theta.iter().zip(&q.c) {
            assert!((t - c).abs() < 1e-6, "{theta:?}");
        }
        // Called at the start and after every iteration, with falling losses.
        assert_eq!(losses.len(), run.iterations + 1);
        assert!(losses.iter().enumerate().all(|(i, &(k, _))| i == k));
        assert!(losses.windows(2).all(|w| w[1].1 < w[0].1));
    }

    #[test]
    fn returning_false_stops_the_run() {
        let q = Quadratic {
            a: vec![1.0, 2.0],
            c: vec![3.0, -1.0],
        };
        let mut theta = vec![0.0; 2];
        let run = minimize(&q, &mut theta, 100, 0.0, |k, _, _| k < 1);
        assert_eq!(run.iterations, 1);
    }
}
