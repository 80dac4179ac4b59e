//! The BYOL loss (Grill et al., 2020, "Bootstrap Your Own Latent", eq. 2):
//! the online network's prediction of one view regresses the target
//! network's projection of the other, both L2-normalised, so each term is
//! `2 - 2 cos(p, z)`; the two directions are summed.
use burn::tensor::Tensor;

use super::predicted_cosines::predicted_cosines;

/// The symmetrised BYOL loss: predictions `p1`, `p2` of the online network
/// against the target projections `z2`, `z1` of the other view. The target
/// projections are detached here: no gradient reaches the target network.
///
/// # Shapes
/// - `p1`, `p2`, `z1`, `z2`: `[n, d]`
/// - output: `[1]`, in `[0, 8]`
pub fn byol(p1: Tensor<2>, p2: Tensor<2>, z1: Tensor<2>, z2: Tensor<2>) -> Tensor<1> {
    // Each direction is mean_i (2 - 2 cos(p_i, z_i)) = 2 - 2 mean_i cos.
    let [c1, c2] = predicted_cosines(("byol", "target"), [p1, p2], [z1, z2]);
    (c1 + c2).neg() * 2.0 + 4.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::testing::{descend_predictor, predictor_loss_at_reference};

    #[test]
    fn matches_the_reference_value() {
        // numpy, after the paper's pseudo-code (normalised MSE = 2 - 2 cos):
        //   n = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)
        //   cos = lambda a, b: (n(a) * n(b)).sum(1)
        //   (2 - 2*cos(p1, z2)).mean() + (2 - 2*cos(p2, z1)).mean()
        //   -> 1.2914551772352991
        let v = predictor_loss_at_reference(byol);
        assert!((v - 1.291_455_2).abs() < 1e-5, "loss {v}");
    }

    #[test]
    fn falls_under_gradient_steps_and_leaves_the_target_alone() {
        let (first, last) = descend_predictor(byol, 2.0);
        assert!(last < 0.5 * first, "{first} -> {last}");
    }
}
