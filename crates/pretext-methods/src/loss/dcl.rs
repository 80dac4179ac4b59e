//! The decoupled contrastive loss (Yeh et al., 2022, "Decoupled Contrastive
//! Learning", eq. 6): NT-Xent without the positive in the denominator.
//!
//! For `2N` projections of `N` images (two views each), every projection's
//! positive is the other view of its image and its negatives are the other
//! `2N - 2` projections:
//! `l(i, j) = -sim(z_i, z_j)/t + log sum_{k != i, j} exp(sim(z_i, z_k)/t)`,
//! averaged over all `2N` anchors. With the positive out of the
//! denominator, the gradient no longer shrinks as the positive pair gets
//! close (NT-Xent's "negative-positive coupling"), which is what makes small
//! batches learn slowly under NT-Xent.
use burn::tensor::{Bool, Tensor};

use super::nt_xent::pair_similarities;

/// The decoupled contrastive loss of two batches of projections, where row
/// `i` of `z1` and row `i` of `z2` are two views of one image. It can be
/// negative.
///
/// # Shapes
/// - `z1`, `z2`: `[n, d]`, `n >= 2`
/// - output: `[1]`
///
/// # Panics
/// If the two batches differ in shape, hold fewer than two images, or
/// `temperature <= 0`.
pub fn dcl(z1: Tensor<2>, z2: Tensor<2>, temperature: f32) -> Tensor<1> {
    assert_eq!(z1.dims(), z2.dims(), "dcl: the two views differ in shape");
    assert!(temperature > 0.0, "dcl: temperature must be positive");
    let [n, _] = z1.dims();
    assert!(
        n >= 2,
        "dcl: a batch needs two images or more for negatives"
    );
    let device = z1.device();
    let (sim, positives) = pair_similarities(z1, z2, temperature);
    let positive = sim.clone().gather(1, positives); // [2n, 1]
    // Neither the anchor itself nor its positive is a negative: the diagonal
    // of the identity and the identity shifted by n, both ways.
    let size = [2 * n, 2 * n];
    let not_negative = Tensor::<2, Bool>::diag_mask(size, 0, &device)
        .bool_and(Tensor::<2, Bool>::diag_mask(size, n as i64, &device))
        .bool_and(Tensor::<2, Bool>::diag_mask(size, -(n as i64), &device))
        .bool_not();
    let negatives = sim.mask_fill(not_negative, -1e9);
    // log-sum-exp over each row's negatives, shifted by the row's largest.
    let top = negatives.clone().max_dim(1); // [2n, 1]
    let log_sum = (negatives - top.clone()).exp().sum_dim(1).log() + top; // [2n, 1]
    (log_sum - positive).mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::testing::{descend_pair, reference_views};
    use burn::tensor::{Device, Distribution};

    /// Reference computed in plain Python (the paper's eq. 6; NT-Xent's
    /// reference in `nt_xent.rs` with the positive taken out of the sum):
    ///
    /// ```python
    /// import math
    /// z1 = [[1.0, 2.0, 0.5], [-1.0, 0.3, 2.0], [0.2, -0.7, 1.1], [1.5, 0.4, -0.3]]
    /// z2 = [[0.9, 2.2, 0.1], [0.2, -0.5, 1.5], [0.0, -1.0, 0.8], [1.2, 0.9, -0.6]]
    /// t = 0.5
    /// z = [[x / math.sqrt(sum(v * v for v in r)) for x in r] for r in z1 + z2]
    /// n = len(z1); loss = 0.0
    /// for i in range(2 * n):
    ///     s = [sum(a * b for a, b in zip(z[i], z[k])) / t for k in range(2 * n)]
    ///     pos = (i + n) % (2 * n)
    ///     denom = sum(math.exp(s[k]) for k in range(2 * n) if k != i and k != pos)
    ///     loss += -(s[pos] - math.log(denom))
    /// print(loss / (2 * n))   # 0.5717295629523624
    /// ```
    #[test]
    fn matches_the_reference_value() {
        let (z1, z2) = reference_views();
        let loss = dcl(z1, z2, 0.5);
        assert_eq!(loss.dims(), [1]);
        let loss: f32 = loss.into_scalar();
        assert!((loss - 0.571_729_56).abs() < 1e-5, "loss {loss}");
    }

    #[test]
    fn is_nt_xent_without_the_positive_in_the_denominator() {
        // NT-Xent's denominator is DCL's plus the positive term, so NT-Xent
        // exceeds DCL by the mean of log(1 + exp(s_p) / sum of exp(s_neg)).
        let d = Device::flex();
        let z1 = Tensor::<2>::random([6, 5], Distribution::Normal(0.0, 1.0), &d);
        let z2 = Tensor::<2>::random([6, 5], Distribution::Normal(0.0, 1.0), &d);
        let ours: f32 = dcl(z1.clone(), z2.clone(), 0.3).into_scalar();
        let coupled: f32 = crate::loss::nt_xent(z1, z2, 0.3).into_scalar();
        assert!(ours < coupled, "dcl {ours}, nt_xent {coupled}");
    }

    #[test]
    fn falls_under_gradient_steps() {
        let (first, last) = descend_pair(|z1, z2| dcl(z1, z2, 0.5), 1.0);
        assert!(last < first - 0.5, "first {first}, last {last}");
    }
}
