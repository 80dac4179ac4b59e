//! Full fine-tuning: the encoder unfrozen under a linear head, trained on the
//! labelled images with augmentations, the encoder at a lower learning rate
//! than the head, with early stopping on validation accuracy.
//!
//! The supervised-from-scratch baseline is the same procedure from a random
//! initialisation: same architecture, augmentations, batch size, steps and
//! early stopping, every layer at the head's learning rate.
use std::sync::Arc;

use burn::tensor::Device;
use pretext_data::{
    AugmentConfig, BatchLoader, ChannelStats, ImageDataset, LabelBudget, LoaderConfig,
};
use pretext_nn::{ClassifierHead, ClassifierHeadConfig, Encoder, random_streams};
use serde::{Deserialize, Serialize};

use crate::finetune_loop::{LoopSettings, finetune_loop};
use crate::outcome::{HeadOutcome, predict_rows};

/// Settings of fine-tuning and of the supervised baseline (`[finetune]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FinetuneConfig {
    /// Budgets to fine-tune at (fine-tuning costs a training run per seed
    /// and budget); the task's `budgets` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budgets: Option<Vec<LabelBudget>>,
    /// Most epochs (default 100).
    pub max_epochs: usize,
    /// Optimiser steps per epoch (default 20): a label budget can be smaller
    /// than one batch, so an epoch is counted in steps, not passes.
    pub steps_per_epoch: usize,
    /// Stop after this many epochs without a better validation accuracy (default 15).
    pub patience: usize,
    /// Images per step (default 64; the whole labelled set when smaller).
    pub batch_size: usize,
    /// Learning rate of the head, and of every layer of the supervised
    /// baseline (default 0.001, AdamW).
    pub lr: f64,
    /// Learning rate of the pretrained encoder (default 0.0001).
    pub encoder_lr: f64,
    /// AdamW decoupled weight decay (default 0.0001).
    pub weight_decay: f64,
    /// Augmentations of the labelled images; the run's own when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub augment: Option<AugmentConfig>,
}

impl Default for FinetuneConfig {
    fn default() -> Self {
        Self {
            budgets: None,
            max_epochs: 100,
            steps_per_epoch: 20,
            patience: 15,
            batch_size: 64,
            lr: 1e-3,
            encoder_lr: 1e-4,
            weight_decay: 1e-4,
            augment: None,
        }
    }
}

impl FinetuneConfig {
    /// What the shared fine-tuning loop needs of these settings.
    pub(crate) fn loop_settings(&self) -> LoopSettings {
        LoopSettings {
            max_epochs: self.max_epochs,
            steps_per_epoch: self.steps_per_epoch,
            patience: self.patience,
            lr: self.lr,
            encoder_lr: self.encoder_lr,
            weight_decay: self.weight_decay,
        }
    }

    /// Checks the settings, naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        check_training(
            self.max_epochs,
            self.steps_per_epoch,
            self.patience,
            self.batch_size,
            [self.lr, self.encoder_lr],
            self.weight_decay,
        )?;
        if let Some(a) = &self.augment {
            a.validate().map_err(|e| format!("finetune.{e}"))?;
        }
        Ok(())
    }
}

/// The checks image and text fine-tuning share, naming the `finetune.` key
/// at fault: epochs, steps and patience at least 1, a batch of at least 2,
/// positive learning rates (`[lr, encoder_lr]`), a weight decay of 0 or more.
pub(crate) fn check_training(
    max_epochs: usize,
    steps_per_epoch: usize,
    patience: usize,
    batch_size: usize,
    lrs: [f64; 2],
    weight_decay: f64,
) -> Result<(), String> {
    if max_epochs == 0 || steps_per_epoch == 0 || patience == 0 {
        return Err(
            "finetune.max_epochs, finetune.steps_per_epoch and finetune.patience must be at least 1"
                .into(),
        );
    }
    if batch_size < 2 {
        return Err(format!(
            "finetune.batch_size must be at least 2, got {batch_size}"
        ));
    }
    for (key, lr) in ["lr", "encoder_lr"].into_iter().zip(lrs) {
        if !(lr > 0.0 && lr.is_finite()) {
            return Err(format!("finetune.{key} must be positive, got {lr}"));
        }
    }
    if !(weight_decay >= 0.0 && weight_decay.is_finite()) {
        return Err(format!(
            "finetune.weight_decay must be 0 or more, got {weight_decay}"
        ));
    }
    Ok(())
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
    /// Number of classes.
    pub classes: usize,
}

/// Fine-tunes `encoder` (which must live on `device`'s autodiff twin) with a
/// new linear head. `pretrained` picks the learning rates: the encoder at
/// `encoder_lr` when pretrained, at `lr` when trained from scratch.
/// `augment` is the augmentation of the labelled images.
pub fn finetune(
    encoder: Encoder,
    pretrained: bool,
    data: &LabelledImages,
    augment: &AugmentConfig,
    config: &FinetuneConfig,
    seed: u64,
    device: &Device,
) -> Result<HeadOutcome, String> {
    let train_device = device.clone().autodiff();
    let _streams = random_streams::hold_seeded(&train_device, seed);
    let head = ClassifierHeadConfig::linear().init(encoder.out_dim(), data.classes, &train_device);
    let (_, h, w) = data.pool.shape();
    let views = Arc::new(augment.multi_view((h, w), 1)?);
    let batch = config.batch_size.min(data.train.len());
    let train_loader = BatchLoader::new(
        data.pool.clone(),
        data.train.to_vec(),
        views,
        data.stats.clone(),
        LoaderConfig {
            batch_size: batch,
            shuffle: true,
            drop_last: data.train.len() > batch,
            seed,
            prefetch: 2,
        },
    );
    let mut batches = (0..).flat_map(|e| train_loader.epoch(e));
    let test_idx: Vec<usize> = (0..data.test.len()).collect();
    finetune_loop(
        encoder,
        head,
        pretrained,
        &config.loop_settings(),
        &train_device,
        |encoder, head| {
            let b = batches.next().expect("an endless stream of batches");
            let labels = b.labels.clone().expect("the labelled pool has labels");
            let x = b.into_view_tensors(&train_device).remove(0); // [b, c, h, w]
            (head.forward(encoder.forward(x)), labels)
        },
        |encoder, head| predict_images(encoder, head, data.pool, data.val, data.stats, device),
        &labels_of(data.pool, data.val),
        |encoder, head| predict_images(encoder, head, data.test, &test_idx, data.stats, device),
    )
}

/// Labels of the pool images `indices`.
fn labels_of(data: &ImageDataset, indices: &[usize]) -> Vec<u32> {
    let labels = data.labels().expect("labelled data");
    indices.iter().map(|&i| labels[i]).collect()
}

/// Predicted classes of the (unaugmented, normalised) images `indices`.
fn predict_images(
    encoder: &Encoder,
    head: &ClassifierHead,
    data: &Arc<ImageDataset>,
    indices: &[usize],
    stats: &ChannelStats,
    device: &Device,
) -> Vec<u32> {
    crate::embed::plain_loader(data, indices.to_vec(), stats)
        .epoch(0)
        .flat_map(|b| {
            let x = b.into_view_tensors(device).remove(0); // [b, c, h, w]
            predict_rows(head.forward(encoder.forward(x)))
        })
        .collect()
}
