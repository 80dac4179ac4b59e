//! ResNet-18 (He et al., 2016, "Deep Residual Learning for Image Recognition"):
//! four stages of two basic blocks. The CIFAR stem (a 3x3 convolution, no
//! max-pool) is the usual choice for 32x32 images in SimCLR-style work; the
//! ImageNet stem (7x7 stride-2 convolution and a 3x3 stride-2 max-pool) suits
//! larger images such as STL-10's 96x96.
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::InputShape;
use crate::footprint::Footprint;
use crate::kernel::add_relu::add_relu;
use crate::kernel::batch_norm::{batch_norm, batch_norm_relu};
use crate::kernel::conv::conv2d;
use crate::kernel::max_pool::max_pool2d;

/// Settings of [`ResNet`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResNetConfig {
    /// Channels of the first stage (64 in the paper); later stages double it.
    pub width: usize,
    /// `true`: 3x3 stride-1 stem, no max-pool (CIFAR); `false`: 7x7 stride-2 stem and max-pool.
    pub cifar_stem: bool,
}

impl Default for ResNetConfig {
    fn default() -> Self {
        Self {
            width: 64,
            cifar_stem: true,
        }
    }
}

fn conv(c_in: usize, c_out: usize, k: usize, stride: usize, device: &Device) -> Conv2d {
    let p = k / 2;
    Conv2dConfig::new([c_in, c_out], [k, k])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_bias(false)
        .init(device)
}

impl ResNetConfig {
    /// Parameters and activations per image, before building (see
    /// [`Footprint`]).
    pub fn footprint(&self, input: InputShape) -> Footprint {
        let w = self.width;
        let (k, s) = if self.cifar_stem { (3, 1) } else { (7, 2) };
        let (mut h, mut wd) = (input.height.div_ceil(s), input.width.div_ceil(s));
        let mut total = Footprint::conv_bn(k, input.channels, w, (h * wd) as f64);
        if !self.cifar_stem {
            (h, wd) = (h.div_ceil(2), wd.div_ceil(2));
        }
        let mut c_in = w;
        for (stage, c_out) in [w, 2 * w, 4 * w, 8 * w].into_iter().enumerate() {
            for (i, c) in [(0, c_in), (1, c_out)] {
                if stage > 0 && i == 0 {
                    (h, wd) = (h.div_ceil(2), wd.div_ceil(2));
                }
                let pixels = (h * wd) as f64;
                total = total
                    + Footprint::conv_bn(3, c, c_out, pixels)
                    + Footprint::conv_bn(3, c_out, c_out, pixels);
                if i == 0 && (stage > 0 || c != c_out) {
                    total = total + Footprint::conv_bn(1, c, c_out, pixels);
                }
            }
            c_in = c_out;
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

    /// Builds the network for images of `input` shape.
    pub fn init(&self, input: InputShape, device: &Device) -> ResNet {
        let w = self.width;
        let (stem_k, stem_s) = if self.cifar_stem { (3, 1) } else { (7, 2) };
        let mut blocks = Vec::new();
        let mut c_in = w;
        for (stage, c_out) in [w, 2 * w, 4 * w, 8 * w].into_iter().enumerate() {
            let stride = if stage == 0 { 1 } else { 2 };
            blocks.push(BasicBlock::new(c_in, c_out, stride, device));
            blocks.push(BasicBlock::new(c_out, c_out, 1, device));
            c_in = c_out;
        }
        ResNet {
            conv1: conv(input.channels, w, stem_k, stem_s, device),
            bn1: BatchNormConfig::new(w).init(device),
            maxpool: (!self.cifar_stem).then(|| {
                MaxPool2dConfig::new([3, 3])
                    .with_strides([2, 2])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init()
            }),
            blocks,
            out_dim: 8 * w,
        }
    }
}

/// Two 3x3 convolutions with a residual connection (a 1x1 projection when the
/// shape changes).
#[derive(Module, Debug)]
pub struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    downsample: Option<(Conv2d, BatchNorm)>,
}

impl BasicBlock {
    fn new(c_in: usize, c_out: usize, stride: usize, device: &Device) -> Self {
        let downsample = (stride != 1 || c_in != c_out).then(|| {
            (
                Conv2dConfig::new([c_in, c_out], [1, 1])
                    .with_stride([stride, stride])
                    .with_bias(false)
                    .init(device),
                BatchNormConfig::new(c_out).init(device),
            )
        });
        Self {
            conv1: conv(c_in, c_out, 3, stride, device),
            bn1: BatchNormConfig::new(c_out).init(device),
            conv2: conv(c_out, c_out, 3, 1, device),
            bn2: BatchNormConfig::new(c_out).init(device),
            downsample,
        }
    }

    /// # Shapes
    /// `[b, c_in, h, w]` → `[b, c_out, h/stride, w/stride]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let identity = match &self.downsample {
            Some((conv, bn)) => batch_norm(bn, conv2d(conv, x.clone())),
            None => x.clone(),
        };
        let y = batch_norm_relu(&self.bn1, conv2d(&self.conv1, x));
        let y = batch_norm(&self.bn2, conv2d(&self.conv2, y));
        add_relu(y, identity)
    }
}

/// A ResNet-18 encoder without its classifier.
#[derive(Module, Debug)]
pub struct ResNet {
    conv1: Conv2d,
    bn1: BatchNorm,
    maxpool: Option<MaxPool2d>,
    blocks: Vec<BasicBlock>,
    /// Embedding length (8 x width; 512 for the standard network).
    pub out_dim: usize,
}

impl ResNet {
    /// # Shapes
    /// `[b, c, h, w]` → `[b, out_dim]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let last = self.stage_maps(x, 1).pop().expect("the last stage's map");
        last.mean_dims(&[2, 3]).flatten(1, 3) // [b, 8w]
    }

    /// The output maps of the last `last_n` stages (a stage is two blocks),
    /// earliest first; the last is what [`ResNet::forward`] pools. Only
    /// those maps are kept (the training forward keeps none besides the
    /// last).
    ///
    /// # Shapes
    /// `[b, c, h, w]` → of `[b, w, h', w']`, `[b, 2w, h'/2, w'/2]`,
    /// `[b, 4w, …]`, `[b, 8w, …]`, the last `last_n`
    pub fn stage_maps(&self, x: Tensor<4>, last_n: usize) -> Vec<Tensor<4>> {
        let mut x = batch_norm_relu(&self.bn1, conv2d(&self.conv1, x)); // [b, w, h', w']
        if let Some(pool) = &self.maxpool {
            x = max_pool2d(pool, x);
        }
        let n = self.blocks.len();
        let mut maps = Vec::with_capacity(last_n);
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.forward(x);
            let ends_stage = i % 2 == 1;
            if ends_stage && i + 2 * last_n >= n && i + 1 < n {
                maps.push(x.clone());
            }
        }
        maps.push(x);
        maps
    }

    /// Channels of each of [`ResNet::stage_maps`].
    pub fn stage_widths(&self) -> Vec<usize> {
        let w = self.out_dim / 8;
        vec![w, 2 * w, 4 * w, 8 * w]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_resnet18_has_11m_parameters() {
        // torchvision's resnet18 has 11,689,512 parameters with its 1000-way fc
        // (513,000). burn also counts batch norm's running mean and variance,
        // which PyTorch keeps as buffers: 2 x 4,800 channels of batch norm.
        let device = Device::flex();
        let net = ResNetConfig {
            width: 64,
            cifar_stem: false,
        }
        .init(InputShape::new(3, 32, 32), &device);
        assert_eq!(net.num_params(), 11_689_512 - 513_000 + 2 * 4_800);
    }
}
