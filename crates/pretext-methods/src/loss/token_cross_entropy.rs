//! Cross-entropy of next-token predictions over a vocabulary, at the real
//! tokens of a padded batch only: the reconstruction loss of TSDAE (Wang et
//! al., 2021, "TSDAE: Using Transformer-based Sequential Denoising
//! Auto-Encoder for Unsupervised Sentence Embedding Learning", eq. 1).
use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Int, Tensor};

/// Mean over the positions where `mask` is true of `-log softmax(logits)[target]`.
/// Padded positions never contribute, whatever their logits or target ids.
///
/// # Shapes
/// - `logits`: `[b, l, vocab]`; `targets`, `mask`: `[b, l]`
/// - output: `[1]`
pub fn token_cross_entropy(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
    mask: Tensor<2, Bool>,
) -> Tensor<1> {
    let [b, l, _] = logits.dims();
    assert_eq!(
        targets.dims(),
        [b, l],
        "token_cross_entropy: targets of another shape"
    );
    assert_eq!(
        mask.dims(),
        [b, l],
        "token_cross_entropy: mask of another shape"
    );
    let log_p = log_softmax(logits, 2)
        .gather(2, targets.unsqueeze_dim::<3>(2))
        .squeeze_dim::<2>(2); // [b, l]
    let keep = mask.float(); // [b, l]
    let count = keep.clone().sum().clamp_min(1.0); // [1]
    -(log_p * keep).sum() / count
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, TensorData};

    use super::*;

    fn batch(device: &Device) -> (Tensor<3>, Tensor<2, Int>, Tensor<2, Bool>) {
        let logits = Tensor::<3>::from_data(
            TensorData::new(
                vec![
                    1.0f32, 2.0, 0.5, -1.0, 0.3, 0.3, 2.0, 0.0, 5.0, -5.0, 0.0, 1.0, //
                    0.2, -0.7, 1.1, 0.4, 1.5, 0.4, -0.3, 2.2, 9.0, 9.0, 9.0, 9.0,
                ],
                [2, 3, 4],
            ),
            device,
        );
        let targets =
            Tensor::<2, Int>::from_data(TensorData::new(vec![1i64, 2, 0, 3, 0, 2], [2, 3]), device);
        let mask = Tensor::<2, Bool>::from_data(
            TensorData::new(vec![true, true, false, true, true, false], [2, 3]),
            device,
        );
        (logits, targets, mask)
    }

    #[test]
    fn matches_the_reference_value() {
        // numpy:
        //   lp = logits - logsumexp(logits, -1, keepdims=True)
        //   nll = -np.take_along_axis(lp, t[..., None], -1)[..., 0]
        //   nll[mask].mean()   -> 0.8960200433960046
        let (logits, targets, mask) = batch(&Device::flex());
        let loss = token_cross_entropy(logits, targets, mask);
        assert_eq!(loss.dims(), [1]);
        let v: f32 = loss.into_scalar();
        assert!((v - 0.896_020_04).abs() < 1e-5, "loss {v}");
    }

    #[test]
    fn falls_under_gradient_steps() {
        let d = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&d, 8);
        let (_, targets, mask) = batch(&d);
        let mut logits = Tensor::<3>::random([2, 3, 4], Distribution::Normal(0.0, 1.0), &d);
        let mut values = Vec::new();
        for _ in 0..20 {
            let leaf = logits.detach().require_grad();
            let l = token_cross_entropy(leaf.clone(), targets.clone(), mask.clone());
            values.push(l.clone().into_scalar::<f32>());
            let g = leaf.grad(&l.backward()).expect("gradient");
            logits = (leaf.inner() - g.mul_scalar(2.0)).autodiff();
        }
        assert!(values[19] < 0.5 * values[0], "{values:?}");
    }
}
