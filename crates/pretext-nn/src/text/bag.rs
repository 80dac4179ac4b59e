//! A bag of embeddings: the mean of the token embeddings of a sequence,
//! optionally through one hidden layer (the fastText / "deep averaging
//! network" encoder of Joulin et al., 2017, "Bag of Tricks for Efficient Text
//! Classification", and Iyyer et al., 2015, "Deep Unordered Composition
//! Rivals Syntactic Methods for Text Classification"). Word order is ignored;
//! it is a light, fast baseline.
use burn::module::Initializer;
use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::tokens::{Tokens, masked_mean};

/// Settings of [`BagOfEmbeddings`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BagOfEmbeddingsConfig {
    /// Length of the token embeddings.
    pub width: usize,
    /// Width of an optional hidden `Linear → ReLU` layer after the mean; its
    /// output is then the embedding.
    pub hidden: Option<usize>,
}

impl Default for BagOfEmbeddingsConfig {
    fn default() -> Self {
        Self {
            width: 128,
            hidden: None,
        }
    }
}

impl BagOfEmbeddingsConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        if self.width == 0 {
            return Err("encoder.width must be at least 1".into());
        }
        if self.hidden == Some(0) {
            return Err("encoder.hidden must be at least 1".into());
        }
        Ok(())
    }

    /// Builds the encoder for ids below `vocab_size`; `max_len` is only
    /// recorded (the mean takes sequences of any length).
    pub fn init(&self, vocab_size: usize, max_len: usize, device: &Device) -> BagOfEmbeddings {
        assert!(vocab_size > 0, "text encoder: empty vocabulary");
        BagOfEmbeddings {
            tokens: EmbeddingConfig::new(vocab_size, self.width).init(device),
            hidden: self
                .hidden
                .map(|h| LinearConfig::new(self.width, h).init(device)),
            out_dim: self.hidden.unwrap_or(self.width),
            vocab_size,
            max_len,
        }
    }
}

/// The mean of a sequence's token embeddings, optionally through a hidden layer.
#[derive(Module, Debug)]
pub struct BagOfEmbeddings {
    tokens: Embedding,
    hidden: Option<Linear>,
    /// Length of the embedding.
    pub out_dim: usize,
    /// Number of token ids.
    pub vocab_size: usize,
    /// The longest sequence the data is cut to (not a limit of the model).
    pub max_len: usize,
}

impl BagOfEmbeddings {
    /// # Shapes
    /// `[b, l]` tokens → `[b, out_dim]`
    pub fn forward(&self, x: &Tokens) -> Tensor<2> {
        let t = self.tokens.forward(x.ids.clone()); // [b, l, width]
        let h = masked_mean(t, x.mask.clone()); // [b, width]
        match &self.hidden {
            Some(fc) => relu(fc.forward(h)), // [b, hidden]
            None => h,
        }
    }

    /// Each token's embedding, before the mean.
    ///
    /// # Shapes
    /// `[b, l]` ids → `[b, l, width]`
    pub fn token_vectors(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        self.tokens.forward(ids)
    }

    /// The same encoder with its token embeddings drawn again from
    /// `initializer` (skip-gram starts them small, as word2vec does).
    pub fn with_token_init(mut self, initializer: Initializer, device: &Device) -> Self {
        let [vocab, width] = self.tokens.weight.dims();
        self.tokens = EmbeddingConfig::new(vocab, width)
            .with_initializer(initializer)
            .init(device);
        self
    }
}
