//! A pretrained text encoder with its run's tokenizer, for other programs:
//! load it from a run, embed sentences or documents.
use pretext_data::text::TextTokenizer;
use pretext_eval::Texts;
use pretext_eval::text::embed::embed_texts;

use crate::pretrained::Pretrained;

/// The encoder of a text run and the tokenizer it was trained with.
/// Loading, its parts and its warnings are [`Pretrained`]'s.
pub type TextEncoder = Pretrained<Texts>;

impl Pretrained<Texts> {
    /// The run's tokenizer (texts longer than its `max_len` tokens are cut).
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.preprocessing
    }

    /// The embedding of each text, in order. Texts are tokenised with the
    /// run's tokenizer and cut to its `max_len` tokens; an empty text embeds
    /// as the unknown token.
    pub fn embed_texts<S: AsRef<str>>(&self, texts: &[S]) -> Vec<Vec<f32>> {
        let tokens: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| self.preprocessing.encode(t.as_ref()).0)
            .collect();
        let features = embed_texts(&self.network, &tokens, &self.device);
        (0..features.rows)
            .map(|i| features.row(i).to_vec())
            .collect()
    }
}
