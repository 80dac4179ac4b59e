//! Autoencoders: encode, decode, compare with the input. The denoising variant
//! (Vincent et al., 2008, "Extracting and Composing Robust Features with
//! Denoising Autoencoders") corrupts the input first and reconstructs the
//! clean image.
use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use pretext_nn::{ConvDecoder, ConvDecoderConfig, Encoder, Footprint, InputShape};
use serde::{Deserialize, Serialize};

use super::model::{MethodModel, encoder_field};
use super::settings::{Build, MethodSettings, decoder_footprint};
use crate::loss::{ReconstructionLoss, reconstruction};
use crate::{InputSpec, StepOutput};

/// Settings of a plain autoencoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AutoencoderConfig {
    /// `mse` on normalised pixels or `bce` on pixels in `[0, 1]`.
    pub loss: ReconstructionLoss,
    /// The decoder.
    pub decoder: ConvDecoderConfig,
}

impl AutoencoderConfig {
    /// Builds the method around `encoder`.
    pub fn init(&self, encoder: Encoder, input: &InputSpec, device: &Device) -> Autoencoder {
        Autoencoder::new(encoder, self, None, input, device)
    }
}

/// How a denoising autoencoder corrupts its input.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Noise {
    /// Adds Gaussian noise of this standard deviation (in normalised units).
    Gaussian {
        /// Standard deviation.
        std: f32,
    },
    /// Sets each pixel to zero (the normalised mean) with this probability.
    Masking {
        /// Probability that a pixel is dropped.
        probability: f32,
    },
}

/// Settings of a denoising autoencoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DenoisingAutoencoderConfig {
    /// `mse` or `bce`.
    pub loss: ReconstructionLoss,
    /// The decoder.
    pub decoder: ConvDecoderConfig,
    /// The corruption.
    pub noise: Noise,
}

impl Default for DenoisingAutoencoderConfig {
    fn default() -> Self {
        Self {
            loss: ReconstructionLoss::Mse,
            decoder: ConvDecoderConfig::default(),
            noise: Noise::Gaussian { std: 0.5 },
        }
    }
}

impl DenoisingAutoencoderConfig {
    /// Builds the method around `encoder`.
    pub fn init(&self, encoder: Encoder, input: &InputSpec, device: &Device) -> Autoencoder {
        Autoencoder::new(encoder, &self.plain(), Some(self.noise), input, device)
    }

    /// The plain autoencoder it corrupts the input of: its loss and decoder.
    fn plain(&self) -> AutoencoderConfig {
        AutoencoderConfig {
            loss: self.loss,
            decoder: self.decoder.clone(),
        }
    }
}

/// An autoencoder, plain or denoising.
#[derive(Module, Debug)]
pub struct Autoencoder {
    /// The encoder being pretrained.
    pub encoder: Encoder,
    decoder: ConvDecoder,
    #[module(skip)]
    loss: ReconstructionLoss,
    #[module(skip)]
    noise: Option<Noise>,
    /// Per-channel `(mean, std)` of the input normalisation, to recover
    /// `[0, 1]` pixels for BCE targets.
    #[module(skip)]
    normalization: (Vec<f32>, Vec<f32>),
}

impl Autoencoder {
    fn new(
        encoder: Encoder,
        config: &AutoencoderConfig,
        noise: Option<Noise>,
        input: &InputSpec,
        device: &Device,
    ) -> Self {
        Self {
            decoder: config.decoder.init(encoder.out_dim(), input.shape, device),
            encoder,
            loss: config.loss,
            noise,
            normalization: (input.mean.clone(), input.std.clone()),
        }
    }

    fn corrupt(&self, x: Tensor<4>) -> Tensor<4> {
        let device = x.device();
        match self.noise {
            None => x,
            Some(Noise::Gaussian { std }) => {
                let noise =
                    Tensor::random(x.shape(), Distribution::Normal(0.0, std as f64), &device);
                x + noise
            }
            Some(Noise::Masking { probability }) => {
                let keep = Tensor::<4>::random(
                    x.shape(),
                    Distribution::Bernoulli(1.0 - probability as f64),
                    &device,
                );
                x * keep
            }
        }
    }

    /// The reconstruction target: the input itself (MSE) or its pixels in `[0, 1]` (BCE).
    fn target(&self, x: Tensor<4>) -> Tensor<4> {
        match self.loss {
            ReconstructionLoss::Mse => x,
            ReconstructionLoss::Bce => self.to_pixels(x),
        }
    }

    /// Undoes the input normalisation: pixels in `[0, 1]`.
    fn to_pixels(&self, x: Tensor<4>) -> Tensor<4> {
        to_pixels(x, &self.normalization)
    }

    /// Reconstructs a batch (without corruption). For BCE the output is in
    /// logits; see [`Autoencoder::forward`].
    ///
    /// # Shapes
    /// `[b, c, h, w]` → `[b, c, h, w]`
    pub fn reconstruct(&self, x: Tensor<4>) -> Tensor<4> {
        self.decoder.forward(self.encoder.forward(x))
    }

    /// Reconstructs a batch of normalised inputs as pixels in `[0, 1]`, what
    /// a person compares with the input (the sigmoid of BCE logits, or the
    /// MSE output with the normalisation undone).
    ///
    /// # Shapes
    /// `[b, c, h, w]` → `[b, c, h, w]`
    pub fn reconstruct_pixels(&self, x: Tensor<4>) -> Tensor<4> {
        let out = self.reconstruct(x);
        match self.loss {
            ReconstructionLoss::Mse => self.to_pixels(out),
            ReconstructionLoss::Bce => burn::tensor::activation::sigmoid(out),
        }
    }
}

/// Undoes an input normalisation given as per-channel `(mean, std)`:
/// pixels in `[0, 1]`.
///
/// # Shapes
/// `[b, c, h, w]` → `[b, c, h, w]`
pub(super) fn to_pixels(x: Tensor<4>, normalization: &(Vec<f32>, Vec<f32>)) -> Tensor<4> {
    let device = x.device();
    let c = normalization.0.len();
    let mean = Tensor::<4>::from_data(
        TensorData::new(normalization.0.clone(), [1, c, 1, 1]),
        &device,
    );
    let std = Tensor::<4>::from_data(
        TensorData::new(normalization.1.clone(), [1, c, 1, 1]),
        &device,
    );
    (x * std + mean).clamp(0.0, 1.0)
}

impl MethodSettings for AutoencoderConfig {
    type Model = Autoencoder;

    const NAME: &'static str = "autoencoder";

    const VIEWS: usize = 1;

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        self.decoder
            .validate()
            .map_err(|e| format!("method.decoder: {e}"))
    }

    fn footprint(&self, encoder: Footprint, embed: usize, _input: InputShape) -> Footprint {
        decoder_footprint(&self.decoder.widths, embed, encoder)
    }

    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> Autoencoder {
        self.init(encoder, at.input, at.device)
    }
}

impl MethodSettings for DenoisingAutoencoderConfig {
    type Model = Autoencoder;

    const NAME: &'static str = "denoising_autoencoder";

    const VIEWS: usize = 1;

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        match self.noise {
            Noise::Gaussian { std } if !(std > 0.0 && std.is_finite()) => {
                return Err(format!("method.noise.std must be positive, got {std}"));
            }
            Noise::Masking { probability } if !(0.0..1.0).contains(&probability) => {
                return Err(format!(
                    "method.noise.probability must be in [0, 1), got {probability}"
                ));
            }
            _ => {}
        }
        self.plain().validate()
    }

    fn footprint(&self, encoder: Footprint, embed: usize, input: InputShape) -> Footprint {
        self.plain().footprint(encoder, embed, input)
    }

    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> Autoencoder {
        self.init(encoder, at.input, at.device)
    }
}

impl MethodModel for Autoencoder {
    /// # Shapes
    /// - `views`: one `[b, c, h, w]` tensor (the clean, augmented image)
    fn forward(&self, views: &[Tensor<4>]) -> StepOutput {
        assert_eq!(views.len(), 1, "autoencoders take one view");
        let x = views[0].clone();
        let h = self.encoder.forward(self.corrupt(x.clone())); // [b, d]
        let out = self.decoder.forward(h.clone()); // [b, c, h, w]
        StepOutput::new(reconstruction(out, self.target(x), self.loss), h)
    }

    encoder_field!();

    fn reconstruct_pixels(&self, x: Tensor<4>) -> Option<Tensor<4>> {
        Some(Autoencoder::reconstruct_pixels(self, x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MethodConfig;
    use pretext_nn::{EncoderConfig, InputShape};

    #[test]
    fn every_autoencoder_variant_runs() {
        let device = Device::flex();
        let spec = InputSpec::new(InputShape::new(1, 28, 28));
        for cfg in [
            MethodConfig::Autoencoder(AutoencoderConfig::default()),
            MethodConfig::Autoencoder(AutoencoderConfig {
                loss: ReconstructionLoss::Bce,
                ..Default::default()
            }),
            MethodConfig::DenoisingAutoencoder(DenoisingAutoencoderConfig::default()),
        ] {
            let m = cfg.init(&EncoderConfig::default(), &spec, &device);
            let x = Tensor::<4>::random([2, 1, 28, 28], Distribution::Default, &device);
            let loss: f32 = m.forward(&[x]).loss.into_scalar();
            assert!(loss.is_finite(), "{cfg:?}");
        }
    }
}
