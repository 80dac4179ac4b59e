//! Collapse signals, measured on the validation embeddings after each epoch:
//! the spread of the embeddings over the sphere ([`embedding_std`]) and how
//! many directions they use ([`effective_rank`]). Non-contrastive methods
//! (BYOL, SimSiam, Barlow Twins, VICReg) can collapse to a point or to a few
//! directions while their loss still looks fine; [`Collapse::check`] names it.
use burn::tensor::Tensor;
use pretext_methods::loss::l2_normalize;

/// Per-dimension standard deviation of the L2-normalised embeddings, averaged
/// over dimensions and scaled by `sqrt(dim)`: ≈1 when spread, →0 at collapse.
///
/// # Shapes
/// `h`: `[n, d]`
pub fn embedding_std(h: Tensor<2>) -> f32 {
    let [_, d] = h.dims();
    let z = l2_normalize(h); // [n, d]
    let std: f32 = z.var(0).sqrt().mean().into_scalar();
    std * (d as f32).sqrt()
}

/// The effective rank of the embeddings, RankMe (Garrido et al., 2023,
/// "RankMe: Assessing the Downstream Performance of Pretrained
/// Self-Supervised Representations by Their Rank"): `exp` of the entropy of
/// the normalised singular values of the `[n, d]` embedding matrix. Between
/// 1 (every embedding on one line) and `min(n, d)` (all directions used
/// alike).
///
/// # Shapes
/// `h`: `[n, d]`
pub fn effective_rank(h: Tensor<2>) -> f32 {
    let [n, d] = h.dims();
    // Singular values are the square roots of the Gram matrix's eigenvalues.
    let gram = h.clone().transpose().matmul(h) / n.max(1) as f32; // [d, d]
    let values = gram
        .into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .expect("a float tensor");
    let (eigen, _) = crate::eigen::symmetric_eigen(values, d, false);
    let sigma: Vec<f64> = eigen.iter().map(|l| l.max(0.0).sqrt()).collect();
    let total: f64 = sigma.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return if total == 0.0 { 0.0 } else { f32::NAN };
    }
    let entropy: f64 = sigma
        .iter()
        .map(|s| s / total + 1e-7)
        .map(|p| -p * p.ln())
        .sum();
    entropy.exp() as f32
}

/// Thresholds under which the embeddings count as collapsed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Collapse {
    /// Least [`embedding_std`] (0.1: a tenth of the spread of embeddings
    /// scattered over the sphere).
    pub min_std: f32,
    /// Least [`effective_rank`] (2: everything on one line).
    pub min_rank: f32,
}

impl Default for Collapse {
    fn default() -> Self {
        Self {
            min_std: 0.1,
            min_rank: 2.0,
        }
    }
}

impl Collapse {
    /// A warning naming the signal that fell under its threshold, or `None`.
    pub fn check(&self, epoch: usize, std: f32, rank: f32, dim: usize) -> Option<String> {
        let collapsed = std < self.min_std || rank < self.min_rank;
        collapsed.then(|| {
            format!(
                "warning: epoch {epoch}: the embeddings are collapsing (embedding std {std:.3}, \
                 effective rank {rank:.1} of {dim}); the encoder is learning little. Lower the \
                 learning rate, check the augmentations, or for BYOL and SimSiam keep the \
                 predictor and momentum settings of the paper"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, TensorData};

    use super::*;

    #[test]
    fn the_effective_rank_counts_the_directions_used() {
        let device = Device::flex();
        let _streams = pretext_nn::random_streams::hold_seeded(&device, 4);
        // Spread over all 16 directions: close to 16.
        let spread = Tensor::<2>::random([2000, 16], Distribution::Normal(0.0, 1.0), &device);
        let r = effective_rank(spread);
        assert!(r > 15.0 && r <= 16.0, "spread: {r}");
        // On one line: 1.
        let line = Tensor::<2>::random([500, 1], Distribution::Normal(0.0, 1.0), &device).matmul(
            Tensor::from_data(TensorData::new(vec![1.0f32; 16], [1, 16]), &device),
        );
        let r = effective_rank(line);
        assert!((r - 1.0).abs() < 0.01, "line: {r}");
        // In a 4-dimensional subspace: 4.
        let basis = Tensor::<2>::random([4, 16], Distribution::Normal(0.0, 1.0), &device);
        let plane =
            Tensor::<2>::random([2000, 4], Distribution::Normal(0.0, 1.0), &device).matmul(basis);
        let r = effective_rank(plane);
        assert!(r > 2.5 && r < 4.01, "subspace: {r}");
    }

    #[test]
    fn a_collapsed_run_is_named_and_a_healthy_one_is_not() {
        let c = Collapse::default();
        assert!(c.check(3, 0.8, 30.0, 64).is_none());
        let w = c.check(3, 0.02, 1.1, 64).unwrap();
        assert!(
            w.contains("epoch 3") && w.contains("effective rank 1.1 of 64"),
            "{w}"
        );
        assert!(c.check(3, 0.5, 1.5, 64).is_some());
    }
}
