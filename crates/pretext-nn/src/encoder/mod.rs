//! Encoders: image in, one embedding vector out. [`EncoderConfig`] is the one
//! registry of encoder kinds; adding one is a file here and a variant there.
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::InputShape;
use crate::footprint::Footprint;

mod mlp;
mod readout;
mod resnet;
mod resnet9;
mod small_cnn;
mod vit;

pub use mlp::{Mlp, MlpConfig};
pub use pretext_data::Readout;
pub use resnet::{BasicBlock, ResNet, ResNetConfig};
pub use resnet9::{ResNet9, ResNet9Config};
pub use small_cnn::{SmallCnn, SmallCnnConfig};
pub use vit::{Vit, VitConfig, blocks as transformer_blocks};

/// Which encoder to build, with its settings (`kind = "small_cnn" | "resnet18" | "resnet9" | "mlp" | "vit"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EncoderConfig {
    /// A few conv-BN-ReLU-pool stages and global average pooling.
    SmallCnn(SmallCnnConfig),
    /// ResNet-18 (basic blocks, 2-2-2-2), with a CIFAR stem by default.
    #[serde(rename = "resnet18")]
    ResNet18(ResNetConfig),
    /// ResNet-9 (Page 2018): three pooled stages, two with a residual pair.
    #[serde(rename = "resnet9")]
    ResNet9(ResNet9Config),
    /// A multilayer perceptron on the flattened image.
    Mlp(MlpConfig),
    /// A small Vision Transformer on square patches.
    Vit(VitConfig),
}

impl Default for EncoderConfig {
    fn default() -> Self {
        EncoderConfig::SmallCnn(SmallCnnConfig::default())
    }
}

impl EncoderConfig {
    /// The kind as written in configs (`kind = "..."`).
    pub fn kind(&self) -> &'static str {
        match self {
            EncoderConfig::SmallCnn(_) => "small_cnn",
            EncoderConfig::ResNet18(_) => "resnet18",
            EncoderConfig::ResNet9(_) => "resnet9",
            EncoderConfig::Mlp(_) => "mlp",
            EncoderConfig::Vit(_) => "vit",
        }
    }

    /// Builds the encoder for images of `input` shape on `device`.
    pub fn init(&self, input: InputShape, device: &Device) -> Encoder {
        match self {
            EncoderConfig::SmallCnn(c) => Encoder::SmallCnn(c.init(input, device)),
            EncoderConfig::ResNet18(c) => Encoder::ResNet(c.init(input, device)),
            EncoderConfig::ResNet9(c) => Encoder::ResNet9(c.init(input, device)),
            EncoderConfig::Mlp(c) => Encoder::Mlp(c.init(input, device)),
            EncoderConfig::Vit(c) => Encoder::Vit(c.init(input, device)),
        }
    }

    /// Checks that the encoder can take images of `input` shape, naming the
    /// offending key: a ViT's patch must fit in the image.
    pub fn check_input(&self, input: InputShape) -> Result<(), String> {
        match self {
            EncoderConfig::Vit(c) => c.check_input(input),
            EncoderConfig::ResNet9(c) => c.check_input(input),
            _ => Ok(()),
        }
    }

    /// Parameters and activations per image of the encoder for images of
    /// `input` shape, counted before anything is allocated.
    pub fn footprint(&self, input: InputShape) -> Footprint {
        match self {
            EncoderConfig::SmallCnn(c) => c.footprint(input),
            EncoderConfig::ResNet18(c) => c.footprint(input),
            EncoderConfig::ResNet9(c) => c.footprint(input),
            EncoderConfig::Mlp(c) => c.footprint(input),
            EncoderConfig::Vit(c) => c.footprint(input),
        }
    }

    /// Length of the embedding the encoder will give for images of `input`
    /// shape, known before building.
    pub fn out_dim(&self, input: InputShape) -> usize {
        match self {
            EncoderConfig::SmallCnn(c) => c.widths.last().copied().unwrap_or(input.channels),
            EncoderConfig::ResNet18(c) => 8 * c.width,
            EncoderConfig::ResNet9(c) => 8 * c.width,
            EncoderConfig::Mlp(c) => c.hidden.last().copied().unwrap_or(input.numel()),
            EncoderConfig::Vit(c) => c.dim,
        }
    }

    /// Checks the settings, naming the offending key.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            EncoderConfig::SmallCnn(c) => c.validate(),
            EncoderConfig::ResNet18(c) => c.validate(),
            EncoderConfig::ResNet9(c) => c.validate(),
            EncoderConfig::Mlp(c) => c.validate(),
            EncoderConfig::Vit(c) => c.validate(),
        }
    }
}

/// An encoder of any registered kind.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Encoder {
    /// See [`SmallCnn`].
    SmallCnn(SmallCnn),
    /// See [`ResNet`].
    ResNet(ResNet),
    /// See [`ResNet9`].
    ResNet9(ResNet9),
    /// See [`Mlp`].
    Mlp(Mlp),
    /// See [`Vit`].
    Vit(Vit),
}

impl Encoder {
    /// Embeds a batch of images.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, height, width]`
    /// - output: `[batch, out_dim]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        match self {
            Encoder::SmallCnn(m) => m.forward(x),
            Encoder::ResNet(m) => m.forward(x),
            Encoder::ResNet9(m) => m.forward(x),
            Encoder::Mlp(m) => m.forward(x),
            Encoder::Vit(m) => m.forward(x),
        }
    }

    /// Length of the embedding vector.
    pub fn out_dim(&self) -> usize {
        match self {
            Encoder::SmallCnn(m) => m.out_dim,
            Encoder::ResNet(m) => m.out_dim,
            Encoder::ResNet9(m) => m.out_dim,
            Encoder::Mlp(m) => m.out_dim,
            Encoder::Vit(m) => m.out_dim,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footprints_count_the_parameters_the_built_encoders_have() {
        let device = Device::flex();
        let kinds = [
            r#"kind = "small_cnn"
widths = [8, 16, 32]"#,
            r#"kind = "resnet18"
width = 4"#,
            r#"kind = "resnet18"
width = 4
cifar_stem = false"#,
            r#"kind = "resnet9"
width = 4"#,
            r#"kind = "mlp"
hidden = [64, 32]"#,
            r#"kind = "vit"
patch_size = 4
dim = 16
depth = 2
heads = 2"#,
        ];
        for (text, input) in kinds
            .iter()
            .flat_map(|t| [InputShape::new(1, 28, 28), InputShape::new(3, 32, 32)].map(|i| (t, i)))
        {
            let config: EncoderConfig = toml::from_str(text).unwrap();
            let built = config.init(input, &device).num_params() as f64;
            let counted = config.footprint(input).params;
            assert_eq!(counted, built, "{text} on {input:?}");
            let out = config.init(input, &device).out_dim();
            assert_eq!(config.out_dim(input), out, "{text} on {input:?}");
        }
    }

    #[test]
    fn a_patch_larger_than_the_image_is_refused_before_building() {
        let vit = |patch_size| {
            EncoderConfig::Vit(VitConfig {
                patch_size,
                ..VitConfig::default()
            })
        };
        let mnist = InputShape::new(1, 28, 28);
        assert_eq!(vit(28).check_input(mnist), Ok(()));
        assert_eq!(
            vit(40).check_input(mnist),
            Err("encoder.patch_size 40 is larger than the 28x28 image".into())
        );
        assert_eq!(
            vit(8).check_input(InputShape::new(1, 28, 6)),
            Err("encoder.patch_size 8 is larger than the 28x6 image".into())
        );
        let cnn = EncoderConfig::SmallCnn(SmallCnnConfig::default());
        assert_eq!(cnn.check_input(InputShape::new(1, 2, 2)), Ok(()));
    }

    #[test]
    fn every_kind_embeds_to_its_out_dim() {
        let device = Device::flex();
        let kinds = [
            EncoderConfig::SmallCnn(SmallCnnConfig::default()),
            EncoderConfig::ResNet18(ResNetConfig {
                width: 8,
                ..Default::default()
            }),
            EncoderConfig::Mlp(MlpConfig::default()),
            EncoderConfig::Vit(VitConfig::default()),
            EncoderConfig::ResNet9(ResNet9Config { width: 4 }),
        ];
        for (cfg, shape) in kinds.iter().zip([
            (1, 28, 28),
            (3, 32, 32),
            (1, 8, 8),
            (1, 30, 28),
            (1, 28, 28),
        ]) {
            let input = InputShape::new(shape.0, shape.1, shape.2);
            let enc = cfg.init(input, &device);
            let x = Tensor::<4>::ones([3, shape.0, shape.1, shape.2], &device);
            let y = enc.forward(x);
            assert_eq!(y.dims(), [3, enc.out_dim()], "{cfg:?}");
        }
    }

    #[test]
    fn config_reads_from_toml_and_rejects_unknown_keys() {
        let cfg: EncoderConfig = toml::from_str("kind = \"small_cnn\"\nwidths = [8, 16]").unwrap();
        assert_eq!(
            cfg,
            EncoderConfig::SmallCnn(SmallCnnConfig {
                widths: vec![8, 16]
            })
        );
        let err = toml::from_str::<EncoderConfig>("kind = \"small_cnn\"\nwidth = [8]").unwrap_err();
        assert!(err.to_string().contains("unknown field `width`"), "{err}");
    }

    #[test]
    fn each_kind_is_the_name_its_config_is_read_by() {
        let all = [
            EncoderConfig::SmallCnn(SmallCnnConfig::default()),
            EncoderConfig::ResNet18(ResNetConfig::default()),
            EncoderConfig::ResNet9(ResNet9Config::default()),
            EncoderConfig::Mlp(MlpConfig::default()),
            EncoderConfig::Vit(VitConfig::default()),
        ];
        for config in all {
            let table: toml::Table = toml::to_string(&config).unwrap().parse().unwrap();
            assert_eq!(table["kind"].as_str(), Some(config.kind()));
        }
    }
}
