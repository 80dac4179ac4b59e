//! The SimSiam loss (Chen and He, 2021, "Exploring Simple Siamese
//! Representation Learning", eq. 3-4): the negative cosine similarity between
//! one view's prediction and the other view's projection, with a stop-gradient
//! on the projection, averaged over the two directions.
use burn::tensor::Tensor;

use super::predicted_cosines::predicted_cosines;

/// `D(p1, stopgrad(z2)) / 2 + D(p2, stopgrad(z1)) / 2`.
///
/// # Shapes
/// - `p1`, `p2`, `z1`, `z2`: `[n, d]`
/// - output: `[1]`, in `[-1, 1]` (−1 when predictions and projections align)
pub fn simsiam(p1: Tensor<2>, p2: Tensor<2>, z1: Tensor<2>, z2: Tensor<2>) -> Tensor<1> {
    // D(p, z) = -mean_i cos(p_i, z_i).
    let [c1, c2] = predicted_cosines(("simsiam", "projection"), [p1, p2], [z1, z2]);
    (c1 + c2).neg() * 0.5
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::testing::{descend_predictor, predictor_loss_at_reference};

    #[test]
    fn matches_the_reference_value() {
        // numpy, after the paper's Algorithm 1:
        //   n = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)
        //   D = lambda p, z: -(n(p) * n(z)).sum(1).mean()
        //   0.5 * D(p1, z2) + 0.5 * D(p2, z1)
        //   -> -0.6771362056911752
        let v = predictor_loss_at_reference(simsiam);
        assert!((v + 0.677_136_2).abs() < 1e-5, "loss {v}");
    }

    #[test]
    fn falls_under_gradient_steps_and_stops_the_projection_gradient() {
        let (first, last) = descend_predictor(simsiam, 16.0);
        assert!(last < first - 0.5, "{first} -> {last}");
    }
}
