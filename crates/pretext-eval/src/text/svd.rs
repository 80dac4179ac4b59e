//! Truncated singular value decomposition of a sparse matrix by randomized
//! range finding (Halko, Martinsson and Tropp 2011, "Finding structure with
//! randomness", Algorithms 4.4 and 5.1), as scikit-learn's
//! `TruncatedSVD(algorithm="randomized")` computes it:
//!
//! 1. `Y = X Ω` for a Gaussian `Ω` of `k + 10` columns (fewer when `X` is
//!    smaller), seeded;
//! 2. `power_iterations` times: `Y = X (Xᵀ Q(Y))`, each product
//!    orthonormalised, which sharpens the gap between the leading singular
//!    values and the rest;
//! 3. `Q = orth(Y)`, `Z = Xᵀ Q`; the eigenvectors `W` and eigenvalues `λ` of
//!    `Zᵀ Z` give the singular values `√λ` and the right singular vectors
//!    `Z W / √λ`.
//!
//! Orthonormalising is done through the small Gram matrix (`Q = Y W Λ^-½`,
//! twice), which works row by row and drops the directions a rank-deficient
//! `X` does not have. Sums run over fixed blocks of rows, so the result does
//! not depend on the thread count. Each component's sign is fixed so that
//! its largest entry is positive.
use pretext_train::symmetric_eigen;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::text::SparseRows;

/// Rows per parallel task in the Gram sums (fixed, so sums are reproducible).
const BLOCK: usize = 1024;

/// Columns of the random test matrix beyond the `k` asked for.
const OVERSAMPLES: usize = 10;

/// The leading singular values and right singular vectors of a matrix.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TruncatedSvd {
    /// Singular values, largest first.
    pub singular_values: Vec<f64>,
    /// Right singular vectors, `[k][dim]` row-major (scikit-learn's
    /// `components_`).
    pub components: Vec<f64>,
    /// Columns of the decomposed matrix.
    pub dim: usize,
}

impl TruncatedSvd {
    /// Number of components.
    pub(crate) fn k(&self) -> usize {
        self.singular_values.len()
    }

    /// `X Vₖ`: the rows of `x` in the components' coordinates,
    /// `[rows][k]` row-major.
    ///
    /// # Panics
    /// If `x` does not have the decomposed matrix's columns.
    pub(crate) fn project(&self, x: &SparseRows) -> Vec<f64> {
        assert_eq!(
            x.dim, self.dim,
            "svd: {} columns, fitted on {}",
            x.dim, self.dim
        );
        let by_column = Dense::from_rows_of(&self.components, self.k(), self.dim).transposed();
        times(x, &by_column).data
    }
}

/// The `k` leading singular triplets of `x` (see the module doc).
///
/// # Panics
/// If `k` is 0 or more than `x`'s rows or columns.
pub(crate) fn truncated_svd(
    x: &SparseRows,
    k: usize,
    power_iterations: usize,
    seed: u64,
) -> TruncatedSvd {
    let (rows, dim) = (x.rows(), x.dim);
    assert!(
        k >= 1 && k <= rows.min(dim),
        "svd: {k} components of a {rows} x {dim} matrix"
    );
    let l = (k + OVERSAMPLES).min(rows).min(dim);
    let xt = transpose(x);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let omega = Dense {
        rows: dim,
        cols: l,
        data: (0..dim * l).map(|_| standard_normal(&mut rng)).collect(),
    };
    let mut y = times(x, &omega);
    for _ in 0..power_iterations {
        let z = times(&xt, &orthonormal(y));
        y = times(x, &orthonormal(z));
    }
    let z = times(&xt, &orthonormal(y)); // Xᵀ Q = Bᵀ: [dim][l]
    let (values, vectors) = symmetric_eigen_sorted(&gram(&z), l);
    let mut singular_values = Vec::with_capacity(k);
    let mut components = vec![0.0; k * dim];
    for (c, component) in components.chunks_exact_mut(dim).enumerate() {
        let s = values[c].max(0.0).sqrt();
        singular_values.push(s);
        if s == 0.0 {
            continue; // a direction the matrix does not have
        }
        for (j, out) in component.iter_mut().enumerate() {
            let zj = &z.data[j * l..(j + 1) * l];
            *out = (0..l).map(|i| zj[i] * vectors[i * l + c]).sum::<f64>() / s;
        }
        let largest = component
            .iter()
            .copied()
            .reduce(|a, b| if b.abs() > a.abs() { b } else { a })
            .unwrap_or(0.0);
        if largest < 0.0 {
            component.iter_mut().for_each(|v| *v = -*v);
        }
    }
    TruncatedSvd {
        singular_values,
        components,
        dim,
    }
}

/// A dense matrix, row-major.
#[derive(Debug, Clone)]
struct Dense {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Dense {
    fn from_rows_of(data: &[f64], rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            data: data.to_vec(),
        }
    }

    fn transposed(&self) -> Self {
        let mut data = vec![0.0; self.data.len()];
        for i in 0..self.rows {
            for j in 0..self.cols {
                data[j * self.rows + i] = self.data[i * self.cols + j];
            }
        }
        Self {
            rows: self.cols,
            cols: self.rows,
            data,
        }
    }
}

/// `x m` for sparse `x` and dense `m` (`x.dim` rows).
fn times(x: &SparseRows, m: &Dense) -> Dense {
    debug_assert_eq!(x.dim, m.rows);
    let cols = m.cols;
    let mut data = vec![0.0; x.rows() * cols];
    data.par_chunks_mut(cols).enumerate().for_each(|(i, out)| {
        let (columns, values) = x.row(i);
        for (&j, &v) in columns.iter().zip(values) {
            let mj = &m.data[j as usize * cols..(j as usize + 1) * cols];
            let v = f64::from(v);
            out.iter_mut().zip(mj).for_each(|(o, &w)| *o += v * w);
        }
    });
    Dense {
        rows: x.rows(),
        cols,
        data,
    }
}

/// `xᵀ` in the same compressed-row form.
fn transpose(x: &SparseRows) -> SparseRows {
    let mut counts = vec![0usize; x.dim + 1];
    for &j in &x.indices {
        counts[j as usize + 1] += 1;
    }
    for j in 0..x.dim {
        counts[j + 1] += counts[j];
    }
    let indptr = counts.clone();
    let mut next = counts;
    let mut indices = vec![0u32; x.indices.len()];
    let mut values = vec![0f32; x.values.len()];
    for i in 0..x.rows() {
        let (columns, vals) = x.row(i);
        for (&j, &v) in columns.iter().zip(vals) {
            let at = next[j as usize];
            indices[at] = i as u32;
            values[at] = v;
            next[j as usize] += 1;
        }
    }
    SparseRows {
        indptr,
        indices,
        values,
        dim: x.rows(),
    }
}

/// `mᵀ m`, `[cols][cols]` row-major, summed over fixed blocks of rows.
fn gram(m: &Dense) -> Vec<f64> {
    let c = m.cols;
    let partials: Vec<Vec<f64>> = m
        .data
        .par_chunks(BLOCK * c)
        .map(|block| {
            let mut g = vec![0.0; c * c];
            for row in block.chunks_exact(c) {
                for (a, &ra) in row.iter().enumerate() {
                    if ra != 0.0 {
                        let ga = &mut g[a * c..(a + 1) * c];
                        ga.iter_mut().zip(row).for_each(|(g, &rb)| *g += ra * rb);
                    }
                }
            }
            g
        })
        .collect();
    let mut g = vec![0.0; c * c];
    for p in partials {
        g.iter_mut().zip(p).for_each(|(g, p)| *g += p);
    }
    g
}

/// An orthonormal basis of `m`'s columns, as `m`'s shape: `m W Λ^-½` from
/// the eigen-decomposition of `mᵀ m`, twice (the second pass restores the
/// orthogonality the first loses to rounding). Directions whose eigenvalue
/// is below `1e-12` of the largest become zero columns.
fn orthonormal(mut m: Dense) -> Dense {
    for _ in 0..2 {
        let c = m.cols;
        let (values, vectors) = symmetric_eigen_sorted(&gram(&m), c);
        let top = values.first().copied().unwrap_or(0.0).max(0.0);
        let mut map = vec![0.0; c * c]; // W Λ^-½, [c][c]
        for (k, &value) in values.iter().enumerate() {
            if value > 1e-12 * top && value > 0.0 {
                let scale = value.sqrt().recip();
                for i in 0..c {
                    map[i * c + k] = vectors[i * c + k] * scale;
                }
            }
        }
        m.data.par_chunks_mut(c).for_each(|row| {
            let old = row.to_vec();
            for (k, out) in row.iter_mut().enumerate() {
                *out = (0..c).map(|i| old[i] * map[i * c + k]).sum();
            }
        });
    }
    m
}

/// Eigenvalues (largest first) and eigenvectors (the columns of the second
/// `[n][n]` row-major matrix, in the same order) of the symmetric `[n][n]`
/// matrix `a`: [`symmetric_eigen`]'s Jacobi rotations, sorted.
fn symmetric_eigen_sorted(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let (values, v) = symmetric_eigen(a.to_vec(), n, true);
    let v = v.expect("eigenvectors asked for");
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| values[j].total_cmp(&values[i]));
    let mut vectors = vec![0.0; n * n];
    for (new, &old) in order.iter().enumerate() {
        for k in 0..n {
            vectors[k * n + new] = v[k * n + old];
        }
    }
    (order.iter().map(|&i| values[i]).collect(), vectors)
}

/// A standard normal draw (Box–Muller).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rows` of dense values as sparse rows (zeros not stored).
    fn sparse(rows: &[&[f32]]) -> SparseRows {
        let dim = rows[0].len();
        let mut x = SparseRows {
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
            dim,
        };
        for row in rows {
            for (j, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    x.indices.push(j as u32);
                    x.values.push(v);
                }
            }
            x.indptr.push(x.indices.len());
        }
        x
    }

    #[test]
    fn a_two_by_two_matrix_gives_its_hand_computed_decomposition() {
        // X = [[3, 0], [4, 5]]: XᵀX = [[25, 20], [20, 25]] has eigenvalues 45
        // and 5 with eigenvectors (1, 1)/√2 and (1, -1)/√2, so the singular
        // values are √45 and √5, and X V = [[3/√2, 3/√2], [9/√2, -1/√2]].
        let x = sparse(&[&[3.0, 0.0], &[4.0, 5.0]]);
        let svd = truncated_svd(&x, 2, 2, 1);
        let (s, h) = (&svd.singular_values, std::f64::consts::FRAC_1_SQRT_2);
        assert!((s[0] - 45f64.sqrt()).abs() < 1e-12, "{s:?}");
        assert!((s[1] - 5f64.sqrt()).abs() < 1e-12, "{s:?}");
        // Each component is its singular vector up to a sign, and the
        // projection follows the component's sign. (The second vector's two
        // entries tie in size, so which is "largest" is up to rounding.)
        let expected = [[h, h], [h, -h]];
        let projected = svd.project(&x);
        let expected_projection = [[3.0 * h, 9.0 * h], [3.0 * h, -h]]; // per component
        for c in 0..2 {
            let got = &svd.components[c * 2..c * 2 + 2];
            let sign = if (got[0] - expected[c][0]).abs() < 1e-12 {
                1.0
            } else {
                -1.0
            };
            for j in 0..2 {
                assert!(
                    (got[j] - sign * expected[c][j]).abs() < 1e-12,
                    "{:?}",
                    svd.components
                );
                let p = projected[j * 2 + c];
                assert!(
                    (p - sign * expected_projection[c][j]).abs() < 1e-12,
                    "{projected:?}"
                );
            }
        }
        // The sign rule: each component's largest entry is positive.
        let first = &svd.components[..2];
        assert!(first[0] > 0.0 && first[1] > 0.0, "{first:?}");
    }

    /// An `n x d` matrix `U diag(s) Vᵀ` with orthonormal `U`, `V` drawn by
    /// `seed`: its singular values are `s`.
    fn with_singular_values(n: usize, d: usize, s: &[f64], seed: u64) -> (SparseRows, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut random = |rows, cols| {
            orthonormal(Dense {
                rows,
                cols,
                data: (0..rows * cols)
                    .map(|_| standard_normal(&mut rng))
                    .collect(),
            })
        };
        let (u, v) = (random(n, s.len()), random(d, s.len()));
        let mut data = vec![0f32; n * d];
        for i in 0..n {
            for j in 0..d {
                data[i * d + j] = (0..s.len())
                    .map(|k| u.data[i * s.len() + k] * s[k] * v.data[j * s.len() + k])
                    .sum::<f64>() as f32;
            }
        }
        let rows: Vec<&[f32]> = data.chunks_exact(d).collect();
        (sparse(&rows), v.data)
    }

    #[test]
    fn the_leading_singular_values_of_a_known_matrix_are_found() {
        let s = [10.0, 6.0, 3.0, 1.0, 0.5, 0.25, 0.1, 0.05];
        let (x, _) = with_singular_values(60, 40, &s, 3);
        let svd = truncated_svd(&x, 3, 5, 7);
        for (found, want) in svd.singular_values.iter().zip(&s) {
            assert!((found - want).abs() < 1e-5, "{:?}", svd.singular_values);
        }
        // Orthonormal components.
        for a in 0..3 {
            for b in 0..3 {
                let dot: f64 = (0..40)
                    .map(|j| svd.components[a * 40 + j] * svd.components[b * 40 + j])
                    .sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-6, "component {a}·{b} = {dot}");
            }
        }
    }

    #[test]
    fn a_rank_deficient_matrix_gets_zero_singular_values_past_its_rank() {
        // Two identical rows and a third twice the first: rank 1.
        let x = sparse(&[&[1.0, 2.0, 0.0], &[1.0, 2.0, 0.0], &[2.0, 4.0, 0.0]]);
        let svd = truncated_svd(&x, 3, 3, 2);
        let s = &svd.singular_values;
        assert!((s[0] - 30f64.sqrt()).abs() < 1e-10, "{s:?}"); // ‖X‖_F² = 5 + 5 + 20
        assert!(s[1].abs() < 1e-6 && s[2].abs() < 1e-6, "{s:?}");
        assert!(svd.components[3..].iter().all(|v| v.is_finite()));
    }

    #[test]
    fn the_decomposition_does_not_depend_on_the_thread_count() {
        let s = [5.0, 4.0, 3.0, 2.0, 1.0];
        let (x, _) = with_singular_values(3 * BLOCK + 17, 30, &s, 5);
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| truncated_svd(&x, 4, 2, 9))
        };
        assert_eq!(run(1), run(3));
    }
}
