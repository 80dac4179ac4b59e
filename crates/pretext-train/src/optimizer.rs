//! Optimisers: Adam, AdamW and SGD with momentum, with optional weight decay
//! and gradient clipping, built as burn's type-erased `ModuleOptimizer` so the
//! loop and checkpoints need not know which one runs.
use burn::grad_clipping::GradientClippingConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

/// Which optimiser to use and its settings. Every key has a default, so
/// `--set train.optimizer.lr=0.01` works on any experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimizerConfig {
    /// `adam`, `adamw` or `sgd`.
    pub kind: OptimizerKind,
    /// Base learning rate (the schedule scales it).
    pub lr: f64,
    /// Weight decay: an L2 penalty added to the gradient for `adam` and
    /// `sgd`, decoupled decay for `adamw` (Loshchilov & Hutter, 2019).
    pub weight_decay: f64,
    /// Momentum factor (`sgd` only).
    pub momentum: f64,
    /// Nesterov momentum (`sgd` only).
    pub nesterov: bool,
}

/// The optimiser family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// Adam (Kingma & Ba, 2015).
    #[default]
    Adam,
    /// AdamW: Adam with decoupled weight decay.
    Adamw,
    /// SGD with momentum.
    Sgd,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            kind: OptimizerKind::Adam,
            lr: 1e-3,
            weight_decay: 1e-6,
            momentum: 0.9,
            nesterov: false,
        }
    }
}

impl OptimizerConfig {
    /// The base learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        let lr = self.lr;
        if !(lr > 0.0 && lr.is_finite()) {
            return Err(format!("train.optimizer.lr must be positive, got {lr}"));
        }
        let decay = self.weight_decay;
        if !(decay >= 0.0 && decay.is_finite()) {
            return Err(format!(
                "train.optimizer.weight_decay must be 0 or more, got {decay}"
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(format!(
                "train.optimizer.momentum must be in [0, 1), got {}",
                self.momentum
            ));
        }
        Ok(())
    }

    /// Builds the optimiser, clipping each parameter's gradient norm to
    /// `grad_clip` when given.
    pub fn init(&self, grad_clip: Option<f32>) -> ModuleOptimizer {
        let clip = grad_clip.map(GradientClippingConfig::Norm);
        let decay =
            (self.weight_decay > 0.0).then(|| WeightDecayConfig::new(self.weight_decay as f32));
        match self.kind {
            OptimizerKind::Adam => AdamConfig::new()
                .with_weight_decay(decay)
                .with_grad_clipping(clip)
                .init(),
            OptimizerKind::Adamw => AdamWConfig::new()
                .with_weight_decay(self.weight_decay as f32)
                .with_grad_clipping(clip)
                .init(),
            OptimizerKind::Sgd => SgdConfig::new()
                .with_momentum(Some(
                    MomentumConfig::new()
                        .with_momentum(self.momentum)
                        .with_dampening(0.0)
                        .with_nesterov(self.nesterov),
                ))
                .with_weight_decay(decay)
                .with_gradient_clipping(clip)
                .init(),
        }
    }
}
