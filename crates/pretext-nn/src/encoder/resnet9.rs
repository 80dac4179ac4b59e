//! ResNet-9, the network of the fast CIFAR-10 training runs of Page (2018,
//! "How to Train Your ResNet", the Myrtle DAWNBench entry): a 3x3 stem,
//! then three stages that each double the channels with a 3x3 convolution
//! and halve the map with a 2x2 max-pool, the first and the last followed by
//! a residual pair of 3x3 convolutions. Most of its work happens at 16x16
//! and below, where ResNet-18's CIFAR stem spends a quarter of its work at
//! 32x32: on a CPU budget it sees more images for the same minutes. As in
//! [`super::ResNet`] the map is averaged into the embedding (the original's
//! classifier takes a max).
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::InputShape;
use crate::footprint::Footprint;
use crate::kernel::add_relu::add_relu;
use crate::kernel::batch_norm::batch_norm_relu;
use crate::kernel::conv::conv2d;
use crate::kernel::max_pool::max_pool2d;

/// Settings of [`ResNet9`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResNet9Config {
    /// Channels of the stem (64 in the original); the stages have 2x, 4x
    /// and 8x as many, and the embedding 8x.
    pub width: usize,
}

impl Default for ResNet9Config {
    fn default() -> Self {
        Self { width: 64 }
    }
}

/// A 3x3 convolution (padding 1, no bias), batch norm and ReLU.
#[derive(Module, Debug)]
pub struct ConvBn {
    conv: Conv2d,
    bn: BatchNorm,
}

impl ConvBn {
    fn new(c_in: usize, c_out: usize, device: &Device) -> Self {
        Self {
            conv: Conv2dConfig::new([c_in, c_out], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(false)
                .init(device),
            bn: BatchNormConfig::new(c_out).init(device),
        }
    }

    /// # Shapes
    /// `[b, c_in, h, w]` → `[b, c_out, h, w]`
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        batch_norm_relu(&self.bn, conv2d(&self.conv, x))
    }
}

/// One stage: a widening convolution and a 2x2 max-pool, then, where the
/// stage has one, a residual pair of convolutions (`x + f(f(x))`, then ReLU).
#[derive(Module, Debug)]
pub struct Stage {
    widen: ConvBn,
    residual: Option<(ConvBn, ConvBn)>,
}

impl Stage {
    /// # Shapes
    /// `[b, c_in, h, w]` → `[b, c_out, h/2, w/2]`
    fn forward(&self, x: Tensor<4>, pool: &MaxPool2d) -> Tensor<4> {
        let x = max_pool2d(pool, self.widen.forward(x));
        match &self.residual {
            // Both inputs are already ReLU outputs; the sum is too, so the
            // final ReLU changes nothing but keeps the kernel's fused form.
            Some((a, b)) => add_relu(b.forward(a.forward(x.clone())), x),
            None => x,
        }
    }
}

impl ResNet9Config {
    /// Parameters and activations per image, before building (see
    /// [`Footprint`]).
    pub fn footprint(&self, input: InputShape) -> Footprint {
        let w = self.width;
        let (mut h, mut wd) = (input.height, input.width);
        let mut total = Footprint::conv_bn(3, input.channels, w, (h * wd) as f64);
        for (c_in, c_out, residual) in [
            (w, 2 * w, true),
            (2 * w, 4 * w, false),
            (4 * w, 8 * w, true),
        ] {
            total = total + Footprint::conv_bn(3, c_in, c_out, (h * wd) as f64);
            (h, wd) = (h / 2, wd / 2);
            if residual {
                let pair = Footprint::conv_bn(3, c_out, c_out, (h * wd) as f64);
                total = total + pair + pair;
            }
        }
        total
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        if self.width == 0 {
            return Err("encoder.width must be positive".into());
        }
        Ok(())
    }

    /// Checks that three 2x2 poolings leave a map: images of 8x8 or more.
    pub fn check_input(&self, input: InputShape) -> Result<(), String> {
        if input.height < 8 || input.width < 8 {
            return Err(format!(
                "encoder resnet9 halves the image three times and needs 8x8 or more, got {}x{}",
                input.height, input.width
            ));
        }
        Ok(())
    }

    /// Builds the network for images of `input` shape.
    pub fn init(&self, input: InputShape, device: &Device) -> ResNet9 {
        let w = self.width;
        let stage = |c_in: usize, c_out: usize, residual: bool| Stage {
            widen: ConvBn::new(c_in, c_out, device),
            residual: residual.then(|| {
                (
                    ConvBn::new(c_out, c_out, device),
                    ConvBn::new(c_out, c_out, device),
                )
            }),
        };
        ResNet9 {
            stem: ConvBn::new(input.channels, w, device),
            stages: vec![
                stage(w, 2 * w, true),
                stage(2 * w, 4 * w, false),
                stage(4 * w, 8 * w, true),
            ],
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            out_dim: 8 * w,
        }
    }
}

/// A ResNet-9 encoder without its classifier.
#[derive(Module, Debug)]
pub struct ResNet9 {
    stem: ConvBn,
    stages: Vec<Stage>,
    pool: MaxPool2d,
    /// Embedding length (8 x width).
    pub out_dim: usize,
}

impl ResNet9 {
    /// # Shapes
    /// `[b, c, h, w]` → `[b, out_dim]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let last = self.stage_maps(x, 1).pop().expect("the last stage's map");
        last.mean_dims(&[2, 3]).flatten(1, 3) // [b, 8w]
    }

    /// The output maps of the last `last_n` stages, earliest first; the last
    /// is what [`ResNet9::forward`] pools. Only those maps are kept (the
    /// training forward keeps none besides the last).
    ///
    /// # Shapes
    /// `[b, c, h, w]` → of `[b, 2w, h/2, w/2]`, `[b, 4w, h/4, w/4]`,
    /// `[b, 8w, h/8, w/8]`, the last `last_n`
    pub fn stage_maps(&self, x: Tensor<4>, last_n: usize) -> Vec<Tensor<4>> {
        let mut x = self.stem.forward(x);
        let n = self.stages.len();
        let mut maps = Vec::with_capacity(last_n);
        for (i, stage) in self.stages.iter().enumerate() {
            x = stage.forward(x, &self.pool);
            if i + last_n >= n && i + 1 < n {
                maps.push(x.clone());
            }
        }
        maps.push(x);
        maps
    }

    /// Channels of each of [`ResNet9::stage_maps`].
    pub fn stage_widths(&self) -> Vec<usize> {
        let w = self.out_dim / 8;
        vec![2 * w, 4 * w, 8 * w]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_width_has_the_original_convolutions() {
        // Page's ResNet-9 without its classifier: 3x3 convolutions 3-64,
        // 64-128, 128-128 (x2), 128-256, 256-512, 512-512 (x2), no biases,
        // each with batch norm (2 weights + 2 running statistics a channel).
        let convs = [
            (3, 64),
            (64, 128),
            (128, 128),
            (128, 128),
            (128, 256),
            (256, 512),
            (512, 512),
            (512, 512),
        ];
        let expected: usize = convs.iter().map(|&(i, o)| 9 * i * o + 4 * o).sum();
        let device = Device::flex();
        let net = ResNet9Config::default().init(InputShape::new(3, 32, 32), &device);
        assert_eq!(net.num_params(), expected);
        let y = net.forward(Tensor::zeros([2, 3, 32, 32], &device));
        assert_eq!(y.dims(), [2, 512]);
        assert!(
            ResNet9Config::default()
                .check_input(InputShape::new(1, 6, 32))
                .unwrap_err()
                .contains("6x32")
        );
    }
}
