//! The NNCLR loss (Dwibedi et al., 2021, "With a Little Help from My Friends:
//! Nearest-Neighbor Contrastive Learning of Visual Representations", eq. 2):
//! InfoNCE between the two views, where each image's first view is replaced
//! by its nearest neighbour in a support set of earlier embeddings, so an
//! image is pulled towards other images that already sit near it, not only
//! towards another view of itself. Symmetric, as in the paper's code:
//! `l = ½·(ce(NN(z1), z2) + ce(NN(z2), z1))`, where `ce(a, b)` is the
//! cross-entropy of each row of `cos_sim(a, b) / t` against its diagonal.
use burn::tensor::Tensor;

use super::{l2_normalize, simcse};

/// The rows of `support` nearest (by cosine similarity) to each row of `z`,
/// detached; the first of ties. Rows of zeros in `support` (an unfilled
/// support set) have similarity 0 to everything.
///
/// # Shapes
/// - `z`: `[n, d]`; `support`: `[K, d]`
/// - output: `[n, d]`, L2-normalised (zero rows stay zero)
pub fn nearest_neighbours(z: Tensor<2>, support: Tensor<2>) -> Tensor<2> {
    nearest_unit_rows(z, l2_normalize(support.detach()))
}

/// [`nearest_neighbours`] in a support set whose rows are already
/// L2-normalised (or zero), so the loss normalises it once for both views.
fn nearest_unit_rows(z: Tensor<2>, unit_support: Tensor<2>) -> Tensor<2> {
    assert_eq!(
        z.dims()[1],
        unit_support.dims()[1],
        "nearest_neighbours: support of another dimension"
    );
    let [n, _] = z.dims();
    let sim = l2_normalize(z.detach()).matmul(unit_support.clone().transpose()); // [n, K]
    let nearest = sim.argmax(1).reshape([n]); // [n]
    unit_support.select(0, nearest).detach()
}

/// The symmetric NNCLR loss of two views' projections against `support`.
/// Gradients reach `z1` and `z2` through the views they are compared with,
/// never through the neighbours.
///
/// # Shapes
/// - `z1`, `z2`: `[n, d]`; `support`: `[K, d]`
/// - output: `[1]`
///
/// # Panics
/// If the two views differ in shape or `temperature <= 0`.
pub fn nnclr(z1: Tensor<2>, z2: Tensor<2>, support: Tensor<2>, temperature: f32) -> Tensor<1> {
    assert_eq!(z1.dims(), z2.dims(), "nnclr: the two views differ in shape");
    let support = l2_normalize(support.detach());
    let nn1 = nearest_unit_rows(z1.clone(), support.clone());
    let nn2 = nearest_unit_rows(z2.clone(), support);
    (simcse(nn1, z2, temperature) + simcse(nn2, z1, temperature)).mul_scalar(0.5)
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, TensorData};

    use super::*;
    use crate::loss::testing::{descend, reference_views};

    fn support() -> Tensor<2> {
        Tensor::<2>::from_data(
            TensorData::new(
                vec![
                    1.0f32, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.6, -0.8, 0.0, -0.5, 0.5, 0.7,
                ],
                [5, 3],
            ),
            &Device::flex(),
        )
    }

    #[test]
    fn picks_the_most_similar_support_row() {
        // numpy: np.argmax(n(z1) @ n(S).T, 1) -> [1, 4, 2, 0]
        let (z1, _) = reference_views();
        let nn = nearest_neighbours(z1, support());
        let v = nn.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        let s = 0.5f32.powi(2) * 2.0 + 0.7f32.powi(2);
        let expected = [
            [0.0, 1.0, 0.0],
            [-0.5 / s.sqrt(), 0.5 / s.sqrt(), 0.7 / s.sqrt()],
            [0.0, 0.0, 1.0],
            [1.0, 0.0, 0.0],
        ]
        .concat();
        for (a, b) in v.iter().zip(&expected) {
            assert!((a - b).abs() < 1e-6, "{v:?} against {expected:?}");
        }
    }

    #[test]
    fn matches_the_reference_value() {
        // numpy, after the paper's eq. 2, made symmetric:
        //   n = lambda x: x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        //   S = n(support); nn = lambda z: S[np.argmax(n(z) @ S.T, 1)]
        //   ce = lambda a, b: (lambda s: (logsumexp(s, 1) - np.diag(s)).mean())(n(a) @ n(b).T / 0.1)
        //   0.5 * (ce(nn(z1), z2) + ce(nn(z2), z1)) -> 0.6208010671748286
        let (z1, z2) = reference_views();
        let v: f32 = nnclr(z1, z2, support(), 0.1).into_scalar();
        assert!((v - 0.620_801_1).abs() < 1e-5, "loss {v}");
    }

    #[test]
    fn gives_one_value() {
        let (z1, z2) = reference_views();
        assert_eq!(nnclr(z1, z2, support(), 0.5).dims(), [1]);
    }

    #[test]
    #[should_panic(expected = "support of another dimension")]
    fn refuses_a_support_set_of_another_dimension() {
        let (z1, z2) = reference_views();
        let wide = Tensor::<2>::zeros([5, 4], &Device::flex());
        let _ = nnclr(z1, z2, wide, 0.5);
    }

    #[test]
    fn an_empty_support_set_gives_a_flat_loss_and_no_gradient() {
        let d = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&d, 3);
        let z1 = Tensor::<2>::random([6, 4], Distribution::Normal(0.0, 1.0), &d).require_grad();
        let z2 = Tensor::<2>::random([6, 4], Distribution::Normal(0.0, 1.0), &d);
        let empty = Tensor::<2>::zeros([10, 4], &d);
        let loss = nnclr(z1.clone(), z2, empty, 0.1);
        let v: f32 = loss.clone().into_scalar();
        assert!((v - 6f32.ln()).abs() < 1e-5, "loss {v}");
        let grads = loss.backward();
        let g = z1.grad(&grads).map(|g| g.abs().max().into_scalar::<f32>());
        assert!(g.is_none_or(|g| g == 0.0), "gradient {g:?}");
    }

    #[test]
    fn falls_under_gradient_steps() {
        let d = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&d, 5);
        let z = Tensor::<2>::random([16, 8], Distribution::Normal(0.0, 1.0), &d);
        // A support set of noisy copies of the batch, so the rows' neighbours
        // are distinct and the loss can fall well below its start.
        let noise = Tensor::<2>::random([16, 8], Distribution::Normal(0.0, 1.0), &d);
        let support = (z.clone() + noise).detach();
        // Both views move (z1 = z2 = z): each term gets a gradient.
        let (first, last) = descend(|z| nnclr(z.clone(), z, support.clone(), 0.1), z, 2.0);
        assert!(last < 0.5 * first, "{first} -> {last}");
    }
}
