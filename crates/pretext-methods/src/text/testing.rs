//! What the text method tests share: a batch of the committed review sentences
//! crudely (hashed words), token deletion and padding done on the host, and a
//! short Adam run.
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Device;
use pretext_nn::TextEncoderConfig;
use pretext_nn::text::{TextTransformerConfig, Tokens};

use super::TextMethod;

/// Ids are hashed into `5..VOCAB` (0 pads; 1 to 4 left free as a tokenizer would).
pub(crate) const VOCAB: usize = 500;

/// A transformer small enough for tests, with dropout.
pub(crate) fn small_transformer() -> TextEncoderConfig {
    TextEncoderConfig::Transformer(TextTransformerConfig {
        width: 32,
        depth: 1,
        heads: 2,
        mlp_ratio: 2,
        dropout: 0.1,
    })
}

fn word_id(word: &str) -> i64 {
    // FNV-1a.
    let hash = word.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    5 + (hash % (VOCAB as u64 - 5)) as i64
}

/// Right-pads rows of ids into a batch.
fn batch(rows: &[Vec<i64>], device: &Device) -> Tokens {
    let l = rows.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let (mut ids, mut mask) = (Vec::new(), Vec::new());
    for row in rows {
        for j in 0..l {
            ids.push(row.get(j).copied().unwrap_or(0));
            mask.push(j < row.len());
        }
    }
    Tokens::from_host(ids, mask, [rows.len(), l], device)
}

/// A batch's ids and mask on the host, row-major.
fn host(t: &Tokens) -> (Vec<i64>, Vec<bool>) {
    let ids: Vec<i64> = t
        .ids
        .clone()
        .into_data()
        .convert::<i64>()
        .try_into_vec()
        .unwrap();
    let mask: Vec<bool> = t.mask.clone().into_data().try_into_vec().unwrap();
    (ids, mask)
}

/// The rows of a batch as host vectors of their real ids.
fn rows(t: &Tokens) -> Vec<Vec<i64>> {
    let [b, l] = t.dims();
    let (ids, mask) = host(t);
    (0..b)
        .map(|i| {
            (0..l)
                .filter(|&j| mask[i * l + j])
                .map(|j| ids[i * l + j])
                .collect()
        })
        .collect()
}

/// The first `n` of the committed review sentences (`datasets/reviews`,
/// generated from a grammar), words hashed to ids, cut to `max_len` tokens.
pub(crate) fn sentences(n: usize, max_len: usize, device: &Device) -> Tokens {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../datasets/reviews/train.tsv"
    );
    let text = std::fs::read_to_string(path).expect("the committed review sentences");
    let rows: Vec<Vec<i64>> = text
        .lines()
        .skip(1) // the header
        .take(n)
        .map(|line| {
            // Each line is "<label>\t<topic>\t<sentence>".
            line.split('\t')
                .nth(2)
                .expect("three columns")
                .split_whitespace()
                .take(max_len)
                .map(word_id)
                .collect()
        })
        .collect();
    batch(&rows, device)
}

/// Deletes each real token with probability `p` (keeping at least one per
/// sentence), as TSDAE's loader does, deterministically under `seed`.
pub(crate) fn delete(t: &Tokens, p: f64, seed: u64) -> Tokens {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut uniform = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let kept: Vec<Vec<i64>> = rows(t)
        .into_iter()
        .map(|row| {
            let kept: Vec<i64> = row.iter().copied().filter(|_| uniform() >= p).collect();
            if kept.is_empty() {
                row[..1].to_vec()
            } else {
                kept
            }
        })
        .collect();
    batch(&kept, &t.ids.device())
}

/// `extra` more padded columns, holding id `filler` rather than 0.
pub(crate) fn pad(t: &Tokens, extra: usize, filler: i64) -> Tokens {
    let [b, l] = t.dims();
    let (ids, mask) = host(t);
    let (mut new_ids, mut new_mask) = (Vec::new(), Vec::new());
    for i in 0..b {
        new_ids.extend_from_slice(&ids[i * l..(i + 1) * l]);
        new_ids.extend(std::iter::repeat_n(filler, extra));
        new_mask.extend_from_slice(&mask[i * l..(i + 1) * l]);
        new_mask.extend(std::iter::repeat_n(false, extra));
    }
    Tokens::from_host(new_ids, new_mask, [b, l + extra], &t.ids.device())
}

/// Twenty Adam steps at rate `lr` on one batch; asserts that the mean loss
/// of the last three steps is below 80% of that of the first three.
pub(crate) fn assert_trains(mut method: TextMethod, clean: &Tokens, views: &[Tokens], lr: f64) {
    let mut optim = AdamConfig::new().init();
    let mut losses = Vec::new();
    for _ in 0..20 {
        let loss = method.forward(clean, views).loss;
        losses.push(loss.clone().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &method);
        method = optim.step(lr, method, grads);
    }
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    let (first, last) = (mean(&losses[..3]), mean(&losses[17..]));
    assert!(last < 0.8 * first, "{first} -> {last}: {losses:?}");
}
