//! Batches of token sequences and the pooling that respects their padding.
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

/// The id that fills the positions after a sequence's end.
pub const PAD_ID: i64 = 0;

/// A batch of token sequences: ids padded to a common length and the mask of
/// real tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// Token ids, `[b, l]`; padded positions hold any id (by convention [`PAD_ID`]).
    pub ids: Tensor<2, Int>,
    /// `[b, l]`, true where a real token sits, false at padding.
    pub mask: Tensor<2, Bool>,
}

impl Tokens {
    /// From row-major host buffers (`ids` `[b*l]` with padding id 0, `mask`
    /// `[b*l]`, true = real token).
    ///
    /// # Panics
    /// If a buffer's length is not `b * l`.
    pub fn from_host(ids: Vec<i64>, mask: Vec<bool>, shape: [usize; 2], device: &Device) -> Self {
        let n = shape[0] * shape[1];
        assert_eq!(
            ids.len(),
            n,
            "tokens: {} ids for shape {shape:?}",
            ids.len()
        );
        assert_eq!(
            mask.len(),
            n,
            "tokens: {} mask values for shape {shape:?}",
            mask.len()
        );
        Self {
            ids: Tensor::from_data(TensorData::new(ids, shape), device),
            mask: Tensor::from_data(TensorData::new(mask, shape), device),
        }
    }

    /// `[batch, length]`.
    pub fn dims(&self) -> [usize; 2] {
        self.ids.dims()
    }

    /// burn's padding mask for attention: true where a position is padding.
    pub fn pad_mask(&self) -> Tensor<2, Bool> {
        self.mask.clone().bool_not()
    }
}

/// Mean of `x` over the positions where `mask` is true; padding never
/// contributes. A row with no real token gives zeros.
///
/// # Shapes
/// - `x`: `[b, l, d]`; `mask`: `[b, l]`
/// - output: `[b, d]`
pub fn masked_mean(x: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2> {
    let [b, l, _] = x.dims();
    assert_eq!(mask.dims(), [b, l], "masked_mean: mask of another shape");
    let keep = mask.float().unsqueeze_dim::<3>(2); // [b, l, 1]
    let count = keep.clone().sum_dim(1).clamp_min(1.0); // [b, 1, 1]
    let sum = (x * keep).sum_dim(1); // [b, 1, d]
    (sum / count).squeeze_dim(1) // [b, d]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_into_vec().unwrap()
    }

    #[test]
    fn masked_mean_ignores_padding() {
        let device = Device::flex();
        // Row 0: tokens (1, 2) and (3, 4) real, (100, 100) padding → (2, 3).
        // Row 1: only (5, -1) real → (5, -1). Row 2: nothing real → zeros.
        let x = Tensor::<3>::from_data(
            TensorData::new(
                vec![
                    1.0f32, 2.0, 3.0, 4.0, 100.0, 100.0, //
                    5.0, -1.0, 7.0, 7.0, -9.0, 9.0, //
                    1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
                ],
                [3, 3, 2],
            ),
            &device,
        );
        let mask = Tensor::<2, Bool>::from_data(
            TensorData::new(
                vec![true, true, false, true, false, false, false, false, false],
                [3, 3],
            ),
            &device,
        );
        assert_eq!(
            values(masked_mean(x, mask)),
            vec![2.0, 3.0, 5.0, -1.0, 0.0, 0.0]
        );
    }

    #[test]
    fn from_host_keeps_row_major_order() {
        let device = Device::flex();
        let t = Tokens::from_host(
            vec![7, 8, 0, 9, 0, 0],
            vec![true, true, false, true, false, false],
            [2, 3],
            &device,
        );
        assert_eq!(t.dims(), [2, 3]);
        let ids: Vec<i64> = t.ids.into_data().convert::<i64>().try_into_vec().unwrap();
        assert_eq!(ids, vec![7, 8, 0, 9, 0, 0]);
        let pad: Vec<bool> = t.mask.bool_not().into_data().try_into_vec().unwrap();
        assert_eq!(pad, vec![false, false, true, false, true, true]);
    }
}
