//! A small Vision Transformer (Dosovitskiy et al., 2021, "An Image is Worth
//! 16x16 Words"): the image cut into square patches, each linearly embedded,
//! learned position embeddings added, pre-norm Transformer blocks, a final
//! layer norm and mean pooling over the patch tokens. An image whose sides
//! are not multiples of the patch size loses its last partial row and column
//! of patches. The masked autoencoder uses the token-level steps
//! ([`Vit::tokens`], [`Vit::encode_tokens`]) to encode only visible patches.
use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{Initializer, LayerNorm, LayerNormConfig};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::InputShape;
use crate::footprint::Footprint;
use crate::kernel::conv::conv2d;

/// Settings of [`Vit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VitConfig {
    /// Side of a square patch, in pixels (4 gives 7x7 patches on 28x28 MNIST).
    pub patch_size: usize,
    /// Width of the tokens (the embedding has this length).
    pub dim: usize,
    /// Transformer blocks.
    pub depth: usize,
    /// Attention heads per block; must divide `dim`.
    pub heads: usize,
    /// Hidden width of each block's MLP, as a multiple of `dim`.
    pub mlp_ratio: usize,
}

impl Default for VitConfig {
    fn default() -> Self {
        Self {
            patch_size: 4,
            dim: 64,
            depth: 4,
            heads: 4,
            mlp_ratio: 2,
        }
    }
}

impl VitConfig {
    /// Parameters and activations per image, before building (see
    /// [`Footprint`]).
    pub fn footprint(&self, input: InputShape) -> Footprint {
        let p = self.patch_size.max(1);
        let n = ((input.height / p) * (input.width / p)) as f64;
        let (d, r, c) = (
            self.dim as f64,
            self.mlp_ratio as f64,
            input.channels as f64,
        );
        let heads = self.heads as f64;
        // Per block: attention (4 d x d with biases), the MLP (d -> rd -> d),
        // two layer norms; it keeps about (10 + 2r) d a token and the
        // heads' n x n scores and weights.
        let block = Footprint::new(
            4.0 * d * d + 4.0 * d + 2.0 * r * d * d + r * d + d + 4.0 * d,
            n * d * (10.0 + 2.0 * r) + 2.0 * heads * n * n,
        );
        let embed = Footprint::new(p as f64 * p as f64 * c * d + d + n * d, n * d);
        let depth = self.depth as f64;
        embed
            + Footprint::new(2.0 * d, n * d)
            + Footprint::new(block.params * depth, block.activations * depth)
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        for (key, v) in [
            ("patch_size", self.patch_size),
            ("dim", self.dim),
            ("depth", self.depth),
            ("heads", self.heads),
            ("mlp_ratio", self.mlp_ratio),
        ] {
            if v == 0 {
                return Err(format!("encoder.{key} must be at least 1"));
            }
        }
        if !self.dim.is_multiple_of(self.heads) {
            return Err(format!(
                "encoder.heads ({}) must divide encoder.dim ({})",
                self.heads, self.dim
            ));
        }
        Ok(())
    }

    /// Checks that one patch fits in an image of `input` shape.
    pub fn check_input(&self, input: InputShape) -> Result<(), String> {
        let p = self.patch_size;
        match p <= input.height && p <= input.width {
            true => Ok(()),
            false => Err(format!(
                "encoder.patch_size {p} is larger than the {}x{} image",
                input.height, input.width
            )),
        }
    }

    /// Builds the encoder for images of `input` shape.
    ///
    /// # Panics
    /// If the image is smaller than one patch ([`VitConfig::check_input`]).
    pub fn init(&self, input: InputShape, device: &Device) -> Vit {
        let p = self.patch_size;
        let grid = (input.height / p, input.width / p);
        assert!(
            grid.0 > 0 && grid.1 > 0,
            "encoder.patch_size {p} is larger than the {}x{} image",
            input.height,
            input.width
        );
        let patches = grid.0 * grid.1;
        Vit {
            patch_embed: Conv2dConfig::new([input.channels, self.dim], [p, p])
                .with_stride([p, p])
                .init(device),
            positions: Initializer::Normal {
                mean: 0.0,
                std: 0.02,
            }
            .init([1, patches, self.dim], device),
            blocks: blocks(self.dim, self.depth, self.heads, self.mlp_ratio, device),
            norm: LayerNormConfig::new(self.dim).init(device),
            out_dim: self.dim,
            patch_size: p,
            grid,
        }
    }
}

/// Pre-norm Transformer blocks without dropout, as in ViT and MAE.
pub fn blocks(
    dim: usize,
    depth: usize,
    heads: usize,
    mlp_ratio: usize,
    device: &Device,
) -> TransformerEncoder {
    TransformerEncoderConfig::new(dim, dim * mlp_ratio, heads, depth)
        .with_norm_first(true)
        .with_dropout(0.0)
        .init(device)
}

/// A Vision Transformer encoder.
#[derive(Module, Debug)]
pub struct Vit {
    patch_embed: Conv2d,
    positions: Param<Tensor<3>>,
    blocks: TransformerEncoder,
    norm: LayerNorm,
    /// Length of the embedding.
    pub out_dim: usize,
    /// Side of a patch, in pixels.
    pub patch_size: usize,
    /// Patches per column and per row.
    pub grid: (usize, usize),
}

impl Vit {
    /// Patch tokens with their position embeddings.
    ///
    /// # Shapes
    /// `[b, c, h, w]` → `[b, n, dim]`, `n` = patches
    pub fn tokens(&self, x: Tensor<4>) -> Tensor<3> {
        let t = conv2d(&self.patch_embed, x); // [b, dim, gh, gw]
        let [b, d, gh, gw] = t.dims();
        let t = t.reshape([b, d, gh * gw]).swap_dims(1, 2); // [b, n, dim]
        t + self.positions.val()
    }

    /// The Transformer blocks and final norm on any subset of tokens.
    ///
    /// # Shapes
    /// `[b, m, dim]` → `[b, m, dim]`
    pub fn encode_tokens(&self, tokens: Tensor<3>) -> Tensor<3> {
        let t = self.blocks.forward(TransformerEncoderInput::new(tokens));
        self.norm.forward(t)
    }

    /// # Shapes
    /// `[b, c, h, w]` → `[b, dim]` (mean over patch tokens)
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let t = self.encode_tokens(self.tokens(x)); // [b, n, dim]
        t.mean_dim(1).squeeze_dim(1)
    }
}
