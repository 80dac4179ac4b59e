//! A first-in, first-out queue of embeddings held as a frozen parameter (so a
//! checkpoint keeps it): MoCo's keys, NNCLR's support set. Newest rows first.
use burn::module::Param;
use burn::tensor::Tensor;

/// Puts `rows` at the front of `queue` and drops as many of the oldest; when
/// `rows` holds as many rows as the queue or more, the queue becomes its
/// first `size` rows. The queue gets no gradient.
///
/// # Shapes
/// - `queue`: `[size, d]`; `rows`: `[b, d]`
pub(crate) fn push_newest(queue: Param<Tensor<2>>, rows: Tensor<2>) -> Param<Tensor<2>> {
    let [size, _] = queue.dims();
    let [b, _] = rows.dims();
    let rows = rows.detach();
    queue
        .map(|q| {
            if b >= size {
                rows.narrow(0, 0, size)
            } else {
                Tensor::cat(vec![rows, q.narrow(0, 0, size - b)], 0).detach()
            }
        })
        .set_require_grad(false)
}

/// The projection head of the queued methods' unit tests: 8 hidden units, 3
/// outputs, batch norm, small enough to follow a queue of 5 rows by hand.
#[cfg(test)]
pub(crate) fn tiny_projection() -> pretext_nn::ProjectionHeadConfig {
    pretext_nn::ProjectionHeadConfig {
        hidden_dim: 8,
        out_dim: 3,
        batch_norm: true,
    }
}
