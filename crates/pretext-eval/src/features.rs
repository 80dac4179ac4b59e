//! The downstream probes' helpers on plain feature matrices ([`Features`],
//! defined with the run records in `pretext-runs`): per-dimension
//! standardisation ([`Standardizer`], the z-scoring every linear probe
//! applies before fitting), [`accuracy`], [`confusion_matrix`] and
//! [`argmax`].

pub use pretext_runs::Features;

/// Per-dimension standardisation fitted on training features (mean 0, std 1).
/// A dimension constant on the training features (std at the 1e-6 floor)
/// maps to 0 on any features, the training set's and new ones alike: the
/// fit learnt nothing about it, and dividing a new value by the floor would
/// blow it up a millionfold and swamp every other dimension.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Standardizer {
    /// Per-dimension mean of the training features.
    pub mean: Vec<f32>,
    /// Per-dimension (population) standard deviation, floored at 1e-6.
    pub std: Vec<f32>,
}

impl Standardizer {
    /// Smallest standard deviation divided by: a constant dimension maps to 0.
    const MIN_STD: f64 = 1e-6;

    /// Fits the mean and population standard deviation of each dimension of
    /// `x` (accumulated in f64, two passes). With no rows the mean is 0 and the
    /// std is the floor.
    pub fn fit(x: &Features) -> Self {
        let dim = x.dim;
        let mut sum = vec![0.0f64; dim];
        let mut sq = vec![0.0f64; dim];
        if dim > 0 {
            for row in x.data.chunks_exact(dim) {
                for (s, &v) in sum.iter_mut().zip(row) {
                    *s += f64::from(v);
                }
            }
        }
        let n = x.rows.max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        if dim > 0 {
            for row in x.data.chunks_exact(dim) {
                for ((s, &v), &m) in sq.iter_mut().zip(row).zip(&mean) {
                    let d = f64::from(v) - m;
                    *s += d * d;
                }
            }
        }
        Self {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std: sq
                .iter()
                .map(|s| (s / n).sqrt().max(Self::MIN_STD) as f32)
                .collect(),
        }
    }

    /// `(x - mean) / std`, dimension by dimension.
    ///
    /// # Panics
    /// If `x.dim` differs from the fitted dimension.
    pub fn apply(&self, x: &Features) -> Features {
        assert_eq!(
            x.dim,
            self.mean.len(),
            "standardizer fitted on {} dims, applied to {}",
            self.mean.len(),
            x.dim
        );
        let floor = Self::MIN_STD as f32;
        let inv: Vec<f32> = self
            .std
            .iter()
            .map(|&s| if s <= floor { 0.0 } else { 1.0 / s })
            .collect();
        let mut data = x.data.clone();
        if x.dim > 0 {
            for row in data.chunks_exact_mut(x.dim) {
                for ((v, &m), &i) in row.iter_mut().zip(&self.mean).zip(&inv) {
                    *v = (*v - m) * i;
                }
            }
        }
        Features::new(x.rows, x.dim, data)
    }
}

/// Fraction of predictions equal to the truth (0 for empty input).
///
/// # Panics
/// If the two slices differ in length.
pub fn accuracy(predicted: &[u32], truth: &[u32]) -> f32 {
    assert_eq!(
        predicted.len(),
        truth.len(),
        "accuracy: {} predictions for {} labels",
        predicted.len(),
        truth.len()
    );
    if truth.is_empty() {
        return 0.0;
    }
    let correct = predicted.iter().zip(truth).filter(|(p, t)| p == t).count();
    (correct as f64 / truth.len() as f64) as f32
}

/// The confusion matrix: `m[t][p]` counts test images of class `t`
/// predicted as `p` (`classes × classes`; out-of-range classes are dropped).
pub fn confusion_matrix(predicted: &[u32], truth: &[u32], classes: usize) -> Vec<Vec<u32>> {
    assert_eq!(predicted.len(), truth.len(), "confusion: lengths differ");
    let mut m = vec![vec![0u32; classes]; classes];
    for (&p, &t) in predicted.iter().zip(truth) {
        if let Some(cell) = m.get_mut(t as usize).and_then(|r| r.get_mut(p as usize)) {
            *cell += 1;
        }
    }
    m
}

/// Index of the largest value (first on ties; NaN never wins; 0 for an empty
/// slice).
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate().skip(1) {
        if x > v[best] || (v[best].is_nan() && !x.is_nan()) {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_counts_truth_by_prediction() {
        let m = confusion_matrix(&[0, 1, 1, 2, 0], &[0, 1, 2, 2, 1], 3);
        assert_eq!(m, vec![vec![1, 0, 0], vec![1, 1, 0], vec![0, 1, 1]]);
        let total: u32 = m.iter().flatten().sum();
        assert_eq!(total, 5);
    }

    #[test]
    fn standardizer_gives_zero_mean_unit_std_and_zeroes_constant_dims() {
        // Column 0: 1, 3, 5 (mean 3, population std sqrt(8/3)); column 1 constant.
        let x = Features::new(3, 2, vec![1.0, 7.0, 3.0, 7.0, 5.0, 7.0]);
        let s = Standardizer::fit(&x);
        assert!((s.mean[0] - 3.0).abs() < 1e-6);
        assert!((s.std[0] - (8.0f32 / 3.0).sqrt()).abs() < 1e-6);
        assert_eq!(s.std[1], 1e-6);
        let z = s.apply(&x);
        let col0: Vec<f32> = (0..3).map(|i| z.row(i)[0]).collect();
        let mean: f32 = col0.iter().sum::<f32>() / 3.0;
        let var: f32 = col0.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 3.0;
        assert!(mean.abs() < 1e-6);
        assert!((var - 1.0).abs() < 1e-5);
        assert!((0..3).all(|i| z.row(i)[1] == 0.0));
        // Applying to new data uses the training statistics; a dimension
        // constant in training stays 0 however new data varies on it (not
        // (8 - 7) / 1e-6 = 1e6, which would swamp every other dimension).
        let other = s.apply(&Features::new(2, 2, vec![3.0, 8.0, 5.0, -2.0]));
        assert!(other.data[0].abs() < 1e-6);
        assert_eq!((other.data[1], other.data[3]), (0.0, 0.0));
    }

    #[test]
    fn accuracy_counts_matches() {
        assert_eq!(accuracy(&[0, 1, 2, 2], &[0, 1, 1, 2]), 0.75);
        assert_eq!(accuracy(&[], &[]), 0.0);
    }

    #[test]
    fn argmax_takes_the_first_of_ties() {
        assert_eq!(argmax(&[0.1, 0.5, 0.2]), 1);
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
        assert_eq!(argmax(&[f32::NAN, -1.0]), 1);
        assert_eq!(argmax(&[2.0]), 0);
    }
}
