//! A small text Transformer encoder (Vaswani et al., 2017, "Attention Is All
//! You Need"), in the pre-norm arrangement of BERT-style sentence encoders
//! (Devlin et al., 2019; Xiong et al., 2020, "On Layer Normalization in the
//! Transformer Architecture"): token embeddings plus learned position
//! embeddings, dropout, pre-norm blocks whose self-attention never looks at
//! padding, a final layer norm and the mean over the real tokens.
//!
//! Dropout sits on the embeddings, the attention weights and every residual
//! branch, as in BERT; SimCSE relies on it as its only noise.
use burn::module::{Module, Param};
use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig,
};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::tokens::{Tokens, masked_mean};

/// The initialiser of token and position embeddings (BERT's `N(0, 0.02)`).
pub(crate) const EMBEDDING_INIT: Initializer = Initializer::Normal {
    mean: 0.0,
    std: 0.02,
};

/// Settings of [`TextTransformer`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TextTransformerConfig {
    /// Width of the tokens (the embedding has this length).
    pub width: usize,
    /// Transformer blocks.
    pub depth: usize,
    /// Attention heads per block; must divide `width`.
    pub heads: usize,
    /// Hidden width of each block's MLP, as a multiple of `width`.
    pub mlp_ratio: usize,
    /// Dropout probability on embeddings, attention weights and residual branches.
    pub dropout: f64,
}

impl Default for TextTransformerConfig {
    fn default() -> Self {
        Self {
            width: 128,
            depth: 2,
            heads: 4,
            mlp_ratio: 4,
            dropout: 0.1,
        }
    }
}

impl TextTransformerConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        for (key, v) in [
            ("width", self.width),
            ("depth", self.depth),
            ("heads", self.heads),
            ("mlp_ratio", self.mlp_ratio),
        ] {
            if v == 0 {
                return Err(format!("encoder.{key} must be at least 1"));
            }
        }
        if !self.width.is_multiple_of(self.heads) {
            return Err(format!(
                "encoder.heads ({}) must divide encoder.width ({})",
                self.heads, self.width
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!(
                "encoder.dropout must be in [0, 1), got {}",
                self.dropout
            ));
        }
        Ok(())
    }

    /// Builds the encoder for ids below `vocab_size` and sequences of at
    /// most `max_len` tokens.
    pub fn init(&self, vocab_size: usize, max_len: usize, device: &Device) -> TextTransformer {
        assert!(
            vocab_size > 0 && max_len > 0,
            "text encoder: empty vocabulary or zero max_len"
        );
        TextTransformer {
            tokens: EmbeddingConfig::new(vocab_size, self.width)
                .with_initializer(EMBEDDING_INIT)
                .init(device),
            positions: EMBEDDING_INIT.init([max_len, self.width], device),
            dropout: DropoutConfig::new(self.dropout).init(),
            blocks: TransformerEncoderConfig::new(
                self.width,
                self.width * self.mlp_ratio,
                self.heads,
                self.depth,
            )
            .with_norm_first(true)
            .with_dropout(self.dropout)
            .init(device),
            norm: LayerNormConfig::new(self.width).init(device),
            out_dim: self.width,
            vocab_size,
            max_len,
        }
    }
}

/// A Transformer encoder of token sequences.
#[derive(Module, Debug)]
pub struct TextTransformer {
    tokens: Embedding,
    positions: Param<Tensor<2>>,
    dropout: Dropout,
    blocks: TransformerEncoder,
    norm: LayerNorm,
    /// Length of the embedding.
    pub out_dim: usize,
    /// Number of token ids.
    pub vocab_size: usize,
    /// Longest sequence it has positions for.
    pub max_len: usize,
}

impl TextTransformer {
    /// The per-token outputs before pooling (after the final norm). Outputs
    /// at padded positions are defined but meaningless.
    ///
    /// # Shapes
    /// `[b, l]` tokens → `[b, l, width]`
    ///
    /// # Panics
    /// If `l > max_len`.
    pub fn token_states(&self, x: &Tokens) -> Tensor<3> {
        let [_, l] = x.dims();
        assert!(
            l <= self.max_len,
            "text encoder: sequences of {l} tokens, positions for {}",
            self.max_len
        );
        let positions = self.positions.val().narrow(0, 0, l).unsqueeze::<3>(); // [1, l, w]
        let t = self.tokens.forward(x.ids.clone()) + positions; // [b, l, w]
        let t = self.dropout.forward(t);
        let t = self
            .blocks
            .forward(TransformerEncoderInput::new(t).mask_pad(x.pad_mask())); // [b, l, w]
        self.norm.forward(t)
    }

    /// # Shapes
    /// `[b, l]` tokens → `[b, width]` (mean over the real tokens)
    pub fn forward(&self, x: &Tokens) -> Tensor<2> {
        masked_mean(self.token_states(x), x.mask.clone())
    }
}
