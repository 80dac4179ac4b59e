//! A dense row-major feature matrix, one row per sample: what evaluation's
//! probes fit on and what a report's embedding maps draw.

/// A dense row-major matrix of features: one row per sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// Number of samples (rows).
    pub rows: usize,
    /// Number of features per sample (columns).
    pub dim: usize,
    /// The values, row after row: `data[i * dim + j]` is feature `j` of sample `i`.
    pub data: Vec<f32>,
}

impl Features {
    /// Wraps `data` as a `rows × dim` matrix.
    ///
    /// # Panics
    /// If `data.len() != rows * dim`.
    pub fn new(rows: usize, dim: usize, data: Vec<f32>) -> Self {
        assert_eq!(
            data.len(),
            rows * dim,
            "features: {rows} rows × {dim} dims need {} values, got {}",
            rows * dim,
            data.len()
        );
        Self { rows, dim, data }
    }

    /// The features of sample `i`.
    ///
    /// # Panics
    /// If `i >= self.rows`.
    pub fn row(&self, i: usize) -> &[f32] {
        assert!(i < self.rows, "features: row {i} of {}", self.rows);
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The rows named by `indices`, in that order (repeats allowed).
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn select(&self, indices: &[usize]) -> Features {
        let mut data = Vec::with_capacity(indices.len() * self.dim);
        for &i in indices {
            data.extend_from_slice(self.row(i));
        }
        Features::new(indices.len(), self.dim, data)
    }

    /// Each row divided by its Euclidean norm (floored at 1e-12, so an all-zero
    /// row stays zero).
    pub fn l2_normalized(&self) -> Features {
        let mut data = self.data.clone();
        if self.dim > 0 {
            for row in data.chunks_exact_mut(self.dim) {
                let norm = row
                    .iter()
                    .map(|&v| f64::from(v) * f64::from(v))
                    .sum::<f64>()
                    .sqrt()
                    .max(1e-12);
                for v in row.iter_mut() {
                    *v = (f64::from(*v) / norm) as f32;
                }
            }
        }
        Features::new(self.rows, self.dim, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Features {
        Features::new(3, 2, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    }

    #[test]
    fn rows_and_select_follow_the_given_order() {
        let x = sample();
        assert_eq!(x.row(1), &[3.0, 4.0]);
        let s = x.select(&[2, 0, 2]);
        assert_eq!(s.rows, 3);
        assert_eq!(s.data, vec![5.0, 6.0, 1.0, 2.0, 5.0, 6.0]);
        assert_eq!(x.select(&[]).rows, 0);
    }

    #[test]
    #[should_panic(expected = "need 6 values")]
    fn new_rejects_a_wrong_length() {
        let _ = Features::new(3, 2, vec![0.0; 5]);
    }

    #[test]
    fn l2_normalized_rows_have_unit_norm_and_zero_rows_stay_zero() {
        let x = Features::new(3, 2, vec![3.0, 4.0, 0.0, 0.0, -2.0, 0.0]);
        let n = x.l2_normalized();
        assert_eq!(n.data, vec![0.6, 0.8, 0.0, 0.0, -1.0, 0.0]);
        for i in [0, 2] {
            let norm: f32 = n.row(i).iter().map(|v| v * v).sum();
            assert!((norm - 1.0).abs() < 1e-6);
        }
    }
}
