//! Which inputs the kernels take, and which burn keeps.

use burn::nn::PaddingConfig2d;
use burn::tensor::{DType, Tensor};

/// Whether `input` is an `f32` tensor on flex (with or without autodiff)
/// with no empty dimension: the inputs the kernels compute.
pub(crate) fn on_flex<const D: usize>(input: &Tensor<D>) -> bool {
    crate::random_streams::backend_of(&input.device()) == "Flex"
        && input.dtype() == DType::F32
        && !input.dims().contains(&0)
}

/// `[(top, bottom), (left, right)]` for fixed padding; `None` for `Same`,
/// which burn sizes from the input and leaves to burn's operation.
pub(crate) fn fixed_padding(padding: &PaddingConfig2d) -> Option<[(usize, usize); 2]> {
    match *padding {
        PaddingConfig2d::Valid => Some([(0, 0), (0, 0)]),
        PaddingConfig2d::Explicit(top, left, bottom, right) => Some([(top, bottom), (left, right)]),
        PaddingConfig2d::Same => None,
    }
}
