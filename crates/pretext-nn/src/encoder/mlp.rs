//! A multilayer perceptron on the flattened image: the simplest encoder, and a
//! useful baseline on tiny images such as the 8x8 digits.
use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::InputShape;
use crate::footprint::Footprint;
use crate::kernel::batch_norm::batch_norm_relu;

/// Settings of [`Mlp`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MlpConfig {
    /// Width of each hidden layer; the embedding has `hidden.last()` values.
    pub hidden: Vec<usize>,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self {
            hidden: vec![512, 256],
        }
    }
}

impl MlpConfig {
    /// Parameters and activations per image, before building (see
    /// [`Footprint`]).
    pub fn footprint(&self, input: InputShape) -> Footprint {
        let mut d_in = input.numel();
        let mut total = Footprint::default();
        for &d_out in &self.hidden {
            // Linear, then batch norm (four values a feature) and ReLU.
            let d = d_out as f64;
            total = total + Footprint::linear(d_in, d_out) + Footprint::new(4.0 * d, 2.0 * d);
            d_in = d_out;
        }
        total
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return Err("encoder.hidden must be a non-empty list of positive numbers".into());
        }
        Ok(())
    }

    /// Builds the network for images of `input` shape.
    pub fn init(&self, input: InputShape, device: &Device) -> Mlp {
        let mut layers = Vec::new();
        let mut d_in = input.numel();
        for &d_out in &self.hidden {
            layers.push((
                LinearConfig::new(d_in, d_out).init(device),
                BatchNormConfig::new(d_out).init(device),
            ));
            d_in = d_out;
        }
        Mlp {
            layers,
            out_dim: d_in,
        }
    }
}

/// `Linear → BN → ReLU` layers on the flattened image.
#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<(Linear, BatchNorm)>,
    /// Embedding length.
    pub out_dim: usize,
}

impl Mlp {
    /// # Shapes
    /// `[b, c, h, w]` → `[b, out_dim]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut x: Tensor<2> = x.flatten(1, 3); // [b, c*h*w]
        for (linear, norm) in &self.layers {
            x = batch_norm_relu(norm, linear.forward(x));
        }
        x
    }
}
