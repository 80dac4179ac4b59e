//! The fine-tuning loop images and text share: an encoder and a linear head,
//! each under its own AdamW and learning rate, trained for a fixed number of
//! steps per epoch, with early stopping on validation accuracy and the best
//! epoch's weights kept. What a batch is and how predictions are made stays
//! with each modality (`finetune.rs`, `text_finetune.rs`).
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use pretext_nn::ClassifierHead;
use pretext_train::{EarlyStopping, OptimizerConfig, OptimizerKind, Verdict};

use crate::outcome::{EpochPoint, HeadOutcome, labels_tensor};

/// The settings of the loop, the same for both modalities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LoopSettings {
    /// Most epochs to run.
    pub max_epochs: usize,
    /// Optimiser steps per epoch.
    pub steps_per_epoch: usize,
    /// Epochs without a better validation accuracy before stopping.
    pub patience: usize,
    /// The head's learning rate (and a from-scratch encoder's).
    pub lr: f64,
    /// A pretrained encoder's learning rate.
    pub encoder_lr: f64,
    /// AdamW's weight decay.
    pub weight_decay: f64,
}

/// Trains `encoder` and `head` (on `train_device`, an autodiff device).
/// `pretrained` gives the encoder `encoder_lr`, else `lr`. `next_batch`
/// gives the logits of the next training batch and its labels;
/// `predict_val` the predicted classes of the validation labels, and
/// `validation` their true classes; `predict_test` those of the test set,
/// run on the best epoch's weights.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finetune_loop<E: Module>(
    mut encoder: E,
    mut head: ClassifierHead,
    pretrained: bool,
    settings: &LoopSettings,
    train_device: &Device,
    mut next_batch: impl FnMut(&E, &ClassifierHead) -> (Tensor<2>, Vec<u32>),
    predict_val: impl Fn(&E, &ClassifierHead) -> Vec<u32>,
    validation: &[u32],
    predict_test: impl Fn(&E, &ClassifierHead) -> Vec<u32>,
) -> Result<HeadOutcome, String> {
    let adamw = |lr| {
        OptimizerConfig {
            kind: OptimizerKind::Adamw,
            lr,
            weight_decay: settings.weight_decay,
            ..OptimizerConfig::default()
        }
        .init(None)
    };
    let encoder_lr = if pretrained {
        settings.encoder_lr
    } else {
        settings.lr
    };
    let (mut opt_encoder, mut opt_head) = (adamw(encoder_lr), adamw(settings.lr));
    let loss_fn = CrossEntropyLossConfig::new().init(train_device);
    let mut stopper = EarlyStopping::new(settings.patience);
    let mut best = (encoder.valid(), head.valid());
    let mut curve = Vec::new();
    for epoch in 1..=settings.max_epochs {
        let mut loss_sum = 0f64;
        for _ in 0..settings.steps_per_epoch {
            let (logits, labels) = next_batch(&encoder, &head);
            let loss = loss_fn.forward(logits, labels_tensor(&labels, train_device));
            let value: f32 = loss.clone().into_scalar();
            if !value.is_finite() {
                return Err(format!(
                    "the fine-tuning loss became {value} at epoch {epoch}; try a lower finetune.lr"
                ));
            }
            loss_sum += value as f64;
            let mut grads = loss.backward();
            let g_encoder = GradientsParams::from_module(&mut grads, &encoder);
            let g_head = GradientsParams::from_module(&mut grads, &head);
            encoder = opt_encoder.step(encoder_lr, encoder, g_encoder);
            head = opt_head.step(settings.lr, head, g_head);
        }
        let current = (encoder.valid(), head.valid());
        let val_accuracy =
            crate::features::accuracy(&predict_val(&current.0, &current.1), validation);
        curve.push(EpochPoint {
            epoch,
            train_loss: (loss_sum / settings.steps_per_epoch as f64) as f32,
            val_accuracy,
        });
        match stopper.update(epoch, val_accuracy) {
            Verdict::Improved => best = current,
            Verdict::Continue => {}
            Verdict::Stop => break,
        }
    }
    Ok(HeadOutcome {
        test_predictions: predict_test(&best.0, &best.1),
        val_accuracy: Some(stopper.best_score()),
        best_epoch: Some(stopper.best_epoch()),
        epochs: Some(curve.len()),
        curve,
        detail: Some(format!("encoder_lr={encoder_lr}")),
    })
}
