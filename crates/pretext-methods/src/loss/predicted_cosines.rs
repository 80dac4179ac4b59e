//! What BYOL and SimSiam both measure: how close each view's prediction
//! comes to the other view's projection, the projection detached so that no
//! gradient reaches it (the target network, or SimSiam's stop-gradient).
use burn::tensor::Tensor;

use super::l2_normalize;

/// The mean cosine of `p1` with `z2` and of `p2` with `z1`, `z1` and `z2`
/// detached. `method` names the loss, and `target` what it calls the `z`s,
/// in the shape check.
///
/// # Shapes
/// - `p1`, `p2`, `z1`, `z2`: `[n, d]`
/// - output: two `[1]` tensors, each in `[-1, 1]`
///
/// # Panics
/// If a prediction and the projection it is compared with differ in shape.
pub(crate) fn predicted_cosines(
    (method, target): (&str, &str),
    [p1, p2]: [Tensor<2>; 2],
    [z1, z2]: [Tensor<2>; 2],
) -> [Tensor<1>; 2] {
    for (p, z) in [(&p1, &z2), (&p2, &z1)] {
        assert_eq!(
            p.dims(),
            z.dims(),
            "{method}: prediction and {target} differ in shape"
        );
    }
    let cosine = |p, z: Tensor<2>| {
        (l2_normalize(p) * l2_normalize(z.detach()))
            .sum_dim(1)
            .mean()
    };
    [cosine(p1, z2), cosine(p2, z1)]
}
