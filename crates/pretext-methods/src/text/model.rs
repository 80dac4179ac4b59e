//! What the text registry asks of a text method's model.
use pretext_nn::text::{TextEncoder, Tokens};

use crate::StepOutput;

/// A text method's model: a text encoder, its heads and the loss of one step.
pub trait TextMethodModel {
    /// One forward pass over a batch of sentences and its views.
    ///
    /// # Shapes
    /// - `clean`: `[b, l]`
    /// - `views`: as many `[b, l_v]` token batches as the settings' views
    fn forward(&self, clean: &Tokens, views: &[Tokens]) -> StepOutput;

    /// The encoder being pretrained.
    fn encoder(&self) -> &TextEncoder;

    /// Consumes the model, keeping only its encoder.
    fn into_encoder(self) -> TextEncoder;
}
