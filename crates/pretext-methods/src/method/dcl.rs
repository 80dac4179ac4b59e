//! Decoupled contrastive learning (Yeh et al., 2022, "Decoupled Contrastive
//! Learning"): SimCLR's two views and projection head, with the positive
//! pair taken out of the loss's denominator, so that small batches learn as
//! fast as large ones.
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use pretext_nn::{
    Encoder, EncoderConfig, Footprint, InputShape, ProjectionHead, ProjectionHeadConfig,
};
use serde::{Deserialize, Serialize};

use super::checks::check_temperature;
use super::model::MethodModel;
use super::replica::StepReplicas;
use super::settings::MethodSettings;
use super::two_views::{TwoViewMethod, TwoViews, forward_two_views_replicated};
use crate::loss::dcl;
use crate::{InputSpec, StepOutput};

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
        self.projection
            .validate()
            .map_err(|e| format!("method.projection: {e}"))
    }

    fn footprint(&self, _encoder: Footprint, embed: usize, _input: InputShape) -> Footprint {
        self.projection.footprint(embed)
    }

    fn init_around(
        &self,
        encoder: Encoder,
        _config: &EncoderConfig,
        _input: &InputSpec,
        device: &Device,
    ) -> Dcl {
        Dcl {
            projection: self.projection.init(encoder.out_dim(), device),
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

    fn output(&self, v: TwoViews) -> StepOutput {
        StepOutput {
            loss: dcl(v.z1, v.z2, self.temperature as f32),
            embeddings: v.h1,
            keys: None,
        }
    }
}

impl MethodModel for Dcl {
    /// # Shapes
    /// - `views`: two `[b, c, h, w]` tensors
    fn forward(&self, views: &[Tensor<4>]) -> StepOutput {
        self.forward_two_views(views)
    }

    fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    fn into_encoder(self) -> Encoder {
        self.encoder
    }

    /// The negatives span the whole batch: the projections are gathered on
    /// the first device.
    fn forward_replicated(replicas: StepReplicas<'_, Self>, views: &[Tensor<4>]) -> StepOutput {
        forward_two_views_replicated(replicas, views)
    }
}
