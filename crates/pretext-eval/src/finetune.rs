//! Full fine-tuning: the encoder unfrozen under a linear head, trained on the
//! labelled images with augmentations, the encoder at a lower learning rate
//! than the head, with early stopping on validation accuracy.
//!
//! The supervised-from-scratch baseline is the same procedure from a random
//! initialisation: same architecture, augmentations, batch size, steps and
//! early stopping, every layer at the head's learning rate.
use std::marker::PhantomData;
use std::sync::Arc;

use burn::tensor::{Device, Tensor};
use pretext_data::{
    AugmentConfig, Batch, BatchLoader, ChannelStats, ImageDataset, LabelBudget, LoaderConfig,
};
use pretext_nn::{ClassifierHead, Encoder};
use serde::{Deserialize, Serialize};

pub use crate::finetune_loop::{Labelled, Part, Tunable, TunedOf, finetune};
use crate::outcome::predict_rows;
use crate::side::{Images, Side};

/// Settings of fine-tuning and of the supervised baseline (`[finetune]`),
/// for images or text (`M`, which sets the defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, bound = "")]
pub struct FinetuneConfig<M: Side> {
    /// Budgets to fine-tune at (fine-tuning costs a training run per seed
    /// and budget); the task's `budgets` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budgets: Option<Vec<LabelBudget>>,
    /// Most epochs (default 100 for images, 40 for text).
    pub max_epochs: usize,
    /// Optimiser steps per epoch (default 20): a label budget can be smaller
    /// than one batch, so an epoch is counted in steps, not passes.
    pub steps_per_epoch: usize,
    /// Stop after this many epochs without a better validation accuracy
    /// (default 15 for images, 8 for text).
    pub patience: usize,
    /// Samples per step (default 64 images, 32 texts; the whole labelled
    /// set when smaller).
    pub batch_size: usize,
    /// Learning rate of the head, and of every layer of the supervised
    /// baseline (default 0.001, AdamW).
    pub lr: f64,
    /// Learning rate of the pretrained encoder (default 0.0001).
    pub encoder_lr: f64,
    /// AdamW decoupled weight decay (default 0.0001 for images, 0.01 for
    /// text).
    pub weight_decay: f64,
    /// Images: augmentations of the labelled images; the run's own when
    /// absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub augment: Option<AugmentConfig>,
    /// Which kind of data the settings are for (not part of the file).
    #[doc(hidden)]
    #[serde(skip)]
    pub side: PhantomData<M>,
}

impl<M: Side> Default for FinetuneConfig<M> {
    fn default() -> Self {
        let d = M::FINETUNE;
        Self {
            budgets: None,
            max_epochs: d.max_epochs,
            steps_per_epoch: 20,
            patience: d.patience,
            batch_size: d.batch_size,
            lr: 1e-3,
            encoder_lr: 1e-4,
            weight_decay: d.weight_decay,
            augment: None,
            side: PhantomData,
        }
    }
}

impl<M: Side> FinetuneConfig<M> {
    /// How the labelled training samples are batched: shuffled, `seed`ed
    /// batches of `batch_size`, or of all `train` samples when fewer.
    pub(crate) fn loader(&self, train: usize, seed: u64) -> LoaderConfig {
        let batch = self.batch_size.min(train);
        LoaderConfig {
            batch_size: batch,
            shuffle: true,
            drop_last: train > batch,
            seed,
            prefetch: 2,
        }
    }

    /// Checks the settings, naming the `finetune.` key at fault: epochs,
    /// steps and patience at least 1, a batch of at least 2, positive
    /// learning rates, a weight decay of 0 or more, valid augmentations.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_epochs == 0 || self.steps_per_epoch == 0 || self.patience == 0 {
            return Err(
                "finetune.max_epochs, finetune.steps_per_epoch and finetune.patience must be at least 1"
                    .into(),
            );
        }
        if self.batch_size < 2 {
            return Err(format!(
                "finetune.batch_size must be at least 2, got {}",
                self.batch_size
            ));
        }
        for (key, lr) in [("lr", self.lr), ("encoder_lr", self.encoder_lr)] {
            if !(lr > 0.0 && lr.is_finite()) {
                return Err(format!("finetune.{key} must be positive, got {lr}"));
            }
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(format!(
                "finetune.weight_decay must be 0 or more, got {}",
                self.weight_decay
            ));
        }
        if let Some(a) = &self.augment {
            a.validate().map_err(|e| format!("finetune.{e}"))?;
        }
        Ok(())
    }
}

/// The labelled images one fine-tuning sees.
pub struct LabelledImages<'a> {
    /// The labelled pool.
    pub pool: &'a Arc<ImageDataset>,
    /// Pool indices of the training labels.
    pub train: &'a [usize],
    /// Pool indices of the validation labels.
    pub val: &'a [usize],
    /// The test set.
    pub test: &'a Arc<ImageDataset>,
    /// Normalisation the encoder was trained with.
    pub stats: &'a ChannelStats,
    /// Augmentation of the training images.
    pub augment: &'a AugmentConfig,
    /// Number of classes.
    pub classes: usize,
}

impl Labelled for LabelledImages<'_> {
    type Side = Images;
    type Loader = BatchLoader;
    type Batch = Batch;

    fn classes(&self) -> usize {
        self.classes
    }

    fn train(&self) -> &[usize] {
        self.train
    }

    fn val_labels(&self) -> Vec<u32> {
        let labels = self.pool.labels().expect("labelled data");
        self.val.iter().map(|&i| labels[i]).collect()
    }

    fn loader(&self, settings: LoaderConfig) -> Result<BatchLoader, String> {
        let (_, h, w) = self.pool.shape();
        let views = Arc::new(self.augment.multi_view((h, w), 1)?);
        Ok(BatchLoader::new(
            self.pool.clone(),
            self.train.to_vec(),
            views,
            self.stats.clone(),
            settings,
        ))
    }

    fn epoch(loader: &BatchLoader, epoch: usize) -> impl Iterator<Item = Batch> + '_ {
        loader.epoch(epoch)
    }

    fn step(
        encoder: &Encoder,
        head: &ClassifierHead,
        batch: Batch,
        device: &Device,
    ) -> (Tensor<2>, Vec<u32>) {
        let labels = batch.labels.clone().expect("the labelled pool has labels");
        let x = batch.into_view_tensors(device).remove(0); // [b, c, h, w]
        (head.forward(encoder.forward(x)), labels)
    }

    fn predict(
        &self,
        encoder: &Encoder,
        head: &ClassifierHead,
        part: Part,
        device: &Device,
    ) -> Vec<u32> {
        let (data, indices) = match part {
            Part::Val => (self.pool, self.val.to_vec()),
            Part::Test => (self.test, (0..self.test.len()).collect()),
        };
        predict_images(encoder, head, data, indices, self.stats, device)
    }
}

/// Predicted classes of the (unaugmented, normalised) images `indices`.
fn predict_images(
    encoder: &Encoder,
    head: &ClassifierHead,
    data: &Arc<ImageDataset>,
    indices: Vec<usize>,
    stats: &ChannelStats,
    device: &Device,
) -> Vec<u32> {
    crate::embed::plain_loader(data, indices, stats)
        .epoch(0)
        .flat_map(|b| {
            let x = b.into_view_tensors(device).remove(0); // [b, c, h, w]
            predict_rows(head.forward(encoder.forward(x)))
        })
        .collect()
}
