//! NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR
//! (Chen et al., 2020, "A Simple Framework for Contrastive Learning of Visual
//! Representations", eq. 1).
//!
//! For `2N` projections of `N` images (two views each), every projection's
//! positive is the other view of its image and its negatives are the other
//! `2N - 2` projections:
//! `l(i, j) = -log( exp(sim(z_i, z_j)/t) / sum_{k != i} exp(sim(z_i, z_k)/t) )`,
//! averaged over all `2N` anchors.
use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Int, Tensor};

/// L2-normalises each row.
///
/// # Shapes
/// `[n, d]` → `[n, d]`
pub fn l2_normalize(z: Tensor<2>) -> Tensor<2> {
    let norm = z
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .sqrt()
        .clamp_min(1e-12); // [n, 1]
    z / norm
}

/// The temperature-scaled cosine similarities of the `2n` projections of two
/// views (`z1` then `z2`, normalised), and each one's positive: the index of
/// the other view of its image (`i + n` in the first half, `i - n` in the
/// second).
///
/// # Shapes
/// - `z1`, `z2`: `[n, d]`
/// - output: `[2n, 2n]` similarities, `[2n, 1]` positive indices
pub(crate) fn pair_similarities(
    z1: Tensor<2>,
    z2: Tensor<2>,
    temperature: f32,
) -> (Tensor<2>, Tensor<2, Int>) {
    let [n, _] = z1.dims();
    let device = z1.device();
    let z = l2_normalize(Tensor::cat(vec![z1, z2], 0)); // [2n, d]
    let sim = z.clone().matmul(z.transpose()) / temperature; // [2n, 2n]
    let positives = Tensor::cat(
        vec![
            Tensor::<1, Int>::arange(n as i64..2 * n as i64, &device),
            Tensor::<1, Int>::arange(0..n as i64, &device),
        ],
        0,
    )
    .reshape([2 * n, 1]);
    (sim, positives)
}

/// The NT-Xent loss of two batches of projections, where row `i` of `z1` and
/// row `i` of `z2` are two views of one image.
///
/// # Shapes
/// - `z1`, `z2`: `[n, d]`
/// - output: `[1]`
///
/// # Panics
/// If the two batches differ in shape or `temperature <= 0`.
pub fn nt_xent(z1: Tensor<2>, z2: Tensor<2>, temperature: f32) -> Tensor<1> {
    assert_eq!(
        z1.dims(),
        z2.dims(),
        "nt_xent: the two views differ in shape"
    );
    assert!(temperature > 0.0, "nt_xent: temperature must be positive");
    let [n, _] = z1.dims();
    let device = z1.device();
    let (sim, positives) = pair_similarities(z1, z2, temperature);
    // `diag_mask` is false on the diagonal: invert it to mask self-similarity.
    let self_mask = Tensor::<2, Bool>::diag_mask([2 * n, 2 * n], 0, &device).bool_not();
    let sim = sim.mask_fill(self_mask, -1e9);
    let log_prob = log_softmax(sim, 1); // [2n, 2n]
    -log_prob.gather(1, positives).mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::testing::descend_pair;
    use burn::tensor::{Device, TensorData};

    fn device() -> Device {
        Device::flex()
    }

    /// Reference computed in plain Python (same formula as
    /// `lightly.loss.NTXentLoss` and the SimCLR paper):
    ///
    /// ```python
    /// import math
    /// z1 = [[1.0, 2.0, 0.5], [-1.0, 0.3, 2.0]]
    /// z2 = [[0.9, 2.2, 0.1], [0.2, -0.5, 1.5]]
    /// t = 0.5
    /// z = [[x / math.sqrt(sum(v * v for v in r)) for x in r] for r in z1 + z2]
    /// n = len(z1); loss = 0.0
    /// for i in range(2 * n):
    ///     s = [sum(a * b for a, b in zip(z[i], z[k])) / t for k in range(2 * n)]
    ///     pos = (i + n) % (2 * n)
    ///     denom = sum(math.exp(s[k]) for k in range(2 * n) if k != i)
    ///     loss += -(s[pos] - math.log(denom))
    /// print(loss / (2 * n))   # 0.30382895807599997
    /// ```
    #[test]
    fn matches_the_reference_value() {
        let d = device();
        let z1 = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 0.5, -1.0, 0.3, 2.0], [2, 3]),
            &d,
        );
        let z2 = Tensor::<2>::from_data(
            TensorData::new(vec![0.9f32, 2.2, 0.1, 0.2, -0.5, 1.5], [2, 3]),
            &d,
        );
        let loss: f32 = nt_xent(z1, z2, 0.5).into_scalar();
        assert!((loss - 0.303_828_96).abs() < 1e-5, "loss {loss}");
    }

    #[test]
    fn identical_views_far_apart_give_a_small_loss_and_shape_one() {
        let d = device();
        // One-hot rows: each view's positive is identical, negatives orthogonal.
        let eye = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], [3, 3]),
            &d,
        );
        let loss = nt_xent(eye.clone(), eye, 0.1);
        assert_eq!(loss.dims(), [1]);
        let v: f32 = loss.into_scalar();
        assert!(v < 1e-3, "loss {v}");
    }

    #[test]
    fn falls_under_gradient_steps() {
        let (first, last) = descend_pair(|z1, z2| nt_xent(z1, z2, 0.5), 1.0);
        assert!(last < first * 0.8, "first {first}, last {last}");
    }
}
