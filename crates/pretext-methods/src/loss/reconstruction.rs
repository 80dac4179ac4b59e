//! Reconstruction losses for autoencoders: mean squared error on the
//! (normalised) pixels, or binary cross-entropy with logits against pixels in
//! `[0, 1]` (the Bernoulli likelihood used for MNIST autoencoders).
use burn::tensor::Tensor;
use burn::tensor::activation::log_sigmoid;
use serde::{Deserialize, Serialize};

/// Which reconstruction loss an autoencoder uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconstructionLoss {
    /// Mean squared error between output and target.
    #[default]
    Mse,
    /// Binary cross-entropy between `sigmoid(output)` and a target in `[0, 1]`.
    Bce,
}

/// The mean reconstruction loss over every value.
///
/// # Shapes
/// - `output`, `target`: `[b, c, h, w]` (output as logits for [`ReconstructionLoss::Bce`])
/// - result: `[1]`
pub fn reconstruction(output: Tensor<4>, target: Tensor<4>, kind: ReconstructionLoss) -> Tensor<1> {
    assert_eq!(
        output.dims(),
        target.dims(),
        "reconstruction: shapes differ"
    );
    match kind {
        ReconstructionLoss::Mse => (output - target).powf_scalar(2.0).mean(),
        ReconstructionLoss::Bce => {
            // -[y log s(x) + (1 - y) log(1 - s(x))], with log(1 - s(x)) = log s(-x).
            let pos = log_sigmoid(output.clone());
            let neg = log_sigmoid(output.neg());
            -(target.clone() * pos + (target.neg() + 1.0) * neg).mean()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn t(values: [f32; 4]) -> Tensor<4> {
        Tensor::from_data(
            TensorData::new(values.to_vec(), [1, 1, 2, 2]),
            &Device::flex(),
        )
    }

    /// ```python
    /// import torch, torch.nn.functional as F
    /// x = torch.tensor([0.5, -1.0, 2.0, 0.0]); y = torch.tensor([1.0, 0.0, 0.25, 0.5])
    /// F.mse_loss(x, y)                          # 1.140625
    /// F.binary_cross_entropy_with_logits(x, y)  # 0.7769
    /// ```
    #[test]
    fn matches_reference_values() {
        let x = [0.5, -1.0, 2.0, 0.0];
        let y = [1.0, 0.0, 0.25, 0.5];
        let mse: f32 = reconstruction(t(x), t(y), ReconstructionLoss::Mse).into_scalar();
        assert!((mse - 1.140_625).abs() < 1e-6, "{mse}");
        // Computed by hand from the formula above (log1p(exp(-|x|)) form).
        let expected: f32 = x
            .iter()
            .zip(y)
            .map(|(&x, y)| x.max(0.0) - x * y + (-x.abs()).exp().ln_1p())
            .sum::<f32>()
            / 4.0;
        let bce: f32 = reconstruction(t(x), t(y), ReconstructionLoss::Bce).into_scalar();
        assert!((bce - expected).abs() < 1e-5, "{bce} vs {expected}");
        assert!((bce - 0.776_853_5).abs() < 1e-3, "{bce}");
    }
}
