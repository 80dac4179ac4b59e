//! Fine-tuning a text encoder under a linear head on few labels, and the
//! supervised-from-scratch baseline: the same procedure from a random
//! initialisation (same architecture, batches, steps and early stopping,
//! every layer at the head's learning rate). Dropout is the only noise.
use std::sync::Arc;

use burn::tensor::Device;
use pretext_data::LabelBudget;
use pretext_data::LoaderConfig;
use pretext_data::text::{TextAugmentConfig, TextLoader};
use pretext_nn::text::{TextEncoder, Tokens};
use pretext_nn::{ClassifierHead, ClassifierHeadConfig, random_streams};
use serde::{Deserialize, Serialize};

use crate::finetune::check_training;
use crate::finetune_loop::{LoopSettings, finetune_loop};
use crate::outcome::{HeadOutcome, predict_rows};
use crate::text_embed::by_length;

/// Settings of text fine-tuning and of the supervised baseline (`[finetune]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TextFinetuneConfig {
    /// Budgets to fine-tune at; the task's `budgets` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budgets: Option<Vec<LabelBudget>>,
    /// Most epochs (default 40).
    pub max_epochs: usize,
    /// Optimiser steps per epoch (default 20).
    pub steps_per_epoch: usize,
    /// Stop after this many epochs without a better validation accuracy (default 8).
    pub patience: usize,
    /// Documents per step (default 32; the whole labelled set when smaller).
    pub batch_size: usize,
    /// Learning rate of the head, and of every layer of the supervised
    /// baseline (default 0.001, AdamW).
    pub lr: f64,
    /// Learning rate of the pretrained encoder (default 0.0001).
    pub encoder_lr: f64,
    /// AdamW decoupled weight decay (default 0.01).
    pub weight_decay: f64,
}

impl Default for TextFinetuneConfig {
    fn default() -> Self {
        Self {
            budgets: None,
            max_epochs: 40,
            steps_per_epoch: 20,
            patience: 8,
            batch_size: 32,
            lr: 1e-3,
            encoder_lr: 1e-4,
            weight_decay: 1e-2,
        }
    }
}

impl TextFinetuneConfig {
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
        )
    }
}

/// The labelled documents one fine-tuning sees, as token ids.
pub struct LabelledTexts<'a> {
    /// Token ids of the labelled pool.
    pub pool: &'a Arc<Vec<Vec<u32>>>,
    /// Labels of the pool.
    pub labels: &'a Arc<Vec<u32>>,
    /// Pool indices of the training labels.
    pub train: &'a [usize],
    /// Pool indices of the validation labels.
    pub val: &'a [usize],
    /// Token ids of the test set.
    pub test: &'a [Vec<u32>],
    /// Number of classes.
    pub classes: usize,
}

/// Fine-tunes `encoder` (on `device`'s autodiff twin) with a new linear
/// head; `pretrained` picks the encoder's learning rate (`encoder_lr`, or
/// `lr` when trained from scratch).
pub fn finetune_text(
    encoder: TextEncoder,
    pretrained: bool,
    data: &LabelledTexts,
    config: &TextFinetuneConfig,
    seed: u64,
    device: &Device,
) -> Result<HeadOutcome, String> {
    let train_device = device.clone().autodiff();
    let _streams = random_streams::hold_seeded(&train_device, seed);
    let head = ClassifierHeadConfig::linear().init(encoder.out_dim(), data.classes, &train_device);
    let batch = config.batch_size.min(data.train.len());
    let loader = TextLoader::new(
        data.pool.clone(),
        Some(data.labels.clone()),
        data.train.to_vec(),
        0,
        TextAugmentConfig::default(),
        LoaderConfig {
            batch_size: batch,
            shuffle: true,
            drop_last: data.train.len() > batch,
            seed,
            prefetch: 2,
        },
    );
    let mut batches = (0..).flat_map(|e| loader.epoch(e));
    let val_labels: Vec<u32> = data.val.iter().map(|&i| data.labels[i]).collect();
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
            let c = b.clean;
            let x = Tokens::from_host(c.ids, c.mask, c.shape, &train_device); // [b, l]
            (head.forward(encoder.forward(&x)), labels)
        },
        |encoder, head| predict_texts(encoder, head, data.pool, data.val, device),
        &val_labels,
        |encoder, head| predict_texts(encoder, head, data.test, &test_idx, device),
    )
}

/// Predicted classes of the sequences `indices` of `tokens`, in order.
fn predict_texts(
    encoder: &TextEncoder,
    head: &ClassifierHead,
    tokens: &[Vec<u32>],
    indices: &[usize],
    device: &Device,
) -> Vec<u32> {
    let mut predictions = vec![0u32; indices.len()];
    by_length(tokens, indices, device, |x, rows| {
        for (p, class) in rows
            .iter()
            .zip(predict_rows(head.forward(encoder.forward(&x))))
        {
            predictions[*p] = class;
        }
    });
    predictions
}
