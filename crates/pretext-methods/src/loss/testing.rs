//! What the loss tests share: the two batches their reference values were
//! computed on, and plain gradient descent on a loss's input.
use burn::tensor::{Device, Distribution, Tensor, TensorData};

/// Four rows of three values as a `[4, 3]` tensor.
fn batch(rows: [[f32; 3]; 4]) -> Tensor<2> {
    Tensor::from_data(TensorData::new(rows.concat(), [4, 3]), &Device::flex())
}

/// Two views of four images in three dimensions, the inputs of the pasted
/// numpy references (`z1`, `z2`).
pub(crate) fn reference_views() -> (Tensor<2>, Tensor<2>) {
    (
        batch([
            [1.0, 2.0, 0.5],
            [-1.0, 0.3, 2.0],
            [0.2, -0.7, 1.1],
            [1.5, 0.4, -0.3],
        ]),
        batch([
            [0.9, 2.2, 0.1],
            [0.2, -0.5, 1.5],
            [0.0, -1.0, 0.8],
            [1.2, 0.9, -0.6],
        ]),
    )
}

/// Predictions for the two views of [`reference_views`] (`p1`, `p2` of the
/// pasted numpy references of BYOL and SimSiam).
pub(crate) fn reference_predictions() -> (Tensor<2>, Tensor<2>) {
    (
        batch([
            [0.5, 1.0, 1.0],
            [-0.8, 0.1, 1.2],
            [0.9, -0.2, 0.4],
            [0.3, 1.1, -0.9],
        ]),
        batch([
            [1.1, 1.7, -0.2],
            [0.4, -0.9, 1.0],
            [-0.3, -1.2, 0.2],
            [0.8, 0.6, -1.0],
        ]),
    )
}

/// A predictor loss `loss(p1, p2, z1, z2)` (BYOL, SimSiam) at
/// [`reference_predictions`] and [`reference_views`], the inputs of the
/// pasted numpy references.
pub(crate) fn predictor_loss_at_reference(
    loss: fn(Tensor<2>, Tensor<2>, Tensor<2>, Tensor<2>) -> Tensor<1>,
) -> f32 {
    let (z1, z2) = reference_views();
    let (p1, p2) = reference_predictions();
    loss(p1, p2, z1, z2).into_scalar()
}

/// Twenty steps of gradient descent with step `lr` on the input of `loss`,
/// from `start` (an autodiff tensor). Returns the loss of the first and of
/// the last step.
pub(crate) fn descend(
    loss: impl Fn(Tensor<2>) -> Tensor<1>,
    start: Tensor<2>,
    lr: f32,
) -> (f32, f32) {
    let mut z = start;
    let mut values = Vec::new();
    for _ in 0..20 {
        let leaf = z.clone().detach().require_grad();
        let l = loss(leaf.clone());
        values.push(l.clone().into_scalar::<f32>());
        let grads = l.backward();
        let g = leaf.grad(&grads).expect("gradient");
        z = (leaf.inner() - g.mul_scalar(lr)).autodiff();
    }
    (values[0], values[19])
}

/// A two-view loss `loss(z1, z2)` on random `[8, 4]` batches: descends on
/// `z1` as [`descend`] does and returns the first and last loss.
pub(crate) fn descend_pair(loss: fn(Tensor<2>, Tensor<2>) -> Tensor<1>, lr: f32) -> (f32, f32) {
    let d = Device::flex().autodiff();
    let _streams = pretext_nn::random_streams::hold_seeded(&d, 3);
    let z1 = Tensor::<2>::random([8, 4], Distribution::Normal(0.0, 1.0), &d);
    let z2 = Tensor::<2>::random([8, 4], Distribution::Normal(0.0, 1.0), &d);
    descend(|z| loss(z, z2.clone()), z1, lr)
}

/// A predictor loss `loss(p1, p2, z1, z2)` (BYOL, SimSiam) on random
/// `[16, 8]` batches, `p1 = p2 = p` and `z1 = z2 = z`: asserts that no
/// gradient reaches `z` (the stop-gradient), then descends on `p` as
/// [`descend`] does and returns the first and last loss.
pub(crate) fn descend_predictor(
    loss: fn(Tensor<2>, Tensor<2>, Tensor<2>, Tensor<2>) -> Tensor<1>,
    lr: f32,
) -> (f32, f32) {
    let d = Device::flex().autodiff();
    let _streams = pretext_nn::random_streams::hold_seeded(&d, 5);
    let normal = || Tensor::<2>::random([16, 8], Distribution::Normal(0.0, 1.0), &d);
    let z = normal().require_grad();
    let p = normal().require_grad();
    let grads = loss(p.clone(), p, z.clone(), z.clone()).backward();
    assert!(
        z.grad(&grads).is_none(),
        "a gradient reached the stopped side"
    );
    descend(|p| loss(p.clone(), p, z.clone(), z.clone()), normal(), lr)
}
