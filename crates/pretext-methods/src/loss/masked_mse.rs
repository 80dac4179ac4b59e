//! The masked autoencoder's loss (He et al., 2022, section 3): the mean
//! squared error per patch, averaged over the removed patches only; the
//! visible ones cost nothing.
use burn::tensor::Tensor;

/// `sum_{b,n} mask * mean_v (pred - target)^2 / sum mask`.
///
/// # Shapes
/// - `pred`, `target`: `[b, n, v]` (patches of `v` values)
/// - `mask`: `[b, n]`, 1 where the patch was removed
/// - output: `[1]`
pub fn masked_mse(pred: Tensor<3>, target: Tensor<3>, mask: Tensor<2>) -> Tensor<1> {
    assert_eq!(pred.dims(), target.dims(), "masked_mse: shapes differ");
    let per_patch = (pred - target)
        .powf_scalar(2.0)
        .mean_dim(2)
        .squeeze_dim::<2>(2); // [b, n]
    (per_patch * mask.clone()).sum() / mask.sum()
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, TensorData};

    use super::*;

    #[test]
    fn matches_the_reference_value_and_ignores_visible_patches() {
        // numpy, after the paper's reference code (forward_loss):
        //   per = ((pred - target)**2).mean(-1); (per * mask).sum() / mask.sum()
        //   -> 0.39125
        let d = Device::flex();
        let t3 = |v: Vec<f32>| Tensor::<3>::from_data(TensorData::new(v, [2, 3, 2]), &d);
        let pred = t3(vec![
            1.0, 2.0, 0.5, -1.0, 0.0, 0.3, 0.2, 0.2, 1.5, -0.5, -1.0, 1.0,
        ]);
        let target = t3(vec![
            0.8, 2.5, 0.0, -1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.5, -0.5, 0.5,
        ]);
        let mask = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 1.0, 0.0, 1.0, 1.0], [2, 3]),
            &d,
        );
        let v: f32 = masked_mse(pred.clone(), target.clone(), mask.clone()).into_scalar();
        assert!((v - 0.391_25).abs() < 1e-6, "loss {v}");
        // Changing a visible patch (image 0, patch 1) changes nothing.
        let moved = pred.slice_assign([0..1, 1..2, 0..2], Tensor::full([1, 1, 2], 9.0, &d));
        let w: f32 = masked_mse(moved, target, mask).into_scalar();
        assert!((w - v).abs() < 1e-7);
    }
}
