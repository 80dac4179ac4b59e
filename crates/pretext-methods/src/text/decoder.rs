//! The decoder of TSDAE (Wang et al., 2021, section 3): a Transformer decoder
//! whose cross-attention sees only the sentence vector (a one-token memory)
//! and which predicts a sentence token by token under a causal mask.
//!
//! Its input at position `i` is the embedding of target token `i - 1`, and at
//! position 0 a learned start vector (no vocabulary id is reserved for it).
//! The output projection is tied to the decoder's own token embeddings (as in
//! BERT's masked-LM head), with a learned bias per token.
use burn::module::{Module, Param};
use burn::nn::attention::generate_autoregressive_mask;
use burn::nn::transformer::{
    TransformerDecoder, TransformerDecoderConfig, TransformerDecoderInput,
};
use burn::nn::{Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use pretext_nn::text::Tokens;

/// Dropout inside the decoder blocks (BERT's 0.1; off on inference copies).
const DROPOUT: f64 = 0.1;

/// BERT's initialiser of embeddings, `N(0, 0.02)`.
const EMBEDDING_INIT: Initializer = Initializer::Normal {
    mean: 0.0,
    std: 0.02,
};

/// A Transformer decoder from one sentence vector to next-token logits.
#[derive(Module, Debug)]
pub struct SentenceDecoder {
    tokens: Embedding,
    start: Param<Tensor<3>>,
    positions: Param<Tensor<2>>,
    blocks: TransformerDecoder,
    norm: LayerNorm,
    bias: Param<Tensor<1>>,
    /// Longest sequence it has positions for.
    pub max_len: usize,
}

impl SentenceDecoder {
    /// A decoder of `depth` pre-norm blocks of `width` (the sentence vector's
    /// length, which `heads` must divide) over a vocabulary of `vocab_size`.
    pub fn new(
        width: usize,
        depth: usize,
        heads: usize,
        vocab_size: usize,
        max_len: usize,
        device: &Device,
    ) -> Self {
        assert!(
            width.is_multiple_of(heads),
            "method.heads ({heads}) must divide the encoder's output width ({width})"
        );
        Self {
            tokens: EmbeddingConfig::new(vocab_size, width)
                .with_initializer(EMBEDDING_INIT)
                .init(device),
            start: EMBEDDING_INIT.init([1, 1, width], device),
            positions: EMBEDDING_INIT.init([max_len, width], device),
            blocks: TransformerDecoderConfig::new(width, 4 * width, heads, depth)
                .with_norm_first(true)
                .with_dropout(DROPOUT)
                .init(device),
            norm: LayerNormConfig::new(width).init(device),
            bias: Initializer::Zeros.init([vocab_size], device),
            max_len,
        }
    }

    /// Next-token logits at the real (unpadded) positions of `target`
    /// given the sentence vectors, by teacher forcing: the logits for
    /// position `i` predict token `i` from the tokens before it. Padded
    /// positions are never attended to, and get no logits: with batches
    /// padded to their longest sentence most positions can be padding, and
    /// the projection onto the vocabulary is the decoder's largest cost.
    /// Returns the logits, one row per real position in row-major order,
    /// and the token ids they predict.
    ///
    /// # Shapes
    /// - `sentence`: `[b, width]`; `target`: `[b, l]`
    /// - output: `[n, vocab]` and `[n]`, `n` the real positions of `target`
    ///
    /// # Panics
    /// If `l > max_len`.
    pub fn forward(&self, sentence: Tensor<2>, target: &Tokens) -> (Tensor<2>, Tensor<1, Int>) {
        let [b, l] = target.dims();
        let [_, width] = sentence.dims();
        let h = self.hidden(sentence, target).reshape([b * l, width]); // [b * l, w]
        let device = h.device();
        let real: Vec<i64> = target
            .mask
            .clone()
            .into_data()
            .iter::<bool>()
            .enumerate()
            .filter_map(|(i, keep)| keep.then_some(i as i64))
            .collect();
        let n = real.len();
        let rows = Tensor::<1, Int>::from_data(TensorData::new(real, [n]), &device);
        let ids = target.ids.clone().reshape([b * l]).select(0, rows.clone()); // [n]
        let h = h.select(0, rows); // [n, w]
        // Tied output: logits against the token embeddings, plus a bias.
        let weight = self.tokens.weight.val(); // [vocab, w]
        let logits = h.matmul(weight.transpose()) + self.bias.val().unsqueeze::<2>(); // [n, vocab]
        (logits, ids)
    }

    /// The decoder's last hidden states, `[b, l, width]`.
    fn hidden(&self, sentence: Tensor<2>, target: &Tokens) -> Tensor<3> {
        let [b, l] = target.dims();
        let [_, width] = sentence.dims();
        assert!(
            l <= self.max_len,
            "tsdae: sequences of {l} tokens, positions for {}",
            self.max_len
        );
        let device = sentence.device();
        let start = self.start.val().expand([b, 1, width]); // [b, 1, w]
        // Input i holds token i - 1: it is padding where that token is.
        let (inputs, seen) = if l > 1 {
            let previous = target.ids.clone().narrow(1, 0, l - 1); // [b, l - 1]
            (
                Tensor::cat(vec![start, self.tokens.forward(previous)], 1),
                Tensor::cat(
                    vec![
                        all_true(b, &device),
                        target.mask.clone().narrow(1, 0, l - 1),
                    ],
                    1,
                ),
            )
        } else {
            (start, all_true(b, &device))
        }; // [b, l, w], [b, l]
        let x = inputs + self.positions.val().narrow(0, 0, l).unsqueeze::<3>(); // [b, l, w]
        let memory = sentence.unsqueeze_dim::<3>(1); // [b, 1, w]
        let input = TransformerDecoderInput::new(x, memory)
            .target_mask_pad(seen.bool_not())
            .target_mask_attn(generate_autoregressive_mask(b, l, &device));
        self.norm.forward(self.blocks.forward(input)) // [b, l, w]
    }
}

/// `[b, 1]`, all true.
fn all_true(b: usize, device: &Device) -> Tensor<2, Bool> {
    Tensor::from_data(TensorData::new(vec![true; b], [b, 1]), device)
}

#[cfg(test)]
mod tests {
    use burn::tensor::Distribution;

    use super::*;
    use crate::loss::token_cross_entropy;
    use crate::text::testing::{VOCAB, pad, sentences};

    #[test]
    fn logits_at_real_positions_give_the_loss_of_all_positions_under_the_mask() {
        let device = Device::flex();
        let _streams = pretext_nn::random_streams::hold_seeded(&device, 31);
        let decoder = SentenceDecoder::new(16, 1, 2, VOCAB, 40, &device);
        // Sentences of different lengths, then 9 more pad positions each.
        let target = pad(&sentences(5, 20, &device), 9, 3);
        let [b, l] = target.dims();
        let sentence = Tensor::<2>::random([b, 16], Distribution::Normal(0.0, 1.0), &device);

        let (logits, ids) = decoder.forward(sentence.clone(), &target);
        let real = target.mask.clone().int().sum().into_scalar::<i64>() as usize;
        assert_eq!(logits.dims(), [real, VOCAB]);
        assert_eq!(ids.dims(), [real]);
        assert!(real < b * l, "the batch has padding");
        let all =
            Tensor::<2, Bool>::from_data(TensorData::new(vec![true; real], [1, real]), &device);
        let packed: f32 =
            token_cross_entropy(logits.unsqueeze_dim(0), ids.unsqueeze_dim(0), all).into_scalar();

        // The same loss from every position's logits, padding masked out.
        let h = decoder.hidden(sentence, &target).reshape([b * l, 16]);
        let full = (h.matmul(decoder.tokens.weight.val().transpose())
            + decoder.bias.val().unsqueeze::<2>())
        .reshape([b, l, VOCAB]);
        let masked: f32 =
            token_cross_entropy(full, target.ids.clone(), target.mask.clone()).into_scalar();
        assert!((packed - masked).abs() < 1e-5, "{packed} vs {masked}");
    }
}
