//! The MLP head: one hidden layer with dropout on frozen, standardised
//! features, trained with AdamW and early stopping on validation accuracy
//! (the best epoch's weights are kept).
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use pretext_nn::{ClassifierHead, ClassifierHeadConfig, random_streams};
use pretext_train::{EarlyStopping, OptimizerConfig, OptimizerKind, Verdict};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::features::{Features, Standardizer, accuracy};
use crate::outcome::{HeadOutcome, labels_tensor, predict_rows};
use pretext_runs::EpochPoint;

/// Fewest optimiser steps in one epoch of the MLP head.
pub(crate) const MIN_STEPS: usize = 10;

/// Settings of the MLP head (`[mlp]` in a task file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MlpHeadConfig {
    /// Width of the hidden layer (default 512).
    pub hidden_dim: usize,
    /// Dropout probability on the hidden layer (default 0.5).
    pub dropout: f64,
    /// AdamW learning rate (default 0.001).
    pub lr: f64,
    /// AdamW decoupled weight decay (default 0.01).
    pub weight_decay: f64,
    /// Samples per step (default 256; the whole set when smaller).
    pub batch_size: usize,
    /// Most epochs (default 200); an epoch is a pass over the labels and at
    /// least 10 steps.
    pub max_epochs: usize,
    /// Stop after this many epochs without a better validation accuracy (default 20).
    pub patience: usize,
}

impl Default for MlpHeadConfig {
    fn default() -> Self {
        Self {
            hidden_dim: 512,
            dropout: 0.5,
            lr: 1e-3,
            weight_decay: 0.01,
            batch_size: 256,
            max_epochs: 200,
            patience: 20,
        }
    }
}

impl MlpHeadConfig {
    /// Checks the settings, naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.hidden_dim == 0 {
            return Err("mlp.hidden_dim must be at least 1, got 0".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!(
                "mlp.dropout must be in [0, 1), got {}",
                self.dropout
            ));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(format!("mlp.lr must be positive, got {}", self.lr));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(format!(
                "mlp.weight_decay must be 0 or more, got {}",
                self.weight_decay
            ));
        }
        if self.batch_size == 0 || self.max_epochs == 0 || self.patience == 0 {
            return Err(
                "mlp.batch_size, mlp.max_epochs and mlp.patience must be at least 1".into(),
            );
        }
        Ok(())
    }
}

/// Trains the head on `train`, selects the epoch on `val`, and predicts
/// `test`. `device` is the plain device; training runs on its autodiff twin,
/// seeded with `seed` (initialisation, dropout and batch order).
#[allow(clippy::too_many_arguments)]
pub fn fit_mlp(
    train: &Features,
    train_labels: &[u32],
    val: &Features,
    val_labels: &[u32],
    test: &Features,
    classes: usize,
    config: &MlpHeadConfig,
    seed: u64,
    device: &Device,
) -> HeadOutcome {
    assert_eq!(train.rows, train_labels.len(), "one label per training row");
    assert_eq!(val.rows, val_labels.len(), "one label per validation row");
    let scaler = Standardizer::fit(train);
    let (train, val, test) = (scaler.apply(train), scaler.apply(val), scaler.apply(test));

    let train_device = device.clone().autodiff();
    let _streams = random_streams::hold_seeded(&train_device, seed);
    let head_config = ClassifierHeadConfig {
        hidden_dim: Some(config.hidden_dim),
        dropout: config.dropout,
    };
    let mut head = head_config.init(train.dim, classes, &train_device);
    let mut optimizer = OptimizerConfig {
        kind: OptimizerKind::Adamw,
        lr: config.lr,
        weight_decay: config.weight_decay,
        ..OptimizerConfig::default()
    }
    .init(None);
    let loss_fn = CrossEntropyLossConfig::new().init(&train_device);
    let mut rng = pretext_data::Rng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..train.rows).collect();
    let batch = config.batch_size.min(train.rows).max(1);

    let mut stopper = EarlyStopping::new(config.patience);
    let mut best = head.valid();
    let mut curve = Vec::new();
    for epoch in 1..=config.max_epochs {
        // An epoch is a pass over the labels, and at least MIN_STEPS steps:
        // with few labels a pass is a single step.
        let mut loss_sum = 0f64;
        let mut steps = 0usize;
        while steps < MIN_STEPS.max(train.rows.div_ceil(batch)) {
            order.shuffle(&mut rng);
            for chunk in order.chunks(batch) {
                if chunk.len() < 2 && train.rows >= 2 {
                    continue; // a batch of one gives a noisy step; skip the remainder
                }
                let x = rows_tensor(&train, chunk, &train_device); // [b, d]
                let y: Vec<u32> = chunk.iter().map(|&i| train_labels[i]).collect();
                let loss = loss_fn.forward(head.forward(x), labels_tensor(&y, &train_device));
                loss_sum += loss.clone().into_scalar::<f32>() as f64;
                steps += 1;
                let grads = GradientsParams::from_grads(loss.backward(), &head);
                head = optimizer.step(config.lr, head, grads);
            }
        }
        let model = head.valid();
        let val_accuracy = accuracy(&predict(&model, &val, device), val_labels);
        curve.push(EpochPoint {
            epoch,
            train_loss: (loss_sum / steps.max(1) as f64) as f32,
            val_accuracy,
        });
        match stopper.update(epoch, val_accuracy) {
            Verdict::Improved => best = model,
            Verdict::Continue => {}
            Verdict::Stop => break,
        }
    }
    HeadOutcome {
        test_predictions: predict(&best, &test, device),
        val_accuracy: Some(stopper.best_score()),
        best_epoch: Some(stopper.best_epoch()),
        epochs: Some(curve.len()),
        curve,
        detail: None,
    }
}

/// The rows `indices` of `x` as a `[len, dim]` tensor.
fn rows_tensor(x: &Features, indices: &[usize], device: &Device) -> Tensor<2> {
    let mut values = Vec::with_capacity(indices.len() * x.dim);
    for &i in indices {
        values.extend_from_slice(x.row(i));
    }
    Tensor::from_data(TensorData::new(values, [indices.len(), x.dim]), device)
}

/// Predicted classes of every row of `x`, in chunks.
fn predict(head: &ClassifierHead, x: &Features, device: &Device) -> Vec<u32> {
    let all: Vec<usize> = (0..x.rows).collect();
    all.chunks(4096)
        .flat_map(|chunk| predict_rows(head.forward(rows_tensor(x, chunk, device))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two classes separated by a non-linear (XOR-like) boundary in 2-D.
    fn xor(n: usize, seed: u64) -> (Features, Vec<u32>) {
        use rand::Rng;
        let mut rng = pretext_data::Rng::seed_from_u64(seed);
        let mut data = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..n {
            let (a, b): (f32, f32) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
            if a.abs() < 0.1 || b.abs() < 0.1 {
                continue;
            }
            data.extend([a, b]);
            labels.push(((a > 0.0) != (b > 0.0)) as u32);
        }
        (Features::new(labels.len(), 2, data), labels)
    }

    #[test]
    fn learns_a_boundary_no_linear_head_can_and_records_the_best_epoch() {
        let device = Device::flex();
        let (train, ytrain) = xor(400, 1);
        let (val, yval) = xor(200, 2);
        let (test, ytest) = xor(200, 3);
        let config = MlpHeadConfig {
            hidden_dim: 32,
            dropout: 0.1,
            lr: 0.01,
            batch_size: 64,
            max_epochs: 60,
            patience: 15,
            ..MlpHeadConfig::default()
        };
        let out = fit_mlp(&train, &ytrain, &val, &yval, &test, 2, &config, 0, &device);
        let acc = accuracy(&out.test_predictions, &ytest);
        assert!(acc > 0.9, "test accuracy {acc}");
        let best = out.best_epoch.unwrap();
        let epochs = out.epochs.unwrap();
        assert!(best >= 1 && best <= epochs && epochs == out.curve.len());
        let best_val = out.curve.iter().map(|p| p.val_accuracy).fold(0.0, f32::max);
        assert_eq!(out.val_accuracy, Some(best_val));
        assert_eq!(out.curve[best - 1].val_accuracy, best_val);
    }

    #[test]
    fn bad_settings_name_the_key() {
        let c = MlpHeadConfig {
            dropout: 1.0,
            ..MlpHeadConfig::default()
        };
        assert!(c.validate().unwrap_err().starts_with("mlp.dropout"));
    }
}
