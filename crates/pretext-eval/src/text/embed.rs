//! Embeddings of token sequences by a frozen text encoder. Sequences are
//! batched by length (sorted, then put back in order), so a batch pads to
//! about its own length instead of the longest document's.
use burn::tensor::Device;
use pretext_data::text::TokenIds;
use pretext_nn::text::{TextEncoder, Tokens};

use crate::features::Features;

/// Sequences per batch when embedding or predicting.
const BATCH: usize = 256;

/// Calls `f` on batches of the sequences `indices` of `tokens`, grouped by
/// length; `f` gets the batch and the positions (in `indices`) of its rows.
pub(crate) fn by_length(
    tokens: &[Vec<u32>],
    indices: &[usize],
    device: &Device,
    mut f: impl FnMut(Tokens, &[usize]),
) {
    let mut order: Vec<usize> = (0..indices.len()).collect();
    order.sort_by_key(|&p| tokens[indices[p]].len());
    for chunk in order.chunks(BATCH) {
        let seqs: Vec<Vec<u32>> = chunk.iter().map(|&p| tokens[indices[p]].clone()).collect();
        let ids = TokenIds::pad(&seqs);
        f(
            Tokens::from_host(ids.ids, ids.mask, ids.shape, device),
            chunk,
        );
    }
}

/// The encoder's embedding of every sequence of `tokens`, in order, computed
/// on `device` (plain, not autodiff: nothing is trained here).
pub fn embed_texts(encoder: &TextEncoder, tokens: &[Vec<u32>], device: &Device) -> Features {
    let dim = encoder.out_dim();
    let mut values = vec![0f32; tokens.len() * dim];
    let all: Vec<usize> = (0..tokens.len()).collect();
    by_length(tokens, &all, device, |x, rows| {
        let h: Vec<f32> = encoder
            .forward(&x)
            .into_data()
            .try_into_vec::<f32>()
            .expect("embeddings are float tensors"); // [b, dim]
        for (r, &p) in rows.iter().enumerate() {
            values[p * dim..(p + 1) * dim].copy_from_slice(&h[r * dim..(r + 1) * dim]);
        }
    });
    Features::new(tokens.len(), dim, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretext_nn::text::TextEncoderConfig;

    #[test]
    fn length_batching_keeps_the_order_of_the_documents() {
        let device = Device::flex();
        let encoder = TextEncoderConfig::default().init(50, 16, &device);
        let tokens: Vec<Vec<u32>> = (0..300u32)
            .map(|i| (0..(1 + (i * 7) % 13)).map(|t| 5 + (i + t) % 40).collect())
            .collect();
        let all = embed_texts(&encoder, &tokens, &device);
        // One at a time: no batching, no padding.
        for i in [0usize, 1, 77, 299] {
            let one = embed_texts(&encoder, &tokens[i..=i], &device);
            for (a, b) in all.row(i).iter().zip(one.row(0)) {
                assert!((a - b).abs() < 1e-4, "document {i}: {a} vs {b}");
            }
        }
    }
}
