//! Unsupervised SimCSE (Gao et al., 2021, "SimCSE: Simple Contrastive
//! Learning of Sentence Embeddings", section 3): encode the same batch of
//! sentences twice with dropout active, so the two dropout masks are the only
//! noise, and pull each sentence's two encodings together against the other
//! sentences of the batch. No projection head is trained on top (the paper
//! drops its MLP at test time; here there is none).
use burn::module::Module;
use burn::tensor::Device;
use pretext_nn::text::{TextEncoder, Tokens};
use serde::{Deserialize, Serialize};

use super::{TextMethodModel, TextMethodSettings};
use crate::StepOutput;
use crate::loss::simcse;
use crate::method::checks::check_temperature;
use crate::method::encoder_field;

/// Settings of [`Simcse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimcseConfig {
    /// Softmax temperature over cosine similarities (0.05 in the paper).
    pub temperature: f32,
}

impl Default for SimcseConfig {
    fn default() -> Self {
        Self { temperature: 0.05 }
    }
}

impl SimcseConfig {
    /// Builds the method around `encoder`.
    pub fn init(&self, encoder: TextEncoder) -> Simcse {
        Simcse {
            encoder,
            temperature: self.temperature as f64,
        }
    }
}

/// A SimCSE model: only the encoder.
#[derive(Module, Debug)]
pub struct Simcse {
    /// The encoder being pretrained.
    pub encoder: TextEncoder,
    temperature: f64,
}

impl TextMethodSettings for SimcseConfig {
    type Model = Simcse;

    const NAME: &'static str = "simcse";

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        check_temperature(self.temperature)
    }

    fn init(&self, encoder: TextEncoder, _device: &Device) -> Simcse {
        SimcseConfig::init(self, encoder)
    }
}

impl TextMethodModel for Simcse {
    /// Encodes `views[0]` and `views[1]` (by default two copies of `clean`;
    /// with no views, `clean` itself twice), each with its own dropout masks
    /// when the device records gradients.
    ///
    /// # Shapes
    /// - `clean`: `[b, l]`; `views`: none or two `[b, l_v]` batches
    /// - embeddings: `[b, out_dim]`, the first encoding
    fn forward(&self, clean: &Tokens, views: &[Tokens]) -> StepOutput {
        let (a, b) = match views {
            [] => (clean, clean),
            [a, b] => (a, b),
            _ => panic!("simcse takes two views of a batch, got {}", views.len()),
        };
        let h1 = self.encoder.forward(a); // [b, d]
        let h2 = self.encoder.forward(b); // [b, d], other dropout masks
        StepOutput::new(simcse(h1.clone(), h2, self.temperature as f32), h1)
    }

    encoder_field!(TextEncoder);
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;

    use super::*;
    use crate::text::testing::{VOCAB, assert_trains, sentences, small_transformer};
    use crate::text::{TextMethod, TextMethodConfig};

    #[test]
    fn loss_falls_under_adam_steps_on_review_sentences() {
        let device = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&device, 11);
        let clean = sentences(16, 24, &device);
        let views = [clean.clone(), clean.clone()];
        let method = TextMethodConfig::Simcse(SimcseConfig::default()).init(
            &small_transformer(),
            VOCAB,
            24,
            &device,
        );
        assert_trains(method, &clean, &views, 3e-3);
    }

    #[test]
    fn dropout_is_the_only_noise() {
        let device = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&device, 12);
        let clean = sentences(8, 16, &device);
        let TextMethod::Simcse(m) =
            TextMethodConfig::default().init(&small_transformer(), VOCAB, 16, &device)
        else {
            unreachable!()
        };
        // Training: two dropout masks, two different encodings of each sentence.
        let differ = |m: &Simcse| {
            let (h1, h2) = (m.encoder.forward(&clean), m.encoder.forward(&clean));
            (h1 - h2).abs().max().into_scalar::<f32>()
        };
        assert!(differ(&m) > 1e-4, "dropout left the encodings equal");
        // Inference copy: no dropout, the same encoding twice, a loss near its floor.
        let valid = m.valid();
        let clean = sentences(8, 16, &Device::flex());
        let (h1, h2) = (valid.encoder.forward(&clean), valid.encoder.forward(&clean));
        assert_eq!((h1 - h2).abs().max().into_scalar::<f32>(), 0.0);
    }
}
