//! Fine-tuning a text encoder under a linear head on few labels, and the
//! supervised-from-scratch baseline: the same procedure from a random
//! initialisation (same architecture, batches, steps and early stopping,
//! every layer at the head's learning rate). Dropout is the only noise.
use std::sync::Arc;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use pretext_data::LabelBudget;
use pretext_data::LoaderConfig;
use pretext_data::text::{TextAugmentConfig, TextLoader};
use pretext_nn::text::{TextEncoder, Tokens};
use pretext_nn::{ClassifierHead, ClassifierHeadConfig};
use pretext_train::{EarlyStopping, OptimizerConfig, OptimizerKind, Verdict};
use serde::{Deserialize, Serialize};

use crate::features::accuracy;
use crate::finetune::check_training;
use crate::outcome::{EpochPoint, HeadOutcome, labels_tensor, predict_rows};
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

/// A text encoder with a linear classifier on top.
#[derive(Module, Debug)]
pub struct TextClassifier {
    /// The encoder being fine-tuned.
    pub encoder: TextEncoder,
    /// The linear head.
    pub head: ClassifierHead,
}

impl TextClassifier {
    /// # Shapes
    /// `[b, l]` tokens → `[b, classes]`
    pub fn forward(&self, x: &Tokens) -> Tensor<2> {
        self.head.forward(self.encoder.forward(x))
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
    train_device.seed(seed);
    let head = ClassifierHeadConfig::linear().init(encoder.out_dim(), data.classes, &train_device);
    let mut model = TextClassifier { encoder, head };
    let adamw = |lr| {
        OptimizerConfig {
            kind: OptimizerKind::Adamw,
            lr,
            weight_decay: config.weight_decay,
            ..OptimizerConfig::default()
        }
        .init(None)
    };
    let encoder_lr = if pretrained {
        config.encoder_lr
    } else {
        config.lr
    };
    let (mut opt_encoder, mut opt_head) = (adamw(encoder_lr), adamw(config.lr));
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
    let loss_fn = CrossEntropyLossConfig::new().init(&train_device);
    let mut batches = (0..).flat_map(|e| loader.epoch(e));

    let val_labels: Vec<u32> = data.val.iter().map(|&i| data.labels[i]).collect();
    let mut stopper = EarlyStopping::new(config.patience);
    let mut best = model.valid();
    let mut curve = Vec::new();
    for epoch in 1..=config.max_epochs {
        let mut loss_sum = 0f64;
        for _ in 0..config.steps_per_epoch {
            let b = batches.next().expect("an endless stream of batches");
            let labels = b.labels.clone().expect("the labelled pool has labels");
            let c = b.clean;
            let x = Tokens::from_host(c.ids, c.mask, c.shape, &train_device); // [b, l]
            let loss = loss_fn.forward(model.forward(&x), labels_tensor(&labels, &train_device));
            let value: f32 = loss.clone().into_scalar();
            if !value.is_finite() {
                return Err(format!(
                    "the fine-tuning loss became {value} at epoch {epoch}; try a lower finetune.lr"
                ));
            }
            loss_sum += value as f64;
            let mut grads = loss.backward();
            let g_encoder = GradientsParams::from_module(&mut grads, &model.encoder);
            let g_head = GradientsParams::from_module(&mut grads, &model.head);
            model.encoder = opt_encoder.step(encoder_lr, model.encoder, g_encoder);
            model.head = opt_head.step(config.lr, model.head, g_head);
        }
        let current = model.valid();
        let val_accuracy = accuracy(
            &predict_texts(&current, data.pool, data.val, device),
            &val_labels,
        );
        curve.push(EpochPoint {
            epoch,
            train_loss: (loss_sum / config.steps_per_epoch as f64) as f32,
            val_accuracy,
        });
        match stopper.update(epoch, val_accuracy) {
            Verdict::Improved => best = current,
            Verdict::Continue => {}
            Verdict::Stop => break,
        }
    }
    let test_idx: Vec<usize> = (0..data.test.len()).collect();
    Ok(HeadOutcome {
        test_predictions: predict_texts(&best, data.test, &test_idx, device),
        val_accuracy: Some(stopper.best_score()),
        best_epoch: Some(stopper.best_epoch()),
        epochs: Some(curve.len()),
        curve,
        detail: Some(format!("encoder_lr={encoder_lr}")),
    })
}

/// Predicted classes of the sequences `indices` of `tokens`, in order.
fn predict_texts(
    model: &TextClassifier,
    tokens: &[Vec<u32>],
    indices: &[usize],
    device: &Device,
) -> Vec<u32> {
    let mut predictions = vec![0u32; indices.len()];
    by_length(tokens, indices, device, |x, rows| {
        for (p, class) in rows.iter().zip(predict_rows(model.forward(&x))) {
            predictions[*p] = class;
        }
    });
    predictions
}
