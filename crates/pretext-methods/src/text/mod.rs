//! Text methods: a text encoder and a loss wired into one step over token
//! sequences. [`TextMethodConfig`] is the registry of text methods, apart
//! from the image registry ([`crate::MethodConfig`]) because a step takes
//! [`Tokens`], not image tensors.
use burn::module::Module;
use burn::tensor::Device;
use pretext_nn::TextEncoderConfig;
use pretext_nn::text::{TextEncoder, Tokens};
use serde::{Deserialize, Serialize};

use crate::StepOutput;

mod decoder;
mod simcse;
mod skip_gram;
#[cfg(test)]
mod testing;
mod tsdae;

pub use decoder::SentenceDecoder;
pub use simcse::{Simcse, SimcseConfig};
pub use skip_gram::{SkipGram, SkipGramConfig};
pub use tsdae::{Tsdae, TsdaeConfig};

/// Which text method to pretrain with (`name = "simcse" | "tsdae" | "skip_gram"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum TextMethodConfig {
    /// SimCSE: the same sentences encoded twice, dropout as the only noise, in-batch negatives.
    Simcse(SimcseConfig),
    /// TSDAE: encode a sentence with tokens deleted, decode the clean sentence from the vector.
    Tsdae(TsdaeConfig),
    /// Skip-gram: each token's vector predicts its neighbours (word2vec), for a bag of embeddings.
    SkipGram(SkipGramConfig),
}

impl Default for TextMethodConfig {
    fn default() -> Self {
        TextMethodConfig::Simcse(SimcseConfig::default())
    }
}

impl TextMethodConfig {
    /// The method's name as written in configs.
    pub fn name(&self) -> &'static str {
        match self {
            TextMethodConfig::Simcse(_) => "simcse",
            TextMethodConfig::Tsdae(_) => "tsdae",
            TextMethodConfig::SkipGram(_) => "skip_gram",
        }
    }

    /// How many views of each sentence one step needs.
    pub fn views(&self) -> usize {
        match self {
            TextMethodConfig::Simcse(_) => 2,
            TextMethodConfig::Tsdae(_) => 1,
            TextMethodConfig::SkipGram(_) => 0,
        }
    }

    /// The deletion probability the loader must apply to the views (TSDAE:
    /// its `deletion`; SimCSE: `None`, so the experiment's own text
    /// augmentation applies).
    pub fn view_deletion(&self) -> Option<f32> {
        match self {
            TextMethodConfig::Simcse(_) | TextMethodConfig::SkipGram(_) => None,
            TextMethodConfig::Tsdae(c) => Some(c.deletion),
        }
    }

    /// Checks the settings, naming the offending key.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            TextMethodConfig::Simcse(c) => c.validate(),
            TextMethodConfig::Tsdae(c) => c.validate(),
            TextMethodConfig::SkipGram(c) => c.validate(),
        }
    }

    /// Checks that `encoder` is one the method can train, naming the keys.
    pub fn check_encoder(&self, encoder: &TextEncoderConfig) -> Result<(), String> {
        match self {
            TextMethodConfig::SkipGram(c) => c.check_encoder(encoder),
            TextMethodConfig::Simcse(_) | TextMethodConfig::Tsdae(_) => Ok(()),
        }
    }

    /// Builds the method around a new encoder for ids below `vocab_size` and
    /// sequences of at most `max_len` tokens.
    pub fn init(
        &self,
        encoder: &TextEncoderConfig,
        vocab_size: usize,
        max_len: usize,
        device: &Device,
    ) -> TextMethod {
        let encoder = encoder.init(vocab_size, max_len, device);
        match self {
            TextMethodConfig::Simcse(c) => TextMethod::Simcse(c.init(encoder)),
            TextMethodConfig::Tsdae(c) => TextMethod::Tsdae(c.init(encoder, device)),
            TextMethodConfig::SkipGram(c) => TextMethod::SkipGram(c.init(encoder, device)),
        }
    }
}

/// A text method of any registered kind.
// One long-lived value per run, moved once per step: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum TextMethod {
    /// See [`Simcse`].
    Simcse(Simcse),
    /// See [`Tsdae`].
    Tsdae(Tsdae),
    /// See [`SkipGram`].
    SkipGram(SkipGram),
}

impl TextMethod {
    /// One forward pass over a batch of sentences and its views.
    ///
    /// # Shapes
    /// - `clean`: `[b, l]`
    /// - `views`: as many `[b, l_v]` token batches as [`TextMethodConfig::views`]
    pub fn forward(&self, clean: &Tokens, views: &[Tokens]) -> StepOutput {
        match self {
            TextMethod::Simcse(m) => m.forward(clean, views),
            TextMethod::Tsdae(m) => m.forward(clean, views),
            TextMethod::SkipGram(m) => m.forward(clean, views),
        }
    }

    /// The encoder being pretrained.
    pub fn encoder(&self) -> &TextEncoder {
        match self {
            TextMethod::Simcse(m) => &m.encoder,
            TextMethod::Tsdae(m) => &m.encoder,
            TextMethod::SkipGram(m) => &m.encoder,
        }
    }

    /// Consumes the method, keeping only its encoder.
    pub fn into_encoder(self) -> TextEncoder {
        match self {
            TextMethod::Simcse(m) => m.encoder,
            TextMethod::Tsdae(m) => m.encoder,
            TextMethod::SkipGram(m) => m.encoder,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_from_toml_and_names_its_keys() {
        let cfg: TextMethodConfig = toml::from_str("name = \"tsdae\"\ndeletion = 0.5").unwrap();
        assert_eq!(
            cfg,
            TextMethodConfig::Tsdae(TsdaeConfig {
                deletion: 0.5,
                ..Default::default()
            })
        );
        assert_eq!(
            (cfg.name(), cfg.views(), cfg.view_deletion()),
            ("tsdae", 1, Some(0.5))
        );
        let simcse = TextMethodConfig::default();
        assert_eq!(
            (simcse.name(), simcse.views(), simcse.view_deletion()),
            ("simcse", 2, None)
        );
        let err = toml::from_str::<TextMethodConfig>("name = \"simcse\"\ntau = 0.1").unwrap_err();
        assert!(err.to_string().contains("unknown field `tau`"), "{err}");
    }

    #[test]
    fn validation_names_the_offending_key() {
        let bad = TextMethodConfig::Simcse(SimcseConfig { temperature: -1.0 });
        assert_eq!(
            bad.validate().unwrap_err(),
            "method.temperature must be between 0.01 and 100, got -1"
        );
        for deletion in [1.0, -0.1] {
            let bad = TextMethodConfig::Tsdae(TsdaeConfig {
                deletion,
                ..Default::default()
            });
            assert_eq!(
                bad.validate().unwrap_err(),
                format!("method.deletion must be in [0, 1), got {deletion}")
            );
        }
        let bad = TextMethodConfig::Tsdae(TsdaeConfig {
            decoder_depth: 0,
            ..Default::default()
        });
        assert!(bad.validate().unwrap_err().contains("method.decoder_depth"));
        TextMethodConfig::default().validate().unwrap();
        TextMethodConfig::Tsdae(TsdaeConfig::default())
            .validate()
            .unwrap();
    }
}
