//! The `f32` values of flex tensors, as the kernels read and write them.

use burn::backend::TensorMetadata;
use burn::backend::flex::FlexTensor;
use burn::tensor::{Shape, TensorData};

/// The values of a float tensor, contiguous (copied only when its layout is not).
pub(crate) fn floats(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(values) => std::borrow::Cow::Borrowed(values),
        None => {
            let contiguous = t.to_contiguous();
            let values = contiguous
                .as_slice::<f32>()
                .expect("a contiguous f32 tensor");
            std::borrow::Cow::Owned(values.to_vec())
        }
    }
}

/// `t` as a contiguous tensor whose buffer is its own and holds exactly its
/// values: `t` itself when it already is one, a copy otherwise.
pub(crate) fn writable(t: FlexTensor) -> FlexTensor {
    let exact = t.is_unique() && t.as_slice::<f32>().map(<[f32]>::len) == Some(t.bytes().len() / 4);
    if exact {
        t
    } else {
        tensor(floats(&t).into_owned(), t.shape())
    }
}

/// A contiguous flex tensor of `values`.
pub(crate) fn tensor(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}
