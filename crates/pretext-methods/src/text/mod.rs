//! Text methods: a text encoder and a loss wired into one step over token
//! sequences. A text method is one file: its settings, which implement
//! [`TextMethodSettings`], and its model, which implements
//! [`TextMethodModel`]. The registry below lists each in one line, from which
//! [`TextMethodConfig`] and [`TextMethod`] are made; it is apart from the
//! image registry ([`crate::MethodConfig`]) because a step takes [`Tokens`],
//! not image tensors.
use burn::module::Module;
use burn::tensor::Device;
use pretext_nn::TextEncoderConfig;
use pretext_nn::text::{TextEncoder, Tokens};
use serde::{Deserialize, Serialize};

use crate::StepOutput;

mod decoder;
mod model;
mod settings;
mod simcse;
mod skip_gram;
#[cfg(test)]
mod testing;
mod tsdae;

pub use decoder::SentenceDecoder;
pub use model::TextMethodModel;
pub use settings::TextMethodSettings;
pub use simcse::{Simcse, SimcseConfig};
pub use skip_gram::{SkipGram, SkipGramConfig};
pub use tsdae::{Tsdae, TsdaeConfig};

/// The text registry: one line per method, `Variant(Settings) => Model`, from
/// which [`TextMethodConfig`], [`TextMethod`] and their dispatch are made.
macro_rules! text_registry {
    ($(
        $(#[$doc:meta])*
        $variant:ident($settings:ty) => $model:ty
    ),* $(,)?) => {
        /// Which text method to pretrain with: `name = "<method>"`, the
        /// variant's name in snake case (`"simcse"`, `"skip_gram"`, ...), with
        /// the method's settings beside it.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "name", rename_all = "snake_case")]
        pub enum TextMethodConfig {
            $( $(#[$doc])* $variant($settings), )*
        }

        /// A text method of any registered kind.
        // One long-lived value per run, moved once per step: boxing buys nothing.
        #[allow(clippy::large_enum_variant)]
        #[derive(Module, Debug)]
        pub enum TextMethod {
            $(
                #[doc = concat!("See [`", stringify!($model), "`].")]
                $variant($model),
            )*
        }

        impl TextMethodConfig {
            /// The method's name as written in configs.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => <$settings as TextMethodSettings>::NAME, )*
                }
            }

            /// How many views of each sentence one step needs.
            pub fn views(&self) -> usize {
                match self {
                    $( Self::$variant(_) => <$settings as TextMethodSettings>::VIEWS, )*
                }
            }

            /// The deletion probability the loader must apply to the views
            /// (TSDAE: its `deletion`; SimCSE: `None`, so the experiment's own
            /// text augmentation applies).
            pub fn view_deletion(&self) -> Option<f32> {
                match self {
                    $( Self::$variant(c) => c.view_deletion(), )*
                }
            }

            /// Checks the settings, naming the offending key.
            pub fn validate(&self) -> Result<(), String> {
                match self {
                    $( Self::$variant(c) => c.validate(), )*
                }
            }

            /// Checks that `encoder` is one the method can train, naming the keys.
            pub fn check_encoder(&self, encoder: &TextEncoderConfig) -> Result<(), String> {
                match self {
                    $( Self::$variant(c) => c.check_encoder(encoder), )*
                }
            }

            /// Builds the method around a new encoder for ids below
            /// `vocab_size` and sequences of at most `max_len` tokens.
            pub fn init(
                &self,
                encoder: &TextEncoderConfig,
                vocab_size: usize,
                max_len: usize,
                device: &Device,
            ) -> TextMethod {
                let encoder = encoder.init(vocab_size, max_len, device);
                match self {
                    $( Self::$variant(c) => TextMethod::$variant(<$settings as TextMethodSettings>::init(c, encoder, device)), )*
                }
            }

            /// Every text method with its default settings, in registry order.
            #[cfg(test)]
            pub(crate) fn every_default() -> Vec<TextMethodConfig> {
                vec![$( Self::$variant(<$settings>::default()), )*]
            }
        }

        impl TextMethod {
            /// One forward pass over a batch of sentences and its views.
            ///
            /// # Shapes
            /// - `clean`: `[b, l]`
            /// - `views`: as many `[b, l_v]` token batches as [`TextMethodConfig::views`]
            pub fn forward(&self, clean: &Tokens, views: &[Tokens]) -> StepOutput {
                match self {
                    $( Self::$variant(m) => <$model as TextMethodModel>::forward(m, clean, views), )*
                }
            }

            /// The encoder being pretrained.
            pub fn encoder(&self) -> &TextEncoder {
                match self {
                    $( Self::$variant(m) => <$model as TextMethodModel>::encoder(m), )*
                }
            }

            /// Consumes the method, keeping only its encoder.
            pub fn into_encoder(self) -> TextEncoder {
                match self {
                    $( Self::$variant(m) => <$model as TextMethodModel>::into_encoder(m), )*
                }
            }
        }
    };
}

text_registry! {
    /// SimCSE: the same sentences encoded twice, dropout as the only noise, in-batch negatives.
    Simcse(SimcseConfig) => Simcse,
    /// TSDAE: encode a sentence with tokens deleted, decode the clean sentence from the vector.
    Tsdae(TsdaeConfig) => Tsdae,
    /// Skip-gram: each token's vector predicts its neighbours (word2vec), for a bag of embeddings.
    SkipGram(SkipGramConfig) => SkipGram,
}

impl Default for TextMethodConfig {
    fn default() -> Self {
        TextMethodConfig::Simcse(SimcseConfig::default())
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

    #[test]
    fn every_registered_name_is_the_name_its_config_is_read_by() {
        crate::method::checks::check_registry(
            TextMethodConfig::every_default(),
            TextMethodConfig::name,
        );
    }
}
