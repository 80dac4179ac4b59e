//! Text encoders: a batch of token sequences in, one embedding vector per
//! sequence out. [`TextEncoderConfig`] is the registry of text encoder kinds,
//! apart from the image registry ([`crate::EncoderConfig`]) because the input
//! is [`Tokens`], not an image tensor.
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

mod bag;
mod tokens;
mod transformer;

pub use bag::{BagOfEmbeddings, BagOfEmbeddingsConfig};
pub use tokens::{PAD_ID, Tokens, masked_mean};
pub use transformer::{TextTransformer, TextTransformerConfig};

/// Which text encoder to build, with its settings (`kind = "transformer" | "bag_of_embeddings"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TextEncoderConfig {
    /// Pre-norm Transformer blocks over token and position embeddings, mean-pooled.
    Transformer(TextTransformerConfig),
    /// The mean of the token embeddings, optionally through one hidden layer.
    BagOfEmbeddings(BagOfEmbeddingsConfig),
}

impl Default for TextEncoderConfig {
    fn default() -> Self {
        TextEncoderConfig::Transformer(TextTransformerConfig::default())
    }
}

impl TextEncoderConfig {
    /// Builds the encoder for ids below `vocab_size` and sequences of at most
    /// `max_len` tokens, on `device`.
    pub fn init(&self, vocab_size: usize, max_len: usize, device: &Device) -> TextEncoder {
        match self {
            TextEncoderConfig::Transformer(c) => {
                TextEncoder::Transformer(c.init(vocab_size, max_len, device))
            }
            TextEncoderConfig::BagOfEmbeddings(c) => {
                TextEncoder::BagOfEmbeddings(c.init(vocab_size, max_len, device))
            }
        }
    }

    /// Checks the settings, naming the offending key.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            TextEncoderConfig::Transformer(c) => c.validate(),
            TextEncoderConfig::BagOfEmbeddings(c) => c.validate(),
        }
    }
}

/// A text encoder of any registered kind.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum TextEncoder {
    /// See [`TextTransformer`].
    Transformer(TextTransformer),
    /// See [`BagOfEmbeddings`].
    BagOfEmbeddings(BagOfEmbeddings),
}

impl TextEncoder {
    /// Embeds a batch of token sequences; padding never changes the result.
    ///
    /// # Shapes
    /// - `x`: `[batch, length]` ids and mask
    /// - output: `[batch, out_dim]`
    pub fn forward(&self, x: &Tokens) -> Tensor<2> {
        match self {
            TextEncoder::Transformer(m) => m.forward(x),
            TextEncoder::BagOfEmbeddings(m) => m.forward(x),
        }
    }

    /// Length of the embedding vector.
    pub fn out_dim(&self) -> usize {
        match self {
            TextEncoder::Transformer(m) => m.out_dim,
            TextEncoder::BagOfEmbeddings(m) => m.out_dim,
        }
    }

    /// The longest sequence the encoder was built for.
    pub fn max_len(&self) -> usize {
        match self {
            TextEncoder::Transformer(m) => m.max_len,
            TextEncoder::BagOfEmbeddings(m) => m.max_len,
        }
    }

    /// Number of token ids (ids are in `0..vocab_size`).
    pub fn vocab_size(&self) -> usize {
        match self {
            TextEncoder::Transformer(m) => m.vocab_size,
            TextEncoder::BagOfEmbeddings(m) => m.vocab_size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VOCAB: usize = 50;
    const MAX_LEN: usize = 32;

    fn kinds() -> [TextEncoderConfig; 3] {
        [
            TextEncoderConfig::Transformer(TextTransformerConfig {
                width: 16,
                heads: 2,
                ..Default::default()
            }),
            TextEncoderConfig::BagOfEmbeddings(BagOfEmbeddingsConfig::default()),
            TextEncoderConfig::BagOfEmbeddings(BagOfEmbeddingsConfig {
                width: 8,
                hidden: Some(12),
            }),
        ]
    }

    /// Three sequences of lengths 5, 3 and 1, padded with `extra` positions
    /// past the longest; padded positions hold `filler(i)` instead of 0.
    fn sentences(extra: usize, filler: impl Fn(usize) -> i64, device: &Device) -> Tokens {
        let rows: [&[i64]; 3] = [&[3, 9, 4, 4, 17], &[8, 2, 30], &[11]];
        let l = 5 + extra;
        let (mut ids, mut mask) = (Vec::new(), Vec::new());
        for row in rows {
            for j in 0..l {
                ids.push(row.get(j).copied().unwrap_or_else(|| filler(j)));
                mask.push(j < row.len());
            }
        }
        Tokens::from_host(ids, mask, [3, l], device)
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_into_vec().unwrap()
    }

    #[test]
    fn every_kind_embeds_to_its_out_dim() {
        let device = Device::flex();
        for cfg in kinds() {
            cfg.validate().unwrap();
            let enc = cfg.init(VOCAB, MAX_LEN, &device);
            let y = enc.forward(&sentences(0, |_| 0, &device));
            assert_eq!(y.dims(), [3, enc.out_dim()], "{cfg:?}");
            assert_eq!((enc.vocab_size(), enc.max_len()), (VOCAB, MAX_LEN));
        }
    }

    #[test]
    fn padding_and_the_ids_under_it_change_nothing() {
        let device = Device::flex();
        let _streams = crate::random_streams::hold_seeded(&device, 4);
        for cfg in kinds() {
            // Without an autodiff device, dropout is off: the eval-mode forward.
            let enc = cfg.init(VOCAB, MAX_LEN, &device);
            let tight = values(enc.forward(&sentences(0, |_| 0, &device)));
            let padded = enc.forward(&sentences(20, |j| (j * 7 % VOCAB) as i64, &device));
            for (a, b) in tight.iter().zip(values(padded)) {
                assert!((a - b).abs() < 1e-5, "{cfg:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn the_transformer_attends_across_tokens() {
        // Changing one real token changes the other tokens' states (attention
        // reaches them), so the padding test above is not vacuous.
        let device = Device::flex();
        let TextEncoder::Transformer(enc) = kinds()[0].init(VOCAB, MAX_LEN, &device) else {
            unreachable!()
        };
        let a = Tokens::from_host(vec![3, 9, 4], vec![true; 3], [1, 3], &device);
        let b = Tokens::from_host(vec![3, 9, 5], vec![true; 3], [1, 3], &device);
        let first = |t: &Tokens| values(enc.token_states(t).narrow(1, 0, 1).squeeze_dim(1));
        let diff: f32 = first(&a)
            .iter()
            .zip(first(&b))
            .map(|(x, y)| (x - y).abs())
            .sum();
        assert!(diff > 1e-4, "diff {diff}");
        assert_eq!(enc.token_states(&a).dims(), [1, 3, 16]);
    }

    #[test]
    fn config_reads_from_toml_and_checks_its_keys() {
        let cfg: TextEncoderConfig =
            toml::from_str("kind = \"bag_of_embeddings\"\nhidden = 64").unwrap();
        assert_eq!(
            cfg,
            TextEncoderConfig::BagOfEmbeddings(BagOfEmbeddingsConfig {
                width: 128,
                hidden: Some(64)
            })
        );
        let cfg: TextEncoderConfig = toml::from_str("kind = \"transformer\"").unwrap();
        assert_eq!(cfg, TextEncoderConfig::default());
        let err =
            toml::from_str::<TextEncoderConfig>("kind = \"transformer\"\nlayers = 2").unwrap_err();
        assert!(err.to_string().contains("unknown field `layers`"), "{err}");
        let bad = TextEncoderConfig::Transformer(TextTransformerConfig {
            heads: 3,
            ..Default::default()
        });
        assert_eq!(
            bad.validate().unwrap_err(),
            "encoder.heads (3) must divide encoder.width (128)"
        );
        let bad = TextEncoderConfig::Transformer(TextTransformerConfig {
            dropout: 1.0,
            ..Default::default()
        });
        assert!(bad.validate().unwrap_err().starts_with("encoder.dropout"));
    }
}
