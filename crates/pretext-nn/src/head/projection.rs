//! The SimCLR projection head (Chen et al., 2020): `Linear → BN → ReLU → Linear`,
//! or SimCLR v1's `Linear → ReLU → Linear` without batch norm.
//! The loss is computed on its output; the encoder's output below it is the
//! representation kept for downstream tasks.
use crate::footprint::Footprint;
use crate::kernel::batch_norm::batch_norm_relu;
use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// Settings of [`ProjectionHead`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectionHeadConfig {
    /// Width of the hidden layer.
    pub hidden_dim: usize,
    /// Length of the projected vector the loss sees.
    pub out_dim: usize,
    /// Batch norm after the hidden layer (the default, as in SimCLR v2 and
    /// most later methods). Without it (SimCLR v1's head) one image's
    /// projection does not depend on the rest of its batch.
    pub batch_norm: bool,
}

impl Default for ProjectionHeadConfig {
    fn default() -> Self {
        Self {
            hidden_dim: 512,
            out_dim: 128,
            batch_norm: true,
        }
    }
}

impl ProjectionHeadConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        if self.hidden_dim == 0 || self.out_dim == 0 {
            return Err("projection sizes must be positive".into());
        }
        Ok(())
    }

    /// Parameters and activations per input of the head on `in_dim`
    /// features, counted before building (see [`Footprint`]).
    pub fn footprint(&self, in_dim: usize) -> Footprint {
        let hidden = self.hidden_dim as f64;
        let norm = if self.batch_norm {
            Footprint::new(4.0 * hidden, 2.0 * hidden)
        } else {
            Footprint::new(0.0, hidden)
        };
        Footprint::linear(in_dim, self.hidden_dim)
            + norm
            + Footprint::linear(self.hidden_dim, self.out_dim)
    }

    /// Builds a head on embeddings of length `in_dim`.
    pub fn init(&self, in_dim: usize, device: &Device) -> ProjectionHead {
        ProjectionHead {
            fc1: LinearConfig::new(in_dim, self.hidden_dim).init(device),
            bn1: self
                .batch_norm
                .then(|| BatchNormConfig::new(self.hidden_dim).init(device)),
            fc2: LinearConfig::new(self.hidden_dim, self.out_dim).init(device),
        }
    }
}

/// A two-layer projection head.
#[derive(Module, Debug)]
pub struct ProjectionHead {
    fc1: Linear,
    bn1: Option<BatchNorm>,
    fc2: Linear,
}

impl ProjectionHead {
    /// # Shapes
    /// `[b, in_dim]` → `[b, out_dim]`
    pub fn forward(&self, h: Tensor<2>) -> Tensor<2> {
        let x = self.fc1.forward(h); // [b, hidden]
        let x = match &self.bn1 {
            Some(bn) => batch_norm_relu(bn, x),
            None => relu(x),
        };
        self.fc2.forward(x) // [b, out]
    }
}
