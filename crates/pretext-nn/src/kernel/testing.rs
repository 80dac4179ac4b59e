//! Helpers for the kernels' tests.

use burn::tensor::Tensor;

/// The values of `t`, flattened, as `f32`.
pub(crate) fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("an f32 tensor")
}
