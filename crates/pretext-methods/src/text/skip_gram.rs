//! Skip-gram with negative sampling (Mikolov et al., 2013, "Distributed
//! Representations of Words and Phrases and their Compositionality"), the
//! word2vec objective, training a bag-of-embeddings encoder: each token's
//! embedding (the encoder's own table) must predict the tokens within
//! `window` of it through a second table of context vectors, against
//! `negatives` tokens drawn from the batch (in expectation: see
//! [`crate::loss::skip_gram`]). The sentence embedding is then the
//! mean of its tokens' trained vectors.
//!
//! As in word2vec, the token vectors start small (uniform in ±0.5/width) and
//! the context vectors at zero; the context table is dropped after
//! pretraining.
use burn::module::{Initializer, Module};
use burn::nn::{Embedding, EmbeddingConfig};
use burn::tensor::{Device, Distribution, Int, Tensor};
use pretext_nn::TextEncoderConfig;
use pretext_nn::text::{TextEncoder, Tokens, masked_mean};
use serde::{Deserialize, Serialize};

use super::{TextMethodModel, TextMethodSettings};
use crate::StepOutput;
use crate::loss::skip_gram;
use crate::method::encoder_field;

/// Positions of the batch drawn as the shared pool of negatives each step.
const POOL: usize = 64;

/// Settings of [`SkipGram`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SkipGramConfig {
    /// The farthest context token, in positions either side (5 in word2vec).
    pub window: usize,
    /// Negatives drawn per token (5 in word2vec).
    pub negatives: usize,
}

impl Default for SkipGramConfig {
    fn default() -> Self {
        Self {
            window: 5,
            negatives: 5,
        }
    }
}

impl SkipGramConfig {
    /// Builds the method around `encoder`, drawing its token vectors again.
    ///
    /// # Panics
    /// If `encoder` is not a bag of embeddings (see [`Self::check_encoder`]).
    pub fn init(&self, encoder: TextEncoder, device: &Device) -> SkipGram {
        let TextEncoder::BagOfEmbeddings(bag) = encoder else {
            panic!("skip_gram needs a bag-of-embeddings encoder");
        };
        let (vocab, width) = (bag.vocab_size, bag.out_dim);
        let half = 0.5 / width as f64;
        let bag = bag.with_token_init(
            Initializer::Uniform {
                min: -half,
                max: half,
            },
            device,
        );
        SkipGram {
            encoder: TextEncoder::BagOfEmbeddings(bag),
            contexts: EmbeddingConfig::new(vocab, width)
                .with_initializer(Initializer::Zeros)
                .init(device),
            window: self.window,
            negatives: self.negatives,
        }
    }
}

/// A skip-gram model: the encoder (whose token table holds the word vectors)
/// and the context vectors.
#[derive(Module, Debug)]
pub struct SkipGram {
    /// The encoder being pretrained.
    pub encoder: TextEncoder,
    contexts: Embedding,
    window: usize,
    negatives: usize,
}

impl TextMethodSettings for SkipGramConfig {
    type Model = SkipGram;

    const NAME: &'static str = "skip_gram";

    const VIEWS: usize = 0;

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        if self.window == 0 || self.negatives == 0 {
            return Err(format!(
                "method.window and method.negatives must be at least 1, got {} and {}",
                self.window, self.negatives
            ));
        }
        Ok(())
    }

    fn init(&self, encoder: TextEncoder, device: &Device) -> SkipGram {
        SkipGramConfig::init(self, encoder, device)
    }

    /// Checks that `encoder` is one skip-gram trains: a bag of embeddings
    /// with no hidden layer (the layer would stay untrained).
    fn check_encoder(&self, encoder: &TextEncoderConfig) -> Result<(), String> {
        match encoder {
            TextEncoderConfig::BagOfEmbeddings(c) if c.hidden.is_none() => Ok(()),
            _ => Err(
                "method skip_gram trains token embeddings: it needs encoder.kind = \
                 \"bag_of_embeddings\" without encoder.hidden"
                    .into(),
            ),
        }
    }
}

impl TextMethodModel for SkipGram {
    /// The skip-gram loss over `clean` (views are not used); the embeddings
    /// are the encoder's sentence vectors.
    ///
    /// # Shapes
    /// - `clean`: `[b, l]`
    /// - embeddings: `[b, width]`
    fn forward(&self, clean: &Tokens, views: &[Tokens]) -> StepOutput {
        assert!(views.is_empty(), "skip_gram takes no views");
        let TextEncoder::BagOfEmbeddings(bag) = &self.encoder else {
            unreachable!("built around a bag of embeddings");
        };
        let [b, l] = clean.dims();
        let n = b * l;
        let pool: Tensor<1, Int> = Tensor::<1>::random(
            [POOL],
            Distribution::Uniform(0.0, n as f64),
            &clean.ids.device(),
        )
        .int()
        .clamp(0, n as i64 - 1);
        // The bag has no hidden layer, so its sentence vector is this mean.
        let vectors = bag.token_vectors(clean.ids.clone()); // [b, l, width]
        let embeddings = masked_mean(vectors.clone(), clean.mask.clone());
        let loss = skip_gram(
            vectors,
            self.contexts.forward(clean.ids.clone()),
            clean.mask.clone(),
            self.window,
            pool,
            self.negatives,
        );
        StepOutput::new(loss, embeddings)
    }

    encoder_field!(TextEncoder);
}

#[cfg(test)]
mod tests {
    use pretext_nn::text::BagOfEmbeddingsConfig;

    use super::*;
    use burn::optim::{AdamConfig, GradientsParams};

    use crate::text::testing::{VOCAB, sentences};
    use crate::text::{TextMethod, TextMethodConfig};

    fn bag(hidden: Option<usize>) -> TextEncoderConfig {
        TextEncoderConfig::BagOfEmbeddings(BagOfEmbeddingsConfig { width: 16, hidden })
    }

    #[test]
    fn loss_falls_under_adam_steps_on_review_sentences() {
        // The negatives are drawn afresh each step, so the loss is noisy
        // step to step: compare its mean over 8 draws before and after 100
        // Adam steps, at log(2) · (1 + negatives) = 4.16 at the start.
        let device = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&device, 31);
        let clean = sentences(16, 24, &device);
        let mut method = TextMethodConfig::SkipGram(SkipGramConfig::default()).init(
            &bag(None),
            VOCAB,
            24,
            &device,
        );
        let mean_loss = |m: &TextMethod| {
            (0..8)
                .map(|_| m.forward(&clean, &[]).loss.into_scalar::<f32>())
                .sum::<f32>()
                / 8.0
        };
        let before = mean_loss(&method);
        assert!((before - 6.0 * 2f32.ln()).abs() < 0.05, "{before}");
        let mut optim = AdamConfig::new().init();
        for _ in 0..100 {
            let loss = method.forward(&clean, &[]).loss;
            let grads = GradientsParams::from_grads(loss.backward(), &method);
            method = optim.step(3e-2, method, grads);
        }
        let after = mean_loss(&method);
        assert!(after < 0.8 * before, "{before} -> {after}");
    }

    #[test]
    fn its_embeddings_are_the_encoders_sentence_vectors() {
        let device = Device::flex();
        let clean = sentences(4, 24, &device);
        let TextMethod::SkipGram(method) = TextMethodConfig::SkipGram(SkipGramConfig::default())
            .init(&bag(None), VOCAB, 24, &device)
        else {
            panic!("a skip-gram method");
        };
        let step = method.forward(&clean, &[]).embeddings;
        let direct = method.encoder.forward(&clean);
        step.into_data()
            .assert_approx_eq::<f32>(&direct.into_data(), Default::default());
    }

    #[test]
    fn only_a_bag_without_hidden_layer_is_accepted() {
        let c = SkipGramConfig::default();
        c.check_encoder(&bag(None)).unwrap();
        let e = c.check_encoder(&bag(Some(8))).unwrap_err();
        assert!(e.contains("without encoder.hidden"), "{e}");
        assert!(
            c.check_encoder(&crate::text::testing::small_transformer())
                .is_err()
        );
        let bad = SkipGramConfig {
            window: 0,
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().contains("method.window"));
    }
}
