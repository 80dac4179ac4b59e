//! Decoupled contrastive learning (Yeh et al., 2022, "Decoupled Contrastive
//! Learning"): SimCLR's two views and projection head, with the positive
//! pair taken out of the loss's denominator, so that small batches learn as
//! fast as large ones.
use burn::module::Module;
use pretext_nn::{Encoder, Footprint, InputShape, ProjectionHead, ProjectionHeadConfig};
use serde::{Deserialize, Serialize};

use super::checks::{check_projection, check_temperature};
use super::settings::{Build, MethodSettings};
use super::two_views::{TwoViewMethod, TwoViews};
use crate::StepOutput;
use crate::loss::dcl;

/// Settings of [`Dcl`].
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

/// A DCL model: encoder plus projection head.
#[derive(Module, Debug)]
pub struct Dcl {
    /// The encoder being pretrained.
    pub encoder: Encoder,
    projection: ProjectionHead,
    temperature: f64,
}

impl MethodSettings for DclConfig {
    type Model = Dcl;

    const NAME: &'static str = "dcl";

    fn validate(&self) -> Result<(), String> {
        check_temperature(self.temperature)?;
        check_projection(&self.projection)
    }

    fn footprint(&self, _encoder: Footprint, embed: usize, _input: InputShape) -> Footprint {
        self.projection.footprint(embed)
    }

    fn init_around(&self, encoder: Encoder, at: &Build<'_>) -> Dcl {
        Dcl {
            projection: self.projection.init(encoder.out_dim(), at.device),
            encoder,
            temperature: self.temperature as f64,
        }
    }
}

impl TwoViewMethod for Dcl {
    const LABEL: &'static str = "dcl";

    type Head = ProjectionHead;

    fn towers(&self) -> (&Encoder, &ProjectionHead) {
        (&self.encoder, &self.projection)
    }

    fn into_encoder(self) -> Encoder {
        self.encoder
    }

    fn output(&self, v: TwoViews) -> StepOutput {
        StepOutput {
            loss: dcl(v.z1, v.z2, self.temperature as f32),
            embeddings: v.h1,
            keys: None,
        }
    }
}
