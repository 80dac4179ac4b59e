//! What the joint-embedding methods share: two augmented views through one
//! encoder and one projection head, and the check of a predictor on top.

use burn::tensor::Tensor;
use pretext_nn::{Encoder, ProjectionHead, ProjectionHeadConfig};

/// The two views of a batch, encoded and projected.
pub(crate) struct TwoViews {
    /// The encoder's embeddings of the first view, `[b, d]` (for monitoring).
    pub h1: Tensor<2>,
    /// Projections of the first view, `[b, p]`.
    pub z1: Tensor<2>,
    /// Projections of the second view, `[b, p]`.
    pub z2: Tensor<2>,
}

/// Encodes and projects both views in one batch, so batch norm sees `2b`
/// images, then splits them again.
///
/// # Shapes
/// - `views`: two `[b, c, h, w]` tensors
pub(crate) fn encode_two_views(
    encoder: &Encoder,
    projection: &ProjectionHead,
    views: &[Tensor<4>],
    method: &str,
) -> TwoViews {
    assert_eq!(views.len(), 2, "{method} needs two views");
    let [b, ..] = views[0].dims();
    let h = encoder.forward(Tensor::cat(vec![views[0].clone(), views[1].clone()], 0)); // [2b, d]
    let z = projection.forward(h.clone()); // [2b, p]
    TwoViews {
        h1: h.narrow(0, 0, b),
        z1: z.clone().narrow(0, 0, b),
        z2: z.narrow(0, b, b),
    }
}

/// Checks a projection head and a predictor on its output (BYOL, SimSiam):
/// each valid, and the predictor predicting a projection-sized vector.
pub(crate) fn check_heads(
    projection: &ProjectionHeadConfig,
    predictor: &ProjectionHeadConfig,
) -> Result<(), String> {
    projection
        .validate()
        .map_err(|e| format!("method.projection: {e}"))?;
    predictor
        .validate()
        .map_err(|e| format!("method.predictor: {e}"))?;
    if predictor.out_dim != projection.out_dim {
        return Err(format!(
            "method.predictor.out_dim ({}) must equal method.projection.out_dim ({})",
            predictor.out_dim, projection.out_dim
        ));
    }
    Ok(())
}
