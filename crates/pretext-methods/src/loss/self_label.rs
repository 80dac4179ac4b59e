//! The self-labelling loss of SCAN (Van Gansbeke et al., 2020, step 3): where
//! the cluster head is confident about one view of an image (its largest
//! probability above a threshold), that cluster becomes the image's label,
//! and the other view is trained towards it with cross-entropy. Images the
//! head is unsure of add nothing, so the confident ones, mostly right,
//! correct the boundary cases that neighbours got wrong.
use burn::tensor::Tensor;
use burn::tensor::activation::{log_softmax, softmax};

/// Cross-entropy of `trained`'s logits towards the clusters that `labelling`'s
/// logits assign with probability above `threshold`, averaged over those
/// images; 0 (with a gradient of zero) when there are none. No gradient
/// reaches `labelling`.
///
/// # Shapes
/// - `labelling`, `trained`: `[n, clusters]` logits
/// - output: `[1]`
///
/// # Panics
/// If the two differ in shape.
pub fn self_label(labelling: Tensor<2>, trained: Tensor<2>, threshold: f32) -> Tensor<1> {
    assert_eq!(
        labelling.dims(),
        trained.dims(),
        "self_label: the two views differ in shape"
    );
    let probabilities = softmax(labelling.detach(), 1); // [n, c]
    let confident = probabilities
        .clone()
        .max_dim(1)
        .greater_elem(threshold)
        .float(); // [n, 1]
    let labels = probabilities.argmax(1); // [n, 1]
    let log_likelihood = log_softmax(trained, 1).gather(1, labels); // [n, 1]
    let count = confident.clone().sum().clamp_min(1.0);
    (log_likelihood * confident).sum().neg() / count
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution};

    use super::*;
    use crate::loss::testing::{descend, reference_views};

    #[test]
    fn matches_the_reference_value() {
        // numpy, the reference views as logits of 3 clusters, the first ×4:
        //   sm = lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)
        //   p = sm(4 * z1); m = p.max(1) > 0.975; t = p.argmax(1)
        //   -(np.log(sm(z2))[np.arange(4), t] * m).sum() / m.sum()
        //   -> 0.4400100215 (the third image, at 0.9727, is left out)
        let (z1, z2) = reference_views();
        let v: f32 = self_label(z1.mul_scalar(4.0), z2, 0.975).into_scalar();
        assert!((v - 0.440_010).abs() < 1e-5, "loss {v}");
    }

    #[test]
    fn nothing_confident_gives_zero() {
        let (z1, z2) = reference_views();
        let v: f32 = self_label(z1, z2, 0.999).into_scalar();
        assert_eq!(v, 0.0);
    }

    #[test]
    fn falls_under_gradient_steps_and_leaves_the_labelling_view_alone() {
        let d = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&d, 4);
        let labelling =
            Tensor::<2>::random([16, 4], Distribution::Normal(0.0, 4.0), &d).require_grad();
        let start = Tensor::<2>::random([16, 4], Distribution::Normal(0.0, 1.0), &d);
        let grads = self_label(labelling.clone(), start.clone().require_grad(), 0.5).backward();
        assert!(
            labelling.grad(&grads).is_none(),
            "a gradient reached the labels"
        );
        let (first, last) = descend(|t| self_label(labelling.clone(), t, 0.5), start, 2.0);
        assert!(last < first - 0.3, "{first} -> {last}");
    }
}
