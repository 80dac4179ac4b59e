//! The InfoNCE loss with a queue of negatives, as in MoCo (He et al., 2020,
//! "Momentum Contrast for Unsupervised Visual Representation Learning",
//! Algorithm 1; Chen et al., 2020, "Improved Baselines with Momentum
//! Contrastive Learning"): each query's positive is the key of the same
//! image; the negatives are the keys of earlier batches held in the queue.
use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;

use super::l2_normalize;

/// Cross-entropy of `[q·k+, q·queue_1, ..., q·queue_K] / temperature`
/// against the positive, averaged over the batch. `q`, `k` and the queue
/// rows are L2-normalised here; the keys and the queue get no gradient.
///
/// # Shapes
/// - `q`, `k`: `[n, d]`; `queue`: `[K, d]`
/// - output: `[1]`
pub fn info_nce(q: Tensor<2>, k: Tensor<2>, queue: Tensor<2>, temperature: f32) -> Tensor<1> {
    assert_eq!(
        q.dims(),
        k.dims(),
        "info_nce: queries and keys differ in shape"
    );
    assert_eq!(
        q.dims()[1],
        queue.dims()[1],
        "info_nce: queue of another dimension"
    );
    let q = l2_normalize(q);
    let k = l2_normalize(k.detach());
    let queue = l2_normalize(queue.detach());
    let positive = (q.clone() * k).sum_dim(1); // [n, 1]
    let negatives = q.matmul(queue.transpose()); // [n, K]
    let logits = Tensor::cat(vec![positive, negatives], 1) / temperature; // [n, 1 + K]
    log_softmax(logits, 1).narrow(1, 0, 1).mean().neg()
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, TensorData};

    use super::*;
    use crate::loss::testing::{descend, reference_views};

    #[test]
    fn matches_the_reference_value() {
        // numpy, after MoCo's Algorithm 1 (queue rows normalised):
        //   n = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)
        //   q, k, Q = n(z1), n(z2), n(queue)
        //   logits = np.concatenate([(q*k).sum(1, keepdims=True), q @ Q.T], 1) / 0.2
        //   (logsumexp(logits, 1) - logits[:, 0]).mean()
        //   -> 0.9150204502593486
        let (z1, z2) = reference_views();
        let queue = Tensor::<2>::from_data(
            TensorData::new(
                vec![
                    1.0f32, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.6, -0.8, 0.0, -0.5, 0.5, 0.7,
                ],
                [5, 3],
            ),
            &Device::flex(),
        );
        let v: f32 = info_nce(z1, z2, queue, 0.2).into_scalar();
        assert!((v - 0.915_020_4).abs() < 1e-5, "loss {v}");
    }

    #[test]
    fn falls_under_gradient_steps() {
        let d = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&d, 5);
        let q = Tensor::<2>::random([16, 8], Distribution::Normal(0.0, 1.0), &d);
        let k = Tensor::<2>::random([16, 8], Distribution::Normal(0.0, 1.0), &d);
        let queue = Tensor::<2>::random([64, 8], Distribution::Normal(0.0, 1.0), &d);
        let (first, last) = descend(|q| info_nce(q, k.clone(), queue.clone(), 0.2), q, 2.0);
        assert!(last < 0.5 * first, "{first} -> {last}");
    }
}
