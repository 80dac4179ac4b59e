//! A masked autoencoder (He et al., 2022, "Masked Autoencoders Are Scalable
//! Vision Learners"): a random 75% of each image's patches are removed, the
//! ViT encoder sees only the visible ones, and a light Transformer decoder
//! fills mask tokens in at the removed positions and predicts their pixels.
//! The loss is the mean squared error on the removed patches only (on the
//! normalised pixels, or on each patch normalised by its own mean and
//! variance with `norm_pix_loss`). It needs `encoder.kind = "vit"`.
use burn::module::{Module, Param};
use burn::nn::transformer::{TransformerEncoder, TransformerEncoderInput};
use burn::nn::{Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Device, Distribution, Int, Tensor};
use pretext_nn::encoder::{Vit, transformer_blocks};
use pretext_nn::{Encoder, Footprint, InputShape};
use serde::{Deserialize, Serialize};

use super::model::{MethodModel, encoder_field};
use super::settings::{Build, MethodSettings, Needs};
use crate::loss::masked_mse;
use crate::{InputSpec, StepOutput};

/// Settings of [`Mae`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaeConfig {
    /// Fraction of patches removed from each image (0.75 in the paper).
    pub mask_ratio: f64,
    /// Width of the decoder's tokens.
    pub decoder_dim: usize,
    /// Decoder Transformer blocks.
    pub decoder_depth: usize,
    /// Decoder attention heads; must divide `decoder_dim`.
    pub decoder_heads: usize,
    /// Predict each patch normalised by its own mean and variance (the
    /// paper's better-performing target) instead of its pixels.
    pub norm_pix_loss: bool,
}

impl Default for MaeConfig {
    fn default() -> Self {
        Self {
            mask_ratio: 0.75,
            decoder_dim: 64,
            decoder_depth: 2,
            decoder_heads: 4,
            norm_pix_loss: false,
        }
    }
}

impl MaeConfig {
    /// Builds the method around `encoder`, which must be a ViT.
    ///
    /// # Panics
    /// If `encoder` is not a [`Vit`] (the experiment check refuses that first).
    pub fn init(&self, encoder: Encoder, input: &InputSpec, device: &Device) -> Mae {
        let Encoder::Vit(vit) = &encoder else {
            panic!("mae needs encoder.kind = \"vit\"");
        };
        let (gh, gw) = vit.grid;
        let p = vit.patch_size;
        let patch_values = p * p * input.shape.channels;
        let normal = Initializer::Normal {
            mean: 0.0,
            std: 0.02,
        };
        Mae {
            to_decoder: LinearConfig::new(vit.out_dim, self.decoder_dim).init(device),
            mask_token: normal.init([1, 1, self.decoder_dim], device),
            decoder_positions: normal.init([1, gh * gw, self.decoder_dim], device),
            decoder: transformer_blocks(
                self.decoder_dim,
                self.decoder_depth,
                self.decoder_heads,
                4,
                device,
            ),
            decoder_norm: LayerNormConfig::new(self.decoder_dim).init(device),
            to_pixels: LinearConfig::new(self.decoder_dim, patch_values).init(device),
            encoder,
            mask_ratio: self.mask_ratio,
            norm_pix_loss: self.norm_pix_loss,
            shape: input.shape,
            normalization: (input.mean.clone(), input.std.clone()),
        }
    }
}

/// A masked autoencoder: ViT encoder and a light Transformer decoder.
#[derive(Module, Debug)]
pub struct Mae {
    /// The encoder being pretrained (a ViT).
    pub encoder: Encoder,
    to_decoder: Linear,
    mask_token: Param<Tensor<3>>,
    decoder_positions: Param<Tensor<3>>,
    decoder: TransformerEncoder,
    decoder_norm: LayerNorm,
    to_pixels: Linear,
    mask_ratio: f64,
    norm_pix_loss: bool,
    #[module(skip)]
    shape: InputShape,
    #[module(skip)]
    normalization: (Vec<f32>, Vec<f32>),
}

/// Cuts images into the ViT's patches, row by row, each patch flattened as
/// `(row, column, channel)`.
///
/// # Shapes
/// `[b, c, h, w]` → `[b, gh * gw, p * p * c]`
pub fn patchify(x: Tensor<4>, patch: usize, grid: (usize, usize)) -> Tensor<3> {
    let [b, c, _, _] = x.dims();
    let (gh, gw) = grid;
    let x = x.narrow(2, 0, gh * patch).narrow(3, 0, gw * patch);
    x.reshape([b, c, gh, patch, gw, patch])
        .permute([0, 2, 4, 3, 5, 1]) // [b, gh, gw, p, p, c]
        .reshape([b, gh * gw, patch * patch * c])
}

/// The inverse of [`patchify`], on the covered area.
///
/// # Shapes
/// `[b, gh * gw, p * p * c]` → `[b, c, gh * p, gw * p]`
pub fn unpatchify(t: Tensor<3>, patch: usize, grid: (usize, usize), channels: usize) -> Tensor<4> {
    let [b, _, _] = t.dims();
    let (gh, gw) = grid;
    t.reshape([b, gh, gw, patch, patch, channels])
        .permute([0, 5, 1, 3, 2, 4]) // [b, c, gh, p, gw, p]
        .reshape([b, channels, gh * patch, gw * patch])
}

impl Mae {
    fn vit(&self) -> &Vit {
        match &self.encoder {
            Encoder::Vit(v) => v,
            _ => unreachable!("checked at init"),
        }
    }

    /// Encodes a random `1 - mask_ratio` of each image's patches and predicts
    /// every patch. Returns the prediction `[b, n, p*p*c]`, the mask `[b, n]`
    /// (1 where removed) and the mean of the visible tokens `[b, dim]`.
    fn predict(&self, x: Tensor<4>) -> (Tensor<3>, Tensor<2>, Tensor<2>) {
        let vit = self.vit();
        let tokens = vit.tokens(x); // [b, n, d]
        let [b, n, d] = tokens.dims();
        let device = tokens.device();
        let keep = ((n as f64) * (1.0 - self.mask_ratio))
            .round()
            .clamp(1.0, n as f64 - 1.0) as usize;
        // A random order of the patches per image: the first `keep` stay.
        let noise = Tensor::<2>::random([b, n], Distribution::Default, &device);
        let shuffle: Tensor<2, Int> = noise.argsort(1); // [b, n]
        let restore: Tensor<2, Int> = shuffle.clone().argsort(1); // [b, n]
        let kept = shuffle.narrow(1, 0, keep); // [b, keep]
        let visible = tokens.gather(1, kept.unsqueeze_dim::<3>(2).repeat_dim(2, d)); // [b, keep, d]
        let latent = vit.encode_tokens(visible); // [b, keep, d]
        let summary = latent.clone().mean_dim(1).squeeze_dim::<2>(1); // [b, d]
        // Decoder: visible tokens then mask tokens, put back in patch order.
        let y = self.to_decoder.forward(latent); // [b, keep, dd]
        let dd = y.dims()[2];
        let masks = self
            .mask_token
            .val()
            .repeat_dim(0, b)
            .repeat_dim(1, n - keep); // [b, n-keep, dd]
        let y = Tensor::cat(vec![y, masks], 1); // [b, n, dd], shuffled order
        let y = y.gather(1, restore.clone().unsqueeze_dim::<3>(2).repeat_dim(2, dd));
        let y = y + self.decoder_positions.val();
        let y = self.decoder.forward(TransformerEncoderInput::new(y));
        let pred = self.to_pixels.forward(self.decoder_norm.forward(y)); // [b, n, p*p*c]
        // Removed patches are those whose place in the shuffle is `keep` or later.
        let mask = restore.greater_equal_elem(keep as i64).float(); // [b, n]
        (pred, mask, summary)
    }

    /// The prediction for a batch of normalised inputs with 75% of the
    /// patches removed: removed patches as predicted, visible ones as they
    /// were (the paper's figures), as pixels in `[0, 1]`.
    ///
    /// # Shapes
    /// `[b, c, h, w]` → `[b, c, h', w']` (the area the patches cover)
    pub fn reconstruct_pixels(&self, x: Tensor<4>) -> Tensor<4> {
        let vit = self.vit();
        let (p, grid) = (vit.patch_size, vit.grid);
        let patches = patchify(x.clone(), p, grid);
        let (pred, mask, _) = self.predict(x);
        let pred = if self.norm_pix_loss {
            // The target was normalised per patch: show it with the input's
            // own patch statistics.
            let mean = patches.clone().mean_dim(2);
            let std = (patches.clone().var(2) + 1e-6).sqrt();
            pred * std + mean
        } else {
            pred
        };
        let mask = mask.unsqueeze_dim::<3>(2); // [b, n, 1]
        let mixed = pred * mask.clone() + patches * (mask.neg() + 1.0);
        let image = unpatchify(mixed, p, grid, self.shape.channels);
        super::autoencoder::to_pixels(image, &self.normalization)
    }
}

impl MethodSettings for MaeConfig {
    type Model = Mae;

    const NAME: &'static str = "mae";

    const VIEWS: usize = 1;

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        if !(self.mask_ratio > 0.0 && self.mask_ratio < 1.0) {
            return Err(format!(
                "method.mask_ratio must be in (0, 1), got {}",
                self.mask_ratio
            ));
        }
        if self.decoder_dim == 0 || self.decoder_depth == 0 || self.decoder_heads == 0 {
            return Err(
                "method.decoder_dim, decoder_depth and decoder_heads must be at least 1".into(),
            );
        }
        if !self.decoder_dim.is_multiple_of(self.decoder_heads) {
            return Err(format!(
                "method.decoder_heads ({}) must divide method.decoder_dim ({})",
                self.decoder_heads, self.decoder_dim
            ));
        }
        Ok(())
    }

    fn footprint(&self, _encoder: Footprint, embed: usize, input: InputShape) -> Footprint {
        // Patches of 4x4 as a guess at the encoder's; the decoder's
        // blocks are what grows with its settings.
        let n = (input.height * input.width) as f64 / 16.0;
        let d = self.decoder_dim as f64;
        let depth = self.decoder_depth as f64;
        let heads = self.decoder_heads as f64;
        Footprint::new(
            depth * 12.0 * d * d + n * d + embed as f64 * d,
            depth * (18.0 * n * d + 2.0 * heads * n * n),
        )
    }

    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> Mae {
        self.init(encoder, at.input, at.device)
    }

    fn needs(&self) -> Needs {
        Needs {
            encoder: Some(("vit", "it encodes only the visible patches")),
            ..Needs::default()
        }
    }
}

impl MethodModel for Mae {
    /// # Shapes
    /// - `views`: one `[b, c, h, w]` tensor
    fn forward(&self, views: &[Tensor<4>]) -> StepOutput {
        assert_eq!(views.len(), 1, "mae takes one view");
        let x = views[0].clone();
        let vit = self.vit();
        let target = patchify(x.clone(), vit.patch_size, vit.grid); // [b, n, v]
        let target = if self.norm_pix_loss {
            let mean = target.clone().mean_dim(2);
            let var = target.clone().var(2);
            (target - mean) / (var + 1e-6).sqrt()
        } else {
            target
        };
        let (pred, mask, summary) = self.predict(x);
        StepOutput::new(masked_mse(pred, target, mask), summary)
    }

    encoder_field!();

    fn reconstruct_pixels(&self, x: Tensor<4>) -> Option<Tensor<4>> {
        Some(Mae::reconstruct_pixels(self, x))
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;

    use super::*;

    #[test]
    fn patchify_and_unpatchify_are_inverse_and_cut_row_by_row() {
        let device = Device::flex();
        let values: Vec<f32> = (0..2 * 3 * 8 * 8).map(|v| v as f32).collect();
        let x = Tensor::<4>::from_data(TensorData::new(values, [2, 3, 8, 8]), &device);
        let t = patchify(x.clone(), 4, (2, 2));
        assert_eq!(t.dims(), [2, 4, 48]);
        // Patch 1 of image 0 is rows 0..4, columns 4..8; its first value is
        // pixel (0, 4) of channel 0, its second pixel (0, 4) of channel 1.
        let v = t
            .clone()
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(v[48], 4.0);
        assert_eq!(v[49], 64.0 + 4.0);
        let back = unpatchify(t, 4, (2, 2), 3);
        let same: bool = back.equal(x).all().into_scalar();
        assert!(same);
    }

    #[test]
    fn three_quarters_of_each_images_patches_are_removed() {
        let device = Device::flex();
        let _streams = pretext_nn::random_streams::hold_seeded(&device, 3);
        let shape = InputShape::new(1, 28, 28);
        let encoder = pretext_nn::EncoderConfig::Vit(pretext_nn::encoder::VitConfig::default())
            .init(shape, &device);
        let mae = MaeConfig::default().init(encoder, &InputSpec::new(shape), &device);
        let x = Tensor::<4>::random([3, 1, 28, 28], Distribution::Default, &device);
        let (pred, mask, summary) = mae.predict(x.clone());
        assert_eq!(pred.dims(), [3, 49, 16]);
        assert_eq!(summary.dims(), [3, 64]);
        let removed = mask
            .sum_dim(1)
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(removed, vec![37.0; 3], "49 patches, 12 kept");
        let loss: f32 = mae.forward(&[x]).loss.into_scalar();
        assert!(loss.is_finite() && loss > 0.0);
    }
}
