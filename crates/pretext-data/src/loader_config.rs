//! How batches are drawn from a dataset: batch size, shuffling, seed. Shared
//! by the image loader (`loader`, with the `tensor` feature) and the text
//! loader, so it needs no tensor library.
use serde::{Deserialize, Serialize};

/// How batches are drawn from a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoaderConfig {
    /// Samples per batch (default 256).
    pub batch_size: usize,
    /// Shuffle the order every epoch (default true).
    pub shuffle: bool,
    /// Skip the last batch when it is smaller than `batch_size` (default false).
    pub drop_last: bool,
    /// Seed of the order and of every augmentation (default 0).
    pub seed: u64,
    /// Batches assembled ahead of the consumer (default 2).
    pub prefetch: usize,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        Self {
            batch_size: 256,
            shuffle: true,
            drop_last: false,
            seed: 0,
            prefetch: 2,
        }
    }
}
