//! The Barlow Twins loss (Zbontar et al., 2021, "Barlow Twins:
//! Self-Supervised Learning via Redundancy Reduction", eq. 1): standardise
//! each projection dimension over the batch, form the cross-correlation
//! matrix `C` of the two views, and push it towards the identity:
//! `sum_i (1 - C_ii)^2 + lambda * sum_{i != j} C_ij^2`.
use burn::tensor::Tensor;

/// Standardises each column over the batch, as batch norm without affine
/// parameters does (population variance, eps 1e-5).
///
/// # Shapes
/// `[n, d]` → `[n, d]`
fn standardise(z: Tensor<2>) -> Tensor<2> {
    let mean = z.clone().mean_dim(0); // [1, d]
    let var = z.clone().var_bias(0); // [1, d]
    (z - mean) / (var + 1e-5).sqrt()
}

/// The Barlow Twins loss of two batches of projections (row `i` of each is
/// a view of image `i`), with off-diagonal weight `lambda` (0.0051 in the paper).
///
/// # Shapes
/// - `z1`, `z2`: `[n, d]`, `n >= 2`
/// - output: `[1]`
pub fn barlow_twins(z1: Tensor<2>, z2: Tensor<2>, lambda: f32) -> Tensor<1> {
    assert_eq!(
        z1.dims(),
        z2.dims(),
        "barlow_twins: the two views differ in shape"
    );
    let [n, _] = z1.dims();
    assert!(n >= 2, "barlow_twins: needs at least two images per batch");
    let (a, b) = (standardise(z1), standardise(z2));
    let diag = (a.clone() * b.clone()).sum_dim(0) / n as f32; // [1, d]: C_ii
    let c = a.transpose().matmul(b) / n as f32; // [d, d]
    let on = (diag.clone() - 1.0).powf_scalar(2.0).sum();
    let off = c.powf_scalar(2.0).sum() - diag.powf_scalar(2.0).sum();
    on + off * lambda
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution};

    use super::*;
    use crate::loss::testing::{descend, reference_views};

    #[test]
    fn matches_the_reference_value() {
        // numpy, after facebookresearch/barlowtwins (BatchNorm1d(affine=False)):
        //   bn = lambda z: (z - z.mean(0)) / np.sqrt(z.var(0) + 1e-5)
        //   c = bn(z1).T @ bn(z2) / n
        //   (np.diag(c) - 1)**2).sum() + 0.0051 * ((c**2).sum() - (np.diag(c)**2).sum())
        //   -> 0.052662781579322686
        let (z1, z2) = reference_views();
        let loss = barlow_twins(z1, z2, 0.0051);
        assert_eq!(loss.dims(), [1]);
        let v: f32 = loss.into_scalar();
        assert!((v - 0.052_662_78).abs() < 1e-4, "loss {v}");
    }

    #[test]
    fn falls_under_gradient_steps() {
        let d = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&d, 5);
        let z1 = Tensor::<2>::random([16, 4], Distribution::Normal(0.0, 1.0), &d);
        let z2 = Tensor::<2>::random([16, 4], Distribution::Normal(0.0, 1.0), &d);
        let (first, last) = descend(|z| barlow_twins(z, z2.clone(), 0.0051), z1, 0.5);
        assert!(last < 0.5 * first, "{first} -> {last}");
    }
}
