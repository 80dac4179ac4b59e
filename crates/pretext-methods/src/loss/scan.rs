//! The SCAN loss (Van Gansbeke et al., 2020, "SCAN: Learning to Classify
//! Images without Labels", eq. 2): an image and one of its mined nearest
//! neighbours should fall in the same cluster, with confidence, while the
//! clusters stay in use. With `p_a`, `p_n` the softmax cluster assignments
//! of the anchors and of their neighbours and `p̄` the anchors' mean
//! assignment over the batch:
//! `l = -mean_i log⟨p_a,i, p_n,i⟩ + w · Σ_c p̄_c log p̄_c`,
//! the second term being the negative entropy of `p̄` (minimising it spreads
//! the batch over the clusters, so they cannot collapse into one).
use burn::tensor::Tensor;
use burn::tensor::activation::{log_softmax, softmax};

/// The SCAN loss of the anchors' and their neighbours' cluster logits, with
/// the entropy term weighted by `entropy_weight`. Gradients reach both.
///
/// # Shapes
/// - `anchors`, `neighbours`: `[n, clusters]` logits
/// - output: `[1]`, at least `-entropy_weight · ln(clusters)`
///
/// # Panics
/// If the two differ in shape.
pub fn scan(anchors: Tensor<2>, neighbours: Tensor<2>, entropy_weight: f32) -> Tensor<1> {
    assert_eq!(
        anchors.dims(),
        neighbours.dims(),
        "scan: anchors and neighbours differ in shape"
    );
    // log⟨p_a, p_n⟩ = logsumexp_c(log p_a,c + log p_n,c), stable where the
    // two assignments are confident and disagree.
    let joint = log_softmax(anchors.clone(), 1) + log_softmax(neighbours, 1); // [n, c]
    let peak = joint.clone().max_dim(1).detach(); // [n, 1]
    let log_agreement = (joint - peak.clone()).exp().sum_dim(1).log() + peak; // [n, 1]
    let consistency = log_agreement.mean().neg();
    let mean_assignment = softmax(anchors, 1).mean_dim(0); // [1, c]
    let negative_entropy = (mean_assignment.clone() * mean_assignment.clamp_min(1e-8).log()).sum();
    consistency + negative_entropy.mul_scalar(entropy_weight)
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution};

    use super::*;
    use crate::loss::testing::{descend, reference_views};

    #[test]
    fn matches_the_reference_value() {
        // numpy, the reference views taken as logits of 3 clusters:
        //   sm = lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)
        //   pa, pn = sm(z1), sm(z2); pbar = pa.mean(0)
        //   -np.log((pa * pn).sum(1)).mean() + 2.0 * (pbar * np.log(pbar)).sum()
        //   -> 0.6846636806 + 2.0 * -1.0801189266 = -1.4755741725
        let (z1, z2) = reference_views();
        let v: f32 = scan(z1, z2, 2.0).into_scalar();
        assert!((v + 1.475_574_2).abs() < 1e-5, "loss {v}");
    }

    #[test]
    fn agreeing_confident_pairs_spread_over_the_clusters_score_lowest() {
        let d = Device::flex();
        let eye = |scale: f32| {
            Tensor::<2>::from_data(
                burn::tensor::TensorData::new(
                    (0..16)
                        .map(|i| if i % 5 == 0 { scale } else { 0.0 })
                        .collect::<Vec<f32>>(),
                    [4, 4],
                ),
                &d,
            )
        };
        // Four images in four clusters, each with its neighbour: the bound.
        let best: f32 = scan(eye(30.0), eye(30.0), 1.0).into_scalar();
        assert!((best + 4f32.ln()).abs() < 1e-4, "{best}");
        // All in one cluster: consistent and confident, but no entropy.
        let one = Tensor::<2>::from_data([[30.0, 0.0, 0.0, 0.0]; 4], &d);
        let collapsed: f32 = scan(one.clone(), one, 1.0).into_scalar();
        assert!(collapsed > best + 1.0, "{collapsed} vs {best}");
        // Spread but undecided: each pair agrees only by chance.
        let unsure: f32 = scan(eye(0.0), eye(0.0), 1.0).into_scalar();
        assert!(unsure > best + 1.0, "{unsure} vs {best}");
    }

    #[test]
    fn falls_under_gradient_steps() {
        let d = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&d, 3);
        let neighbours = Tensor::<2>::random([16, 4], Distribution::Normal(0.0, 1.0), &d);
        let start = Tensor::<2>::random([16, 4], Distribution::Normal(0.0, 1.0), &d);
        let (first, last) = descend(|a| scan(a, neighbours.clone(), 1.0), start, 4.0);
        assert!(last < first - 0.3, "{first} -> {last}");
    }
}
