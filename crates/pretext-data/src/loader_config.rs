//! How batches are drawn from a dataset: batch size, shuffling, seed. Shared
//! by the image loader (`loader`, with the `tensor` feature) and the text
//! loader, so it needs no tensor library.
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::Rng;
use crate::transform::derive_seed;

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

impl LoaderConfig {
    /// Number of batches in an epoch of `n` samples.
    pub fn batches_per_epoch(&self, n: usize) -> usize {
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// `indices` in the order `epoch` batches them: shuffled by
    /// `(seed, stream, epoch)` when `shuffle` is set, where `stream` keeps
    /// one loader's shuffles apart from another's.
    pub fn epoch_order(&self, indices: &[usize], stream: u64, epoch: usize) -> Vec<usize> {
        let mut order = indices.to_vec();
        if self.shuffle {
            let seed = derive_seed(derive_seed(self.seed, stream), epoch as u64);
            order.shuffle(&mut Rng::seed_from_u64(seed));
        }
        order
    }
}
