//! TSDAE (Wang et al., 2021, "TSDAE: Using Transformer-based Sequential
//! Denoising Auto-Encoder for Unsupervised Sentence Embedding Learning"): the
//! data loader deletes each token of a sentence with probability `deletion`
//! (0.6 in the paper); the encoder turns what is left into one sentence
//! vector, and a small Transformer decoder must rebuild the whole clean
//! sentence from that vector alone, token by token. The reconstruction loss
//! is the cross-entropy at the clean sentence's real tokens.
//!
//! Unlike the paper, the decoder is small (`decoder_depth` blocks) and does
//! not share its weights with the encoder; its output projection is tied to
//! its own token embeddings (see [`SentenceDecoder`]).
use burn::module::Module;
use burn::tensor::{Bool, Device, Tensor, TensorData};
use pretext_nn::text::{TextEncoder, Tokens};
use serde::{Deserialize, Serialize};

use super::decoder::SentenceDecoder;
use super::{TextMethodModel, TextMethodSettings};
use crate::StepOutput;
use crate::loss::token_cross_entropy;
use crate::method::encoder_field;

/// Settings of [`Tsdae`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TsdaeConfig {
    /// Probability that the loader deletes each token of the encoder's input.
    pub deletion: f32,
    /// Transformer blocks of the decoder.
    pub decoder_depth: usize,
    /// Attention heads of the decoder; must divide the encoder's output width.
    pub heads: usize,
}

impl Default for TsdaeConfig {
    fn default() -> Self {
        Self {
            deletion: 0.6,
            decoder_depth: 1,
            heads: 4,
        }
    }
}

impl TsdaeConfig {
    /// Builds the method around `encoder`; the decoder's width is the
    /// encoder's output width and its vocabulary and positions are the encoder's.
    ///
    /// # Panics
    /// If `heads` does not divide the encoder's output width.
    pub fn init(&self, encoder: TextEncoder, device: &Device) -> Tsdae {
        Tsdae {
            decoder: SentenceDecoder::new(
                encoder.out_dim(),
                self.decoder_depth,
                self.heads,
                encoder.vocab_size(),
                encoder.max_len(),
                device,
            ),
            encoder,
        }
    }
}

/// A TSDAE model: the encoder and the decoder that rebuilds sentences.
#[derive(Module, Debug)]
pub struct Tsdae {
    /// The encoder being pretrained.
    pub encoder: TextEncoder,
    decoder: SentenceDecoder,
}

impl TextMethodSettings for TsdaeConfig {
    type Model = Tsdae;

    const NAME: &'static str = "tsdae";

    const VIEWS: usize = 1;

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        if !(0.0..1.0).contains(&self.deletion) {
            return Err(format!(
                "method.deletion must be in [0, 1), got {}",
                self.deletion
            ));
        }
        if self.decoder_depth == 0 || self.heads == 0 {
            return Err("method.decoder_depth and method.heads must be at least 1".into());
        }
        Ok(())
    }

    fn init(&self, encoder: TextEncoder, device: &Device) -> Tsdae {
        TsdaeConfig::init(self, encoder, device)
    }

    fn view_deletion(&self) -> Option<f32> {
        Some(self.deletion)
    }
}

impl TextMethodModel for Tsdae {
    /// Encodes the corrupted `views[0]` and reconstructs `clean` from it.
    ///
    /// # Shapes
    /// - `clean`: `[b, l]`; `views`: one `[b, l_v]` batch (tokens deleted)
    /// - embeddings: `[b, out_dim]`, the sentence vectors
    fn forward(&self, clean: &Tokens, views: &[Tokens]) -> StepOutput {
        assert_eq!(
            views.len(),
            1,
            "tsdae takes one view (the batch with tokens deleted)"
        );
        let h = self.encoder.forward(&views[0]); // [b, d]
        let (logits, targets) = self.decoder.forward(h.clone(), clean); // [n, vocab], [n]
        let [n, _] = logits.dims();
        // Every row is a real token: one sequence of n, all kept.
        let all = Tensor::<2, Bool>::from_data(TensorData::new(vec![true; n], [1, n]), &h.device());
        StepOutput::new(
            token_cross_entropy(logits.unsqueeze_dim(0), targets.unsqueeze_dim(0), all),
            h,
        )
    }

    encoder_field!(TextEncoder);
}

#[cfg(test)]
mod tests {
    use burn::module::list_param_ids;
    use burn::optim::GradientsParams;

    use super::*;
    use crate::text::testing::{VOCAB, assert_trains, delete, pad, sentences, small_transformer};
    use crate::text::{TextMethod, TextMethodConfig};

    fn tsdae(max_len: usize, device: &Device) -> TextMethod {
        TextMethodConfig::Tsdae(TsdaeConfig {
            heads: 2,
            ..Default::default()
        })
        .init(&small_transformer(), VOCAB, max_len, device)
    }

    #[test]
    fn loss_falls_under_adam_steps_on_review_sentences() {
        let device = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&device, 21);
        let clean = sentences(16, 24, &device);
        let views = [delete(&clean, 0.6, 1)];
        assert_trains(tsdae(24, &device), &clean, &views, 1e-2);
    }

    #[test]
    fn padded_targets_leave_the_loss_unchanged() {
        let device = Device::flex();
        let _streams = pretext_nn::random_streams::hold_seeded(&device, 22);
        let m = tsdae(40, &device);
        let clean = sentences(6, 20, &device);
        let views = [delete(&clean, 0.6, 2)];
        let loss = |clean: &Tokens| m.forward(clean, &views).loss.into_scalar::<f32>();
        let (tight, padded) = (loss(&clean), loss(&pad(&clean, 15, 7)));
        assert!((tight - padded).abs() < 1e-5, "{tight} vs {padded}");
    }

    #[test]
    fn every_encoder_parameter_gets_a_gradient_through_the_sentence_vector() {
        let device = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&device, 23);
        let m = tsdae(16, &device);
        let clean = sentences(4, 16, &device);
        let mut grads = m.forward(&clean, &[delete(&clean, 0.6, 3)]).loss.backward();
        let encoder = m.encoder();
        let reached = GradientsParams::from_module(&mut grads, encoder).len();
        assert_eq!(reached, list_param_ids(encoder).len());
    }
}
