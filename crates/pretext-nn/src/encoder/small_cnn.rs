//! A small convolutional encoder: `conv3x3 → BN → ReLU → maxpool2` per stage,
//! then global average pooling. The workhorse for 28x28 and 32x32 images.
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::InputShape;
use crate::footprint::Footprint;
use crate::kernel::batch_norm::batch_norm_relu;
use crate::kernel::conv::conv2d;
use crate::kernel::max_pool::max_pool2d;

/// Settings of [`SmallCnn`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmallCnnConfig {
    /// Output channels of each stage; the embedding has `widths.last()` values.
    #[serde(default = "default_widths")]
    pub widths: Vec<usize>,
}

fn default_widths() -> Vec<usize> {
    vec![32, 64, 128]
}

impl Default for SmallCnnConfig {
    fn default() -> Self {
        Self {
            widths: default_widths(),
        }
    }
}

impl SmallCnnConfig {
    /// Parameters and activations per image, before building (see
    /// [`Footprint`]).
    pub fn footprint(&self, input: InputShape) -> Footprint {
        let (mut c_in, mut h, mut w) = (input.channels, input.height, input.width);
        let mut total = Footprint::default();
        for &c_out in &self.widths {
            total = total + Footprint::conv_bn(3, c_in, c_out, (h * w) as f64);
            if h >= 4 && w >= 4 {
                (h, w) = (h / 2, w / 2);
            }
            c_in = c_out;
        }
        total
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        if self.widths.is_empty() || self.widths.contains(&0) {
            return Err("encoder.widths must be a non-empty list of positive numbers".into());
        }
        Ok(())
    }

    /// Builds the encoder. Pooling stops once the feature map is 2x2 or smaller.
    pub fn init(&self, input: InputShape, device: &Device) -> SmallCnn {
        let mut stages = Vec::new();
        let mut c_in = input.channels;
        let (mut h, mut w) = (input.height, input.width);
        for &c_out in &self.widths {
            let pool = h >= 4 && w >= 4;
            if pool {
                (h, w) = (h / 2, w / 2);
            }
            stages.push(ConvStage {
                conv: Conv2dConfig::new([c_in, c_out], [3, 3])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .with_bias(false)
                    .init(device),
                norm: BatchNormConfig::new(c_out).init(device),
                pool: MaxPool2dConfig::new([2, 2]).init(),
                downsample: pool,
            });
            c_in = c_out;
        }
        SmallCnn {
            stages,
            out_dim: c_in,
        }
    }
}

/// One `conv → BN → ReLU → (maxpool)` stage.
#[derive(Module, Debug)]
pub struct ConvStage {
    conv: Conv2d,
    norm: BatchNorm,
    pool: MaxPool2d,
    downsample: bool,
}

impl ConvStage {
    /// # Shapes
    /// `[b, c_in, h, w]` → `[b, c_out, h/2, w/2]` (or `[b, c_out, h, w]` without pooling)
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = batch_norm_relu(&self.norm, conv2d(&self.conv, x));
        if self.downsample {
            max_pool2d(&self.pool, x)
        } else {
            x
        }
    }
}

/// A small CNN encoder.
#[derive(Module, Debug)]
pub struct SmallCnn {
    stages: Vec<ConvStage>,
    /// Embedding length.
    pub out_dim: usize,
}

impl SmallCnn {
    /// # Shapes
    /// `[b, c, h, w]` → `[b, out_dim]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let last = self.stage_maps(x, 1).pop().expect("the last stage's map");
        last.mean_dims(&[2, 3]).flatten(1, 3) // [b, out_dim]
    }

    /// The output maps of the last `last_n` stages, earliest first; the last
    /// is what [`SmallCnn::forward`] pools (the input itself without
    /// stages). Only those maps are kept (the training forward keeps none
    /// besides the last).
    ///
    /// # Shapes
    /// `[b, c, h, w]` → of `[b, widths[i], h_i, w_i]` for each stage `i`,
    /// the last `last_n`
    pub fn stage_maps(&self, x: Tensor<4>, last_n: usize) -> Vec<Tensor<4>> {
        let mut x = x;
        let n = self.stages.len();
        let mut maps = Vec::with_capacity(last_n);
        for (i, stage) in self.stages.iter().enumerate() {
            x = stage.forward(x); // [b, width, h', w']
            if i + last_n >= n && i + 1 < n {
                maps.push(x.clone());
            }
        }
        maps.push(x);
        maps
    }

    /// Channels of each of [`SmallCnn::stage_maps`].
    pub fn stage_widths(&self) -> Vec<usize> {
        self.stages
            .iter()
            .map(|s| s.conv.weight.val().dims()[0])
            .collect()
    }
}
