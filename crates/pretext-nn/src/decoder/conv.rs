//! A convolutional decoder: a linear layer to a small feature map, then
//! stride-2 transposed convolutions (`kernel 4, padding 1`, which double the
//! size exactly) with BN and ReLU, and a 3x3 convolution to the image channels.
//! The output is unbounded: reconstruction losses decide how to read it.
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::InputShape;
use crate::kernel::batch_norm::batch_norm_relu;
use crate::kernel::conv::conv2d;

/// Settings of [`ConvDecoder`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConvDecoderConfig {
    /// Channels of the feature map after each upsampling, widest first; at most
    /// as many upsamplings are used as the image size halves cleanly (up to 3).
    pub widths: Vec<usize>,
}

impl Default for ConvDecoderConfig {
    fn default() -> Self {
        Self {
            widths: vec![128, 64, 32],
        }
    }
}

/// How many times `n` halves evenly, keeping at least 3 pixels, up to `max`.
fn halvings(mut n: usize, max: usize) -> usize {
    let mut k = 0;
    while k < max && n.is_multiple_of(2) && n / 2 >= 3 {
        n /= 2;
        k += 1;
    }
    k
}

impl ConvDecoderConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        if self.widths.is_empty() || self.widths.contains(&0) {
            return Err("decoder.widths must be a non-empty list of positive numbers".into());
        }
        Ok(())
    }

    /// Builds a decoder from embeddings of length `in_dim` to images of `output` shape.
    pub fn init(&self, in_dim: usize, output: InputShape, device: &Device) -> ConvDecoder {
        let k = halvings(output.height, self.widths.len())
            .min(halvings(output.width, self.widths.len()))
            .max(1)
            .min(self.widths.len());
        let (h0, w0) = (output.height >> k, output.width >> k);
        // Stride-2 transposed convolutions exactly double; if the size does not
        // halve evenly the last one lands one short, which `forward` pads.
        let c0 = self.widths[0];
        let narrowest = *self.widths.last().expect("validated: widths is not empty");
        let mut ups = Vec::new();
        let mut c_in = c0;
        for i in 1..=k {
            let c_out = self.widths.get(i).copied().unwrap_or(narrowest);
            ups.push(Upsample::new(c_in, c_out, device));
            c_in = c_out;
        }
        let last = c_in;
        ConvDecoder {
            fc: LinearConfig::new(in_dim, c0 * h0 * w0).init(device),
            ups,
            out: Conv2dConfig::new([last, output.channels], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            start: [c0, h0, w0],
            size: [output.height, output.width],
        }
    }
}

/// `ConvTranspose(k4, s2, p1) → BN → ReLU`: doubles height and width.
#[derive(Module, Debug)]
pub struct Upsample {
    conv: ConvTranspose2d,
    bn: BatchNorm,
}

impl Upsample {
    fn new(c_in: usize, c_out: usize, device: &Device) -> Self {
        Self {
            conv: ConvTranspose2dConfig::new([c_in, c_out], [4, 4])
                .with_stride([2, 2])
                .with_padding([1, 1])
                .init(device),
            bn: BatchNormConfig::new(c_out).init(device),
        }
    }

    /// # Shapes
    /// `[b, c_in, h, w]` → `[b, c_out, 2h, 2w]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        batch_norm_relu(&self.bn, self.conv.forward(x))
    }
}

/// A convolutional decoder.
#[derive(Module, Debug)]
pub struct ConvDecoder {
    fc: Linear,
    ups: Vec<Upsample>,
    out: Conv2d,
    start: [usize; 3],
    size: [usize; 2],
}

impl ConvDecoder {
    /// # Shapes
    /// `[b, in_dim]` → `[b, channels, height, width]`
    pub fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        let [b, _] = z.dims();
        let [c0, h0, w0] = self.start;
        let mut x = relu(self.fc.forward(z)).reshape([b, c0, h0, w0]);
        for up in &self.ups {
            x = up.forward(x); // [b, c, 2h, 2w]
        }
        let x = conv2d(&self.out, x);
        let [_, _, h, w] = x.dims();
        let [th, tw] = self.size;
        if (h, w) == (th, tw) {
            x
        } else {
            // Odd sizes: the upsampled map is smaller; pad with zeros at the end.
            x.pad(
                (0, tw - w, 0, th - h),
                burn::tensor::ops::PadMode::Constant(0.0),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_to_the_image_shape() {
        let device = Device::flex();
        for (c, h, w) in [
            (1, 28, 28),
            (3, 32, 32),
            (1, 8, 8),
            (3, 96, 96),
            (1, 27, 27),
        ] {
            let dec = ConvDecoderConfig::default().init(16, InputShape::new(c, h, w), &device);
            let z = Tensor::<2>::ones([2, 16], &device);
            assert_eq!(dec.forward(z).dims(), [2, c, h, w], "{c}x{h}x{w}");
        }
    }
}
