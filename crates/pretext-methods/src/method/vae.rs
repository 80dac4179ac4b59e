//! A variational autoencoder (Kingma and Welling, 2014, "Auto-Encoding
//! Variational Bayes"), with a β-weighted KL term (Higgins et al., 2017,
//! "β-VAE"). The encoder's embedding is mapped to the mean and log-variance
//! of a Gaussian posterior over a small latent; a sample drawn with the
//! reparameterisation `z = mean + exp(log_var / 2) * eps` is decoded back to
//! the image. The loss is the negative ELBO per image: the reconstruction
//! loss summed over the image's values plus β times the KL term. The encoder
//! kept for downstream use is the one before the latent heads.
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Distribution, Tensor};
use pretext_nn::{ConvDecoder, ConvDecoderConfig, Encoder, Footprint, InputShape};
use serde::{Deserialize, Serialize};

use super::model::{MethodModel, encoder_field};
use super::settings::{Build, MethodSettings, decoder_footprint};
use crate::loss::{ReconstructionLoss, gaussian_kl, reconstruction};
use crate::{InputSpec, StepOutput};

/// Settings of [`Vae`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VaeConfig {
    /// Dimensions of the latent Gaussian.
    pub latent_dim: usize,
    /// Weight of the KL term (1 is the plain VAE; more than 1 a β-VAE).
    pub beta: f32,
    /// `bce` (a Bernoulli likelihood on pixels in `[0, 1]`, the usual choice
    /// for MNIST) or `mse` on normalised pixels.
    pub loss: ReconstructionLoss,
    /// The decoder, from the latent.
    pub decoder: ConvDecoderConfig,
}

impl Default for VaeConfig {
    fn default() -> Self {
        Self {
            latent_dim: 16,
            beta: 1.0,
            loss: ReconstructionLoss::Bce,
            decoder: ConvDecoderConfig::default(),
        }
    }
}

impl VaeConfig {
    /// Builds the method around `encoder`.
    pub fn init(&self, encoder: Encoder, input: &InputSpec, device: &Device) -> Vae {
        let d = encoder.out_dim();
        Vae {
            to_mean: LinearConfig::new(d, self.latent_dim).init(device),
            to_log_var: LinearConfig::new(d, self.latent_dim).init(device),
            decoder: self.decoder.init(self.latent_dim, input.shape, device),
            encoder,
            beta: self.beta as f64,
            loss: self.loss,
            normalization: (input.mean.clone(), input.std.clone()),
        }
    }
}

/// A variational autoencoder: encoder, latent heads and decoder.
#[derive(Module, Debug)]
pub struct Vae {
    /// The encoder being pretrained.
    pub encoder: Encoder,
    to_mean: Linear,
    to_log_var: Linear,
    decoder: ConvDecoder,
    beta: f64,
    #[module(skip)]
    loss: ReconstructionLoss,
    /// Per-channel `(mean, std)` of the input normalisation.
    #[module(skip)]
    normalization: (Vec<f32>, Vec<f32>),
}

impl Vae {
    /// Mean and log-variance of the posterior of a batch.
    ///
    /// # Shapes
    /// `[b, c, h, w]` → (`[b, d]` embedding, `[b, k]`, `[b, k]`)
    fn posterior(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
        let h = self.encoder.forward(x); // [b, d]
        let mean = self.to_mean.forward(h.clone());
        // Clamped so that exp() cannot overflow early in training.
        let log_var = self.to_log_var.forward(h.clone()).clamp(-20.0, 20.0);
        (h, mean, log_var)
    }

    /// Decodes the posterior mean of a batch of normalised inputs, as pixels
    /// in `[0, 1]`.
    ///
    /// # Shapes
    /// `[b, c, h, w]` → `[b, c, h, w]`
    pub fn reconstruct_pixels(&self, x: Tensor<4>) -> Tensor<4> {
        let (_, mean, _) = self.posterior(x);
        let out = self.decoder.forward(mean);
        match self.loss {
            ReconstructionLoss::Mse => super::autoencoder::to_pixels(out, &self.normalization),
            ReconstructionLoss::Bce => burn::tensor::activation::sigmoid(out),
        }
    }
}

impl MethodSettings for VaeConfig {
    type Model = Vae;

    const NAME: &'static str = "vae";

    const VIEWS: usize = 1;

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        if self.latent_dim == 0 {
            return Err("method.latent_dim must be at least 1".into());
        }
        if !(self.beta >= 0.0 && self.beta.is_finite()) {
            return Err(format!("method.beta must be 0 or more, got {}", self.beta));
        }
        self.decoder
            .validate()
            .map_err(|e| format!("method.decoder: {e}"))
    }

    fn footprint(&self, encoder: Footprint, embed: usize, _input: InputShape) -> Footprint {
        decoder_footprint(&self.decoder.widths, embed, encoder)
            + Footprint::linear(embed, self.latent_dim)
            + Footprint::linear(embed, self.latent_dim)
    }

    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> Vae {
        self.init(encoder, at.input, at.device)
    }
}

impl MethodModel for Vae {
    /// # Shapes
    /// - `views`: one `[b, c, h, w]` tensor
    fn forward(&self, views: &[Tensor<4>]) -> StepOutput {
        assert_eq!(views.len(), 1, "the VAE takes one view");
        let x = views[0].clone();
        let [_, c, height, width] = x.dims();
        let (h, mean, log_var) = self.posterior(x.clone());
        let eps = Tensor::<2>::random(mean.shape(), Distribution::Normal(0.0, 1.0), &mean.device());
        let z = mean.clone() + (log_var.clone() * 0.5).exp() * eps; // [b, k]
        let out = self.decoder.forward(z);
        let target = match self.loss {
            ReconstructionLoss::Mse => x,
            ReconstructionLoss::Bce => super::autoencoder::to_pixels(x, &self.normalization),
        };
        // Mean over values times values per image: the sum per image, averaged over the batch.
        let recon = reconstruction(out, target, self.loss) * (c * height * width) as f32;
        StepOutput::new(recon + gaussian_kl(mean, log_var) * self.beta as f32, h)
    }

    encoder_field!();

    fn reconstruct_pixels(&self, x: Tensor<4>) -> Option<Tensor<4>> {
        Some(Vae::reconstruct_pixels(self, x))
    }
}
