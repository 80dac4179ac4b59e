//! Decoupled contrastive learning (Yeh et al., 2022, "Decoupled Contrastive
//! Learning"): SimCLR's two views and projection head, with the positive
//! pair taken out of the loss's denominator, so that small batches learn as
//! fast as large ones. It trains SimCLR's model ([`Simclr`]) with that loss.
use pretext_nn::{Encoder, Footprint, InputShape, ProjectionHeadConfig};
use serde::{Deserialize, Serialize};

use super::settings::{Build, MethodSettings};
use super::simclr::{Simclr, SimclrConfig};

/// Settings of DCL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DclConfig {
    /// Softmax temperature (0.1 in the paper's CIFAR runs, at batches of
    /// 32 to 512).
    pub temperature: f32,
    /// The projection head.
    pub projection: ProjectionHeadConfig,
}

impl Default for DclConfig {
    fn default() -> Self {
        Self {
            temperature: 0.1,
            projection: ProjectionHeadConfig::default(),
        }
    }
}

impl DclConfig {
    /// SimCLR with the same settings: DCL's checks and size are its.
    fn simclr(&self) -> SimclrConfig {
        SimclrConfig {
            temperature: self.temperature,
            projection: self.projection,
        }
    }
}

impl MethodSettings for DclConfig {
    type Model = Simclr;

    const NAME: &'static str = "dcl";

    fn validate(&self) -> Result<(), String> {
        self.simclr().validate()
    }

    fn footprint(&self, encoder: Footprint, embed: usize, input: InputShape) -> Footprint {
        self.simclr().footprint(encoder, embed, input)
    }

    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> Simclr {
        Simclr::new(encoder, &self.projection, self.temperature, true, at.device)
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, Tensor};
    use pretext_nn::{EncoderConfig, InputShape};

    use super::*;
    use crate::InputSpec;
    use crate::loss::{dcl, nt_xent};
    use crate::method::two_views::{TwoViewMethod, encode_two_views};

    #[test]
    fn dcl_trains_simclrs_model_with_the_decoupled_loss() {
        let device = Device::flex();
        let shape = InputShape::new(1, 28, 28);
        let encoder_config = EncoderConfig::default();
        let input = InputSpec::new(shape);
        let at = Build {
            encoder: &encoder_config,
            input: &input,
            device: &device,
        };
        let config = DclConfig {
            temperature: 0.5,
            ..DclConfig::default()
        };
        let model = config.init_around(encoder_config.init(shape, &device), &at);
        let views: Vec<Tensor<4>> = (0..2)
            .map(|_| Tensor::random([6, 1, 28, 28], Distribution::Default, &device))
            .collect();
        let (encoder, head) = model.towers();
        let v = encode_two_views(encoder, head, &views, "dcl");
        let decoupled: f32 = dcl(v.z1.clone(), v.z2.clone(), 0.5).into_scalar();
        let coupled: f32 = nt_xent(v.z1.clone(), v.z2.clone(), 0.5).into_scalar();
        let got: f32 = model.output(v).loss.into_scalar();
        assert!((got - decoupled).abs() < 1e-5, "{got} against {decoupled}");
        assert!((got - coupled).abs() > 1e-3, "{got} is NT-Xent's {coupled}");
    }
}
