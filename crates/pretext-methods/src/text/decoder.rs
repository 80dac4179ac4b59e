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
use burn::tensor::{Bool, Device, Tensor, TensorData};
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

    /// Next-token logits of `target` given the sentence vectors, by teacher
    /// forcing: the logits at position `i` predict token `i` from the tokens
    /// before it. Padded positions of `target` are never attended to.
    ///
    /// # Shapes
    /// - `sentence`: `[b, width]`; `target`: `[b, l]`
    /// - output: `[b, l, vocab]`
    ///
    /// # Panics
    /// If `l > max_len`.
    pub fn forward(&self, sentence: Tensor<2>, target: &Tokens) -> Tensor<3> {
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
        let h = self.norm.forward(self.blocks.forward(input)); // [b, l, w]
        // Tied output: logits against the token embeddings, plus a bias.
        let weight = self.tokens.weight.val(); // [vocab, w]
        let [vocab, _] = weight.dims();
        let logits =
            h.reshape([b * l, width]).matmul(weight.transpose()) + self.bias.val().unsqueeze::<2>(); // [b * l, vocab]
        logits.reshape([b, l, vocab])
    }
}

/// `[b, 1]`, all true.
fn all_true(b: usize, device: &Device) -> Tensor<2, Bool> {
    Tensor::from_data(TensorData::new(vec![true; b], [b, 1]), device)
}
