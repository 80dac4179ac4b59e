//! The KL divergence of a diagonal Gaussian posterior from the standard
//! normal prior, the regulariser of a variational autoencoder (Kingma and
//! Welling, 2014, "Auto-Encoding Variational Bayes", appendix B):
//! `KL(N(mu, sigma^2) || N(0, 1)) = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)`.
use burn::tensor::Tensor;

/// The KL term summed over latent dimensions and averaged over the batch.
///
/// # Shapes
/// - `mean`, `log_var`: `[n, k]`
/// - output: `[1]`, 0 or more (0 exactly when the posterior is the prior)
pub fn gaussian_kl(mean: Tensor<2>, log_var: Tensor<2>) -> Tensor<1> {
    assert_eq!(mean.dims(), log_var.dims(), "gaussian_kl: shapes differ");
    let [n, _] = mean.dims();
    let terms = log_var.clone() + 1.0 - mean.powf_scalar(2.0) - log_var.exp(); // [n, k]
    terms.sum() * (-0.5 / n as f32)
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution};

    use super::*;
    use crate::loss::testing::{descend, reference_views};

    #[test]
    fn matches_the_reference_value() {
        // numpy, with mu = z1 and log_var = z2:
        //   (-0.5 * (1 + lv - mu**2 - np.exp(lv))).sum(1).mean()
        //   -> 3.2126702570661276
        let (mean, log_var) = reference_views();
        let v: f32 = gaussian_kl(mean, log_var).into_scalar();
        assert!((v - 3.212_670_3).abs() < 1e-5, "kl {v}");
    }

    #[test]
    fn is_zero_at_the_prior_and_falls_towards_it() {
        let d = Device::flex().autodiff();
        let zeros = Tensor::<2>::zeros([3, 4], &d);
        let v: f32 = gaussian_kl(zeros.clone(), zeros.clone()).into_scalar();
        assert!(v.abs() < 1e-7, "{v}");
        let _streams = pretext_nn::random_streams::hold_seeded(&d, 5);
        let mean = Tensor::<2>::random([16, 4], Distribution::Normal(0.0, 1.0), &d);
        let log_var = Tensor::<2>::zeros([16, 4], &d);
        let (first, last) = descend(|m| gaussian_kl(m, log_var.clone()), mean, 0.5);
        assert!(last < 0.5 * first, "{first} -> {last}");
    }
}
