//! SimSiam (Chen and He, 2021, "Exploring Simple Siamese Representation
//! Learning"): one encoder and projection for both views, a predictor on
//! top, and a stop-gradient on the projection being predicted. No negatives,
//! no momentum network.
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use pretext_nn::{Encoder, Footprint, InputShape, ProjectionHead, ProjectionHeadConfig};
use serde::{Deserialize, Serialize};

use super::model::{MethodModel, encoder_field};
use super::settings::{Build, MethodSettings};
use super::two_views::{check_heads, encode_two_views};
use crate::StepOutput;
use crate::loss::simsiam;

/// Settings of [`Simsiam`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimsiamConfig {
    /// The projection head.
    pub projection: ProjectionHeadConfig,
    /// The predictor, a bottleneck on projections (the paper's hidden layer is
    /// a quarter of the projection); its `out_dim` must equal the projection's.
    pub predictor: ProjectionHeadConfig,
}

impl Default for SimsiamConfig {
    fn default() -> Self {
        Self {
            projection: ProjectionHeadConfig::default(),
            predictor: ProjectionHeadConfig {
                hidden_dim: 32,
                out_dim: 128,
                batch_norm: true,
            },
        }
    }
}

impl SimsiamConfig {
    /// Builds the method around `encoder`.
    pub fn init(&self, encoder: Encoder, device: &Device) -> Simsiam {
        Simsiam {
            projection: self.projection.init(encoder.out_dim(), device),
            predictor: self.predictor.init(self.projection.out_dim, device),
            encoder,
        }
    }
}

/// A SimSiam model: encoder, projection head and predictor.
#[derive(Module, Debug)]
pub struct Simsiam {
    /// The encoder being pretrained.
    pub encoder: Encoder,
    projection: ProjectionHead,
    predictor: ProjectionHead,
}

impl MethodSettings for SimsiamConfig {
    type Model = Simsiam;

    const NAME: &'static str = "simsiam";

    /// Checks the settings.
    fn validate(&self) -> Result<(), String> {
        check_heads(&self.projection, &self.predictor)
    }

    fn footprint(&self, _encoder: Footprint, embed: usize, _input: InputShape) -> Footprint {
        self.projection.footprint(embed) + self.predictor.footprint(self.projection.out_dim)
    }

    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> Simsiam {
        self.init(encoder, at.device)
    }
}

impl MethodModel for Simsiam {
    /// # Shapes
    /// - `views`: two `[b, c, h, w]` tensors
    fn forward(&self, views: &[Tensor<4>]) -> StepOutput {
        let v = encode_two_views(&self.encoder, &self.projection, views, "simsiam");
        let p1 = self.predictor.forward(v.z1.clone());
        let p2 = self.predictor.forward(v.z2.clone());
        StepOutput::new(simsiam(p1, p2, v.z1, v.z2), v.h1)
    }

    encoder_field!();
}
