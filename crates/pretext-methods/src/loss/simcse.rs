//! The unsupervised SimCSE loss (Gao et al., 2021, "SimCSE: Simple
//! Contrastive Learning of Sentence Embeddings", eq. 1): each sentence's
//! positive is its own second encoding (another dropout mask) and its
//! negatives are the second encodings of the other sentences in the batch:
//! `l_i = -log( exp(sim(h1_i, h2_i)/t) / sum_j exp(sim(h1_i, h2_j)/t) )`,
//! cosine similarity, averaged over the batch. One direction only, as in the
//! paper's code (`cos_sim(z1, z2)` against `arange(n)`).
use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

use super::l2_normalize;

/// Cross-entropy of each row of `cos_sim(h1, h2) / temperature` against its
/// diagonal entry, averaged over the rows.
///
/// # Shapes
/// - `h1`, `h2`: `[n, d]`
/// - output: `[1]`
///
/// # Panics
/// If the two batches differ in shape or `temperature <= 0`.
pub fn simcse(h1: Tensor<2>, h2: Tensor<2>, temperature: f32) -> Tensor<1> {
    assert_eq!(
        h1.dims(),
        h2.dims(),
        "simcse: the two encodings differ in shape"
    );
    assert!(temperature > 0.0, "simcse: temperature must be positive");
    let [n, _] = h1.dims();
    let device = h1.device();
    let sim = l2_normalize(h1).matmul(l2_normalize(h2).transpose()) / temperature; // [n, n]
    let targets = Tensor::<1, Int>::arange(0..n as i64, &device).reshape([n, 1]);
    -log_softmax(sim, 1).gather(1, targets).mean()
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution};

    use super::*;
    use crate::loss::testing::{descend, reference_views};

    #[test]
    fn matches_the_reference_value() {
        // numpy, after the paper's eq. 1 (cross-entropy over cos_sim / t):
        //   n = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)
        //   s = n(z1) @ n(z2).T / 0.05
        //   (logsumexp(s, 1) - np.diag(s)).mean()
        //   -> 0.27871616332927296
        let (z1, z2) = reference_views();
        let v: f32 = simcse(z1, z2, 0.05).into_scalar();
        assert!((v - 0.278_716_16).abs() < 1e-5, "loss {v}");
    }

    #[test]
    fn gives_one_value_and_is_small_for_identical_orthogonal_rows() {
        let d = Device::flex();
        let eye = Tensor::<2>::eye(3, &d);
        let loss = simcse(eye.clone(), eye, 0.05);
        assert_eq!(loss.dims(), [1]);
        let v: f32 = loss.into_scalar();
        assert!(v < 1e-6, "loss {v}");
    }

    #[test]
    fn falls_under_gradient_steps() {
        let d = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&d, 7);
        let h1 = Tensor::<2>::random([16, 8], Distribution::Normal(0.0, 1.0), &d);
        let h2 = Tensor::<2>::random([16, 8], Distribution::Normal(0.0, 1.0), &d);
        let (first, last) = descend(|h| simcse(h, h2.clone(), 0.5), h1, 2.0);
        assert!(last < 0.8 * first, "{first} -> {last}");
    }
}
