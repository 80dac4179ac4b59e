//! The VICReg loss (Bardes, Ponce and LeCun, 2022, "VICReg:
//! Variance-Invariance-Covariance Regularization for Self-Supervised
//! Learning", eqs. 1-6): the views' mean squared distance (invariance), a
//! hinge keeping each dimension's standard deviation above 1 (variance), and
//! the squared off-diagonal covariances (covariance), weighted 25, 25 and 1.
use burn::tensor::Tensor;
use burn::tensor::activation::relu;

/// The weights of the three terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VicregWeights {
    /// Invariance (the paper's lambda, 25).
    pub invariance: f32,
    /// Variance (mu, 25).
    pub variance: f32,
    /// Covariance (nu, 1).
    pub covariance: f32,
}

impl Default for VicregWeights {
    fn default() -> Self {
        Self {
            invariance: 25.0,
            variance: 25.0,
            covariance: 1.0,
        }
    }
}

/// Variance hinge and off-diagonal covariance of one batch.
///
/// # Shapes
/// `z`: `[n, d]` → (`[1]`, `[1]`)
fn variance_and_covariance(z: Tensor<2>) -> (Tensor<1>, Tensor<1>) {
    let [n, d] = z.dims();
    let centred = z.clone() - z.mean_dim(0); // [n, d]
    let var = centred.clone().powf_scalar(2.0).sum_dim(0) / (n - 1) as f32; // [1, d], unbiased
    let hinge = relu((var.clone() + 1e-4).sqrt().neg() + 1.0).mean();
    let cov = centred.clone().transpose().matmul(centred) / (n - 1) as f32; // [d, d]
    let off = (cov.powf_scalar(2.0).sum() - var.powf_scalar(2.0).sum()) / d as f32;
    (hinge, off)
}

/// The VICReg loss of two batches of projections (row `i` of each is a view
/// of image `i`).
///
/// # Shapes
/// - `z1`, `z2`: `[n, d]`, `n >= 2`
/// - output: `[1]`
pub fn vicreg(z1: Tensor<2>, z2: Tensor<2>, weights: VicregWeights) -> Tensor<1> {
    assert_eq!(
        z1.dims(),
        z2.dims(),
        "vicreg: the two views differ in shape"
    );
    assert!(
        z1.dims()[0] >= 2,
        "vicreg: needs at least two images per batch"
    );
    let invariance = (z1.clone() - z2.clone()).powf_scalar(2.0).mean();
    let (var1, cov1) = variance_and_covariance(z1);
    let (var2, cov2) = variance_and_covariance(z2);
    invariance * weights.invariance
        + (var1 + var2) * (weights.variance / 2.0)
        + (cov1 + cov2) * weights.covariance
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution};

    use super::*;
    use crate::loss::testing::{descend, reference_views};

    #[test]
    fn matches_the_reference_value() {
        // numpy, after facebookresearch/vicreg main_vicreg.py:
        //   inv = ((z1 - z2)**2).mean(); x, y = z1 - z1.mean(0), z2 - z2.mean(0)
        //   std_x = np.sqrt(x.var(0, ddof=1) + 1e-4)   (same for y)
        //   std = np.maximum(0, 1 - std_x).mean() / 2 + np.maximum(0, 1 - std_y).mean() / 2
        //   cov = off(x.T @ x / (n - 1)) / d + off(y.T @ y / (n - 1)) / d
        //   25 * inv + 25 * std + cov -> 10.830913490172373
        let (z1, z2) = reference_views();
        let loss = vicreg(z1, z2, VicregWeights::default());
        assert_eq!(loss.dims(), [1]);
        let v: f32 = loss.into_scalar();
        assert!((v - 10.830_913).abs() < 1e-4, "loss {v}");
    }

    #[test]
    fn falls_under_gradient_steps() {
        // Both views are trained (stacked in one leaf): with one view fixed,
        // its variance term could not fall.
        let d = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&d, 5);
        let z = Tensor::<2>::random([32, 4], Distribution::Normal(0.0, 0.1), &d);
        let loss_of = |z: Tensor<2>| {
            vicreg(
                z.clone().narrow(0, 0, 16),
                z.narrow(0, 16, 16),
                VicregWeights::default(),
            )
        };
        let (first, last) = descend(loss_of, z, 0.5);
        assert!(last < 0.5 * first, "{first} -> {last}");
    }
}
