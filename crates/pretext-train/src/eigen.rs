//! Eigenvalues, and on request eigenvectors, of a small symmetric matrix by
//! cyclic Jacobi rotations (Numerical Recipes, 11.1), in `f64`: the collapse
//! signal's effective rank needs the values of a `d × d` Gram matrix, the
//! k-means baseline's ZCA whitening the vectors of a patch covariance.

/// The eigenvalues of the symmetric `d × d` row-major matrix `a`, and with
/// `vectors` its eigenvectors as the columns of a `d × d` row-major matrix
/// (column `e` belongs to value `e`). Rotates until the off-diagonal mass is
/// negligible, at most 50 sweeps.
pub fn symmetric_eigen(mut a: Vec<f64>, d: usize, vectors: bool) -> (Vec<f64>, Option<Vec<f64>>) {
    assert_eq!(a.len(), d * d, "a {d} x {d} matrix");
    let mut v = vectors.then(|| {
        let mut v = vec![0f64; d * d];
        (0..d).for_each(|i| v[i * d + i] = 1.0);
        v
    });
    let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
    for _sweep in 0..50 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * d + j] * a[i * d + j])
            .sum();
        if off <= 1e-22 * scale {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                // The rotation that zeroes a[p][q].
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                rotate_columns(&mut a, d, p, q, c, s);
                for k in 0..d {
                    let (apk, aqk) = (a[p * d + k], a[q * d + k]);
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
                if let Some(v) = v.as_mut() {
                    rotate_columns(v, d, p, q, c, s);
                }
            }
        }
    }
    ((0..d).map(|i| a[i * d + i]).collect(), v)
}

/// Columns `p` and `q` of the `d × d` row-major `m` turned by (c, s).
fn rotate_columns(m: &mut [f64], d: usize, p: usize, q: usize, c: f64, s: f64) {
    for k in 0..d {
        let (mkp, mkq) = (m[k * d + p], m[k * d + q]);
        m[k * d + p] = c * mkp - s * mkq;
        m[k * d + q] = s * mkp + c * mkq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_eigenpairs_of_a_known_matrix() {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3, eigenvectors (1, -1) and (1, 1) / √2.
        let (values, v) = symmetric_eigen(vec![2.0, 1.0, 1.0, 2.0], 2, true);
        let v = v.unwrap();
        for (e, &l) in values.iter().enumerate() {
            let (x, y) = (v[e], v[2 + e]);
            assert!((2.0 * x + y - l * x).abs() < 1e-9 && (x + 2.0 * y - l * y).abs() < 1e-9);
            assert!((x * x + y * y - 1.0).abs() < 1e-9);
        }
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        assert!((sorted[0] - 1.0).abs() < 1e-9 && (sorted[1] - 3.0).abs() < 1e-9);
        assert_eq!(
            symmetric_eigen(vec![2.0, 1.0, 1.0, 2.0], 2, false).0,
            values
        );
    }
}
