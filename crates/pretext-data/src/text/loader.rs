//! Batches of token sequences: the clean sequence and N augmented views of
//! each document, padded per view to the longest sequence. Plain buffers, no
//! tensor types; text batching is cheap, so batches are made on demand.
//!
//! An epoch's order is a shuffle seeded by `(seed, epoch)`; view `v` of
//! document `i` is seeded by `(seed, epoch, i, v)`, as the image loader does,
//! so a batch depends on neither the thread count nor the batch size.
//!
//! ```
//! use std::sync::Arc;
//! use pretext_data::LoaderConfig;
//! use pretext_data::text::{TextAugmentConfig, TextLoader};
//!
//! let tokens = Arc::new(vec![vec![5, 6, 7], vec![8], vec![9, 10]]);
//! let augment = TextAugmentConfig { span_mask: 0.3, ..TextAugmentConfig::default() };
//! let config = LoaderConfig { batch_size: 2, shuffle: false, ..LoaderConfig::default() };
//! let loader = TextLoader::new(tokens, None, vec![0, 1, 2], config).with_views(2, augment);
//! let batch = loader.epoch(0).next().unwrap();
//! assert_eq!(batch.clean.shape, [2, 3]); // [B, L], padded to the longest
//! assert_eq!(batch.clean.ids, [5, 6, 7, 8, 0, 0]);
//! assert_eq!(batch.clean.lens(), [3, 1]);
//! assert_eq!(batch.views.len(), 2);
//! ```
use std::sync::Arc;

use rand::SeedableRng;
use rayon::prelude::*;

use super::{TextAugmentConfig, TextTokenizer};
use crate::transform::derive_seed;
use crate::{LoaderConfig, Rng};

/// Stream tags that keep the shuffle and the augmentation generators apart
/// (and apart from the image loader's).
const SHUFFLE_STREAM: u64 = 0x5445_5853; // "TEXS"
const SAMPLE_STREAM: u64 = 0x5445_5856; // "TEXV"

/// One view of a batch: ids padded with `[PAD]` to the longest sequence of
/// this view.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenIds {
    /// `[B, L]` row-major token ids, `[PAD]` after each sequence's end.
    pub ids: Vec<i64>,
    /// `[B, L]`, true where a real token is (false on padding).
    pub mask: Vec<bool>,
    /// `[B, L]`: sequences, and the length of the longest.
    pub shape: [usize; 2],
}

impl TokenIds {
    /// The sequences `seqs`, each padded with `[PAD]` to the longest.
    pub fn pad(seqs: &[Vec<u32>]) -> Self {
        let len = seqs.iter().map(Vec::len).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(seqs.len() * len);
        let mut mask = Vec::with_capacity(seqs.len() * len);
        for seq in seqs {
            ids.extend(seq.iter().map(|&id| i64::from(id)));
            ids.extend(std::iter::repeat_n(
                i64::from(TextTokenizer::PAD),
                len - seq.len(),
            ));
            mask.extend(std::iter::repeat_n(true, seq.len()));
            mask.extend(std::iter::repeat_n(false, len - seq.len()));
        }
        Self {
            ids,
            mask,
            shape: [seqs.len(), len],
        }
    }

    /// The length of each sequence: its real tokens.
    pub fn lens(&self) -> Vec<usize> {
        let len = self.shape[1];
        if len == 0 {
            return vec![0; self.shape[0]];
        }
        self.mask
            .chunks_exact(len)
            .map(|row| row.iter().filter(|&&m| m).count())
            .collect()
    }
}

/// One batch: the clean sequences, their augmented views, which documents
/// they are and their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct TextBatch {
    /// The unaugmented sequences.
    pub clean: TokenIds,
    /// One entry per view, each padded on its own.
    pub views: Vec<TokenIds>,
    /// The index of each document in the token list.
    pub indices: Vec<usize>,
    /// The label of each document, when labelled.
    pub labels: Option<Vec<u32>>,
}

impl TextBatch {
    /// Number of documents.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the batch holds no document.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

/// Yields the batches of one epoch of encoded documents.
#[derive(Debug)]
pub struct TextLoader {
    tokens: Arc<Vec<Vec<u32>>>,
    labels: Option<Arc<Vec<u32>>>,
    indices: Vec<usize>,
    views: usize,
    augment: TextAugmentConfig,
    config: LoaderConfig,
}

impl TextLoader {
    /// A loader over documents `indices`: `tokens[i]` are the ids of document
    /// `i`, `labels[i]` its label. Its batches hold the clean sequences only;
    /// [`TextLoader::with_views`] adds augmented copies.
    ///
    /// # Panics
    /// If `config.batch_size` is 0, an index is out of range, or `labels`
    /// does not have one label per document. These are programming errors:
    /// settings from users are validated before.
    pub fn new(
        tokens: Arc<Vec<Vec<u32>>>,
        labels: Option<Arc<Vec<u32>>>,
        indices: Vec<usize>,
        config: LoaderConfig,
    ) -> Self {
        assert!(config.batch_size > 0, "batch size must be at least 1");
        if let Some(&bad) = indices.iter().find(|&&i| i >= tokens.len()) {
            panic!("index {bad} out of range for {} documents", tokens.len());
        }
        if let Some(labels) = &labels {
            assert_eq!(
                labels.len(),
                tokens.len(),
                "one label per document expected"
            );
        }
        Self {
            tokens,
            labels,
            indices,
            views: 0,
            augment: TextAugmentConfig::default(),
            config,
        }
    }

    /// The same loader, each batch also holding `views` copies of every
    /// document made by `augment`.
    pub fn with_views(self, views: usize, augment: TextAugmentConfig) -> Self {
        Self {
            views,
            augment,
            ..self
        }
    }

    /// The settings.
    pub fn config(&self) -> &LoaderConfig {
        &self.config
    }

    /// Number of documents per epoch before batching.
    pub fn num_samples(&self) -> usize {
        self.indices.len()
    }

    /// Number of batches in an epoch.
    pub fn batches_per_epoch(&self) -> usize {
        self.config.batches_per_epoch(self.indices.len())
    }

    /// The document indices of `epoch` in the order they are batched.
    pub fn epoch_order(&self, epoch: usize) -> Vec<usize> {
        self.config
            .epoch_order(&self.indices, SHUFFLE_STREAM, epoch)
    }

    /// The batches of `epoch`, shuffled by `(seed, epoch)` if
    /// `config.shuffle`, the last partial batch dropped if `config.drop_last`.
    /// Each batch's views are made in parallel with rayon.
    pub fn epoch(&self, epoch: usize) -> impl Iterator<Item = TextBatch> + '_ {
        let order = self.epoch_order(epoch);
        let bs = self.config.batch_size;
        let full = if self.config.drop_last {
            order.len() / bs * bs
        } else {
            order.len()
        };
        let epoch_seed = derive_seed(derive_seed(self.config.seed, SAMPLE_STREAM), epoch as u64);
        let chunks: Vec<Vec<usize>> = order[..full].chunks(bs).map(<[usize]>::to_vec).collect();
        chunks
            .into_iter()
            .map(move |indices| self.assemble(indices, epoch_seed))
    }

    /// The batch of documents `indices`.
    fn assemble(&self, indices: Vec<usize>, epoch_seed: u64) -> TextBatch {
        let clean: Vec<Vec<u32>> = indices.iter().map(|&i| self.tokens[i].clone()).collect();
        // [B][V] sequences: every view of one document from one seed.
        let per_doc: Vec<Vec<Vec<u32>>> = indices
            .par_iter()
            .zip(&clean)
            .map(|(&i, ids)| {
                let doc_seed = derive_seed(epoch_seed, i as u64);
                (0..self.views)
                    .map(|v| {
                        if self.augment.is_identity() {
                            ids.clone()
                        } else {
                            let mut rng = Rng::seed_from_u64(derive_seed(doc_seed, v as u64));
                            self.augment.apply(ids, &mut rng)
                        }
                    })
                    .collect()
            })
            .collect();
        let views = (0..self.views)
            .map(|v| {
                let seqs: Vec<Vec<u32>> = per_doc.iter().map(|d| d[v].clone()).collect();
                TokenIds::pad(&seqs)
            })
            .collect();
        let labels = self
            .labels
            .as_ref()
            .map(|l| indices.iter().map(|&i| l[i]).collect());
        TextBatch {
            clean: TokenIds::pad(&clean),
            views,
            indices,
            labels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` documents; document `i` is `i % 7 + 1` tokens, all `100 + i`.
    fn tokens(n: usize) -> Arc<Vec<Vec<u32>>> {
        Arc::new((0..n).map(|i| vec![100 + i as u32; i % 7 + 1]).collect())
    }

    fn augment() -> TextAugmentConfig {
        TextAugmentConfig {
            deletion: 0.1,
            span_mask: 0.2,
            swap: 0.1,
        }
    }

    fn loader(n: usize, batch_size: usize, views: usize) -> TextLoader {
        let labels = Arc::new((0..n as u32).map(|i| i % 3).collect());
        TextLoader::new(
            tokens(n),
            Some(labels),
            (0..n).collect(),
            LoaderConfig {
                batch_size,
                seed: 5,
                ..LoaderConfig::default()
            },
        )
        .with_views(views, augment())
    }

    #[test]
    fn text_pad_masks_exclude_padding() {
        let t = TokenIds::pad(&[vec![7, 8, 9], vec![5], vec![6, 6]]);
        assert_eq!(t.shape, [3, 3]);
        assert_eq!(t.ids, [7, 8, 9, 5, 0, 0, 6, 6, 0]);
        assert_eq!(
            t.mask,
            [true, true, true, true, false, false, true, true, false]
        );
        assert_eq!(t.lens(), [3, 1, 2]);
        for (id, m) in t.ids.iter().zip(&t.mask) {
            assert_eq!(*m, *id != i64::from(TextTokenizer::PAD));
        }
        let empty = TokenIds::pad(&[]);
        assert_eq!((empty.shape, empty.lens()), ([0, 0], vec![]));
    }

    #[test]
    fn text_loader_covers_every_document_once() {
        let l = loader(10, 4, 2);
        assert_eq!((l.num_samples(), l.batches_per_epoch()), (10, 3));
        let batches: Vec<TextBatch> = l.epoch(0).collect();
        assert_eq!(
            batches.iter().map(TextBatch::len).collect::<Vec<_>>(),
            [4, 4, 2]
        );
        let mut seen: Vec<usize> = batches.iter().flat_map(|b| b.indices.clone()).collect();
        assert_ne!(seen, (0..10).collect::<Vec<_>>(), "shuffled");
        seen.sort_unstable();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        for b in &batches {
            assert_eq!(b.views.len(), 2);
            let lens = b.clean.lens();
            for (k, &i) in b.indices.iter().enumerate() {
                assert_eq!(lens[k], i % 7 + 1);
                assert_eq!(b.clean.ids[k * b.clean.shape[1]], 100 + i as i64);
                assert_eq!(b.labels.as_ref().unwrap()[k], i as u32 % 3);
            }
            for v in &b.views {
                assert_eq!(v.shape[0], b.len());
                assert!(v.lens().iter().all(|&n| n >= 1));
            }
        }
        let dropping = TextLoader::new(
            tokens(10),
            None,
            (0..10).collect(),
            LoaderConfig {
                batch_size: 4,
                drop_last: true,
                shuffle: false,
                ..LoaderConfig::default()
            },
        );
        assert_eq!(dropping.batches_per_epoch(), 2);
        let batches: Vec<TextBatch> = dropping.epoch(0).collect();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[1].indices, [4, 5, 6, 7]);
        assert!(batches[0].views.is_empty() && batches[0].labels.is_none());
    }

    #[test]
    fn text_loader_is_deterministic_and_epochs_differ() {
        let a: Vec<TextBatch> = loader(30, 8, 2).epoch(0).collect();
        let b: Vec<TextBatch> = loader(30, 8, 2).epoch(0).collect();
        assert_eq!(a, b);
        assert_ne!(a[0].views[0], a[0].views[1], "views differ");
        let next: Vec<TextBatch> = loader(30, 8, 2).epoch(1).collect();
        assert_ne!(
            a[0].indices, next[0].indices,
            "shuffles differ across epochs"
        );
    }

    /// Every document's views in epoch 0, keyed by index.
    fn per_doc(l: &TextLoader) -> Vec<(usize, Vec<Vec<i64>>)> {
        let mut out = Vec::new();
        for b in l.epoch(0) {
            for (k, &i) in b.indices.iter().enumerate() {
                let views = b.views.iter().map(|v| {
                    let row = &v.ids[k * v.shape[1]..(k + 1) * v.shape[1]];
                    row.iter().copied().filter(|&id| id != 0).collect()
                });
                out.push((i, views.collect()));
            }
        }
        out.sort_by_key(|(i, _)| *i);
        out
    }

    #[test]
    fn text_loader_views_do_not_depend_on_batch_size_or_threads() {
        assert_eq!(per_doc(&loader(25, 4, 3)), per_doc(&loader(25, 9, 3)));
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| loader(25, 6, 2).epoch(3).collect::<Vec<_>>())
        };
        assert_eq!(run(1), run(3));
    }

    #[test]
    fn text_loader_identity_views_equal_clean() {
        let l = TextLoader::new(
            tokens(6),
            None,
            vec![5, 1, 3],
            LoaderConfig {
                batch_size: 2,
                shuffle: false,
                ..LoaderConfig::default()
            },
        )
        .with_views(2, TextAugmentConfig::default());
        let order: Vec<usize> = l.epoch(9).flat_map(|b| b.indices).collect();
        assert_eq!(order, [5, 1, 3]);
        for b in l.epoch(0) {
            assert!(b.views.iter().all(|v| *v == b.clean));
        }
    }

    #[test]
    #[should_panic(expected = "index 6 out of range for 6 documents")]
    fn text_loader_rejects_out_of_range_indices() {
        let _ = TextLoader::new(tokens(6), None, vec![6], LoaderConfig::default());
    }
}
