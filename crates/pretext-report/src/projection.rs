//! Two-dimensional projections of embeddings, for plotting.
//!
//! * [`pca_2d`]: principal component analysis (K. Pearson, 1901, "On lines and
//!   planes of closest fit to systems of points in space", *Philosophical
//!   Magazine* 2(11)), in its standard form: centre the data, form the
//!   covariance matrix and project onto its two leading eigenvectors, found
//!   here by power iteration with deflation.
//! * [`tsne_2d`]: exact t-SNE (L. van der Maaten and G. Hinton, 2008,
//!   "Visualizing Data using t-SNE", *JMLR* 9:2579-2605). Input affinities are
//!   Gaussian conditionals calibrated to a perplexity by binary search, then
//!   symmetrised; output affinities use a Student-t kernel with one degree of
//!   freedom. The optimiser is the one of the paper's reference code: gradient
//!   descent with momentum, delta-bar-delta gains and early exaggeration,
//!   started from a scaled PCA projection. The cost is O(n^2) time and
//!   memory, which suits up to a few thousand points.
//!
//! Points are always row-major `f32` slices with `points.len() == n * dim`.
//! Both functions are deterministic: the same input (and seed) gives bitwise
//! the same output.

/// Iteration cap for each power-iteration eigenvector.
const PCA_MAX_ITERATIONS: usize = 1000;
/// Power iteration stops once no component of the unit vector moves more.
const PCA_TOLERANCE: f64 = 1e-12;
/// Eigenvalues below this fraction of the total variance count as zero.
const PCA_RELATIVE_EPS: f64 = 1e-12;
/// Tolerance (in nats) of the perplexity binary search.
const ENTROPY_TOLERANCE: f64 = 1e-5;
/// Step cap of the perplexity binary search.
const MAX_BINARY_SEARCH_STEPS: usize = 100;
/// Floor on every off-diagonal joint probability.
const MIN_PROBABILITY: f64 = 1e-12;
/// Standard deviation of the first coordinate of the initial embedding.
const INIT_STD: f64 = 1e-4;
/// Size of the seeded jitter that separates identical points.
const INIT_JITTER: f64 = 1e-8;
/// Smallest gain of the delta-bar-delta rule.
const MIN_GAIN: f64 = 0.01;

/// Settings for [`tsne_2d`]. The defaults follow common t-SNE practice.
#[derive(Debug, Clone, PartialEq)]
pub struct TsneConfig {
    /// Effective number of neighbours of each point (default 30). It is
    /// clamped to `(n - 1) / 3` for small inputs, and to at least 1.
    pub perplexity: f32,
    /// Total number of gradient-descent iterations (default 1000).
    pub iterations: usize,
    /// Step size. `None` (the default) picks `max(n / early_exaggeration, 50)`,
    /// the "auto" rule of openTSNE (Belkina et al. 2019), in whose convention
    /// the gradient carries no factor 4; scikit-learn's rule is the same
    /// with its learning rate defined 4 times larger.
    pub learning_rate: Option<f32>,
    /// Factor applied to the input affinities early on (default 12).
    pub early_exaggeration: f32,
    /// Number of initial iterations that use early exaggeration and momentum
    /// 0.5 (default 250); later iterations use momentum 0.8.
    pub exaggeration_iterations: usize,
    /// Seed of the tiny jitter added to the initial embedding; it only
    /// matters for separating identical (or PCA-identical) points.
    pub seed: u64,
}

impl Default for TsneConfig {
    fn default() -> Self {
        Self {
            perplexity: 30.0,
            iterations: 1000,
            learning_rate: None,
            early_exaggeration: 12.0,
            exaggeration_iterations: 250,
            seed: 0,
        }
    }
}

/// Projects `points` (row-major, `points.len() == n * dim`) onto their first
/// two principal components.
///
/// Each eigenvector's largest-magnitude component is made positive, so the
/// signs of the output are deterministic. Coordinates whose component is
/// undefined (fewer than two points, `dim < 2`, zero variance) are zero.
///
/// # Panics
///
/// If `points.len()` is not a multiple of `dim`, or `dim == 0` while
/// `points` is non-empty.
pub fn pca_2d(points: &[f32], dim: usize) -> Vec<[f32; 2]> {
    let n = row_count(points, dim);
    let mut out = vec![[0.0; 2]; n];
    if n < 2 {
        return out;
    }
    let mut mean = vec![0.0; dim];
    for row in points.chunks_exact(dim) {
        for (m, &x) in mean.iter_mut().zip(row) {
            *m += f64::from(x);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);

    // Upper triangle of the covariance, accumulated in f64, then mirrored.
    let mut cov = vec![0.0; dim * dim];
    let mut centred = vec![0.0; dim];
    for row in points.chunks_exact(dim) {
        for ((c, &x), m) in centred.iter_mut().zip(row).zip(&mean) {
            *c = f64::from(x) - m;
        }
        for (a, &ca) in centred.iter().enumerate() {
            for (acc, &cb) in cov[a * dim + a..(a + 1) * dim]
                .iter_mut()
                .zip(&centred[a..])
            {
                *acc += ca * cb;
            }
        }
    }
    for a in 0..dim {
        for b in a..dim {
            let v = cov[a * dim + b] / (n - 1) as f64;
            cov[a * dim + b] = v;
            cov[b * dim + a] = v;
        }
    }

    let axes = top_two_eigenvectors(cov, dim);
    for (row, o) in points.chunks_exact(dim).zip(&mut out) {
        for (coord, axis) in o.iter_mut().zip(&axes) {
            let dot: f64 = row
                .iter()
                .zip(&mean)
                .zip(axis)
                .map(|((&x, m), a)| (f64::from(x) - m) * a)
                .sum();
            *coord = dot as f32;
        }
    }
    out
}

/// The two leading eigenvectors of the symmetric positive semi-definite
/// `dim x dim` matrix `m`, by power iteration with deflation. A vector whose
/// eigenvalue is (relatively) zero is returned as all zeros.
fn top_two_eigenvectors(mut m: Vec<f64>, dim: usize) -> [Vec<f64>; 2] {
    let trace: f64 = (0..dim).map(|i| m[i * dim + i]).sum();
    let mut axes = [vec![0.0; dim], vec![0.0; dim]];
    if !trace.is_finite() || trace <= 0.0 {
        return axes;
    }
    let eps = PCA_RELATIVE_EPS * trace;
    for axis in &mut axes {
        // Fixed pseudo-random start: deterministic, and almost surely not
        // orthogonal to the wanted eigenvector (unlike e.g. a basis vector).
        let mut rng = SplitMix64(0x9E37_79B9_7F4A_7C15);
        let mut v: Vec<f64> = (0..dim).map(|_| rng.next_f64() - 0.5).collect();
        normalise(&mut v);
        let mut w = vec![0.0; dim];
        let mut lambda = 0.0;
        for _ in 0..PCA_MAX_ITERATIONS {
            for (wa, row) in w.iter_mut().zip(m.chunks_exact(dim)) {
                *wa = row.iter().zip(&v).map(|(r, x)| r * x).sum();
            }
            lambda = v.iter().zip(&w).map(|(a, b)| a * b).sum(); // Rayleigh quotient
            if normalise(&mut w) <= eps {
                lambda = 0.0;
                break;
            }
            let change = v
                .iter()
                .zip(&w)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            std::mem::swap(&mut v, &mut w);
            if change < PCA_TOLERANCE {
                break;
            }
        }
        if lambda <= eps {
            break; // this and any later component are undefined: zeros
        }
        let largest = v
            .iter()
            .copied()
            .fold(0.0, |acc: f64, x| if x.abs() > acc.abs() { x } else { acc });
        if largest < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
        for (a, &va) in v.iter().enumerate() {
            for (mab, &vb) in m[a * dim..(a + 1) * dim].iter_mut().zip(&v) {
                *mab -= lambda * va * vb;
            }
        }
        *axis = v;
    }
    axes
}

/// Embeds `points` (row-major, `points.len() == n * dim`) in 2-D with exact
/// t-SNE. Inputs with fewer than two points give zeros.
///
/// # Panics
///
/// If `points.len()` is not a multiple of `dim`, or `dim == 0` while
/// `points` is non-empty.
pub fn tsne_2d(points: &[f32], dim: usize, config: &TsneConfig) -> Vec<[f32; 2]> {
    let n = row_count(points, dim);
    if n < 2 {
        return vec![[0.0; 2]; n];
    }
    let max_perplexity = (n - 1) as f64 / 3.0;
    let perplexity = f64::from(config.perplexity).min(max_perplexity).max(1.0);
    let conditional = conditional_probabilities(&squared_distances(points, n, dim), n, perplexity);
    let p = joint_probabilities(&conditional, n);
    drop(conditional);

    let mut y = initial_embedding(points, dim, config.seed);
    optimise(&p, &mut y, config);
    y.iter().map(|&[a, b]| [a as f32, b as f32]).collect()
}

/// Pairwise squared Euclidean distances, as a flat `n x n` matrix.
fn squared_distances(points: &[f32], n: usize, dim: usize) -> Vec<f64> {
    let mut dist = vec![0.0; n * n];
    for (i, a) in points.chunks_exact(dim).enumerate() {
        for (j, b) in points.chunks_exact(dim).enumerate().skip(i + 1) {
            let d: f64 = a
                .iter()
                .zip(b)
                .map(|(&x, &y)| f64::from(x - y).powi(2))
                .sum();
            dist[i * n + j] = d;
            dist[j * n + i] = d;
        }
    }
    dist
}

/// Row-stochastic conditional probabilities `p_{j|i}` (flat `n x n`, zero
/// diagonal) of Gaussians centred on each point, each with its precision
/// found by binary search so that the row's entropy (in nats) is
/// `ln(perplexity)` to within [`ENTROPY_TOLERANCE`].
pub(crate) fn conditional_probabilities(dist: &[f64], n: usize, perplexity: f64) -> Vec<f64> {
    let target = perplexity.ln();
    let mut p = vec![0.0; n * n];
    for (i, (d, row)) in dist.chunks_exact(n).zip(p.chunks_exact_mut(n)).enumerate() {
        // Shifting by the nearest distance leaves the distribution unchanged
        // and keeps the normaliser >= 1: no underflow to 0/0.
        let others = || {
            d.iter()
                .enumerate()
                .filter(move |&(j, _)| j != i)
                .map(|(_, &x)| x)
        };
        let nearest = others().fold(f64::INFINITY, f64::min);
        let mean_gap = others().map(|x| x - nearest).sum::<f64>() / (n - 1) as f64;
        let mut beta = if mean_gap > 0.0 && (1.0 / mean_gap).is_finite() {
            1.0 / mean_gap
        } else {
            1.0
        };
        let (mut lo, mut hi) = (0.0, f64::INFINITY);
        for _ in 0..MAX_BINARY_SEARCH_STEPS {
            let (mut z, mut weighted) = (0.0, 0.0);
            for (j, (&dj, pj)) in d.iter().zip(row.iter_mut()).enumerate() {
                let gap = dj - nearest;
                *pj = if j == i { 0.0 } else { (-beta * gap).exp() };
                z += *pj;
                weighted += *pj * gap;
            }
            row.iter_mut().for_each(|pj| *pj /= z);
            let entropy = z.ln() + beta * weighted / z;
            let excess = entropy - target;
            if excess.abs() < ENTROPY_TOLERANCE {
                break;
            }
            if excess > 0.0 {
                lo = beta; // too flat: sharpen
                beta = if hi.is_finite() {
                    0.5 * (beta + hi)
                } else {
                    (2.0 * beta).min(f64::MAX)
                };
            } else {
                hi = beta;
                beta = 0.5 * (beta + lo);
            }
        }
    }
    p
}

/// Symmetrised joint probabilities `(p_{j|i} + p_{i|j}) / 2n`, floored at
/// [`MIN_PROBABILITY`] off the diagonal.
fn joint_probabilities(conditional: &[f64], n: usize) -> Vec<f64> {
    let mut p = vec![0.0; n * n];
    for i in 0..n {
        for j in (i + 1)..n {
            let v = ((conditional[i * n + j] + conditional[j * n + i]) / (2 * n) as f64)
                .max(MIN_PROBABILITY);
            p[i * n + j] = v;
            p[j * n + i] = v;
        }
    }
    p
}

/// PCA projection scaled so the first coordinate has standard deviation
/// [`INIT_STD`], plus seeded jitter of size [`INIT_JITTER`].
fn initial_embedding(points: &[f32], dim: usize, seed: u64) -> Vec<[f64; 2]> {
    let pca = pca_2d(points, dim);
    let n = pca.len() as f64;
    let mean = pca.iter().map(|c| f64::from(c[0])).sum::<f64>() / n;
    let std = (pca
        .iter()
        .map(|c| (f64::from(c[0]) - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    let scale = if std > 0.0 { INIT_STD / std } else { 0.0 };
    let mut rng = SplitMix64(seed);
    pca.iter()
        .map(|c| c.map(|x| f64::from(x) * scale + INIT_JITTER * (rng.next_f64() - 0.5)))
        .collect()
}

/// Gradient descent on KL(P || Q) with momentum and delta-bar-delta gains.
fn optimise(p: &[f64], y: &mut [[f64; 2]], config: &TsneConfig) {
    let n = y.len();
    let early = f64::from(config.early_exaggeration);
    let auto_rate = n as f64 / early;
    let rate = match config.learning_rate {
        Some(rate) => f64::from(rate),
        None if auto_rate.is_finite() => auto_rate.max(50.0),
        None => 50.0,
    };
    let mut update = vec![[0.0; 2]; n];
    let mut gains = vec![[1.0f64; 2]; n];
    let mut attraction = vec![[0.0; 2]; n];
    let mut repulsion = vec![[0.0; 2]; n];
    for iteration in 0..config.iterations {
        let (exaggeration, momentum) = if iteration < config.exaggeration_iterations {
            (early, 0.5)
        } else {
            (1.0, 0.8)
        };

        // With w_ij = 1 / (1 + |y_i - y_j|^2), Z = sum_{k != l} w_kl and
        // q_ij = w_ij / Z, the gradient (without the paper's factor 4) is
        //   sum_j (p_ij - q_ij) w_ij (y_i - y_j)
        //   = sum_j p_ij w_ij (y_i - y_j) - (1 / Z) sum_j w_ij^2 (y_i - y_j),
        // so one pass over the pairs gives both sums and Z. The j == i term
        // adds nothing to the sums and exactly 1 to Z, removed below.
        let mut z = 0.0;
        for (i, (att, rep)) in attraction.iter_mut().zip(&mut repulsion).enumerate() {
            let yi = y[i];
            let (mut a, mut r, mut zi) = ([0.0; 2], [0.0; 2], 0.0);
            for (&pij, yj) in p[i * n..(i + 1) * n].iter().zip(&*y) {
                let d = [yi[0] - yj[0], yi[1] - yj[1]];
                let w = 1.0 / (1.0 + d[0] * d[0] + d[1] * d[1]);
                zi += w;
                let (pw, ww) = (pij * w, w * w);
                a = [a[0] + pw * d[0], a[1] + pw * d[1]];
                r = [r[0] + ww * d[0], r[1] + ww * d[1]];
            }
            (*att, *rep, z) = (a, r, z + zi);
        }
        let inv_z = 1.0 / (z - n as f64);

        for (((yi, u), g), (att, rep)) in y
            .iter_mut()
            .zip(&mut update)
            .zip(&mut gains)
            .zip(attraction.iter().zip(&repulsion))
        {
            for k in 0..2 {
                let grad = exaggeration * att[k] - inv_z * rep[k];
                let same_direction = u[k] * grad >= 0.0;
                g[k] = if same_direction {
                    (g[k] * 0.8).max(MIN_GAIN)
                } else {
                    g[k] + 0.2
                };
                u[k] = momentum * u[k] - rate * g[k] * grad;
                yi[k] += u[k];
            }
        }
        let centre = y
            .iter()
            .fold([0.0; 2], |c, v| [c[0] + v[0], c[1] + v[1]])
            .map(|c| c / n as f64);
        y.iter_mut()
            .for_each(|v| *v = [v[0] - centre[0], v[1] - centre[1]]);
    }
}

/// Number of rows in a row-major `points` slice of width `dim`.
fn row_count(points: &[f32], dim: usize) -> usize {
    if dim == 0 {
        assert!(points.is_empty(), "dim is 0 but points is not empty");
        return 0;
    }
    assert!(
        points.len().is_multiple_of(dim),
        "points.len() must be a multiple of dim"
    );
    points.len() / dim
}

/// Scales `v` to unit length (unless it is zero) and returns its old length.
fn normalise(v: &mut [f64]) -> f64 {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    norm
}

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny, seedable generator.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Standard normal sample (Box-Muller).
    fn gaussian(rng: &mut SplitMix64) -> f64 {
        let u = 1.0 - rng.next_f64(); // in (0, 1]
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * rng.next_f64()).cos()
    }

    fn column(out: &[[f32; 2]], k: usize) -> Vec<f64> {
        out.iter().map(|c| f64::from(c[k])).collect()
    }

    fn mean(x: &[f64]) -> f64 {
        x.iter().sum::<f64>() / x.len() as f64
    }

    fn covariance(x: &[f64], y: &[f64]) -> f64 {
        let (mx, my) = (mean(x), mean(y));
        x.iter()
            .zip(y)
            .map(|(a, b)| (a - mx) * (b - my))
            .sum::<f64>()
            / x.len() as f64
    }

    /// `per_cluster` points in each of 3 clusters in 10-D, with centres 10
    /// apart on axes 0..3 and unit noise, except that all clusters share a
    /// large spread (std 6) along axes 8 and 9. Those two shared axes carry
    /// the most variance, so PCA alone mixes the clusters while their
    /// neighbourhoods stay pure. Returns (points, labels).
    fn three_clusters(per_cluster: usize, seed: u64) -> (Vec<f32>, Vec<usize>) {
        let mut rng = SplitMix64(seed);
        let (mut points, mut labels) = (Vec::new(), Vec::new());
        for label in 0..3 {
            for _ in 0..per_cluster {
                for d in 0..10 {
                    let centre = if d == label { 10.0 } else { 0.0 };
                    let std = if d >= 8 { 6.0 } else { 1.0 };
                    points.push((centre + std * gaussian(&mut rng)) as f32);
                }
                labels.push(label);
            }
        }
        (points, labels)
    }

    /// Mean fraction of each point's 5 nearest neighbours sharing its label.
    fn knn_purity(out: &[[f32; 2]], labels: &[usize]) -> f64 {
        let n = out.len();
        let mut same = 0;
        for i in 0..n {
            let mut others: Vec<usize> = (0..n).filter(|&j| j != i).collect();
            others.sort_by(|&a, &b| dist2(out[i], out[a]).total_cmp(&dist2(out[i], out[b])));
            same += others[..5]
                .iter()
                .filter(|&&j| labels[j] == labels[i])
                .count();
        }
        same as f64 / (5 * n) as f64
    }

    /// Smallest distance between two cluster centroids divided by the mean
    /// distance of a point to its own centroid.
    fn separation_ratio(out: &[[f32; 2]], labels: &[usize]) -> f32 {
        let centroids: Vec<[f32; 2]> = (0..3)
            .map(|l| {
                let members: Vec<_> = out.iter().zip(labels).filter(|&(_, &m)| m == l).collect();
                let k = members.len() as f32;
                let sum = members
                    .iter()
                    .fold([0.0; 2], |s, (c, _)| [s[0] + c[0], s[1] + c[1]]);
                [sum[0] / k, sum[1] / k]
            })
            .collect();
        let spread = out
            .iter()
            .zip(labels)
            .map(|(&c, &l)| dist2(c, centroids[l]).sqrt())
            .sum::<f32>()
            / out.len() as f32;
        let between =
            [(0, 1), (0, 2), (1, 2)].map(|(a, b)| dist2(centroids[a], centroids[b]).sqrt());
        between.into_iter().fold(f32::INFINITY, f32::min) / spread
    }

    fn dist2(a: [f32; 2], b: [f32; 2]) -> f32 {
        (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
    }

    #[test]
    fn pca_recovers_a_line_in_5d() {
        let mut rng = SplitMix64(1);
        let direction = [0.5f64, -0.3, 0.7, 0.1, -0.4];
        let norm = direction.iter().map(|x| x * x).sum::<f64>().sqrt();
        let (mut points, mut position) = (Vec::new(), Vec::new());
        for _ in 0..200 {
            let t = 10.0 * (rng.next_f64() - 0.5);
            position.push(t);
            points.extend(
                direction
                    .iter()
                    .map(|d| (3.0 + t * d / norm + 0.01 * gaussian(&mut rng)) as f32),
            );
        }
        let out = pca_2d(&points, 5);
        let (c0, c1) = (column(&out, 0), column(&out, 1));
        assert!(covariance(&c0, &c0) > 1000.0 * covariance(&c1, &c1));
        let corr = covariance(&c0, &position)
            / (covariance(&c0, &c0) * covariance(&position, &position)).sqrt();
        assert!(corr.abs() > 0.999, "correlation {corr}");
    }

    #[test]
    fn pca_output_is_centred_ordered_and_uncorrelated() {
        let mut rng = SplitMix64(2);
        let scales = [1.0, 4.0, 0.5, 2.5, 3.0, 0.2];
        let points: Vec<f32> = (0..300)
            .flat_map(|_| scales.map(|s| (7.0 + s * gaussian(&mut rng)) as f32))
            .collect();
        let out = pca_2d(&points, scales.len());
        let (c0, c1) = (column(&out, 0), column(&out, 1));
        assert!(mean(&c0).abs() < 1e-4 && mean(&c1).abs() < 1e-4);
        let (v0, v1) = (covariance(&c0, &c0), covariance(&c1, &c1));
        assert!(v0 >= v1 && v1 > 0.0, "variances {v0} {v1}");
        // The two leading variances should be near 4^2 and 3^2.
        assert!(
            (v0 / 16.0 - 1.0).abs() < 0.25 && (v1 / 9.0 - 1.0).abs() < 0.25,
            "{v0} {v1}"
        );
        assert!(covariance(&c0, &c1).abs() < 1e-3 * v0);
    }

    #[test]
    fn conditional_probabilities_hit_the_perplexity() {
        let (n, dim, mut rng) = (150, 8, SplitMix64(3));
        let points: Vec<f32> = (0..n * dim).map(|_| gaussian(&mut rng) as f32).collect();
        for perplexity in [5.0f64, 30.0] {
            let p = conditional_probabilities(&squared_distances(&points, n, dim), n, perplexity);
            for (i, row) in p.chunks_exact(n).enumerate() {
                assert_eq!(row[i], 0.0);
                assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
                let entropy: f64 = row.iter().filter(|&&x| x > 0.0).map(|&x| -x * x.ln()).sum();
                assert!(
                    (entropy - perplexity.ln()).abs() < 1e-3,
                    "row {i}: {entropy}"
                );
            }
        }
    }

    #[test]
    fn tsne_separates_three_clusters() {
        let (points, labels) = three_clusters(60, 4);
        // The data defeats PCA (and so the initialisation) on its own ...
        let pca = pca_2d(&points, 10);
        assert!(knn_purity(&pca, &labels) < 0.8 && separation_ratio(&pca, &labels) < 2.0);
        // ... but t-SNE recovers the clusters.
        let out = tsne_2d(&points, 10, &TsneConfig::default());
        let purity = knn_purity(&out, &labels);
        assert!(purity >= 0.95, "purity {purity}");
        let ratio = separation_ratio(&out, &labels);
        assert!(ratio > 3.0, "centroid distance / spread = {ratio}");
    }

    #[test]
    fn tsne_is_deterministic_and_finite() {
        let (points, _) = three_clusters(30, 5);
        let config = TsneConfig {
            iterations: 300,
            seed: 42,
            ..TsneConfig::default()
        };
        let (a, b) = (tsne_2d(&points, 10, &config), tsne_2d(&points, 10, &config));
        assert_eq!(a.len(), 90);
        assert!(a.iter().flatten().all(|x| x.is_finite()));
        let bits = |v: &[[f32; 2]]| v.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b));
        // Not a constant: the embedding has real spread.
        assert!(a.iter().any(|c| c[0].abs() > 1.0));
    }

    #[test]
    fn degenerate_inputs_give_finite_output() {
        let config = TsneConfig {
            iterations: 300,
            ..TsneConfig::default()
        };
        let identical: Vec<f32> = [1.5f32, -2.0, 0.25].repeat(10);
        let cases: [(&[f32], usize, usize); 6] = [
            (&[], 3, 0),
            (&[], 0, 0),
            (&[1.0, 2.0, 3.0], 3, 1),
            (&[1.0, 2.0, 3.0, 4.0, 5.0, 7.0], 3, 2),
            (&[1.0, 2.0, 4.0, 8.0], 1, 4),
            (&identical, 3, 10),
        ];
        for (points, dim, n) in cases {
            for out in [pca_2d(points, dim), tsne_2d(points, dim, &config)] {
                assert_eq!(out.len(), n, "dim {dim}");
                assert!(out.iter().flatten().all(|x| x.is_finite()), "{out:?}");
            }
        }
        assert!(pca_2d(&identical, 3).iter().flatten().all(|&x| x == 0.0));
        // dim == 1: the second component is undefined and reported as zero.
        assert!(
            pca_2d(&[1.0, 2.0, 4.0, 8.0], 1)
                .iter()
                .all(|c| c[1] == 0.0 && c[0] != 0.0)
        );
        // Two points stay apart rather than collapsing or blowing up.
        let pair = tsne_2d(&[0.0, 0.0, 1.0, 1.0], 2, &config);
        assert!(pair[0] != pair[1]);
    }

    #[test]
    #[ignore = "timing: run with --release --ignored --nocapture"]
    fn tsne_timing_n1000_dim64() {
        let (n, dim, mut rng) = (1000, 64, SplitMix64(6));
        let points: Vec<f32> = (0..n * dim).map(|_| gaussian(&mut rng) as f32).collect();
        let start = std::time::Instant::now();
        let out = tsne_2d(&points, dim, &TsneConfig::default());
        println!(
            "tsne_2d n={n} dim={dim} 1000 iterations: {:.2?}",
            start.elapsed()
        );
        assert!(out.iter().flatten().all(|x| x.is_finite()));
    }
}
